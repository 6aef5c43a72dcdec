"""Fake OpenAI-compatible chat upstream for chat_latency.py: `POST /v1/chat/completions`.

Usage: python _fake_chat_upstream.py HOST PORT [--tokens N] [--token-delay-ms MS]

Every turn gets the same answer, answer_tokens(N) joined, whatever the messages:
- `stream` false or absent: one `chat.completion` JSON object with the whole answer and a usage
  object (PROMPT_TOKENS prompt tokens, N completion tokens).
- `stream: true`: server-sent events in OpenAI's format, as tests/fakes/upstream.py
  (FakeChatUpstream) sends them: a role chunk, one `chat.completion.chunk` per token, a finish
  chunk, a usage chunk with `choices: []` when `stream_options.include_usage` is true (the other
  chunks then carry `"usage": null`), then `data: [DONE]`.
It answers at once, unless --token-delay-ms asks for a wait before each token (and, when not
streaming, for N waits before the answer). Nothing is checked: no key, no validation. uvicorn
runs with the options `rivya serve` uses: one process, no log config, no access log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PATH = "/v1/chat/completions"
PROMPT_TOKENS = 24
WORDS = (" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
COMPLETION_ID = "chatcmpl-fakebench"
CREATED = 1700000000


def answer_tokens(count: int) -> list[str]:
    """The answer's tokens: WORDS over and over, `count` of them (the first without its space)."""
    tokens = [WORDS[i % len(WORDS)] for i in range(count)]
    if tokens:
        tokens[0] = tokens[0].lstrip()
    return tokens


def usage(count: int) -> dict[str, int]:
    """The usage object of every answer."""
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": count,
        "total_tokens": PROMPT_TOKENS + count,
    }


@lru_cache(maxsize=64)
def completion(model: str, count: int) -> bytes:
    """The non-streaming answer, as bytes."""
    body = {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "".join(answer_tokens(count)),
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage(count),
    }
    return json.dumps(body).encode()


@lru_cache(maxsize=64)
def events(model: str, count: int, include_usage: bool) -> tuple[tuple[bytes, bool], ...]:
    """The streamed answer: each event's bytes, and whether it carries a token."""

    def chunk(choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
        body: dict[str, Any] = {
            "id": COMPLETION_ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if include_usage:  # OpenAI then sends "usage": null on every other chunk
            body["usage"] = usage_value
        return f"data: {json.dumps(body)}\n\n".encode()

    def choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

    out = [(chunk([choice({"role": "assistant", "content": "", "refusal": None})]), False)]
    out += [(chunk([choice({"content": token})]), True) for token in answer_tokens(count)]
    out.append((chunk([choice({}, "stop")]), False))
    if include_usage:
        out.append((chunk([], usage(count)), False))
    out.append((b"data: [DONE]\n\n", False))
    return tuple(out)


def make_app(count: int, delay_s: float) -> Starlette:
    """The one-route app answering `count` tokens, waiting `delay_s` before each."""

    async def chat(request: Request) -> Response:
        body = await request.json()
        model = str(body.get("model") or "fake-model")
        if not body.get("stream"):
            if delay_s:
                await asyncio.sleep(delay_s * count)
            return Response(completion(model, count), media_type="application/json")
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        planned = events(model, count, include_usage)

        async def stream() -> AsyncIterator[bytes]:
            for data, is_token in planned:
                if delay_s and is_token:
                    await asyncio.sleep(delay_s)
                yield data

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route(PATH, chat, methods=["POST"]), Route("/health", health)])


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--tokens", type=int, default=16, help="tokens of every answer")
    parser.add_argument("--token-delay-ms", type=float, default=0.0, help="wait before a token")
    args = parser.parse_args()
    app = make_app(args.tokens, args.token_delay_ms / 1000)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
