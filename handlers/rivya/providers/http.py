"""Shared plumbing of the upstream providers: an HTTP client built from a catalog binding's
options, and a `send` that retries transient failures and turns the final one into ProviderError.

Options read here (every upstream provider type accepts them):

- `base_url`: the upstream's root URL (required).
- `api_key_env`: the NAME of an environment variable holding the upstream API key, sent as a
  Bearer token. Keys never live in the catalog. Without it no key is sent.
- `timeout`: seconds per request (default 60).
- `max_retries`: attempts after the first one for transient failures (default 3).
- `backoff_s`: the first wait between attempts in seconds, doubled each time, jittered (default
  0.5).
- `max_delay_s`: the longest wait between attempts, a Retry-After included (default 30).
- `max_connections`: connections to the upstream open at once (default 100; the runtime passes
  RIVYA_UPSTREAM_MAX_CONNECTIONS). A streamed chat turn holds one for as long as it streams, so
  this is how many turns of one process can stream from the upstream at once; others wait.

What an upstream hands back is not trusted (`UpstreamLimits`): every answer is read as it arrives
and cut off past the output size limit; redirects are never followed; links to files go through
the SSRF guard and are fetched over a connection pinned to the checked address; links to poll or
cancel must stay on the upstream's own origin, where the key goes.

Error messages name upstream URLs and quote upstream bodies, for the logs; `code` and
`public_message` never do, since the worker shows them to customers.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from rivya.net.pinned import PinnedTransport, ssl_context
from rivya.net.ssrf import AllowList, URLRejected, check_url
from rivya.providers.base import ProviderError
from rivya.settings import DEFAULT_MAX_OUTPUT_BYTES

UNAVAILABLE = "The model is temporarily unavailable. Please try again later."
REJECTED = "The model could not process this request."
UNUSABLE = "The model returned a result that could not be used."

_EXCERPT = 300  # characters of an upstream body quoted in a log message
# Headers that describe the body as it came over the wire, not as it is once read (decoded).
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class UpstreamLimits:
    """What any upstream may hand back: answers of at most `max_bytes` (a file, or JSON that
    carries one), and file links that pass the SSRF guard, where `allow` exempts development or
    private file hosts."""

    max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    allow: AllowList = field(default_factory=AllowList)


def required_str(options: Mapping[str, Any], name: str) -> str:
    """A required, non-empty string option; ValueError names the option if it is not."""
    value = options.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the provider option {name!r} must be a non-empty string")
    return value


def number(options: Mapping[str, Any], name: str, default: float) -> float:
    """A non-negative numeric option, or its default when absent."""
    value = options.get(name, default)
    # bool is an int subclass, and `timeout: true` is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"the provider option {name!r} must be a non-negative number")
    return float(value)


def unavailable(message: str) -> ProviderError:
    """A transient upstream failure that outlasted the retries: a later attempt may succeed."""
    return ProviderError(
        message, retryable=True, code="upstream_unavailable", public_message=UNAVAILABLE
    )


def rejected(message: str) -> ProviderError:
    """The upstream refused the request; sending it again would not help."""
    return ProviderError(
        message, retryable=False, code="upstream_rejected", public_message=REJECTED
    )


def unusable(message: str) -> ProviderError:
    """The upstream answered, but with nothing we can turn into outputs."""
    return ProviderError(
        message, retryable=False, code="upstream_bad_response", public_message=UNUSABLE
    )


def read_json(response: httpx.Response) -> Any:
    """The response body as JSON, or an `unusable` error quoting it."""
    try:
        return response.json()
    except ValueError as exc:
        raise unusable(
            f"{response.request.method} {response.request.url}: not JSON: "
            f"{response.text[:_EXCERPT]!r}"
        ) from exc


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently `Upstream.send` retries."""

    max_retries: int = 3
    backoff_s: float = 0.5
    max_delay_s: float = 30.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RetryPolicy:
        """The policy that a binding's options describe."""
        max_retries = options.get("max_retries", cls.max_retries)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError("the provider option 'max_retries' must be a non-negative integer")
        return cls(
            max_retries=max_retries,
            backoff_s=number(options, "backoff_s", cls.backoff_s),
            max_delay_s=number(options, "max_delay_s", cls.max_delay_s),
        )

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0 for the first)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay_s)
        # Jitter keeps many workers that failed together from retrying in lockstep.
        backoff = self.backoff_s * 2.0**attempt * random.uniform(0.5, 1.0)
        return min(backoff, self.max_delay_s)


class _OriginBearer(httpx.Auth):
    """Sends the key to the upstream's own origin only: output files may be served from other
    hosts (a CDN), and those must never see it."""

    def __init__(self, base_url: httpx.URL, key: str) -> None:
        self._origin = (base_url.scheme, base_url.host, base_url.port)
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if (request.url.scheme, request.url.host, request.url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._key}"
        yield request


def build_client(options: Mapping[str, Any]) -> httpx.AsyncClient:
    """An HTTP client of the upstream that the options name; ValueError if they are incomplete,
    including when `api_key_env` names an unset variable (better a failed start than a fleet of
    401s)."""
    base_url = httpx.URL(required_str(options, "base_url"))
    auth = None
    if "api_key_env" in options:
        variable = required_str(options, "api_key_env")
        key = os.environ.get(variable)
        if not key:
            raise ValueError(f"the environment variable {variable} (api_key_env) is not set")
        auth = _OriginBearer(base_url, key)
    pool = int(number(options, "max_connections", 100))
    if pool < 1:
        raise ValueError("the provider option 'max_connections' must be at least 1")
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=number(options, "timeout", 60.0),
        auth=auth,
        # A redirect is a URL the upstream chose: it would escape the checks that its links get.
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=min(pool, 100)),
    )


def _retry_after(response: httpx.Response) -> float | None:
    """The wait that a Retry-After header asks for (seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Upstream:
    """One upstream service: its HTTP client, its retry policy and the limits on its answers."""

    def __init__(self, options: Mapping[str, Any], limits: UpstreamLimits | None = None) -> None:
        self.policy = RetryPolicy.from_options(options)
        self.limits = limits or UpstreamLimits()
        self.client = build_client(options)

    async def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        timeout_s: float | None = None,
        retry: bool = True,
        stream: bool = False,
        client: httpx.AsyncClient | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send a request and return its 2xx response. Timeouts, connection errors, 5xx and 429
        are retried (waiting as Retry-After asks, capped) up to `max_retries` times, then raise
        a retryable ProviderError; a 3xx (never followed) or a body over the size limit raises
        an `unusable` one and any other answer a `rejected` one, at once. A relative `url` is
        joined to the base URL; `timeout_s` replaces the client's timeout; `retry=False` makes
        one attempt only; `client` replaces the upstream's own (downloads use a pinned one).
        The body is read as it arrives, up to `max_bytes` (default: the limits' size); with
        `stream=True` the 2xx response comes back with its body unread (the caller reads it as
        it arrives, then closes it); nothing is retried once a 2xx has come."""
        client = client or self.client
        limit = self.limits.max_bytes if max_bytes is None else max_bytes
        attempts = 1 + (self.policy.max_retries if retry else 0)
        for attempt in range(attempts):
            try:
                request = client.build_request(
                    method,
                    url,
                    json=json,
                    timeout=httpx.USE_CLIENT_DEFAULT if timeout_s is None else timeout_s,
                )
                response = await client.send(request, stream=True)
                if stream and response.is_success:
                    return response
                try:
                    body = await _read_capped(response, limit)
                finally:
                    await response.aclose()
            except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.DecodingError) as exc:
                # A URL the upstream handed us that no retry can fetch, or a body that does not
                # decode as its Content-Encoding says.
                raise unusable(f"{method} {url}: {exc}") from exc
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                where = exc.request.url
                failure = f"{type(exc).__name__}: {exc}"
                retry_after = None
            else:
                response = _buffered(response, body)
                if response.is_success:
                    return response
                where = response.request.url
                failure = f"HTTP {response.status_code}: {response.text[:_EXCERPT]!r}"
                if 300 <= response.status_code < 400:
                    location = response.headers.get("Location")
                    raise unusable(f"{method} {where} redirects to {location!r}, not followed")
                if response.status_code != 429 and response.status_code < 500:
                    raise rejected(f"{method} {where} was refused, {failure}")
                retry_after = _retry_after(response)
            if attempt + 1 < attempts:
                await asyncio.sleep(self.policy.delay(attempt, retry_after))
        raise unavailable(f"{method} {where} failed {attempts} times, last {failure}")

    async def download(self, url: str) -> bytes:
        """The body of a file that the upstream made, from a link it handed back: the link must
        pass the SSRF guard (public addresses, https, unless the limits allow the host), the
        connection goes to the checked address, no redirect is followed, and the body is cut
        off past the size limit. Every refusal is `unusable`."""
        link = str(self.client.base_url.join(url))
        try:
            target = await check_url(link, self.limits.allow, subject="file link")
        except URLRejected as exc:
            raise unusable(f"GET {link}: {exc.code}: {exc.message}") from None
        async with httpx.AsyncClient(
            transport=PinnedTransport(target, ssl_context()),
            auth=self.client.auth,
            timeout=self.client.timeout,
            follow_redirects=False,
            trust_env=False,
        ) as pinned:
            response = await self.send("GET", target.url, client=pinned)
        if not response.content:
            raise unusable(f"GET {link}: the file is empty")
        return response.content

    def own(self, url: str) -> str:
        """A link to poll or cancel with, joined to the base URL; `unusable` unless it is on the
        upstream's own origin (the authenticated client must not be led elsewhere)."""
        link = self.client.base_url.join(url)
        base = self.client.base_url
        if (link.scheme, link.host, link.port) != (base.scheme, base.host, base.port):
            raise unusable(f"{link} is not on the upstream's origin {base}")
        return str(link)

    async def aclose(self) -> None:
        """Close the connections."""
        await self.client.aclose()


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The (decoded) body of a streamed response, read as it arrives; `unusable` as soon as it
    passes `max_bytes`, before reading further (and at once when Content-Length says so)."""
    where = f"{response.request.method} {response.request.url}"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise unusable(f"{where}: the body of {declared} bytes is over the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    # Decoded bytes are counted: a small compressed body may inflate without bound.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise unusable(f"{where}: the body passed the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _buffered(response: httpx.Response, body: bytes) -> httpx.Response:
    """The response with its body read (and decoded) already."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request
    )
