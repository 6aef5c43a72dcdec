"""Connections pinned to the addresses that the SSRF guard checked.

httpx runs on a transport whose httpcore network backend swaps the host for a checked address
(`Target.addresses`) at connect time, while the URL, the Host header and TLS (SNI and the
certificate check) keep the host name: a DNS answer that changed since the check cannot lead the
request elsewhere. Callers also turn off redirects and proxies from the environment.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Iterable

import httpcore
import httpx

from rivya.net.ssrf import Target


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """The default TLS context, loaded once: loading the CA bundle takes milliseconds."""
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
