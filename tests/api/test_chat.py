"""Chat turns: the official `openai` SDK against the live server (plain and streamed), session
continuation, settlement arithmetic, worst-case reservations under concurrency, a client that
leaves mid-stream, attachments, failures. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import math
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from rivya.billing.pricing import chat_cost
from rivya.billing.wallet import get_balance, ledger_totals
from rivya.catalog.catalog import Catalog
from rivya.chat.turns import ESTIMATE_MARGIN, ESTIMATE_SLACK
from rivya.providers.tokens import estimate_prompt_tokens
from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, eventually, make_tenant

USER = [{"role": "user", "content": "Hello there, fox"}]
CHAT = "rivya-chat-dev"


def sdk(url: str, tenant: Tenant) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url, api_key=tenant.secret, max_retries=0)


async def wallet(db: Database, tenant: Tenant) -> tuple[int, int]:
    async with db.read() as conn:
        balance = await get_balance(conn, tenant.account_id)
        assert await ledger_totals(conn, tenant.account_id) == balance
    return balance.balance, balance.reserved


def cost(settings: Settings, model: str, prompt: int, completion: int) -> int:
    found = Catalog.load(settings.catalog).get(model)
    assert found is not None
    return chat_cost(found, prompt, completion)


async def test_the_openai_sdk_holds_a_conversation(
    live_url: str, tenant: Tenant, database: Database, settings: Settings
) -> None:
    client = sdk(live_url, tenant)
    first = await client.chat.completions.create(model="rivya-chat-dev", messages=USER)
    assert first.object == "chat.completion"
    assert first.choices[0].message.content == "Turn 1. You said: Hello there, fox"
    assert first.choices[0].finish_reason == "stop"
    assert first.usage is not None and first.usage.completion_tokens > 0
    extra = first.model_extra or {}
    session_id = extra["session_id"]
    assert session_id.startswith("sess_")
    charged = cost(
        settings, "rivya-chat-dev", first.usage.prompt_tokens, first.usage.completion_tokens
    )
    assert extra["credits"] == charged
    assert await wallet(database, tenant) == (1000 - charged, 0)

    second = await client.chat.completions.create(
        model="rivya-chat-dev",
        messages=[{"role": "user", "content": "And again"}],
        extra_body={"session_id": session_id},
    )
    assert second.choices[0].message.content == "Turn 2. You said: And again"
    assert second.usage is not None and second.usage.prompt_tokens > first.usage.prompt_tokens

    async with httpx.AsyncClient(base_url=live_url, headers=tenant.headers) as http:
        detail = (await http.get(f"/chat/sessions/{session_id}")).json()
        listed = (await http.get("/chat/sessions")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    assert detail["messages"][1]["credits"] == charged
    assert detail["messages"][1]["usage"]["completion_tokens"] == first.usage.completion_tokens
    assert detail["messages"][0]["usage"] is None
    assert [s["id"] for s in listed["data"]] == [session_id]


async def test_the_openai_sdk_streams(
    live_url: str, tenant: Tenant, database: Database, settings: Settings
) -> None:
    client = sdk(live_url, tenant)
    stream = await client.chat.completions.create(
        model="rivya-chat-dev",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    usage = None
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        else:
            usage = chunk.usage
    assert "".join(pieces) == "Turn 1. You said: Hello there, fox"
    assert len([p for p in pieces if p]) > 3, "the answer arrived token by token"
    assert usage is not None
    charged = cost(settings, "rivya-chat-dev", usage.prompt_tokens, usage.completion_tokens)
    assert await wallet(database, tenant) == (1000 - charged, 0)


async def test_streams_are_metered_without_include_usage(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    body = {"model": "rivya-chat-dev", "messages": USER, "stream": True}
    response = await client.post("/chat/completions", json=body, headers=tenant.headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert all(c["choices"] for c in chunks), "no usage chunk when it was not asked for"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    balance, reserved = await wallet(database, tenant)
    assert balance < 1000 and reserved == 0
    session = response.headers["x-rivya-session-id"]
    detail = (await client.get(f"/chat/sessions/{session}", headers=tenant.headers)).json()
    assert detail["messages"][-1]["usage"]["completion_tokens"] > 0


async def test_the_worst_case_is_reserved_before_the_model_is_called(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    estimate = estimate_prompt_tokens(USER)
    worst = cost(
        settings, "rivya-chat-dev", math.ceil(estimate * ESTIMATE_MARGIN) + ESTIMATE_SLACK, 4000
    )
    poor = await make_tenant(database, credits=worst - 1)
    body = {"model": "rivya-chat-dev", "messages": USER, "max_tokens": 4000}
    response = await client.post("/chat/completions", json=body, headers=poor.headers)
    assert_problem(response, 402, "insufficient_credits")
    assert (await client.get("/chat/sessions", headers=poor.headers)).json()["data"] == []
    assert await wallet(database, poor) == (worst - 1, 0)


async def test_twenty_concurrent_turns_against_five_worst_cases(
    live: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # An answer of some 60 tokens at 50 ms each: the admitted turns hold their reservations for
    # seconds, while all twenty arrive.
    long = [{"role": "user", "content": "fox " * 50}]
    estimate = estimate_prompt_tokens(long)
    worst = cost(
        settings, "rivya-chat-slow", math.ceil(estimate * ESTIMATE_MARGIN) + ESTIMATE_SLACK, 3000
    )
    tenant = await make_tenant(database, credits=5 * worst)
    body = {"model": "rivya-chat-slow", "messages": long, "max_tokens": 3000}
    responses = await asyncio.gather(
        *(live.post("/chat/completions", json=body, headers=tenant.headers) for _ in range(20))
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 5 and statuses.count(402) == 15
    spent = sum(r.json()["credits"] for r in responses if r.status_code == 200)
    assert await wallet(database, tenant) == (5 * worst - spent, 0)


async def test_a_client_that_leaves_mid_stream_pays_for_what_was_produced(
    live_url: str, tenant: Tenant, database: Database, settings: Settings
) -> None:
    said = "tell me a long story " * 20
    body = {
        "model": "rivya-chat-slow",
        "messages": [{"role": "user", "content": said}],
        "stream": True,
    }
    seen = 0
    async with (
        httpx.AsyncClient(base_url=live_url, headers=tenant.headers, timeout=30) as http,
        http.stream("POST", "/chat/completions", json=body) as response,
    ):
        session = response.headers["x-rivya-session-id"]
        async for line in response.aiter_lines():
            if line.startswith("data: ") and '"content":"' in line and '"content":""' not in line:
                seen += 1
            if seen == 5:
                break

    async def settled() -> bool:
        return (await wallet(database, tenant))[1] == 0

    await eventually(settled, deadline_s=10)
    async with httpx.AsyncClient(base_url=live_url, headers=tenant.headers) as http:
        detail = (await http.get(f"/chat/sessions/{session}")).json()
    answer = detail["messages"][-1]
    produced = answer["usage"]["completion_tokens"]
    assert 5 <= produced < 60, "charged for what was produced, not for the whole answer"
    charged = cost(settings, "rivya-chat-slow", answer["usage"]["prompt_tokens"], produced)
    assert answer["credits"] == charged
    assert await wallet(database, tenant) == (1000 - charged, 0)


async def test_keep_alive_comments_while_the_model_is_silent(
    settings: Settings, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    settings.chat_keep_alive_seconds = 0.01
    body = {"model": "rivya-chat-slow", "messages": USER, "stream": True}
    response = await client.post("/chat/completions", json=body, headers=tenant.headers)
    assert ": keep-alive" in response.text
    assert response.text.endswith("data: [DONE]\n\n")


async def test_failures_charge_nothing_and_save_nothing(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    before = {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": "[fail]"}]}
    response = await client.post("/chat/completions", json=before, headers=tenant.headers)
    problem = assert_problem(response, 502, "upstream_rejected")
    assert "127.0.0.1" not in str(problem)
    session = response.headers.get("x-rivya-session-id")
    assert session is None

    mid = {**before, "messages": [{"role": "user", "content": "[fail-mid] please"}], "stream": True}
    streamed = await client.post("/chat/completions", json=mid, headers=tenant.headers)
    events = [json.loads(e.removeprefix("data: ")) for e in streamed.text.split("\n\n") if e]
    assert events[-1]["error"]["code"] == "upstream_stream_error"
    sid = streamed.headers["x-rivya-session-id"]
    gone = await client.get(f"/chat/sessions/{sid}", headers=tenant.headers)
    assert_problem(gone, 404, "not_found")  # a failed turn makes no session
    listed = (await client.get("/chat/sessions", headers=tenant.headers)).json()
    assert listed["data"] == []
    assert await wallet(database, tenant) == (1000, 0)


async def test_bad_requests_are_refused_before_any_charge(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"model": CHAT, "messages": USER, "n": 2}, 422, "unsupported_parameter"),
        ({"model": CHAT, "messages": USER, "logprobs": True}, 422, "unsupported_parameter"),
        ({"model": "rivya-image-dev", "messages": USER}, 422, "wrong_model_kind"),
        ({"model": "nope", "messages": USER}, 422, "model_not_found"),
        ({"model": CHAT, "messages": USER, "max_tokens": 100_000}, 422, "invalid_request"),
        ({"model": CHAT, "messages": []}, 400, "invalid_request"),
        ({"model": CHAT, "messages": USER, "session_id": "sess_nope"}, 404, "not_found"),
        ({"model": CHAT, "messages": USER, "colour": 1}, 400, "invalid_request"),
    ]  # fmt: skip
    for body, status, code in cases:
        response = await client.post("/chat/completions", json=body, headers=tenant.headers)
        assert_problem(response, status, code)
    streamed_with_key = await client.post(
        "/chat/completions",
        json={"model": "rivya-chat-dev", "messages": USER, "stream": True},
        headers={**tenant.headers, "Idempotency-Key": "s1"},
    )
    assert_problem(streamed_with_key, 422, "idempotency_key_unsupported")
    assert await wallet(database, tenant) == (1000, 0)


async def test_attachments_must_be_own_uploaded_images(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(picture, "PNG")
    upload = await client.post(
        "/files", files={"file": ("r.png", picture.getvalue())}, headers=tenant.headers
    )
    file_id = upload.json()["id"]

    def turn(url: str) -> dict[str, Any]:
        parts = [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        return {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": parts}]}

    ok = await client.post(
        "/chat/completions", json=turn(f"rivya://files/{file_id}"), headers=tenant.headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["choices"][0]["message"]["content"] == "Turn 1. You said: what is this [image]"
    for url in (
        "https://example.com/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "rivya://files/file_nope",
    ):
        refused = await client.post("/chat/completions", json=turn(url), headers=tenant.headers)
        problem = assert_problem(refused, 422, "invalid_attachment")
        assert "POST /api/v1/files" in str(problem["detail"])
    stranger = await make_tenant(database, name="Stranger")
    foreign = await client.post(
        "/chat/completions", json=turn(f"rivya://files/{file_id}"), headers=stranger.headers
    )
    assert_problem(foreign, 422, "invalid_attachment")


async def test_sessions_are_private(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    made = await client.post(
        "/chat/completions",
        json={"model": "rivya-chat-dev", "messages": USER},
        headers=tenant.headers,
    )
    session = made.json()["session_id"]
    other = await make_tenant(database, name="Other")
    assert_problem(
        await client.get(f"/chat/sessions/{session}", headers=other.headers), 404, "not_found"
    )
    assert (await client.get("/chat/sessions", headers=other.headers)).json()["data"] == []
    hijack = {"model": "rivya-chat-dev", "messages": USER, "session_id": session}
    assert_problem(
        await client.post("/chat/completions", json=hijack, headers=other.headers), 404, "not_found"
    )


async def test_idempotent_turns_are_replayed(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    body = {"model": "rivya-chat-dev", "messages": USER}
    key = {**tenant.headers, "Idempotency-Key": "turn-1"}
    first = await client.post("/chat/completions", json=body, headers=key)
    again = await client.post("/chat/completions", json=body, headers=key)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    detail = await client.get(
        f"/chat/sessions/{first.json()['session_id']}", headers=tenant.headers
    )
    assert len(detail.json()["messages"]) == 2
    assert await wallet(database, tenant) == (1000 - first.json()["credits"], 0)


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls_are_kept_in_the_session(
    client: httpx.AsyncClient, tenant: Tenant, stream: bool
) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    body = {
        "model": "rivya-chat-dev",
        "messages": [{"role": "user", "content": "[tool] find foxes"}],
        "tools": tools,
        "stream": stream,
    }
    response = await client.post("/chat/completions", json=body, headers=tenant.headers)
    session = response.headers["x-rivya-session-id"]
    detail = (await client.get(f"/chat/sessions/{session}", headers=tenant.headers)).json()
    call = detail["messages"][-1]["tool_calls"][0]
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"text": "[tool] find foxes"}


async def test_nulls_the_openai_sdk_may_send_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """History with an assistant tool call has `content: null`; `stop` and `tool_choice` may be
    null too."""
    body = {
        "model": CHAT,
        "stop": None,
        "tool_choice": None,
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ],
    }
    response = await client.post("/chat/completions", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Turn 1. The tool said: sunny"
