"""A chat turn from request to settlement.

prepare   check the request, load the session, check attachments, estimate the prompt, and
          reserve the worst case (estimate + max_tokens at the model's prices; 402 before any
          model call)
settle    in one transaction: charge the actual usage (at most the reservation) and release the
          rest, make the session if it is new, and save the new messages and the answer
abandon   release the whole reservation; nothing is saved, not even a new session (a failed
          turn)

rivya.chat.runs decides which of settle and abandon ends a turn, on every way out of it.

Usage is always measured: from the provider's report, or counted from what was produced when a
stream was cut short by the client.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rivya import clock, idempotency
from rivya.billing import holds
from rivya.billing.pricing import chat_cost
from rivya.catalog.catalog import CatalogModel
from rivya.chat import attachments, sessions
from rivya.errors import InvalidRequest
from rivya.ids import random_base62
from rivya.providers.chat_base import ChatDelta, ChatRequest, Usage
from rivya.providers.tokens import count_tokens, estimate_prompt_tokens
from rivya.runtime import Runtime

DEFAULT_MAX_TOKENS = 1024
COMPLETION_PREFIX = "chatcmpl-"
# No turn runs longer; a reservation older than this belongs to a process that died mid-turn.
ABANDONED_AFTER_S = 3600
# Prompt estimates are a tokenizer's guess of the upstream's count: reserve some headroom.
ESTIMATE_MARGIN = 1.1
ESTIMATE_SLACK = 16
UNSUPPORTED = {
    "logprobs": "logprobs are not supported",
    "audio": "audio output is not supported",
    "modalities": "only text output is supported",
    "top_logprobs": "logprobs are not supported",
}


@dataclass
class PreparedTurn:
    """A turn whose worst case is reserved."""

    completion_id: str
    created: int
    model: CatalogModel
    account_id: str
    session_id: str
    new_session: bool  # made when the turn is settled, so that a failed turn leaves none
    new_messages: list[dict[str, Any]]
    request: ChatRequest
    hold_id: str
    reserved: int
    prompt_estimate: int


@dataclass
class TurnResult:
    """What the model produced."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None

    def measured(self, prompt_estimate: int) -> Usage:
        """The turn's usage: reported, or counted from what was produced."""
        if self.usage is not None:
            return self.usage
        produced = count_tokens(self.content) + sum(
            count_tokens(str(call.get("function", {}).get("arguments", "")))
            for call in self.tool_calls
        )
        return Usage(prompt_tokens=prompt_estimate, completion_tokens=produced)

    def add(self, delta: ChatDelta) -> None:
        """Take in a streamed piece (tool-call fragments are joined by their index)."""
        if delta.content:
            self.content += delta.content
        for fragment in delta.tool_calls or ():
            index = int(fragment.get("index", 0))
            while len(self.tool_calls) <= index:
                self.tool_calls.append(
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
            call = self.tool_calls[index]
            call["id"] = fragment.get("id") or call["id"]
            function = fragment.get("function") or {}
            call["function"]["name"] += function.get("name") or ""
            call["function"]["arguments"] += function.get("arguments") or ""
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
        if delta.usage is not None:
            self.usage = delta.usage

    def message(self) -> dict[str, Any]:
        """The assistant's message."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        elif message["content"] is None:
            message["content"] = ""
        return message


def chat_model(runtime: Runtime, model_id: str) -> CatalogModel:
    """The chat model, or InvalidRequest."""
    model = runtime.catalog.get(model_id)
    if model is None:
        raise InvalidRequest(
            f"No model {model_id!r}; GET /api/v1/models lists them.", code="model_not_found"
        )
    if model.kind != "chat":
        raise InvalidRequest(
            f"{model_id} is a {model.kind} model: use POST /api/v1/generations.",
            code="wrong_model_kind",
        )
    return model


def _max_tokens(model: CatalogModel, body: dict[str, Any]) -> int:
    schema = model.parameters.get("properties", {}).get("max_tokens", {})
    limit = int(schema.get("maximum", 1 << 31))
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    value = int(asked) if asked else int(schema.get("default", DEFAULT_MAX_TOKENS))
    if value > limit:
        raise InvalidRequest(
            f"max_tokens: {value} is more than {model.id}'s maximum of {limit}.",
            code="invalid_request",
        )
    return value


def _refuse_unsupported(body: dict[str, Any]) -> None:
    if (body.get("n") or 1) > 1:
        raise InvalidRequest(
            "n: only one choice per turn is supported.", code="unsupported_parameter"
        )
    for name, why in UNSUPPORTED.items():
        if body.get(name):
            raise InvalidRequest(f"{name}: {why}.", code="unsupported_parameter")


async def prepare(runtime: Runtime, account_id: str, body: dict[str, Any]) -> PreparedTurn:
    """Check the turn and reserve its worst case."""
    model = chat_model(runtime, body["model"])
    _refuse_unsupported(body)
    max_tokens = _max_tokens(model, body)
    new_messages = [
        {k: m[k] for k in sessions.MESSAGE_FIELDS if m.get(k) is not None} for m in body["messages"]
    ]
    stop = body.get("stop")
    async with runtime.db.read() as conn:
        history: list[dict[str, Any]] = []
        if body.get("session_id"):
            session = await sessions.get_session(conn, account_id, body["session_id"])
            history = [sessions.as_wire(m) for m in await sessions.messages(conn, session.id)]
        limit = runtime.settings.chat_max_images
        await attachments.check(conn, account_id, new_messages, limit=limit)
        conversation = await attachments.for_model(
            conn, runtime.storage, account_id, history + new_messages, limit=limit
        )
    estimate = estimate_prompt_tokens(conversation.messages, conversation.image_tokens)
    worst = chat_cost(model, math.ceil(estimate * ESTIMATE_MARGIN) + ESTIMATE_SLACK, max_tokens)
    completion_id = f"{COMPLETION_PREFIX}{random_base62(24)}"
    async with runtime.db.write() as conn:
        hold = await holds.reserve(
            conn, account_id, max(worst, 1), kind=holds.CHAT, reference=completion_id
        )
    session_id = body.get("session_id") or sessions.new_session_id()
    request = ChatRequest(
        model_id=model.id,
        messages=conversation.messages,
        image_tokens=conversation.image_tokens,
        max_tokens=max_tokens,
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=[stop] if isinstance(stop, str) else stop,
        seed=body.get("seed"),
        tools=body.get("tools"),
        tool_choice=body.get("tool_choice"),
        response_format=body.get("response_format"),
        user=body.get("user"),
        options=model.provider.options,
    )
    return PreparedTurn(
        completion_id, clock.now(), model, account_id, session_id,
        not body.get("session_id"), new_messages, request,
        hold.id, hold.amount, estimate,
    )  # fmt: skip


async def settle(
    runtime: Runtime,
    turn: PreparedTurn,
    result: TurnResult,
    *,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Charge the measured usage, release the rest and save the messages, in one transaction;
    returns the `chat.completion` answer, stored there too for replays when a key is given."""
    usage = result.measured(turn.prompt_estimate)
    cost = chat_cost(turn.model, usage.prompt_tokens, usage.completion_tokens)
    credits = max(0, min(cost, turn.reserved))
    answer = completion(turn, result, usage, credits)
    async with runtime.db.write() as conn:
        await holds.capture(conn, turn.hold_id, credits)
        if turn.new_session:
            await sessions.create_session(
                conn, turn.account_id, turn.model.id, session_id=turn.session_id
            )
        await sessions.append(
            conn,
            turn.session_id,
            [*turn.new_messages, result.message()],
            usage=usage_dict(usage),
            credits=credits,
        )
        if idempotency_key:
            await idempotency.store(conn, turn.account_id, idempotency_key, 200, answer)
    return answer


async def abandon(runtime: Runtime, turn: PreparedTurn) -> None:
    """Give the whole reservation back: the turn failed and saves nothing."""
    async with runtime.db.write() as conn:
        await holds.release(conn, turn.hold_id)


def usage_dict(usage: Usage) -> dict[str, int]:
    """Usage in the wire format."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def completion(
    turn: PreparedTurn, result: TurnResult, usage: Usage, credits: int
) -> dict[str, Any]:
    """The non-streaming answer (`chat.completion`)."""
    return {
        "id": turn.completion_id,
        "object": "chat.completion",
        "created": turn.created,
        "model": turn.model.id,
        "choices": [
            {
                "index": 0,
                "message": result.message(),
                "finish_reason": result.finish_reason or "stop",
                "logprobs": None,
            }
        ],
        "usage": usage_dict(usage),
        "session_id": turn.session_id,
        "credits": credits,
        "system_fingerprint": None,
    }


def chunk(turn: PreparedTurn, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    """One streamed piece (`chat.completion.chunk`)."""
    return {
        "id": turn.completion_id,
        "object": "chat.completion.chunk",
        "created": turn.created,
        "model": turn.model.id,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        "session_id": turn.session_id,
        "system_fingerprint": None,
    }


async def release_abandoned(runtime: Runtime) -> int:
    """Release reservations of turns whose server died before settling them; returns how many."""
    async with runtime.db.write() as conn:
        found = await holds.stale(conn, holds.CHAT, clock.now() - ABANDONED_AFTER_S)
        for hold_id in found:
            await holds.release(conn, hold_id)
    return len(found)
