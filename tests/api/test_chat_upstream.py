"""Chat turns served by an OpenAI-compatible upstream (a fake on 127.0.0.1): hundreds of streams
flow at once, and an upstream's impossible usage report is counted instead, settled, and never
shows an internal id. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from rivya.providers.tokens import count_tokens
from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from tests.api.test_chat import cost, wallet
from tests.conftest import Tenant, make_tenant, write_catalog
from tests.fakes.upstream import CHAT_CHUNKS, FakeChatUpstream

MODEL = "acme-chat"
STREAMS = 300


@pytest.fixture
def upstream() -> Iterator[FakeChatUpstream]:
    with FakeChatUpstream() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, upstream: FakeChatUpstream) -> Settings:
    """The test catalog plus `acme-chat`, served by the fake upstream."""
    chat = next(m for m in yaml.safe_load(BUILTIN_CATALOG.read_text())["models"] if m["id"]
                == "rivya-chat-dev")  # fmt: skip
    options = {"base_url": upstream.base_url, "model": "upstream-chat", "backoff_s": 0.01}
    acme = {**chat, "id": MODEL, "provider": {"type": "openai-chat", "options": options}}
    settings.catalog = write_catalog(tmp_path, [acme])
    return settings


async def test_hundreds_of_streams_get_their_first_token_promptly(
    live_url: str, database: Database, upstream: FakeChatUpstream
) -> None:
    """Each upstream stream takes about 7 s (1 s before each of its events); with a pool of 100
    connections (httpx's default) the 101st turn would wait for one, and see its first token
    only after a whole stream."""
    upstream.chat_delay_s = 1.0
    whole_stream_s = upstream.chat_delay_s * (len(CHAT_CHUNKS) + 2)
    tenant = await make_tenant(database, credits=STREAMS * 10)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    limits = httpx.Limits(max_connections=STREAMS + 10)
    started = time.monotonic()

    async def first_token(http: httpx.AsyncClient) -> float:
        async with http.stream("POST", "/chat/completions", json=body) as response:
            assert response.status_code == 200
            waited = None
            async for line in response.aiter_lines():
                if waited is None and '"content":"H' in line:
                    waited = time.monotonic() - started
            assert line == "data: [DONE]" or line == ""
        assert waited is not None
        return waited

    async with httpx.AsyncClient(
        base_url=live_url, headers=tenant.headers, timeout=60, limits=limits
    ) as http:
        waits = await asyncio.gather(*(first_token(http) for _ in range(STREAMS)))
    slowest = max(waits)
    assert slowest < whole_stream_s, f"the slowest first token came after {slowest:.1f} s"
    assert (await wallet(database, tenant))[1] == 0


@pytest.mark.parametrize("report", [-5, -1_000_000, 10**12])
async def test_impossible_usage_is_counted_and_settled(
    live_url: str,
    tenant: Tenant,
    database: Database,
    settings: Settings,
    upstream: FakeChatUpstream,
    report: int,
) -> None:
    upstream.chat_usage = {"prompt_tokens": 7, "completion_tokens": report, "total_tokens": 0}
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=live_url, headers=tenant.headers) as http:
        response = await http.post("/chat/completions", json=body)
        assert response.status_code == 200, response.text
        assert "hold_" not in response.text
        answer = response.json()
        usage = answer["usage"]
        assert usage["completion_tokens"] == count_tokens("".join(CHAT_CHUNKS))
        charged = cost(settings, MODEL, usage["prompt_tokens"], usage["completion_tokens"])
        assert answer["credits"] == charged
        assert await wallet(database, tenant) == (1000 - charged, 0)
        streamed = await http.post("/chat/completions", json={**body, "stream": True})
        assert "hold_" not in streamed.text and streamed.text.endswith("data: [DONE]\n\n")
    assert (await wallet(database, tenant))[1] == 0


async def test_a_non_streaming_turn_asks_the_upstream_for_one_answer(
    live_url: str,
    tenant: Tenant,
    database: Database,
    settings: Settings,
    upstream: FakeChatUpstream,
) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=live_url, headers=tenant.headers) as http:
        answer = (await http.post("/chat/completions", json=body)).json()
    assert answer["choices"][0]["message"]["content"] == "".join(CHAT_CHUNKS)
    (call,) = [c for c in upstream.calls if c.path == "/v1/chat/completions"]
    assert call.json()["stream"] is False
    usage = answer["usage"]
    charged = cost(settings, MODEL, usage["prompt_tokens"], usage["completion_tokens"])
    assert answer["credits"] == charged
    assert await wallet(database, tenant) == (1000 - charged, 0)
