"""The local development chat model (its answer rule, streaming, usage, limits and failure
triggers), the tokenizer it counts with, and the chat provider registry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from rivya.providers.base import ProviderError
from rivya.providers.chat import chat_provider
from rivya.providers.chat_base import ChatDelta, ChatRequest
from rivya.providers.chat_local import FAIL_MID_AFTER, LocalChatProvider
from rivya.providers.chat_openai import OpenAIChatProvider
from rivya.providers.tokens import (
    IMAGE_TOKENS,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_REPLY,
    count_tokens,
    estimate_prompt_tokens,
    split_tokens,
)

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def request(*messages: dict[str, Any], max_tokens: int = 100, **fields: Any) -> ChatRequest:
    return ChatRequest("rivya-chat-dev", list(messages), max_tokens, **fields)


async def turn(req: ChatRequest, **options: Any) -> list[ChatDelta]:
    return [delta async for delta in LocalChatProvider(options).stream(req)]


def text_of(deltas: list[ChatDelta]) -> str:
    return "".join(d.content or "" for d in deltas)


# The tokenizer


@pytest.mark.parametrize(
    "text",
    ["Hello, world!", "  two  spaces\n\nand lines\t", "x_y 1234567 €5", "naïve café", ""],
)
def test_tokens_join_back_into_the_text(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_tokens_are_words_numbers_punctuation_and_whitespace() -> None:
    assert split_tokens("Hi, Bob! 12345") == ["Hi", ",", " Bob", "!", " 123", "45"]
    assert count_tokens("a  b") == 3  # "a", " ", " b"
    assert count_tokens("") == 0


def test_prompt_estimate_counts_messages_content_and_images() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},  # 3 tokens
        user([{"type": "text", "text": "What is this?"}, IMAGE]),  # 4 tokens and an image
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "look", "arguments": "{}"}}],  # 1 + 2
        },
    ]
    expected = TOKENS_PER_REPLY + 3 * TOKENS_PER_MESSAGE + 3 + 4 + IMAGE_TOKENS + 3
    assert estimate_prompt_tokens(messages) == expected
    assert estimate_prompt_tokens([]) == TOKENS_PER_REPLY


# The answer rule


async def test_the_answer_echoes_the_last_user_message_deterministically() -> None:
    req = request(user("Hello there, fox!"))
    first, second = await turn(req), await turn(req)
    assert first == second
    assert text_of(first) == "Turn 1. You said: Hello there, fox!"


async def test_the_turn_counts_the_user_messages_of_the_whole_conversation() -> None:
    req = request(
        {"role": "system", "content": "Be brief."},
        user("one"),
        {"role": "assistant", "content": "Turn 1. You said: one"},
        user([{"type": "text", "text": "two"}, IMAGE]),
    )
    assert text_of(await turn(req)) == "Turn 2. You said: two [image]"


async def test_it_streams_one_delta_per_token_then_finish_and_usage() -> None:
    req = request(user("Hello there, fox!"))
    *pieces, last = await turn(req)
    assert [p.content for p in pieces] == split_tokens("Turn 1. You said: Hello there, fox!")
    assert all(p.finish_reason is None and p.usage is None and not p.tool_calls for p in pieces)
    assert last.content is None and last.finish_reason == "stop"
    assert last.usage is not None
    assert last.usage.completion_tokens == len(pieces) == count_tokens(text_of(pieces))
    assert last.usage.prompt_tokens == estimate_prompt_tokens(req.messages)


async def test_usage_counts_an_image_at_its_fixed_price() -> None:
    with_image = await turn(request(user([{"type": "text", "text": "see"}, IMAGE])))
    without = await turn(request(user([{"type": "text", "text": "see"}])))
    assert with_image[-1].usage and without[-1].usage
    assert with_image[-1].usage.prompt_tokens - without[-1].usage.prompt_tokens == IMAGE_TOKENS


async def test_max_tokens_cuts_the_answer_with_finish_length() -> None:
    *pieces, last = await turn(request(user("Hello there, fox!"), max_tokens=3))
    assert [p.content for p in pieces] == ["Turn", " 1", "."]
    assert last.finish_reason == "length"
    assert last.usage and last.usage.completion_tokens == 3


async def test_an_answer_of_exactly_max_tokens_finishes_with_stop() -> None:
    exact = count_tokens("Turn 1. You said: hi")
    *pieces, last = await turn(request(user("hi"), max_tokens=exact))
    assert len(pieces) == exact and last.finish_reason == "stop"


async def test_a_stop_sequence_ends_the_answer_before_it() -> None:
    *pieces, last = await turn(request(user("Hello there, fox!"), stop=["nothing", "ere, f"]))
    assert text_of(pieces) == "Turn 1. You said: Hello th"
    assert last.finish_reason == "stop"
    assert last.usage and last.usage.completion_tokens == len(pieces) == 8


async def test_the_earliest_stop_sequence_wins() -> None:
    deltas = await turn(request(user("Hello there, fox!"), stop=["fox", "said"]))
    assert text_of(deltas) == "Turn 1. You "


# Failure triggers


async def test_fail_raises_before_the_first_token() -> None:
    seen: list[ChatDelta] = []
    with pytest.raises(ProviderError) as raised:
        async for delta in LocalChatProvider({}).stream(request(user("please [fail] now"))):
            seen.append(delta)
    assert seen == []
    assert not raised.value.retryable and raised.value.code == "upstream_rejected"
    assert "[fail]" not in raised.value.public_message


async def test_fail_mid_raises_after_a_few_tokens() -> None:
    seen: list[ChatDelta] = []
    with pytest.raises(ProviderError) as raised:
        async for delta in LocalChatProvider({}).stream(request(user("[fail-mid]"))):
            seen.append(delta)
    assert [d.content for d in seen] == ["Turn", " 1", "."][:FAIL_MID_AFTER]
    assert not raised.value.retryable and raised.value.code == "upstream_stream_error"


# Tools


async def test_a_tool_trigger_answers_with_one_call_of_the_first_tool() -> None:
    req = request(user("weather in Oslo? [tool]"), tools=TOOLS)
    call_delta, last = await turn(req)
    arguments = json.dumps({"text": "weather in Oslo? [tool]"})
    assert call_delta.content is None
    assert call_delta.tool_calls == [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": arguments},
        }
    ]
    assert json.loads(arguments) == {"text": "weather in Oslo? [tool]"}
    assert last.finish_reason == "tool_calls"
    assert last.usage and last.usage.completion_tokens == (
        count_tokens("get_weather") + count_tokens(arguments)
    )


async def test_tool_choice_is_honoured() -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    (call, _) = await turn(request(user("no trigger"), tools=TOOLS, tool_choice=named))
    assert call.tool_calls and call.tool_calls[0]["function"]["name"] == "get_time"
    (call, _) = await turn(request(user("no trigger"), tools=TOOLS, tool_choice="required"))
    assert call.tool_calls and call.tool_calls[0]["function"]["name"] == "get_weather"
    deltas = await turn(request(user("[tool]"), tools=TOOLS, tool_choice="none"))
    assert text_of(deltas) == "Turn 1. You said: [tool]"


async def test_without_tools_the_trigger_is_just_text() -> None:
    deltas = await turn(request(user("[tool]")))
    assert text_of(deltas) == "Turn 1. You said: [tool]" and deltas[-1].finish_reason == "stop"


async def test_after_a_tool_result_it_answers_in_text() -> None:
    req = request(
        user("weather? [tool]"),
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1"}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C and sunny"},
        tools=TOOLS,
    )
    deltas = await turn(req)
    assert text_of(deltas) == "Turn 1. The tool said: 18 C and sunny"
    assert deltas[-1].finish_reason == "stop"


# Options, cancellation and the registry


async def test_token_delay_makes_the_stream_slow_enough_to_leave() -> None:
    provider = LocalChatProvider({"token_delay_s": 0.05})
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(request(user("a long enough answer"))):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_unknown_or_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown local chat provider options"):
        LocalChatProvider({"delay": 1})
    with pytest.raises(ValueError, match="token_delay_s"):
        LocalChatProvider({"token_delay_s": -1})


async def test_the_registry_builds_each_type_and_refuses_others() -> None:
    assert isinstance(chat_provider("local-chat", {}), LocalChatProvider)
    openai = chat_provider("openai-chat", {"base_url": "http://127.0.0.1:9", "model": "m"})
    assert isinstance(openai, OpenAIChatProvider)
    await openai.aclose()
    with pytest.raises(ValueError, match="unknown chat provider type"):
        chat_provider("openai-images", {})
