"""Webhook deliveries end to end, on SQLite and PostgreSQL: events fanned out to endpoints, a
real `Worker` running `WebhookDeliverer`, and a real receiver on loopback (allow-listed) whose
requests are verified with the `standardwebhooks` library. Retry schedules are tiny."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook, WebhookVerificationError

from rivya import clock
from rivya.errors import Conflict, InvalidRequest, NotFound
from rivya.events.outbox import emit
from rivya.jobs.worker import Lane, Worker
from rivya.net.ssrf import AllowList
from rivya.runtime import Runtime
from rivya.settings import Settings
from rivya.store.db import Database
from rivya.store.tables import jobs, webhook_deliveries, webhook_endpoints
from rivya.webhooks import deliveries, endpoints
from rivya.webhooks.deliveries import JOB_KIND, WebhookDeliverer, fan_out
from rivya.webhooks.endpoints import Endpoint
from rivya.webhooks.ssrf import check_url
from tests.conftest import eventually, make_tenant
from tests.integration.test_webhook_client import Received, Receiver

SUCCEEDED = "generation.succeeded"
TASK = {"id": "task_1", "object": "generation", "status": "succeeded", "outputs": []}


# A receiver on loopback, and a schedule of three quick retries.
HOOK_SETTINGS: dict[str, Any] = {
    "webhook_allow_hosts": "127.0.0.1",
    "webhook_retry_schedule": (0.1, 0.1, 0.1),
    "webhook_timeout_seconds": 2.0,
}


def build(database: Database, tmp_path: Path, **fields: Any) -> Runtime:
    settings = Settings(data_dir=tmp_path, **{**HOOK_SETTINGS, **fields})
    return Runtime.build(settings, db=database)


@pytest.fixture
def runtime(database: Database, tmp_path: Path) -> Runtime:
    return build(database, tmp_path)


@pytest.fixture(scope="module")
def serving() -> Iterator[Receiver]:
    """One receiver for the module (starting and stopping one takes a while)."""
    with Receiver() as up:
        yield up


@pytest.fixture
def receiver(serving: Receiver) -> Receiver:
    """The module's receiver, with nothing received or scripted yet."""
    serving.reset()
    return serving


@asynccontextmanager
async def working(runtime: Runtime) -> AsyncIterator[None]:
    """A worker delivering webhooks until the block ends."""
    worker = Worker(
        runtime,
        [Lane("webhooks", {JOB_KIND: WebhookDeliverer(runtime)}, slots=4, per_group=4)],
        lease_s=5,
        poll_s=0.05,
        drain_s=1,
    )
    stop = asyncio.Event()
    run = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(run, 10)


async def subscribe(
    db: Database, account_id: str, url: str, events: list[str] | None = None
) -> Endpoint:
    target = await check_url(url, AllowList.parse("127.0.0.1"))
    async with db.write() as conn:
        return await endpoints.create_endpoint(
            conn, account_id, target=target, events=events or [SUCCEEDED], max_endpoints=20
        )


async def publish(
    runtime: Runtime, account_id: str, type_: str = SUCCEEDED
) -> tuple[str, list[str]]:
    """Emit an event and fan it out in one transaction, as a task's end does."""
    async with runtime.db.write() as conn:
        event_id = await emit(conn, account_id, type_, TASK["id"], TASK)
        delivery_ids = await fan_out(conn, event_id, account_id, type_)
    runtime.jobs_added.set()
    return event_id, delivery_ids


async def delivery(db: Database, delivery_id: str) -> dict[str, Any]:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
            )
        ).one()
    return dict(row._mapping)


async def until_status(db: Database, delivery_id: str, status: str, seconds: float = 5) -> None:
    async def reached() -> bool:
        return (await delivery(db, delivery_id))["status"] == status

    await eventually(reached, seconds)


async def endpoint_row(db: Database, endpoint_id: str) -> Endpoint:
    async with db.read() as conn:
        return await endpoints.load_endpoint(conn, endpoint_id)


async def event_log(db: Database, account_id: str, event_id: str) -> dict[str, Any]:
    async with db.read() as conn:
        return await deliveries.get_event(conn, account_id, event_id)


def verified(secret: str, request: Received) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


async def test_an_event_is_delivered_signed(runtime: Runtime, receiver: Receiver) -> None:
    tenant = await make_tenant(runtime.db)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    event_id, (delivery_id,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, delivery_id, "delivered")

    (request,) = receiver.received
    assert request.path == "/hooks" and request.headers["content-type"] == "application/json"
    message = verified(endpoint.secret, request)
    assert message["id"] == event_id and message["type"] == SUCCEEDED
    assert message["data"] == TASK and isinstance(message["created_at"], int)
    assert request.headers["webhook-id"] == delivery_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    log = await event_log(runtime.db, tenant.account_id, event_id)
    (shown,) = log["deliveries"]
    assert shown["status"] == "delivered" and shown["endpoint_id"] == endpoint.id
    (attempt,) = shown["attempts"]
    assert attempt["status_code"] == 204 and attempt["error"] is None
    assert attempt["next_retry_at"] is None and attempt["duration_ms"] >= 0


async def test_a_receiver_down_then_up_gets_it_after_recovery(
    database: Database, tmp_path: Path
) -> None:
    """Attempts fail while nothing listens, across a worker restart (the retry lives in the
    queue); once the receiver is up the next attempt delivers and the endpoint is well again."""
    first = build(database, tmp_path, webhook_retry_schedule=(0.2,) * 20)
    tenant = await make_tenant(database)
    receiver = Receiver()  # its port refuses connections until started
    try:
        endpoint = await subscribe(database, tenant.account_id, receiver.url)
        event_id, (delivery_id,) = await publish(first, tenant.account_id)

        async def failed_twice() -> bool:
            return (await delivery(database, delivery_id))["attempts"] >= 2

        async with working(first):
            await eventually(failed_twice)
        failing = await endpoint_row(database, endpoint.id)
        assert failing.enabled and failing.failing_since is not None
        assert (await delivery(database, delivery_id))["status"] == "pending"

        receiver.start()
        second = build(database, tmp_path, webhook_retry_schedule=(0.2,) * 20)
        async with working(second):
            await until_status(database, delivery_id, "delivered")
    finally:
        receiver.close()

    (request,) = receiver.received
    assert verified(endpoint.secret, request)["id"] == event_id
    assert (await endpoint_row(database, endpoint.id)).failing_since is None
    attempts = (await event_log(database, tenant.account_id, event_id))["deliveries"][0]["attempts"]
    assert len(attempts) >= 3
    for attempt in attempts[:-1]:
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("connection failed")
        assert attempt["next_retry_at"] is not None
    assert attempts[-1]["status_code"] == 204 and attempts[-1]["next_retry_at"] is None


async def test_retries_log_each_attempt_until_the_schedule_ends(
    runtime: Runtime, receiver: Receiver
) -> None:
    """Four attempts on a schedule of three retries, all with the same webhook-id and a valid
    signature; then the delivery has failed."""
    tenant = await make_tenant(runtime.db)
    receiver.answer_next(10, 500)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    event_id, (delivery_id,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, delivery_id, "failed")

    assert len(receiver.received) == 4  # the first attempt and the three retries
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery_id}
    for request in receiver.received:
        assert verified(endpoint.secret, request)["id"] == event_id
    shown = (await event_log(runtime.db, tenant.account_id, event_id))["deliveries"][0]
    assert [a["status_code"] for a in shown["attempts"]] == [500] * 4
    assert all(a["next_retry_at"] is not None for a in shown["attempts"][:-1])
    assert shown["attempts"][-1]["next_retry_at"] is None and shown["next_attempt_at"] is None
    row = await delivery(runtime.db, delivery_id)
    assert row["attempts"] == 4
    async with runtime.db.read() as conn:
        job = (
            await conn.execute(
                select(jobs).where(jobs.c.kind == JOB_KIND, jobs.c.ref == delivery_id)
            )
        ).one()
    assert job.status == "done" and job.attempts == 1  # retries gave their claims back
    assert (await endpoint_row(runtime.db, endpoint.id)).enabled


async def test_410_gone_disables_the_endpoint(runtime: Runtime, receiver: Receiver) -> None:
    tenant = await make_tenant(runtime.db)
    receiver.answer_next(1, 410)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    _, (delivery_id,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, delivery_id, "failed")
    assert len(receiver.received) == 1
    gone = await endpoint_row(runtime.db, endpoint.id)
    assert not gone.enabled and gone.disabled_reason == endpoints.GONE
    assert (await delivery(runtime.db, delivery_id))["attempts"] == 1
    # Nothing more goes to it.
    assert (await publish(runtime, tenant.account_id))[1] == []


async def test_an_endpoint_failing_for_five_days_is_disabled(
    runtime: Runtime, receiver: Receiver
) -> None:
    tenant = await make_tenant(runtime.db)
    receiver.answer_next(10, 502)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    async with runtime.db.write() as conn:
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(failing_since=clock.now() - 5 * 86400)
        )
    _, (delivery_id,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, delivery_id, "failed")
    assert len(receiver.received) == 1  # no retries once the endpoint is disabled
    failing = await endpoint_row(runtime.db, endpoint.id)
    assert not failing.enabled and failing.disabled_reason == endpoints.FAILING


async def test_a_rotated_secret_signs_alongside_the_new_one(
    runtime: Runtime, receiver: Receiver
) -> None:
    tenant = await make_tenant(runtime.db)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    async with runtime.db.write() as conn:
        rotated = await endpoints.rotate_secret(conn, tenant.account_id, endpoint.id)
    _, (during,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, during, "delivered")
        async with runtime.db.write() as conn:
            final = await endpoints.rotate_secret(
                conn, tenant.account_id, endpoint.id, grace_seconds=0
            )
        _, (after,) = await publish(runtime, tenant.account_id)
        await until_status(runtime.db, after, "delivered")

    both, single = receiver.received
    assert len(both.headers["webhook-signature"].split(" ")) == 2
    assert verified(rotated.secret, both) == verified(endpoint.secret, both)
    assert len(single.headers["webhook-signature"].split(" ")) == 1
    assert verified(final.secret, single)
    for stale in (endpoint.secret, rotated.secret):
        with pytest.raises(WebhookVerificationError):
            verified(stale, single)


async def test_fan_out_reaches_enabled_subscribed_endpoints_of_the_account(
    runtime: Runtime, receiver: Receiver
) -> None:
    """Fan-out skips endpoints subscribed to other types, disabled ones and other accounts';
    deliveries fanned out before their endpoint was disabled or deleted fail without a send."""
    tenant = await make_tenant(runtime.db)
    other = await make_tenant(runtime.db, name="Other")
    url = receiver.url
    disabled = await subscribe(runtime.db, tenant.account_id, url, [SUCCEEDED, "generation.failed"])
    deleted = await subscribe(runtime.db, tenant.account_id, url)
    await subscribe(runtime.db, tenant.account_id, url, ["generation.failed"])
    off = await subscribe(runtime.db, tenant.account_id, url)
    await subscribe(runtime.db, other.account_id, url)
    async with runtime.db.write() as conn:
        await endpoints.update_endpoint(conn, tenant.account_id, off.id, enabled=False)
    event_id, delivery_ids = await publish(runtime, tenant.account_id)
    async with runtime.db.read() as conn:
        refs = (await conn.execute(select(jobs.c.ref).where(jobs.c.kind == JOB_KIND))).scalars()
        assert sorted(refs) == sorted(delivery_ids)
    async with runtime.db.write() as conn:
        await endpoints.update_endpoint(conn, tenant.account_id, disabled.id, enabled=False)
        await endpoints.delete_endpoint(conn, tenant.account_id, deleted.id)
    async with working(runtime):
        for delivery_id in delivery_ids:
            await until_status(runtime.db, delivery_id, "failed")
    assert receiver.received == []
    shown = (await event_log(runtime.db, tenant.account_id, event_id))["deliveries"]
    assert {d["endpoint_id"] for d in shown} == {disabled.id, deleted.id}
    assert all(d["attempts"] == [] for d in shown)


async def test_the_url_is_checked_again_at_delivery(
    database: Database, tmp_path: Path, receiver: Receiver
) -> None:
    """An endpoint accepted once may not lead somewhere internal later: each attempt checks it
    again, here against a stricter allow list, and logs the refusal without sending."""
    strict = build(database, tmp_path, webhook_allow_hosts="", webhook_retry_schedule=())
    tenant = await make_tenant(database)
    await subscribe(database, tenant.account_id, receiver.url)
    event_id, (delivery_id,) = await publish(strict, tenant.account_id)
    async with working(strict):
        await until_status(database, delivery_id, "failed")
    assert receiver.received == []
    (attempt,) = (await event_log(database, tenant.account_id, event_id))["deliveries"][0][
        "attempts"
    ]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("webhook_url_not_allowed")


async def test_list_events_shows_deliveries_and_attempts(
    runtime: Runtime, receiver: Receiver
) -> None:
    tenant = await make_tenant(runtime.db)
    other = await make_tenant(runtime.db, name="Other")
    receiver.answer_next(1, 500)
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    succeeded, (delivery_id,) = await publish(runtime, tenant.account_id)
    await asyncio.sleep(0.002)  # ids order by the millisecond they were made in
    failed, none = await publish(runtime, tenant.account_id, "generation.failed")
    assert none == []  # the endpoint does not subscribe to it
    async with working(runtime):
        await until_status(runtime.db, delivery_id, "delivered")
    await publish(runtime, other.account_id)

    async with runtime.db.read() as conn:
        page, more = await deliveries.list_events(conn, tenant.account_id, limit=1)
        assert [e["id"] for e in page] == [failed] and more
        page, more = await deliveries.list_events(
            conn, tenant.account_id, limit=1, after=page[0]["id"]
        )
        assert [e["id"] for e in page] == [succeeded] and not more
        typed, _ = await deliveries.list_events(
            conn, tenant.account_id, limit=10, type_="generation.failed"
        )
        assert [e["id"] for e in typed] == [failed] and typed[0]["deliveries"] == []
    (event,) = page
    assert event["object"] == "event" and event["type"] == SUCCEEDED and event["data"] == TASK
    (shown,) = event["deliveries"]
    assert shown["id"] == delivery_id and shown["endpoint_id"] == endpoint.id
    assert shown["object"] == "webhook_delivery" and shown["status"] == "delivered"
    first, second = shown["attempts"]
    assert first["status_code"] == 500 and first["next_retry_at"] >= first["attempted_at"]
    assert second["status_code"] == 204 and second["next_retry_at"] is None
    assert all(isinstance(a["duration_ms"], int) for a in shown["attempts"])
    json.dumps(event)  # the API can send it as it is


async def test_resend_delivers_again_as_a_new_delivery(
    runtime: Runtime, receiver: Receiver
) -> None:
    tenant = await make_tenant(runtime.db)
    other = await make_tenant(runtime.db, name="Other")
    endpoint = await subscribe(runtime.db, tenant.account_id, receiver.url)
    event_id, (original,) = await publish(runtime, tenant.account_id)
    async with working(runtime):
        await until_status(runtime.db, original, "delivered")
        async with runtime.db.write() as conn:
            shown = await deliveries.resend(conn, tenant.account_id, event_id)
            again = await deliveries.resend(conn, tenant.account_id, event_id, endpoint.id)
        runtime.jobs_added.set()
        assert shown["deliveries"][0]["id"] == original
        new_ids = [d["id"] for d in again["deliveries"]][1:]
        assert len(new_ids) == 2 and original not in new_ids
        for delivery_id in new_ids:
            await until_status(runtime.db, delivery_id, "delivered")

    assert receiver.received[0].headers["webhook-id"] == original
    assert {r.headers["webhook-id"] for r in receiver.received[1:]} == set(new_ids)
    assert {verified(endpoint.secret, r)["id"] for r in receiver.received} == {event_id}

    async with runtime.db.write() as conn:
        with pytest.raises(NotFound):
            await deliveries.resend(conn, other.account_id, event_id)
        with pytest.raises(NotFound):
            await deliveries.get_event(conn, other.account_id, event_id)
        with pytest.raises(NotFound):
            await deliveries.resend(conn, tenant.account_id, event_id, "whep_unknown")
        failed_event = await emit(conn, tenant.account_id, "generation.failed", "task_2", {})
        with pytest.raises(Conflict):
            await deliveries.resend(conn, tenant.account_id, failed_event)
        with pytest.raises(InvalidRequest):
            await deliveries.resend(conn, tenant.account_id, failed_event, endpoint.id)
        await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id, enabled=False)
        with pytest.raises(Conflict):
            await deliveries.resend(conn, tenant.account_id, event_id, endpoint.id)
