"""Generations through the API, with the in-process worker: every kind end to end with real
media, credits reserved, charged and refunded exactly once, idempotency, cancellation, waiting,
and isolation between accounts. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any

import av
import httpx
from PIL import Image

from rivya.billing.wallet import get_balance, ledger_totals
from rivya.generation import tasks
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, eventually, make_tenant

WAIT = {"Prefer": "wait=30"}


async def submit(
    http: httpx.AsyncClient, tenant: Tenant, model: str, headers: dict[str, str] | None = None,
    **given: Any,
) -> httpx.Response:  # fmt: skip
    return await http.post(
        "/generations",
        json={"model": model, "input": given},
        headers={**tenant.headers, **(headers or {})},
    )


async def download(http: httpx.AsyncClient, tenant: Tenant, task: dict[str, Any]) -> list[bytes]:
    found = []
    for output in task["outputs"]:
        response = await http.get(output["url"].removeprefix("/api/v1"), headers=tenant.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == output["content_type"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment")
        found.append(response.content)
    return found


async def wallet(db: Database, tenant: Tenant) -> tuple[int, int]:
    async with db.read() as conn:
        balance = await get_balance(conn, tenant.account_id)
        assert await ledger_totals(conn, tenant.account_id) == balance
    return balance.balance, balance.reserved


async def test_image_end_to_end(
    live: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    response = await submit(
        live, tenant, "rivya-image-dev", WAIT, prompt="a red fox", width=96, height=64,
        num_images=2, seed=7,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["preference-applied"] == "wait=30"
    task = response.json()
    assert task["status"] == "succeeded" and task["id"].startswith("task_")
    assert task["credits"] == {"reserved": 8, "charged": 8, "refunded": 0}
    images = [Image.open(io.BytesIO(data)) for data in await download(live, tenant, task)]
    assert [(i.format, i.size) for i in images] == [("PNG", (96, 64))] * 2
    assert await wallet(database, tenant) == (1000 - 8, 0)


async def test_audio_end_to_end(live: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await submit(live, tenant, "rivya-audio-dev", WAIT, prompt="hi", duration=1.5)
    task = response.json()
    assert task["status"] == "succeeded"
    assert task["credits"]["charged"] == 2 * 2  # 2 credits per started second
    (data,) = await download(live, tenant, task)
    with wave.open(io.BytesIO(data)) as audio:
        assert audio.getframerate() == 24000
        assert audio.getnframes() == 36000


async def test_video_end_to_end(live: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await submit(
        live, tenant, "rivya-video-dev", WAIT, prompt="waves", duration=2, fps=6, width=128,
        height=96,
    )  # fmt: skip
    task = response.json()
    assert task["status"] == "succeeded" and task["credits"]["charged"] == 20
    (data,) = await download(live, tenant, task)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (128, 96)
        assert sum(1 for _ in container.decode(stream)) == 12


async def test_a_reference_image_is_used(live: httpx.AsyncClient, tenant: Tenant) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (80, 80), "blue").save(picture, "PNG")
    upload = await live.post(
        "/files", files={"file": ("ref.png", picture.getvalue())}, headers=tenant.headers
    )
    assert upload.status_code == 201, upload.text
    plain = (await submit(live, tenant, "rivya-image-dev", WAIT, prompt="x", seed=1)).json()
    based = await submit(
        live, tenant, "rivya-image-dev", WAIT, prompt="x", seed=1,
        reference_image=upload.json()["id"],
    )  # fmt: skip
    assert based.json()["status"] == "succeeded"
    assert await download(live, tenant, plain) != await download(live, tenant, based.json())


async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    cases = [
        ({"model": "nope", "input": {"prompt": "x"}}, 422, "model_not_found"),
        ({"model": "rivya-chat-dev", "input": {"prompt": "x"}}, 422, "wrong_model_kind"),
        ({"model": "rivya-image-dev", "input": {}}, 422, "invalid_input"),
        (
            {"model": "rivya-image-dev", "input": {"prompt": "x", "width": 5000}},
            422,
            "invalid_input",
        ),
        ({"model": "rivya-image-dev", "input": {"prompt": "x", "colour": 1}}, 422, "invalid_input"),
        (
            {"model": "rivya-image-dev", "input": {"prompt": "x", "reference_image": "file_nope"}},
            422,
            "invalid_file_reference",
        ),
        ({"model": "rivya-image-dev"}, 400, "invalid_request"),
        ({"model": "rivya-image-dev", "input": "x"}, 400, "invalid_request"),
        ({"model": "rivya-image-dev", "input": {}, "extra": 1}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        response = await client.post("/generations", json=body, headers=tenant.headers)
        problem = assert_problem(response, status, code)
        if code == "invalid_input" and "width" in str(body):
            assert str(problem["detail"]).startswith("input.width")
    for raw in (b"{", b"\xff\xfe", b"[]", b"null"):
        response = await client.post(
            "/generations",
            content=raw,
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500
    listed = (await client.get("/generations", headers=tenant.headers)).json()
    assert listed["data"] == []
    assert await wallet(database, tenant) == (1000, 0)


async def test_a_json_body_over_the_limit_is_413(client: httpx.AsyncClient, tenant: Tenant) -> None:
    huge = {"model": "rivya-image-dev", "input": {"prompt": "x" * (2 * 1024 * 1024)}}
    response = await client.post("/generations", json=huge, headers=tenant.headers)
    assert_problem(response, 413, "payload_too_large")


async def test_not_enough_credits_is_402_and_no_task(
    client: httpx.AsyncClient, database: Database
) -> None:
    poor = await make_tenant(database, credits=3)
    response = await submit(client, poor, "rivya-image-dev", prompt="x")
    problem = assert_problem(response, 402, "insufficient_credits")
    assert "needs 4 credits; 3 are available" in str(problem["detail"])
    assert (await client.get("/generations", headers=poor.headers)).json()["data"] == []


async def test_fifty_concurrent_submissions_against_credits_for_ten(
    client: httpx.AsyncClient, database: Database
) -> None:
    tenant = await make_tenant(database, credits=40)  # ten images at 4 credits
    responses = await asyncio.gather(
        *(submit(client, tenant, "rivya-image-dev", prompt=f"n{i}") for i in range(50))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 10 and statuses.count(402) == 40
    listed = (await client.get("/generations?limit=100", headers=tenant.headers)).json()
    assert len(listed["data"]) == 10
    assert await wallet(database, tenant) == (40, 40)


async def test_idempotent_replay_reuse_and_in_flight(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    key = {"Idempotency-Key": "order-42"}
    first = await submit(client, tenant, "rivya-image-dev", key, prompt="fox")
    again = await submit(client, tenant, "rivya-image-dev", key, prompt="fox")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len((await client.get("/generations", headers=tenant.headers)).json()["data"]) == 1
    assert await wallet(database, tenant) == (1000, 4)

    other = await submit(client, tenant, "rivya-image-dev", key, prompt="cat")
    assert_problem(other, 422, "idempotency_key_reused")

    # Another account may use the same key for its own request.
    stranger = await make_tenant(database, name="Stranger")
    assert (await submit(client, stranger, "rivya-image-dev", key, prompt="x")).status_code == 202


async def test_a_key_in_flight_is_409(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    from rivya import idempotency

    # The first request has claimed the key and is still running.
    print_ = idempotency.fingerprint(
        "POST", "/generations", {"model": "rivya-image-dev", "input": {"prompt": "fox"}}
    )
    assert await idempotency.claim(database, tenant.account_id, "k1", print_) is None
    response = await submit(
        client, tenant, "rivya-image-dev", {"Idempotency-Key": "k1"}, prompt="fox"
    )
    assert_problem(response, 409, "idempotency_key_in_use")


async def test_a_refusal_is_replayed_too(client: httpx.AsyncClient, database: Database) -> None:
    poor = await make_tenant(database, credits=1)
    key = {"Idempotency-Key": "k-402"}
    first = await submit(client, poor, "rivya-image-dev", key, prompt="x")
    again = await submit(client, poor, "rivya-image-dev", key, prompt="x")
    assert first.status_code == again.status_code == 402
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "insufficient_credits"


async def test_cancel_a_queued_task_refunds_at_once(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    task = (await submit(client, tenant, "rivya-image-dev", prompt="x")).json()
    assert task["status"] == "queued" and await wallet(database, tenant) == (1000, 4)
    canceled = await client.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["credits"] == {"reserved": 4, "charged": 0, "refunded": 4}
    assert await wallet(database, tenant) == (1000, 0)
    again = await client.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)
    assert_problem(again, 409, "generation_finished")


async def test_cancel_a_running_task_stops_the_model(
    live: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    task = (await submit(live, tenant, "rivya-image-slow", prompt="x")).json()

    async def running() -> bool:
        found = await live.get(f"/generations/{task['id']}", headers=tenant.headers)
        return bool(found.json()["status"] == "running")

    await eventually(running)
    canceled = await live.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"  # well before the model's 30 s
    assert canceled.json()["outputs"] == []
    assert await wallet(database, tenant) == (1000, 0)


async def test_cancel_a_finished_task_is_409(live: httpx.AsyncClient, tenant: Tenant) -> None:
    task = (await submit(live, tenant, "rivya-image-dev", WAIT, prompt="x")).json()
    response = await live.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)
    assert_problem(response, 409, "generation_finished")


async def test_a_cancel_that_completion_wins_is_409(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    """The cancel is flagged while the task runs, then the model's success commits before the
    worker sees the flag: the answer says the cancel came too late, and the task is charged."""
    task = (await submit(client, tenant, "rivya-image-dev", prompt="x")).json()
    async with database.write() as conn:
        await tasks.start(conn, task["id"])
    canceling = asyncio.create_task(
        client.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)
    )

    async def flagged() -> bool:
        async with database.read() as conn:
            return (await tasks.get_task(conn, None, task["id"])).cancel_requested_at is not None

    await eventually(flagged)
    async with database.write() as conn:
        assert await tasks.finish(conn, task["id"], tasks.SUCCEEDED)
    response = await canceling
    assert_problem(response, 409, "generation_finished")
    assert "already succeeded" in response.json()["detail"]
    assert await wallet(database, tenant) == (996, 0)
    shown = (await client.get(f"/generations/{task['id']}", headers=tenant.headers)).json()
    assert shown["status"] == "succeeded" and shown["cancel_requested"] is True


async def test_wait_that_runs_out_answers_202(live: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await submit(live, tenant, "rivya-image-slow", {"Prefer": "wait=1"}, prompt="x")
    assert response.status_code == 202 and response.headers["preference-applied"] == "wait=1"
    assert response.json()["status"] in ("queued", "running")


async def test_list_filters_and_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    made = [
        (await submit(client, tenant, model, prompt="x")).json()["id"]
        for model in ("rivya-image-dev", "rivya-audio-dev", "rivya-image-dev")
    ]
    page = (await client.get("/generations?limit=2", headers=tenant.headers)).json()
    assert [t["id"] for t in page["data"]] == made[::-1][:2] and page["has_more"]
    rest = await client.get(f"/generations?after={page['data'][-1]['id']}", headers=tenant.headers)
    assert [t["id"] for t in rest.json()["data"]] == [made[0]]
    audio = await client.get("/generations?model=rivya-audio-dev", headers=tenant.headers)
    assert [t["id"] for t in audio.json()["data"]] == [made[1]]
    done = await client.get("/generations?status=succeeded", headers=tenant.headers)
    assert done.json()["data"] == []


async def test_another_account_sees_nothing(
    live: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    task = (await submit(live, tenant, "rivya-image-dev", WAIT, prompt="x")).json()
    queued = (await submit(live, tenant, "rivya-image-slow", prompt="x")).json()
    other = await make_tenant(database, name="Other")
    file_id = task["outputs"][0]["file_id"]
    for response in (
        await live.get(f"/generations/{task['id']}", headers=other.headers),
        await live.post(f"/generations/{queued['id']}/cancel", headers=other.headers),
        await live.get(f"/files/{file_id}", headers=other.headers),
        await live.get(f"/files/{file_id}/content", headers=other.headers),
        await live.delete(f"/files/{file_id}", headers=other.headers),
    ):
        assert_problem(response, 404, "not_found")
    assert (await live.get("/generations", headers=other.headers)).json()["data"] == []
    foreign = await submit(live, other, "rivya-image-dev", prompt="x", reference_image=file_id)
    assert_problem(foreign, 422, "invalid_file_reference")
    # Nothing the stranger did touched the owner's task.
    mine = await live.get(f"/generations/{queued['id']}", headers=tenant.headers)
    assert mine.json()["cancel_requested"] is False
