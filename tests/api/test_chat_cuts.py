"""A streamed turn is settled at once however it ends: a client that cuts the connection (an
orderly close or a TCP reset) before the first token, mid-stream, after the last chunk or while
the settlement runs; a server that shuts down mid-stream; many cuts in a row. Each time the
charge is the cost of what was produced, nothing stays reserved, and the wallet reconciles with
the ledger. Over raw sockets against the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from rivya.chat import sessions, turns
from rivya.providers.tokens import count_tokens
from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from rivya.store.tables import chat_sessions
from tests.api.test_chat import cost, wallet
from tests.conftest import LiveServer, Tenant, eventually, write_catalog

CUTS = ("close", "reset")
# The bound: a cut turn is settled within a second.
SETTLED_WITHIN_S = 1.0
LONG = "tell me a long story " * 20


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test catalog plus `rivya-chat-stall`, whose first token takes 3 s."""
    chat = next(m for m in yaml.safe_load(BUILTIN_CATALOG.read_text())["models"] if m["id"]
                == "rivya-chat-dev")  # fmt: skip
    stall = {**chat, "id": "rivya-chat-stall", "name": "Stalling chat (tests)"}
    stall["provider"] = {"type": "local-chat", "options": {"token_delay_s": 3}}
    settings.catalog = write_catalog(tmp_path, [stall])
    return settings


def open_stream(port: int, tenant: Tenant, model: str, said: str) -> socket.socket:
    """A streamed turn's request sent over a raw socket, the answer left to read."""
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": said}], "stream": True}
    ).encode()
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {tenant.secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(head + body)
    return sock


def read_until(sock: socket.socket, done: Callable[[bytes], bool]) -> bytes:
    """What the server sent, read until `done` holds of it."""
    data = b""
    while not done(data):
        piece = sock.recv(65536)
        assert piece, f"the server closed the stream early: {data[-300:]!r}"
        data += piece
    return data


def cut(sock: socket.socket, how: str) -> None:
    """Leave: a FIN after shutting both ways, or a TCP reset (SO_LINGER 0)."""
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def contents(data: bytes) -> int:
    """How many events with text the client has received."""
    return len(re.findall(rb'"delta":\{"content":"[^"]', data))


def session_of(data: bytes) -> str:
    found = re.search(rb"x-rivya-session-id: (sess_\w+)", data, re.IGNORECASE)
    assert found, data[:500]
    return found.group(1).decode()


async def settled(database: Database, tenant: Tenant) -> None:
    """Nothing stays reserved, soon after the cut."""

    async def nothing_reserved() -> bool:
        return (await wallet(database, tenant))[1] == 0

    await eventually(nothing_reserved, deadline_s=SETTLED_WITHIN_S)


async def charged_for_what_was_produced(
    url: str, database: Database, tenant: Tenant, settings: Settings, session: str, model: str
) -> dict[str, Any]:
    """The saved answer's usage is its own token count, and exactly its cost was charged."""
    async with httpx.AsyncClient(base_url=url, headers=tenant.headers) as http:
        detail = (await http.get(f"/chat/sessions/{session}")).json()
    answer = detail["messages"][-1]
    usage = answer["usage"]
    assert usage["completion_tokens"] == count_tokens(answer["content"])
    charged = cost(settings, model, usage["prompt_tokens"], usage["completion_tokens"])
    assert answer["credits"] == charged
    assert await wallet(database, tenant) == (1000 - charged, 0)
    return answer


@pytest.mark.parametrize("how", CUTS)
async def test_cut_before_the_first_token_charges_nothing(
    live_server: LiveServer, tenant: Tenant, database: Database, how: str
) -> None:
    sock = open_stream(live_server.port, tenant, "rivya-chat-stall", "hello")
    data = read_until(sock, lambda d: b'"role":"assistant"' in d)
    cut(sock, how)
    await settled(database, tenant)
    assert await wallet(database, tenant) == (1000, 0)
    async with httpx.AsyncClient(base_url=live_server.url, headers=tenant.headers) as http:
        assert (await http.get(f"/chat/sessions/{session_of(data)}")).status_code == 404


@pytest.mark.parametrize("how", CUTS)
async def test_cut_mid_stream_charges_what_was_produced(
    live_server: LiveServer, tenant: Tenant, database: Database, settings: Settings, how: str
) -> None:
    sock = open_stream(live_server.port, tenant, "rivya-chat-slow", LONG)
    data = read_until(sock, lambda d: contents(d) >= 5)
    cut(sock, how)
    await settled(database, tenant)
    answer = await charged_for_what_was_produced(
        live_server.url, database, tenant, settings, session_of(data), "rivya-chat-slow"
    )
    assert 5 <= answer["usage"]["completion_tokens"] < count_tokens(f"Turn 1. You said: {LONG}")


@pytest.mark.parametrize("how", CUTS)
async def test_cut_after_the_last_chunk_charges_the_whole_answer(
    live_server: LiveServer, tenant: Tenant, database: Database, settings: Settings, how: str
) -> None:
    sock = open_stream(live_server.port, tenant, "rivya-chat-dev", "Hello there, fox")
    data = read_until(sock, lambda d: b'"finish_reason":"stop"' in d)
    cut(sock, how)
    await settled(database, tenant)
    answer = await charged_for_what_was_produced(
        live_server.url, database, tenant, settings, session_of(data), "rivya-chat-dev"
    )
    assert answer["content"] == "Turn 1. You said: Hello there, fox"


@pytest.mark.parametrize("how", CUTS)
async def test_cut_while_the_settlement_runs_still_settles(
    live_server: LiveServer,
    tenant: Tenant,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    settling = threading.Event()
    real = turns.settle

    async def slow_settle(*args: Any, **kwargs: Any) -> dict[str, Any]:
        settling.set()
        await asyncio.sleep(0.3)  # the window in which the client leaves
        return await real(*args, **kwargs)

    monkeypatch.setattr(turns, "settle", slow_settle)
    sock = open_stream(live_server.port, tenant, "rivya-chat-dev", "Hello there, fox")
    data = read_until(sock, lambda d: b"x-rivya-session-id" in d.lower())
    assert settling.wait(10)
    cut(sock, how)
    await settled(database, tenant)
    answer = await charged_for_what_was_produced(
        live_server.url, database, tenant, settings, session_of(data), "rivya-chat-dev"
    )
    assert answer["content"] == "Turn 1. You said: Hello there, fox"


async def test_many_cuts_in_a_row_delay_no_later_stream(
    live_server: LiveServer, tenant: Tenant, database: Database
) -> None:
    for turn in range(12):
        sock = open_stream(live_server.port, tenant, "rivya-chat-slow", LONG)
        seen = 1 + turn % 3
        read_until(sock, lambda d, seen=seen: contents(d) >= seen)
        cut(sock, CUTS[turn % 2])
    started = time.monotonic()
    body = {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": "hi"}]}
    async with (
        httpx.AsyncClient(base_url=live_server.url, headers=tenant.headers, timeout=30) as http,
        http.stream("POST", "/chat/completions", json={**body, "stream": True}) as response,
    ):
        text = "".join([line async for line in response.aiter_lines()])
    assert text.endswith("data: [DONE]")
    assert time.monotonic() - started < 5, "a later stream waited on the cut ones"
    await settled(database, tenant)


async def test_a_server_shutdown_mid_stream_settles_before_it_exits(
    settings: Settings, tenant: Tenant, database: Database
) -> None:
    server = LiveServer(settings, database, graceful_s=0.3)
    server.start()
    try:
        sock = open_stream(server.port, tenant, "rivya-chat-slow", LONG)
        data = read_until(sock, lambda d: contents(d) >= 5)
    finally:
        await asyncio.to_thread(server.stop)
    # The lifespan shutdown has ended: the turn was settled before the server was gone.
    balance, reserved = await wallet(database, tenant)
    assert reserved == 0
    sock.close()
    session = session_of(data)
    async with database.read() as conn:
        stored = await sessions.messages(conn, session)
    answer = stored[-1]
    produced = answer["usage"]["completion_tokens"]
    assert produced == count_tokens(answer["content"]) >= 5
    assert balance == 1000 - answer["credits"]
    assert answer["credits"] == cost(
        settings, "rivya-chat-slow", answer["usage"]["prompt_tokens"], produced
    )


async def test_a_server_shutdown_mid_turn_settles_a_non_streaming_turn(
    settings: Settings, tenant: Tenant, database: Database
) -> None:
    """The handler of a non-streaming turn is cancelled by the shutdown before the answer was
    whole: the client gets nothing, so the turn is released, at once, and saves nothing."""
    server = LiveServer(settings, database, graceful_s=0.3)
    server.start()
    body = json.dumps({"model": "rivya-chat-slow", "messages": [{"role": "user", "content": LONG}]})
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        sock.sendall(
            (
                "POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {tenant.secret}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )

        async def reserved() -> bool:
            return (await wallet(database, tenant))[1] > 0

        await eventually(reserved)
        await asyncio.sleep(0.3)  # the model is answering
    finally:
        await asyncio.to_thread(server.stop)
        sock.close()
    assert await wallet(database, tenant) == (1000, 0)
    async with database.read() as conn:
        assert (await conn.execute(select(chat_sessions.c.id))).scalars().all() == []
