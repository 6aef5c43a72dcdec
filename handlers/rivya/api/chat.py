"""`chat` tag: turns (OpenAI Chat Completions) and sessions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from rivya import idempotency
from rivya.api import answer_response, header, render, runtime
from rivya.chat import sessions, turns
from rivya.chat.runs import INTERRUPTED, TurnRun
from rivya.chat.streaming import TurnStreamResponse
from rivya.errors import InvalidRequest, ModelUnavailable, RivyaError
from rivya.providers.base import ProviderError
from rivya.web.problems import domain_problem


async def create_chat_completion(user: str, body: dict[str, Any]) -> Response:
    """POST /chat/completions"""
    rt = runtime()
    key = header("Idempotency-Key")
    if body.get("stream"):
        if key:
            raise InvalidRequest(
                "Idempotency-Key works on non-streaming turns only; a stream cannot be replayed.",
                code="idempotency_key_unsupported",
            )
        turn = await turns.prepare(rt, user, body)
        options = body.get("stream_options") or {}
        return TurnStreamResponse(
            TurnRun(rt, turn, stream=True),
            include_usage=bool(options.get("include_usage")),
            keep_alive_s=rt.settings.chat_keep_alive_seconds,
        )
    if key:
        print_ = idempotency.fingerprint("POST", "/chat/completions", body)
        replay = await idempotency.claim(rt.db, user, key, print_)
        if replay is not None:
            return answer_response(replay)
    try:
        answer = await _complete(user, body, key)
    except RivyaError as exc:
        if key:
            status, problem = domain_problem(exc)
            async with rt.db.write() as conn:
                await idempotency.store(conn, user, key, status, problem)
        raise
    except BaseException:
        if key:
            await idempotency.abandon(rt.db, user, key)
        raise
    response = render(answer)
    response.headers["X-Rivya-Session-Id"] = answer["session_id"]
    return response


async def _complete(user: str, body: dict[str, Any], key: str | None) -> dict[str, Any]:
    rt = runtime()
    turn = await turns.prepare(rt, user, body)
    try:
        answer = await TurnRun(rt, turn, stream=False, idempotency_key=key).outcome()
    except ProviderError as exc:
        raise ModelUnavailable(exc.public_message, code=exc.code) from exc
    if answer is None:
        raise ModelUnavailable(INTERRUPTED, code="turn_interrupted")
    return answer


async def list_chat_sessions(user: str, limit: int = 20, after: str | None = None) -> Response:
    """GET /chat/sessions"""
    async with runtime().db.read() as conn:
        found, has_more = await sessions.list_sessions(conn, user, limit=limit, after=after)
    return render({"object": "list", "data": [s.public() for s in found], "has_more": has_more})


async def get_chat_session(user: str, session_id: str) -> Response:
    """GET /chat/sessions/{sessionId}"""
    async with runtime().db.read() as conn:
        session = await sessions.get_session(conn, user, session_id)
        stored = await sessions.messages(conn, session.id)
    return render({**session.public(), "messages": stored})
