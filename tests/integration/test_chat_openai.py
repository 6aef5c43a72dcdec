"""The OpenAI-compatible chat provider against a fake chat upstream on 127.0.0.1: the request it
sends, the mapping of the SSE stream to ChatDelta, usage with and without the upstream's report,
retries before the stream only, failures during it, cancellation, and that no upstream detail
reaches the public side of a ProviderError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import pytest

from rivya.providers.base import ProviderError
from rivya.providers.chat import chat_provider
from rivya.providers.chat_base import ChatDelta, ChatProvider, ChatRequest, Usage
from rivya.providers.chat_openai import PATH
from rivya.providers.tokens import count_tokens, estimate_prompt_tokens
from tests.fakes.upstream import CHAT_CHUNKS, CHAT_USAGE, ERROR_TEXT, FakeChatUpstream

KEY_ENV = "RIVYA_TEST_CHAT_UPSTREAM_KEY"
KEY = "sk-chat-test-not-a-real-key-5678"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello to the fox."},
]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]


@pytest.fixture
def upstream() -> Iterator[FakeChatUpstream]:
    """A running fake chat upstream."""
    with FakeChatUpstream() as fake:
        yield fake


@pytest.fixture(autouse=True)
def upstream_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def provider(fake: FakeChatUpstream, **extra: Any) -> ChatProvider:
    """A provider of the fake, with tiny waits so that retries cost milliseconds."""
    options = {
        "base_url": fake.base_url,
        "api_key_env": KEY_ENV,
        "model": "acme/llama-70b",
        "timeout": 5,
        "max_retries": 3,
        "backoff_s": 0.001,
        **extra,
    }
    return chat_provider("openai-chat", options)


def request(**fields: Any) -> ChatRequest:
    return ChatRequest("rivya-chat", MESSAGES, 64, **fields)


async def turn(chat: ChatProvider, req: ChatRequest | None = None) -> list[ChatDelta]:
    async with aclosing(chat):
        return [delta async for delta in chat.stream(req or request())]


async def failure(
    chat: ChatProvider, req: ChatRequest | None = None
) -> tuple[ProviderError, list[ChatDelta]]:
    """The ProviderError that the turn raises and the pieces before it; checked to say nothing
    of the upstream on its public side."""
    seen: list[ChatDelta] = []
    async with aclosing(chat):
        with pytest.raises(ProviderError) as raised:
            async for delta in chat.stream(req or request()):
                seen.append(delta)
    error = raised.value
    public = f"{error.code} {error.public_message}"
    for secret in ("127.0.0.1", "localhost", "http", ERROR_TEXT, "gpu", "acme", "llama", "/v1"):
        assert secret not in public
    return error, seen


def body(fake: FakeChatUpstream) -> Any:
    (call,) = [c for c in fake.calls if c.path == PATH]
    return call.json()


# The request and the answer


async def test_text_and_usage_are_streamed(upstream: FakeChatUpstream) -> None:
    *pieces, last = await turn(provider(upstream))
    assert [p.content for p in pieces] == list(CHAT_CHUNKS)
    assert all(p.tool_calls is None and p.finish_reason is None for p in pieces)
    assert last == ChatDelta(
        finish_reason="stop",
        usage=Usage(CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"]),
    )


async def test_the_body_always_asks_for_a_stream_with_usage(upstream: FakeChatUpstream) -> None:
    await turn(provider(upstream))
    assert body(upstream) == {
        "model": "acme/llama-70b",
        "messages": MESSAGES,
        "max_tokens": 64,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_the_optional_fields_are_passed_through(upstream: FakeChatUpstream) -> None:
    fields: dict[str, Any] = {
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
        "tools": TOOLS,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {"type": "json_object"},
        "user": "acct_123",
    }
    await turn(provider(upstream), request(**fields))
    sent = body(upstream)
    assert {name: sent[name] for name in fields} == fields
    assert sent["stream_options"] == {"include_usage": True}


async def test_without_an_upstream_usage_chunk_usage_is_counted(
    upstream: FakeChatUpstream,
) -> None:
    upstream.chat_usage = None
    *pieces, last = await turn(provider(upstream))
    assert "".join(p.content or "" for p in pieces) == "Hello there, fox!"
    assert last.usage == Usage(estimate_prompt_tokens(MESSAGES), count_tokens("Hello there, fox!"))


async def test_tool_call_fragments_are_mapped(upstream: FakeChatUpstream) -> None:
    upstream.chat_chunks = []
    upstream.chat_tool_calls = [
        {
            "index": 0,
            "id": "call_abc",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"city": '}},
        {"index": 0, "function": {"arguments": '"Oslo"}'}},
    ]
    *pieces, last = await turn(provider(upstream), request(tools=TOOLS))
    assert [p.tool_calls for p in pieces] == [[f] for f in upstream.chat_tool_calls]
    assert all(p.content is None for p in pieces)
    assert last.finish_reason == "tool_calls"
    assert last.usage == Usage(CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"])


async def test_the_key_is_sent_as_bearer_from_the_named_variable(
    upstream: FakeChatUpstream,
) -> None:
    await turn(provider(upstream))
    assert upstream.calls[0].headers["authorization"] == f"Bearer {KEY}"


# Before the stream: retries


async def test_5xx_before_the_stream_is_retried(upstream: FakeChatUpstream) -> None:
    upstream.answer_next(2, 503, path=PATH)
    *pieces, _ = await turn(provider(upstream))
    assert [p.content for p in pieces] == list(CHAT_CHUNKS)
    assert upstream.count("POST", PATH) == 3


async def test_a_timeout_before_the_stream_is_retried(upstream: FakeChatUpstream) -> None:
    upstream.hang_next(1, 0.3, path=PATH)
    *pieces, _ = await turn(provider(upstream, timeout=0.1))
    assert [p.content for p in pieces] == list(CHAT_CHUNKS)
    assert upstream.count("POST", PATH) == 2


async def test_5xx_throughout_is_retryable_after_max_retries(upstream: FakeChatUpstream) -> None:
    upstream.answer_next(10, 502, path=PATH)
    error, seen = await failure(provider(upstream, max_retries=2))
    assert seen == [] and error.retryable and error.code == "upstream_unavailable"
    assert upstream.count("POST", PATH) == 3
    assert ERROR_TEXT in str(error) and upstream.base_url in str(error)  # for the logs


async def test_a_400_is_not_retried(upstream: FakeChatUpstream) -> None:
    upstream.answer_next(1, 400, path=PATH)
    error, seen = await failure(provider(upstream))
    assert seen == [] and not error.retryable and error.code == "upstream_rejected"
    assert upstream.count("POST", PATH) == 1
    assert ERROR_TEXT in str(error)


# During the stream: failures are final


async def test_an_error_event_mid_stream_ends_it(upstream: FakeChatUpstream) -> None:
    upstream.chat_error_after = 3  # the role chunk, "Hello", " there"
    error, seen = await failure(provider(upstream))
    assert [d.content for d in seen] == ["Hello", " there"]
    assert not error.retryable and error.code == "upstream_stream_error"
    assert ERROR_TEXT in str(error)
    assert upstream.count("POST", PATH) == 1


async def test_a_dropped_connection_mid_stream_ends_it(upstream: FakeChatUpstream) -> None:
    upstream.chat_drop_after = 3
    error, seen = await failure(provider(upstream))
    assert [d.content for d in seen] == ["Hello", " there"]
    assert not error.retryable and error.code == "upstream_stream_error"
    assert "RemoteProtocolError" in str(error)
    assert upstream.count("POST", PATH) == 1


@pytest.mark.parametrize(
    "stream",
    [
        # llama.cpp's server reports a failure on an `error:` line.
        f'error: {{"code": 500, "message": "{ERROR_TEXT}"}}\n\n',
        # Older vLLM sends an error object as a chunk.
        f'data: {{"object": "error", "message": "{ERROR_TEXT}"}}\n\n',
        'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\ndata: {not json\n\n',
        # The stream ends without a finish reason.
        'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n',
    ],
)
async def test_other_broken_streams_end_with_a_stream_error(
    upstream: FakeChatUpstream, stream: str
) -> None:
    upstream.answer_next(1, 200, path=PATH, body=stream)
    error, _ = await failure(provider(upstream))
    assert not error.retryable and error.code == "upstream_stream_error"
    assert upstream.count("POST", PATH) == 1


async def test_a_stream_without_done_but_with_a_finish_reason_is_whole(
    upstream: FakeChatUpstream,
) -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
        {"choices": [{"delta": {}, "finish_reason": "length"}], "usage": {"prompt_tokens": 9}},
    ]
    upstream.answer_next(
        1, 200, path=PATH, body="".join(f"data:{json.dumps(c)}\n\n" for c in chunks)
    )
    *pieces, last = await turn(provider(upstream))
    assert [p.content for p in pieces] == ["Hi"]
    # A partial usage object is no usage: the answer is counted.
    assert last == ChatDelta(
        finish_reason="length", usage=Usage(estimate_prompt_tokens(MESSAGES), 1)
    )


# Cancellation


async def test_cancelling_mid_stream_closes_the_upstream_connection(
    upstream: FakeChatUpstream,
) -> None:
    upstream.chat_chunks = ["word "] * 200
    upstream.chat_delay_s = 0.02
    first = asyncio.Event()

    async def consume(chat: ChatProvider) -> None:
        async for _ in chat.stream(request()):
            first.set()

    async with aclosing(provider(upstream)) as chat:
        task = asyncio.create_task(consume(chat))
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.to_thread(upstream.wait_for_disconnect)
    assert upstream.chat_disconnects == 1


async def test_leaving_the_iteration_closes_the_upstream_connection(
    upstream: FakeChatUpstream,
) -> None:
    upstream.chat_chunks = ["word "] * 200
    upstream.chat_delay_s = 0.02
    async with aclosing(provider(upstream)) as chat:
        async with aclosing(chat.stream(request())) as deltas:
            async for _ in deltas:
                break
        await asyncio.to_thread(upstream.wait_for_disconnect)
    assert upstream.chat_disconnects == 1


async def test_connections_to_the_upstream_are_reused(upstream: FakeChatUpstream) -> None:
    """A turn reads the upstream's answer to its end, so the next turn reuses the connection
    (no new TCP and TLS handshake per turn)."""
    chat = provider(upstream)
    async with aclosing(chat):
        for _ in range(3):
            assert [d async for d in chat.stream(request())]
    ports = {call.client_port for call in upstream.calls}
    assert len(upstream.calls) == 3 and len(ports) == 1


# Non-streaming turns: one JSON answer


async def test_a_whole_answer_comes_in_one_call(upstream: FakeChatUpstream) -> None:
    async with aclosing(provider(upstream)) as chat:
        whole = await chat.complete(request())
    assert whole == ChatDelta(
        content="".join(CHAT_CHUNKS),
        finish_reason="stop",
        usage=Usage(CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"]),
    )
    sent = body(upstream)
    assert sent["stream"] is False and "stream_options" not in sent


async def test_a_whole_answer_keeps_its_tool_calls(upstream: FakeChatUpstream) -> None:
    upstream.chat_chunks = []
    upstream.chat_tool_calls = [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather"}},
        {"index": 0, "function": {"arguments": '{"city": "Oslo"}'}},
    ]
    async with aclosing(provider(upstream)) as chat:
        whole = await chat.complete(request(tools=TOOLS))
    assert whole.finish_reason == "tool_calls" and whole.content is None
    assert whole.tool_calls == [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]


async def test_a_whole_answer_without_usage_is_counted(upstream: FakeChatUpstream) -> None:
    upstream.chat_usage = None
    async with aclosing(provider(upstream)) as chat:
        whole = await chat.complete(request())
    assert whole.usage == Usage(estimate_prompt_tokens(MESSAGES), count_tokens("Hello there, fox!"))


async def test_a_whole_answer_is_retried_after_a_5xx(upstream: FakeChatUpstream) -> None:
    upstream.answer_next(1, 503, path=PATH)
    async with aclosing(provider(upstream)) as chat:
        whole = await chat.complete(request())
    assert whole.content == "".join(CHAT_CHUNKS)
    assert len([c for c in upstream.calls if c.path == PATH]) == 2
