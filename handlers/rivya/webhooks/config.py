"""The operator's webhook settings, in the form deliveries and URL checks use them.

Settings fields (environment RIVYA_<NAME>):
- `webhook_allow_hosts`: comma-separated host names, addresses or CIDRs exempt from the
  public-address rule, http allowed (development receivers). Default empty.
- `webhook_retry_schedule`: seconds to wait before each retry after the first, immediate attempt.
  Default the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
- `webhook_timeout_seconds`: how long one attempt may take, connection to answer. Default 15.
- `webhook_failing_disable_seconds`: how long an endpoint may fail every attempt before it is
  disabled. Default 5 days (Svix's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from rivya.net.ssrf import AllowList
from rivya.settings import Settings


@dataclass(frozen=True)
class WebhookConfig:
    """What deliveries and URL checks need from the settings."""

    allow: AllowList
    retry_schedule: tuple[float, ...]
    timeout_s: float
    failing_disable_s: int

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        """Read the `webhook_*` settings."""
        schedule = settings.webhook_retry_schedule
        if any(delay < 0 for delay in schedule):
            raise ValueError("webhook_retry_schedule: delays cannot be negative")
        return cls(
            allow=AllowList.parse(settings.webhook_allow_hosts),
            retry_schedule=tuple(float(delay) for delay in schedule),
            timeout_s=settings.webhook_timeout_seconds,
            failing_disable_s=settings.webhook_failing_disable_seconds,
        )
