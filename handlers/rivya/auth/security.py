"""The Bearer security function that the spec names (`x-bearerInfoFunc`)."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest

from rivya.auth.api_keys import authenticate, touch_key
from rivya.clock import now
from rivya.errors import AuthenticationFailed
from rivya.web.problems import ApiProblem
from rivya.web.request_context import SCOPE_KEY


async def bearer_info(token: str, request: ConnexionRequest) -> dict[str, Any]:
    """Resolve a Bearer token to its account, or refuse it with a 401 that says why."""
    runtime = request.scope[SCOPE_KEY]
    try:
        async with runtime.db.read() as conn:
            principal = await authenticate(conn, token)
    except AuthenticationFailed as exc:
        raise ApiProblem(401, exc.code, exc.message) from None
    interval = runtime.settings.key_touch_interval
    if principal.last_used_at is None or principal.last_used_at <= now() - interval:
        async with runtime.db.write() as conn:
            await touch_key(conn, principal.key_id, interval=interval)
    return {"sub": principal.account_id, "key_id": principal.key_id}
