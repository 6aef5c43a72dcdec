"""Sending one webhook request to a checked target.

The connection goes to an address the SSRF guard checked (`Target.addresses`), never to whatever
the host name resolves to by then: httpx runs on a transport whose httpcore network backend swaps
the host for the pinned address at connect time, while the URL, the Host header and TLS (SNI and
the certificate check) keep the host name. Redirects are not followed (a 3xx is a failure, as the
Standard Webhooks spec says), proxies from the environment are not used (a proxy would resolve
the name itself), and at most MAX_RESPONSE_BYTES of the answer are read.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from rivya.webhooks.ssrf import Target

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
    transport = PinnedTransport(target, _ssl_context())
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


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; one context serves every delivery.
    return httpx.create_ssl_context()


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections for the target's host to its checked addresses, in order, and for
    no other host."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first checked address that accepts one."""
        if host != self._target.host or port != self._target.port:
            raise httpcore.ConnectError(f"{host}:{port} is not the checked target")
        failure: Exception = httpcore.ConnectError(f"{host} has no checked address")
        for address in self._target.addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore waits between retries with it; none are configured)."""
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore connection pool that uses PinnedBackend."""

    def __init__(self, target: Target, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=1, network_backend=PinnedBackend(target)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request through the pool (httpx's own transport does the same)."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        core_response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        """Close the pool's connection."""
        await self._pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()
