"""The retry schedule of webhook deliveries: its steps with jitter, Retry-After, its end, and the
settings it comes from."""

from __future__ import annotations

import pytest

from rivya.settings import Settings
from rivya.webhooks.config import WebhookConfig
from rivya.webhooks.deliveries import retry_delay

SCHEDULE = (5.0, 300.0, 1800.0)


def test_each_step_is_jittered_by_ten_percent() -> None:
    waits = [retry_delay(SCHEDULE, 2, None) for _ in range(200)]
    assert all(w is not None and 270 <= w <= 330 for w in waits)
    assert len(set(waits)) > 100  # not all retries at the same moment


def test_the_last_attempt_has_no_retry() -> None:
    assert retry_delay(SCHEDULE, 3, None) is not None
    assert retry_delay(SCHEDULE, 4, None) is None
    assert retry_delay((), 1, None) is None


def test_a_later_retry_after_is_honoured_up_to_the_longest_step() -> None:
    assert retry_delay(SCHEDULE, 1, 60) == 60
    assert retry_delay(SCHEDULE, 1, 86400) == 1800
    earlier = retry_delay(SCHEDULE, 2, 1)
    assert earlier is not None and earlier >= 270


def test_the_default_schedule_is_the_standard_webhooks_one() -> None:
    """Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h."""
    config = WebhookConfig.from_settings(Settings())
    schedule = config.retry_schedule
    hours = [s / 3600 for s in schedule[3:]]
    assert schedule[:3] == (5, 300, 1800) and hours == [2, 5, 10, 14, 20, 24]
    assert config.timeout_s == 15 and config.failing_disable_s == 5 * 86400
    assert not config.allow


def test_settings_override_the_defaults() -> None:
    settings = Settings(
        webhook_allow_hosts="127.0.0.1, localhost",
        webhook_retry_schedule=(0.1, 0.2),
        webhook_timeout_seconds=2,
    )
    config = WebhookConfig.from_settings(settings)
    assert config.retry_schedule == (0.1, 0.2) and config.timeout_s == 2.0
    assert config.allow.allows_host("localhost")
    with pytest.raises(ValueError, match="negative"):
        WebhookConfig.from_settings(Settings(webhook_retry_schedule=(-1,)))
