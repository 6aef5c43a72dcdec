"""A streamed chat turn as server-sent events.

The model's pieces go out as they come (nothing is buffered), as `data: {chunk}` events; while
the model is silent, `: keep-alive` comments keep idle proxies from cutting the connection. After
the last piece and the turn's settlement come the chunk with the finish reason, the usage chunk
when the client asked for it, and `data: [DONE]`; a failure ends the stream with a
`data: {"error": …}` event instead.

Settling is the TurnRun's, never this stream's: however the response ends (the client read it
all, reset the connection, or the server is stopping), TurnStreamResponse tells the run nobody is
reading any more, and the run charges what was produced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from rivya.chat import turns
from rivya.chat.runs import INTERRUPTED, TurnRun
from rivya.providers.base import ProviderError
from rivya.providers.chat_base import ChatDelta

log = logging.getLogger(__name__)
KEEP_ALIVE = ": keep-alive\n\n"
DONE = "data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> str:
    """One SSE data event."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


class TurnStreamResponse(StreamingResponse):
    """The event stream of a running turn. When the response ends, however it ends, the run is
    told that nobody reads any more."""

    def __init__(self, run: TurnRun, *, include_usage: bool, keep_alive_s: float) -> None:
        self._run = run
        self._events = sse(run, include_usage=include_usage, keep_alive_s=keep_alive_s)
        super().__init__(
            self._events,
            media_type="text/event-stream",
            headers={
                "X-Rivya-Session-Id": run.turn.session_id,
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._run.stop()
            # A generator left suspended at a `yield` (the client left while an event was being
            # sent) is closed here rather than whenever it is collected.
            await self._events.aclose()


async def sse(
    run: TurnRun, *, include_usage: bool, keep_alive_s: float
) -> AsyncGenerator[str, None]:
    """The turn's event stream."""
    turn = run.turn
    yield event(turns.chunk(turn, {"role": "assistant", "content": ""}, None))
    async for piece in run.pieces(keep_alive_s):
        if piece is None:
            yield KEEP_ALIVE
            continue
        delta = _delta(piece)
        if delta:
            yield event(turns.chunk(turn, delta, None))
    try:
        answer = await run.outcome()
    except Exception as exc:
        yield event({"error": _error(exc)})
        return
    if answer is None:
        yield event(
            {"error": {"message": INTERRUPTED, "type": "server_error", "code": "turn_interrupted"}}
        )
        return
    yield event(turns.chunk(turn, {}, answer["choices"][0]["finish_reason"]))
    if include_usage:
        final = turns.chunk(turn, {}, None)
        final["choices"] = []
        final["usage"] = answer["usage"]
        yield event(final)
    yield DONE


def _delta(piece: ChatDelta) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if piece.content:
        delta["content"] = piece.content
    if piece.tool_calls:
        delta["tool_calls"] = piece.tool_calls
    return delta


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ProviderError):
        log.warning("chat stream failed: %s", exc)
        return {"message": exc.public_message, "type": "model_error", "code": exc.code}
    return {
        "message": "Something went wrong on our side; nothing was charged.",
        "type": "server_error",
        "code": "internal_error",
    }
