"""Operation handlers, one module per spec tag. Thin: parse, call one service, render."""

from __future__ import annotations

import json
from typing import Any

from connexion.context import request, scope
from starlette.responses import Response

from rivya.idempotency import StoredAnswer
from rivya.runtime import Runtime
from rivya.web.request_context import SCOPE_KEY


def runtime() -> Runtime:
    """The runtime of the app serving the current request."""
    found: Runtime = scope[SCOPE_KEY]
    return found


def render(payload: Any, status: int = 200) -> Response:
    """A JSON response (operations that can also answer problems must name their media type)."""
    return Response(
        json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        status_code=status,
        media_type="application/json",
    )


def header(name: str) -> str | None:
    """A header of the current request."""
    value: str | None = request.headers.get(name)
    return value


def answer_response(answer: StoredAnswer) -> Response:
    """An operation's answer; a replay of an earlier request with the same Idempotency-Key says
    so (`Idempotent-Replayed`, as Stripe does)."""
    response = render(answer.body, answer.status)
    if answer.status >= 400:
        response.headers["content-type"] = "application/problem+json"
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
