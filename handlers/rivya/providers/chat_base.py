"""The chat provider interface that the chat service calls.

A provider streams a turn as ChatDelta pieces: text and tool-call fragments as they come, then a
last piece with the finish reason and the usage. Usage is always reported: by the upstream when
it says so, else counted. Errors before or during the stream are ProviderError (rivya.providers.
base), whose `public_message` is the only text a user sees. Cancellation (a client that went
away) is asyncio cancellation: the provider stops its upstream call and lets it propagate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Usage:
    """Tokens of a turn."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        """Both together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatRequest:
    """One turn to complete, in the OpenAI Chat Completions shapes."""

    model_id: str  # the public model id
    # The whole conversation: the session's stored messages, then the new ones. Image parts are
    # {"type": "image_url", "image_url": {"url": "data:<type>;base64,…"}}, resolved from files.
    messages: list[dict[str, Any]]
    max_tokens: int
    # What the image parts cost in prompt tokens, by OpenAI's tile rule (rivya.chat.images);
    # None when not priced that way, and then each counts tokens.IMAGE_TOKENS.
    image_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None
    user: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # the catalog's private binding


@dataclass(frozen=True)
class ChatDelta:
    """A piece of the answer. `tool_calls` are OpenAI delta fragments
    ({"index", "id"?, "type"?, "function": {"name"?, "arguments"?}}). The last piece has
    `finish_reason` ("stop", "length", "tool_calls", "content_filter") and `usage`."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None


class ChatProvider(Protocol):
    """Completes chat turns for one model."""

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """The answer, piece by piece; raises ProviderError on failure."""
        ...

    async def complete(self, request: ChatRequest) -> ChatDelta:
        """The whole answer at once, for a non-streaming turn: its text, its tool calls (whole,
        each with its `index`), the finish reason and the usage; raises ProviderError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


async def collect(pieces: AsyncIterator[ChatDelta]) -> ChatDelta:
    """A streamed answer as one piece (for a provider whose answer is a stream anyway)."""
    content: list[str] = []
    calls: list[dict[str, Any]] = []
    finish_reason, usage = None, None
    async for piece in pieces:
        content.append(piece.content or "")
        calls += piece.tool_calls or []
        finish_reason = piece.finish_reason or finish_reason
        usage = piece.usage or usage
    return ChatDelta("".join(content) or None, calls or None, finish_reason, usage)
