"""The Bearer security function that the spec names (`x-bearerInfoFunc`)."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest

from rivya.auth.api_keys import authenticate, expired_key, touch_key
from rivya.auth.keys import check_format, hash_secret
from rivya.clock import now
from rivya.errors import AuthenticationFailed
from rivya.runtime import Runtime
from rivya.web.problems import ApiProblem
from rivya.web.request_context import HEADERS_KEY, SCOPE_KEY


async def bearer_info(token: str, request: ConnexionRequest) -> dict[str, Any]:
    """Resolve a Bearer token to its account, or refuse it with a 401 that says why."""
    runtime: Runtime = request.scope[SCOPE_KEY]
    _refuse_duplicate_authorization(request)
    cache = runtime.key_cache
    address = _client_address(request)
    try:
        check_format(token)
        digest = hash_secret(token)
        principal = cache.get(digest)
        if principal is None:
            await _refuse_if_failing(runtime, address)
            generation = cache.generation
            async with runtime.db.read() as conn:
                principal = await authenticate(conn, token)
            cache.put(digest, principal, generation)
        elif principal.expired():
            raise expired_key()
    except AuthenticationFailed as exc:
        await runtime.rate_limiter.auth_failed(address)
        raise ApiProblem(401, exc.code, exc.message) from None
    standing = await runtime.rate_limiter.hit(principal.account_id)
    if standing is not None:
        if not standing.allowed:
            raise ApiProblem(
                429,
                "rate_limited",
                f"This account's limit of {runtime.settings.rate_limit} requests is reached; "
                f"retry in {standing.headers()['Retry-After']} s.",
                headers=standing.headers(),
            )
        request.scope[HEADERS_KEY].extend(standing.headers().items())
    interval = runtime.settings.key_touch_interval
    if principal.last_used_at is None or principal.last_used_at <= now() - interval:
        async with runtime.db.write() as conn:
            await touch_key(conn, principal.key_id, interval=interval)
        cache.touched(digest, now())
    return {"sub": principal.account_id, "key_id": principal.key_id}


def _refuse_duplicate_authorization(request: ConnexionRequest) -> None:
    """A 400 for more than one Authorization header: connexion reads the first, and a request
    that says two things about who sends it is refused rather than guessed at."""
    count = sum(1 for name, _ in request.scope["headers"] if name == b"authorization")
    if count > 1:
        raise ApiProblem(
            400,
            "duplicate_authorization_header",
            f"Send one Authorization header; this request has {count}.",
        )


def _client_address(request: ConnexionRequest) -> str:
    """The client's address (behind a proxy, the one uvicorn takes from X-Forwarded-For when
    the proxy is in FORWARDED_ALLOW_IPS)."""
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


async def _refuse_if_failing(runtime: Runtime, address: str) -> None:
    """A 429 for an address over its limit of failed authentications: checked before the
    lookup, which is what the limit saves."""
    retry_after = await runtime.rate_limiter.auth_blocked_for(address)
    if retry_after is not None:
        raise ApiProblem(
            429,
            "too_many_auth_failures",
            f"Too many failed authentications from this address (the limit is "
            f"{runtime.settings.auth_failure_limit}); retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
