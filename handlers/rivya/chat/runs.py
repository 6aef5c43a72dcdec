"""A chat turn's model call, run in a task of its own that settles the turn on every way out.

The response, streamed or not, only reads what the run produces; it never settles anything. So
however the request ends, the turn's hold resolves once, at once:

normal end        the model finished: charge the usage it reported, release the rest, save the
                  messages (turns.settle)
client gone       the response calls stop(): the model call is cancelled (which closes the
                  upstream connection), and what was produced is charged, counted with the local
                  tokenizer, and saved; when nothing was produced, nothing is charged or saved
                  (a non-streaming turn has produced nothing until its whole answer is in: stopped
                  before then, it is released, like a failure)
upstream error    the whole reservation is released and nothing is saved (turns.abandon)
shutdown          Runtime.stop() stops every run, then waits for their settlements
settlement fails  the reservation is released in a transaction of its own: a fault of ours is
                  not the customer's to pay for
process dies      worker maintenance releases the reservation an hour later
                  (turns.release_abandoned)

The run's task is not the request's: the cancellation that a disconnect or a shutdown brings to
the request never reaches a settlement in progress, and nothing waits for a response generator
to be closed or collected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from rivya.chat import turns
from rivya.chat.turns import PreparedTurn, TurnResult
from rivya.providers.chat_base import ChatDelta
from rivya.runtime import Runtime

log = logging.getLogger(__name__)
_END = None  # put on the queue of pieces when the model call has ended, however it ended
INTERRUPTED = "The turn was interrupted before the model answered; nothing was charged."


class TurnRun:
    """One turn in flight: making one calls the model for a prepared (reserved) turn, streamed
    piece by piece, or (a non-streaming turn) in one call, which spares the upstream and us a
    stream. Then read `pieces()` (streamed), and `outcome()`."""

    def __init__(
        self,
        runtime: Runtime,
        turn: PreparedTurn,
        *,
        stream: bool,
        idempotency_key: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.turn = turn
        self._stream = stream
        self.result = TurnResult()
        self._idempotency_key = idempotency_key
        self._pieces: asyncio.Queue[ChatDelta | None] = asyncio.Queue()
        self._model_call = asyncio.create_task(self._call_model())
        self._settlement = asyncio.create_task(self._settle_when_done())
        runtime.track(self._settlement, self.stop)

    def stop(self) -> None:
        """Nobody will read the rest (the client went away, or the server is stopping): stop
        the model; what it produced until now is charged. Does nothing once it has finished."""
        self._model_call.cancel()

    async def pieces(self, keep_alive_s: float) -> AsyncIterator[ChatDelta | None]:
        """The model's pieces as they come, and None after each `keep_alive_s` of silence; ends
        when the model call has ended (then see `outcome`)."""
        while True:
            try:
                piece = await asyncio.wait_for(self._pieces.get(), keep_alive_s)
            except TimeoutError:
                yield None
                continue
            if piece is _END:
                return
            yield piece

    async def outcome(self) -> dict[str, Any] | None:
        """The `chat.completion` answer once the turn is settled, or None when it was stopped
        before the model produced anything; raises what the model call raised (a ProviderError)
        after the reservation was released. Cancelling the caller stops the model but never the
        settlement."""
        try:
            return await asyncio.shield(self._settlement)
        except asyncio.CancelledError:
            self.stop()
            raise

    async def _call_model(self) -> None:
        provider = self.runtime.chat_provider_for(self.turn.model)
        try:
            if not self._stream:
                self.result.add(await provider.complete(self.turn.request))
                return
            async for delta in provider.stream(self.turn.request):
                self.result.add(delta)
                self._pieces.put_nowait(delta)
        finally:
            self._pieces.put_nowait(_END)

    async def _settle_when_done(self) -> dict[str, Any] | None:
        await asyncio.wait({self._model_call})
        turn, result = self.turn, self.result
        if self._model_call.cancelled():
            if not (result.content or result.tool_calls):
                await self._release("it was stopped before the model produced anything")
                return None
            result.finish_reason = result.finish_reason or "stop"
        elif (error := self._model_call.exception()) is not None:
            await self._release("the model failed")
            raise error
        try:
            return await turns.settle(
                self.runtime, turn, result, idempotency_key=self._idempotency_key
            )
        except Exception:
            log.exception("settling chat turn %s failed; releasing it", turn.completion_id)
            await self._release("its settlement failed")
            raise

    async def _release(self, why: str) -> None:
        log.info("chat turn %s is released: %s", self.turn.completion_id, why)
        await turns.abandon(self.runtime, self.turn)
