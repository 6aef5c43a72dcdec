"""A streamed chat turn as server-sent events.

The model's pieces go out as they come (nothing is buffered), as `data: {chunk}` events; while
the model has not answered, `: keep-alive` comments keep idle proxies from cutting the
connection. The turn is settled once, whatever happens: after the last piece (charge the usage),
on an error (release everything, and tell the client in a `data: {"error": …}` event), or when
the client goes away (stop the model, charge what was produced). Settlement runs shielded from
the cancellation that a disconnect brings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio

from rivya.chat import turns
from rivya.chat.turns import PreparedTurn, TurnResult
from rivya.providers.base import ProviderError
from rivya.providers.chat_base import ChatDelta
from rivya.runtime import Runtime

log = logging.getLogger(__name__)
KEEP_ALIVE = ": keep-alive\n\n"
DONE = "data: [DONE]\n\n"
_END = object()


def event(payload: dict[str, Any]) -> str:
    """One SSE data event."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


async def sse(
    runtime: Runtime, turn: PreparedTurn, *, include_usage: bool, keep_alive_s: float
) -> AsyncIterator[str]:
    """The turn's event stream."""
    provider = runtime.chat_provider_for(turn.model)
    pieces: asyncio.Queue[object] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for delta in provider.stream(turn.request):
                await pieces.put(delta)
            await pieces.put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await pieces.put(exc)

    result = TurnResult()
    settled = False
    started = False
    task = asyncio.create_task(pump())
    try:
        yield event(turns.chunk(turn, {"role": "assistant", "content": ""}, None))
        while True:
            try:
                item = await asyncio.wait_for(pieces.get(), keep_alive_s)
            except TimeoutError:
                yield KEEP_ALIVE
                continue
            if item is _END:
                break
            if isinstance(item, Exception):
                settled = True
                await turns.abandon(runtime, turn)
                yield event({"error": _error(item)})
                return
            assert isinstance(item, ChatDelta)
            started = True
            result.add(item)
            delta = _delta(item)
            if delta:
                yield event(turns.chunk(turn, delta, None))
        yield event(turns.chunk(turn, {}, result.finish_reason or "stop"))
        settled = True
        answer = await turns.settle(runtime, turn, result)
        if include_usage:
            final = turns.chunk(turn, {}, None)
            final["choices"] = []
            final["usage"] = answer["usage"]
            yield event(final)
        yield DONE
    finally:
        if not task.done():
            task.cancel()
        if not settled:
            # The client went away (or the server is stopping): charge what was produced.
            with anyio.CancelScope(shield=True):
                await _settle_cut(runtime, turn, result, started, task)


async def _settle_cut(
    runtime: Runtime,
    turn: PreparedTurn,
    result: TurnResult,
    started: bool,
    task: asyncio.Task[None],
) -> None:
    try:
        await asyncio.wait({task}, timeout=5)
        if started:
            result.finish_reason = result.finish_reason or "stop"
            await turns.settle(runtime, turn, result)
        else:
            await turns.abandon(runtime, turn)
    except Exception:
        log.exception("settling the cut stream %s failed", turn.completion_id)


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
    log.error("chat stream failed", exc_info=exc)
    return {
        "message": "Something went wrong on our side.",
        "type": "server_error",
        "code": "internal_error",
    }
