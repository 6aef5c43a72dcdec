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

Error messages name upstream URLs and quote upstream bodies, for the logs; `code` and
`public_message` never do, since the worker shows them to customers.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import random
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from rivya.providers.base import Output, ProviderError

UNAVAILABLE = "The model is temporarily unavailable. Please try again later."
REJECTED = "The model could not process this request."
UNUSABLE = "The model returned a result that could not be used."

_EXCERPT = 300  # characters of an upstream body quoted in a log message
# Types that mimetypes does not know on every system.
_EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "image/webp": ".webp"}


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


def output(task_id: str, index: int, data: bytes, content_type: str) -> Output:
    """A task's `index`th output, named with the extension of its type."""
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    return Output(data, content_type, f"{task_id}-{index}{extension}")


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
        follow_redirects=True,
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
    """One upstream service: its HTTP client and its retry policy."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.policy = RetryPolicy.from_options(options)
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
    ) -> httpx.Response:
        """Send a request and return its 2xx response. Timeouts, connection errors, 5xx and 429
        are retried (waiting as Retry-After asks, capped) up to `max_retries` times, then raise
        a retryable ProviderError; any other answer raises a non-retryable one at once. A
        relative `url` is joined to the base URL; `timeout_s` replaces the client's timeout;
        `retry=False` makes one attempt only. With `stream=True` the 2xx response comes back
        with its body unread (the caller reads it as it arrives, then closes it); nothing is
        retried once a 2xx has come."""
        attempts = 1 + (self.policy.max_retries if retry else 0)
        for attempt in range(attempts):
            try:
                request = self.client.build_request(
                    method,
                    url,
                    json=json,
                    timeout=httpx.USE_CLIENT_DEFAULT if timeout_s is None else timeout_s,
                )
                response = await self.client.send(request, stream=stream)
                if stream and not response.is_success:
                    try:
                        await response.aread()  # the error body, for the log
                    finally:
                        await response.aclose()
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                # A URL the upstream handed us that no retry can fetch.
                raise unusable(f"{method} {url}: {exc}") from exc
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                where = exc.request.url
                failure = f"{type(exc).__name__}: {exc}"
                retry_after = None
            else:
                if response.is_success:
                    return response
                where = response.request.url
                failure = f"HTTP {response.status_code}: {response.text[:_EXCERPT]!r}"
                if response.status_code != 429 and response.status_code < 500:
                    raise rejected(f"{method} {where} was refused, {failure}")
                retry_after = _retry_after(response)
            if attempt + 1 < attempts:
                await asyncio.sleep(self.policy.delay(attempt, retry_after))
        raise unavailable(f"{method} {where} failed {attempts} times, last {failure}")

    async def download(self, url: str, fallback_type: str) -> tuple[bytes, str]:
        """The body of a file the upstream made, and its content type: the response's, unless
        it is missing or says no more than "bytes", then `fallback_type`."""
        response = await self.send("GET", url)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type or content_type == "application/octet-stream":
            content_type = fallback_type
        if not response.content:
            raise unusable(f"GET {url}: the file is empty")
        return response.content, content_type

    async def aclose(self) -> None:
        """Close the connections."""
        await self.client.aclose()
