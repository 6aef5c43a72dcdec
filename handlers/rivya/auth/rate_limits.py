"""Request rate limits per account (the `limits` library: a moving window).

The window lives in process memory by default (the embedded single server) or in Redis, shared
by every API server (`RIVYA_RATE_LIMIT_STORAGE=async+redis://host:6379`). Every answer to an
authenticated request carries the account's standing in OpenAI's headers
(`x-ratelimit-limit-requests`, `-remaining-requests`, `-reset-requests`); a request over the
limit is a 429 with `Retry-After`, and is not served.

Failed authentications are counted per client address (`RIVYA_AUTH_FAILURE_LIMIT`) in the same
storage: a well-formed but unknown key costs a database lookup, so once an address is over its
limit, keys it sends that the key cache does not know are refused before any lookup.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from rivya.settings import Settings


@dataclass(frozen=True)
class Standing:
    """An account's use of its limit after a request."""

    allowed: bool
    limit: int
    remaining: int
    reset_in: float  # seconds until the oldest counted request leaves the window

    def headers(self) -> dict[str, str]:
        """The rate-limit headers of the answer."""
        headers = {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": f"{self.reset_in:.3f}s",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset_in)))
        return headers


class RateLimiter:
    """Counts requests per account against `RIVYA_RATE_LIMIT`, and failed authentications per
    client address against `RIVYA_AUTH_FAILURE_LIMIT` (each off when empty)."""

    def __init__(self, settings: Settings) -> None:
        self.item: RateLimitItem | None = (
            parse(settings.rate_limit) if settings.rate_limit else None
        )
        self.auth_failures: RateLimitItem | None = (
            parse(settings.auth_failure_limit) if settings.auth_failure_limit else None
        )
        uri = settings.rate_limit_storage
        options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
        self.strategy = MovingWindowRateLimiter(storage_from_string(uri, **options))

    async def hit(self, account_id: str) -> Standing | None:
        """Count one request; None when limits are off."""
        if self.item is None:
            return None
        allowed = await self.strategy.hit(self.item, "account", account_id)
        stats = await self.strategy.get_window_stats(self.item, "account", account_id)
        return Standing(
            allowed=allowed,
            limit=self.item.amount,
            remaining=stats.remaining,
            reset_in=max(0.0, stats.reset_time - time.time()),
        )

    async def auth_failed(self, address: str) -> None:
        """Count one failed authentication from `address`."""
        if self.auth_failures is not None:
            await self.strategy.hit(self.auth_failures, "auth-failure", address)

    async def auth_blocked_for(self, address: str) -> int | None:
        """Whole seconds until `address` may try an unknown key again, or None when it may
        now (or when the limit is off)."""
        if self.auth_failures is None or await self.strategy.test(
            self.auth_failures, "auth-failure", address
        ):
            return None
        stats = await self.strategy.get_window_stats(self.auth_failures, "auth-failure", address)
        return max(1, math.ceil(stats.reset_time - time.time()))
