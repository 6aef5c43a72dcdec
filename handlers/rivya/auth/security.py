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
    cache = runtime.key_cache
    try:
        check_format(token)
        digest = hash_secret(token)
        principal = cache.get(digest)
        if principal is None:
            generation = cache.generation
            async with runtime.db.read() as conn:
                principal = await authenticate(conn, token)
            cache.put(digest, principal, generation)
        elif principal.expired():
            raise expired_key()
    except AuthenticationFailed as exc:
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
