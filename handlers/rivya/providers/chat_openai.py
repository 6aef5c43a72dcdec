"""A chat provider for OpenAI-compatible upstreams (OpenAI, vLLM, llama.cpp's server, Ollama):
POST {base_url}/v1/chat/completions: streamed turns read as a stream of server-sent events,
non-streaming turns in one JSON answer.

Options: those of `rivya.providers.http` (`base_url`, `api_key_env`, `timeout` — here the
longest wait for each piece of the stream —, `max_retries`, `backoff_s`, `max_delay_s`), and
`model` (required), the upstream's model name.

The stream always asks for usage (`stream_options.include_usage`), whatever the Rivya client
asked, since credits are settled on it; when an upstream sends none, the answer is counted with
rivya.providers.tokens. Failures before the answer begins (connection errors, timeouts, 5xx,
429) are retried as `Upstream.send` retries them; once it has begun, a failure ends the stream
with a non-retryable `upstream_stream_error`, since part of the answer may have reached the
client already.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from rivya.providers.base import ProviderError
from rivya.providers.chat_base import ChatDelta, ChatRequest, Usage
from rivya.providers.http import Upstream, read_json, required_str, unusable
from rivya.providers.tokens import count_tokens, estimate_prompt_tokens

PATH = "/v1/chat/completions"
STREAM_BROKEN = "The model stopped answering part way through. Please try again."

_EXCERPT = 300  # characters of an upstream body quoted in a log message
# ChatRequest fields sent to the upstream as they are, when set.
_PASSED = (
    "temperature",
    "top_p",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "user",
)
_FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter"}
# More tokens than any model's context holds: a report above it is garbage, not usage.
MAX_REPORTED_TOKENS = 100_000_000
log = logging.getLogger(__name__)


def broken_stream(message: str) -> ProviderError:
    """The answer broke off after it had begun. Not retryable: the client may have part of it."""
    return ProviderError(
        message, retryable=False, code="upstream_stream_error", public_message=STREAM_BROKEN
    )


def _usage(value: Any) -> Usage | None:
    """An upstream's usage object, if it is a whole and believable one (else the answer is
    counted here: a broken report is the upstream's fault, not a reason to leave a turn
    unsettled)."""
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    if type(prompt) is not int or type(completion) is not int:  # bool is no count either
        return None
    if not (0 <= prompt <= MAX_REPORTED_TOKENS and 0 <= completion <= MAX_REPORTED_TOKENS):
        log.warning("an upstream reported impossible usage %r; counting it instead", value)
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion)


def _fragment(position: int, raw: Any) -> dict[str, Any]:
    """A tool-call delta fragment with only the keys of ChatDelta.tool_calls. Ollama sends whole
    calls without an index; their position in the list stands in for it."""
    raw = raw if isinstance(raw, dict) else {}
    fragment: dict[str, Any] = {"index": raw.get("index", position)}
    for key in ("id", "type"):
        if isinstance(raw.get(key), str):
            fragment[key] = raw[key]
    function = raw.get("function")
    if isinstance(function, dict):
        fragment["function"] = {
            key: function[key]
            for key in ("name", "arguments")
            if isinstance(function.get(key), str)
        }
    return fragment


@dataclass
class _Answer:
    """What the upstream has said so far in one stream."""

    where: str  # the upstream's URL, for log messages
    content: list[str] = field(default_factory=list)
    tool_text: list[str] = field(default_factory=list)  # names and arguments of tool calls
    finish_reason: str | None = None
    usage: Usage | None = None

    def take(self, data: str) -> ChatDelta | None:
        """Note the data of one event; the piece of the answer it carries, if any."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise broken_stream(f"POST {self.where}: not JSON: {data[:_EXCERPT]!r}") from exc
        if not isinstance(chunk, dict):
            raise broken_stream(f"POST {self.where}: not a chunk: {data[:_EXCERPT]!r}")
        # OpenAI and newer vLLM send {"error": {...}}; older vLLM an error object itself.
        if chunk.get("error") is not None or chunk.get("object") == "error":
            raise broken_stream(f"POST {self.where}: failed mid-stream: {data[:_EXCERPT]!r}")
        return self.take_chunk(chunk)

    def take_chunk(self, chunk: dict[str, Any]) -> ChatDelta | None:
        """Note one `chat.completion.chunk`; the piece of the answer it carries, if any."""
        self.usage = _usage(chunk.get("usage")) or self.usage
        choices = chunk.get("choices")
        # The usage chunk has no choices; Rivya never asks for more than one.
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return None
        content = delta.get("content")
        content = content if isinstance(content, str) and content else None
        raw_calls = delta.get("tool_calls")
        calls = [_fragment(i, c) for i, c in enumerate(raw_calls)] if raw_calls else None
        if content is None and calls is None:
            return None  # the first chunk names only the role
        if content is not None:
            self.content.append(content)
        for call in calls or []:
            self.tool_text += call.get("function", {}).values()
        return ChatDelta(content=content, tool_calls=calls)

    def last(self, request: ChatRequest) -> ChatDelta:
        """The closing piece: the finish reason, and the usage, counted if none came."""
        if self.finish_reason is None:
            raise broken_stream(f"POST {self.where}: the stream ended without a finish reason")
        reason = self.finish_reason
        if reason == "function_call":  # the name before tools were
            reason = "tool_calls"
        elif reason not in _FINISH_REASONS:
            reason = "stop"
        # Older Ollama says "stop" after calling tools.
        if reason == "stop" and self.tool_text:
            reason = "tool_calls"
        usage = self.usage or Usage(
            prompt_tokens=estimate_prompt_tokens(request.messages, request.image_tokens),
            completion_tokens=count_tokens("".join(self.content))
            + count_tokens("".join(self.tool_text)),
        )
        return ChatDelta(finish_reason=reason, usage=usage)


class OpenAIChatProvider:
    """Chat turns from an OpenAI-compatible upstream."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._model = required_str(options, "model")
        self._upstream = Upstream(options)

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        for name in _PASSED:
            value = getattr(request, name)
            if value is not None:
                body[name] = value
        return body

    async def _open(self, body: dict[str, Any]) -> httpx.Response:
        """The upstream's response, once its status says the answer has begun (retried until
        then, never after), with the answer still to be read."""
        return await self._upstream.send("POST", PATH, json=body, stream=True)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Stream the turn from the upstream; raises ProviderError on failure. Cancelling the
        iteration closes the upstream connection, which stops the upstream's generation."""
        response = await self._open(self._body(request, stream=True))
        answer = _Answer(where=str(response.request.url))
        done = False
        try:
            async for line in response.aiter_lines():
                # Compatible servers put each chunk on one `data:` line; comments (keep-alives)
                # and the other SSE fields say nothing we use. After [DONE] the body is read to
                # its end all the same: a response closed unread cannot go back to the pool,
                # and every turn would pay for a new connection (and TLS handshake).
                if done:
                    continue
                if line.startswith("error:"):  # llama.cpp's server reports failures so
                    raise broken_stream(f"POST {answer.where}: {line[:_EXCERPT]!r}")
                if not line.startswith("data:"):
                    continue
                data = line.removeprefix("data:").strip()
                if data == "[DONE]":
                    done = True
                    continue
                delta = answer.take(data)
                if delta is not None:
                    yield delta
        except httpx.HTTPError as exc:
            raise broken_stream(
                f"POST {answer.where}: the stream broke: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            await response.aclose()
        yield answer.last(request)

    async def complete(self, request: ChatRequest) -> ChatDelta:
        """The whole answer in one non-streaming call (retried as `Upstream.send` retries,
        since nothing of it has reached the client); raises ProviderError on failure."""
        response = await self._upstream.send("POST", PATH, json=self._body(request, stream=False))
        answer = _Answer(where=str(response.request.url))
        data = read_json(response)
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise unusable(f"POST {answer.where}: no choice: {response.text[:_EXCERPT]!r}")
        # The answer as the one chunk of a stream: one mapping of fields for both.
        whole = {**choices[0], "delta": choices[0].get("message")}
        piece = answer.take_chunk({"choices": [whole], "usage": data.get("usage")})
        last = answer.last(request)
        return ChatDelta(
            content=piece.content if piece else None,
            tool_calls=piece.tool_calls if piece else None,
            finish_reason=last.finish_reason,
            usage=last.usage,
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._upstream.aclose()
