"""Sending one webhook request to a checked target.

The connection goes to an address the SSRF guard checked (`Target.addresses`), never to whatever
the host name resolves to by then (`rivya.net.pinned`). Redirects are not followed (a 3xx is a
failure, as the Standard Webhooks spec says), proxies from the environment are not used (a proxy
would resolve the name itself), and at most MAX_RESPONSE_BYTES of the answer are read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from rivya.net.pinned import PinnedTransport, ssl_context
from rivya.net.ssrf import Target

MAX_RESPONSE_BYTES = 4096
USER_AGENT = "Rivya-Webhooks/1.0"


@dataclass(frozen=True)
class SendResult:
    """What one attempt came to: a status code, or an error when no answer came."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300


async def send(
    target: Target, body: bytes, headers: Mapping[str, str], *, timeout_s: float
) -> SendResult:
    """POST `body` (JSON) to the target; the whole exchange is limited to `timeout_s`."""
    started = time.monotonic()
    transport = PinnedTransport(target, ssl_context())
    try:
        async with (
            asyncio.timeout(timeout_s),
            httpx.AsyncClient(
                transport=transport,
                follow_redirects=False,
                trust_env=False,
                timeout=timeout_s,
                headers={"user-agent": USER_AGENT},
            ) as client,
            client.stream(
                "POST",
                target.url,
                content=body,
                headers={**headers, "content-type": "application/json"},
            ) as response,
        ):
            await _read_some(response)
            status, retry_after = response.status_code, _retry_after(response)
    except (TimeoutError, httpcore.TimeoutException):
        return _failed("timeout", started)
    except httpcore.ConnectError as exc:
        return _failed(f"connection failed: {exc}", started)
    except (httpcore.NetworkError, httpcore.ProtocolError, httpx.HTTPError) as exc:
        return _failed(f"{type(exc).__name__}: {exc}", started)
    return SendResult(status, None, _elapsed_ms(started), retry_after)


async def _read_some(response: httpx.Response) -> None:
    """Read the start of the answer and drop it: a small answer is read to its end, so the
    receiver sees a clean exchange; a large or endless one is cut off."""
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received >= MAX_RESPONSE_BYTES:
            break


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by Retry-After (a number of seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _failed(error: str, started: float) -> SendResult:
    return SendResult(None, error[:200], _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
