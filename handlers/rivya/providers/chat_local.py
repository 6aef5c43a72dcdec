"""The local development chat model: no network, and an answer that is a fixed function of the
conversation, so that tests can predict it to the token.

The answer rule. Let `turn` be the number of messages whose role is "user", and `said` the text
of the last of them ("" if none): its content if a string, else its parts joined by one space,
a text part as its text and an image part as "[image]". The answer is

- "Turn {turn}. The tool said: {content}" when the conversation ends with a "tool" message;
- one tool call, when `tools` are given, `tool_choice` is not "none", the conversation ends with
  a user message, and `said` contains "[tool]" or `tool_choice` is "required" or names a
  function: the named function, else the first tool; id "call_{turn}"; arguments
  `json.dumps({"text": said})`; finish reason "tool_calls";
- "Turn {turn}. You said: {said}" otherwise.

Text is cut just before the first occurrence of any `stop` sequence (finish reason "stop"), then
to `max_tokens` tokens (finish reason "length" if that cut anything). It streams one delta per
token (rivya.providers.tokens), then a last delta with the finish reason and the usage: prompt
tokens `estimate_prompt_tokens(messages, image_tokens)`, which is this model's own count (its
images priced as Rivya prices them, by OpenAI's tile rule), and completion
tokens those of the text sent, or of the tool call's name plus its arguments.

Triggers in `said`, for tests of failures: "[fail]" raises a non-retryable ProviderError
(`upstream_rejected`) before the first token; "[fail-mid]" raises one (`upstream_stream_error`)
after the first FAIL_MID_AFTER tokens (all of them, if there are fewer).

Option `token_delay_s` (default 0): seconds to wait before each token, so that tests can leave
mid-stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from rivya.providers.chat_base import ChatDelta, ChatRequest, Usage, collect
from rivya.providers.chat_openai import broken_stream
from rivya.providers.http import number, rejected
from rivya.providers.tokens import count_tokens, estimate_prompt_tokens, split_tokens

FAIL_MID_AFTER = 3  # tokens sent before "[fail-mid]" fails


def _said(message: Mapping[str, Any]) -> str:
    """A message's content as the answer rule quotes it."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    pieces = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            pieces.append(str(part.get("text", "")))
        elif isinstance(part, dict) and part.get("type") == "image_url":
            pieces.append("[image]")
    return " ".join(pieces)


def _tool_name(request: ChatRequest, said: str) -> str | None:
    """The function to call, or None to answer in text."""
    ends_with_user = bool(request.messages) and request.messages[-1].get("role") == "user"
    if not request.tools or request.tool_choice == "none" or not ends_with_user:
        return None
    choice = request.tool_choice
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return str(choice["function"].get("name", ""))
    if "[tool]" in said or choice == "required":
        return str(request.tools[0].get("function", {}).get("name", ""))
    return None


def _cut(text: str, stop: list[str] | None) -> str:
    """The text before the first stop sequence in it."""
    ends = [text.find(s) for s in stop or [] if s and s in text]
    return text[: min(ends)] if ends else text


class LocalChatProvider:
    """rivya-chat-dev: the answer rule of this module, streamed token by token."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"token_delay_s"}
        if unknown:
            raise ValueError(f"unknown local chat provider options: {sorted(unknown)}")
        self._delay = number(options, "token_delay_s", 0.0)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Answer by the rule; raises ProviderError for the failure triggers."""
        users = [m for m in request.messages if m.get("role") == "user"]
        said = _said(users[-1]) if users else ""
        if "[fail]" in said:
            raise rejected("local chat model: the [fail] trigger")
        prompt_tokens = estimate_prompt_tokens(request.messages, request.image_tokens)

        name = _tool_name(request, said)
        if name is not None:
            arguments = json.dumps({"text": said})
            await asyncio.sleep(self._delay)
            call = {"name": name, "arguments": arguments}
            yield ChatDelta(
                tool_calls=[
                    {"index": 0, "id": f"call_{len(users)}", "type": "function", "function": call}
                ]
            )
            completion = count_tokens(name) + count_tokens(arguments)
            yield ChatDelta(finish_reason="tool_calls", usage=Usage(prompt_tokens, completion))
            return

        last = request.messages[-1] if request.messages else {}
        if last.get("role") == "tool":
            text = f"Turn {len(users)}. The tool said: {_said(last)}"
        else:
            text = f"Turn {len(users)}. You said: {said}"
        tokens = split_tokens(_cut(text, request.stop))
        finish = "stop"
        if len(tokens) > request.max_tokens:
            tokens, finish = tokens[: max(request.max_tokens, 0)], "length"
        failing = "[fail-mid]" in said
        for token in tokens[:FAIL_MID_AFTER] if failing else tokens:
            # Sleeping even 0 s lets other tasks run, and a cancellation land, between tokens.
            await asyncio.sleep(self._delay)
            yield ChatDelta(content=token)
        if failing:
            raise broken_stream("local chat model: the [fail-mid] trigger")
        yield ChatDelta(finish_reason=finish, usage=Usage(prompt_tokens, len(tokens)))

    async def complete(self, request: ChatRequest) -> ChatDelta:
        """The answer of the rule, whole."""
        return await collect(self.stream(request))

    async def aclose(self) -> None:
        """Nothing to release: the model holds no connections."""
