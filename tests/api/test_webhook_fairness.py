"""One account cannot stall another, on SQLite and PostgreSQL: an account whose webhook
receivers hang (many endpoints, many deliveries and resends in flight) slows neither another
account's generations nor its webhooks, and its own deliveries are only delayed, never lost; an
account whose generations fill the queue does not stall another's either.

The bound: with the noisy account's deliveries stuck, a `rivya-image-dev` generation of another
account with `Prefer: wait` ends in under 2 s (0.1 s when nothing else runs); a quiet account's
webhook arrives in under 2 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_webhooks import EVENTS
from tests.conftest import Tenant, eventually, make_tenant, write_catalog
from tests.integration.test_webhook_client import Receiver

BOUND_S = 2.0
HANG_S = 30.0  # longer than any test here: a stuck receiver never answers while we look
ENDPOINTS = 20  # the noisy account's endpoints: the most an account may have
PER_ACCOUNT = 4  # deliveries of one account attempted at once
DELIVERY_SLOTS = 8  # a worker's delivery lane: as many as all the slots a worker had once
IMAGE = {"model": "rivya-image-dev", "input": {"prompt": "fox", "width": 64, "height": 64}}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver of its own per test: requests left hanging by one test do not count in the
    next one's `most_at_once`."""
    with Receiver() as up:
        yield up


@pytest.fixture
def cap() -> int:
    """Deliveries of one account attempted at once (a test may parametrize it)."""
    return PER_ACCOUNT


@pytest.fixture
def settings(tmp_path: Path, cap: int) -> Settings:
    return Settings(
        data_dir=tmp_path,
        catalog=write_catalog(tmp_path),
        auth_cache_poll=0.05,
        worker_drain_seconds=0.2,
        webhook_allow_hosts="127.0.0.1",
        webhook_retry_schedule=(0.1, 0.1),
        # Longer than the bound, so that waiting for a stuck delivery to give up cannot pass.
        webhook_timeout_seconds=10,
        webhook_max_endpoints_per_account=ENDPOINTS,
        webhook_max_in_flight_per_account=cap,
        worker_webhook_concurrency=DELIVERY_SLOTS,
    )


async def subscribe(http: httpx.AsyncClient, tenant: Tenant, url: str) -> httpx.Response:
    return await http.post("/webhooks", json={"url": url, "events": EVENTS}, headers=tenant.headers)


async def generate(http: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], float]:
    """A generation with Prefer: wait, and how long the request took."""
    started = time.monotonic()
    response = await http.post(
        "/generations", json=IMAGE, headers={**tenant.headers, "Prefer": "wait=30"}
    )
    return response.json(), time.monotonic() - started


async def jam(http: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, endpoints: int) -> int:
    """Make `tenant` noisy: `endpoints` endpoints on a receiver that hangs, a generation whose
    event goes to all of them, and two resends of that event. Returns the deliveries made."""
    receiver.answer_next(1000, 204, hang_s=HANG_S)
    for n in range(endpoints):
        created = await subscribe(http, tenant, f"{receiver.url}/noisy/{n}")
        assert created.status_code == 201, created.text
    task, _ = await generate(http, tenant)
    assert task["status"] == "succeeded"
    event = (await http.get("/webhook-events", headers=tenant.headers)).json()["data"][0]
    for _ in range(2):
        resent = await http.post(f"/webhook-events/{event['id']}/resend", headers=tenant.headers)
        assert resent.status_code == 200, resent.text
    return 3 * endpoints


def noisy_requests(receiver: Receiver) -> int:
    return sum(1 for r in receiver.received if "/noisy/" in r.path)


# With a cap of 1,000 the noisy account alone fills the delivery lane: only the lanes keep
# generations flowing.
@pytest.mark.parametrize("cap", [PER_ACCOUNT, 1000], ids=["per_account_cap", "lane_only"])
async def test_a_noisy_accounts_stuck_webhooks_do_not_slow_another_accounts_generation(
    live: httpx.AsyncClient, database: Database, receiver: Receiver, cap: int
) -> None:
    noisy, quiet = await make_tenant(database), await make_tenant(database, name="Quiet")
    _, alone = await generate(live, quiet)
    made = await jam(live, noisy, receiver, ENDPOINTS)
    stuck_at = min(cap, DELIVERY_SLOTS)

    async def stuck() -> bool:
        return noisy_requests(receiver) >= stuck_at

    await eventually(stuck, deadline_s=10)
    task, took = await generate(live, quiet)
    assert task["status"] == "succeeded" and took < BOUND_S, (
        f"{task['status']} after {took:.2f} s with {made} webhooks in flight ({alone:.2f} s alone)"
    )
    # Still stuck, and no more of them at once than the budget allows.
    assert noisy_requests(receiver) == receiver.most_at_once == stuck_at


async def test_a_quiet_accounts_webhook_is_not_held_behind_a_noisy_accounts(
    live: httpx.AsyncClient, database: Database, receiver: Receiver
) -> None:
    """The noisy account holds its share of the delivery lane; the quiet account's delivery
    takes one of the others at once, although dozens of the noisy one's are older."""
    noisy, quiet = await make_tenant(database), await make_tenant(database, name="Quiet")
    await jam(live, noisy, receiver, ENDPOINTS)

    async def stuck() -> bool:
        return noisy_requests(receiver) >= PER_ACCOUNT

    await eventually(stuck, deadline_s=10)
    created = await subscribe(live, quiet, f"{receiver.url}/quiet")
    assert created.status_code == 201, created.text
    receiver.reset()  # from here the receiver answers at once
    started = time.monotonic()
    task, _ = await generate(live, quiet)
    assert task["status"] == "succeeded"

    async def arrived() -> bool:
        return any(r.path.endswith("/quiet") for r in receiver.received)

    await eventually(arrived, deadline_s=BOUND_S)
    assert time.monotonic() - started < BOUND_S
    assert noisy_requests(receiver) == 0, "the noisy account took more slots"


async def test_deliveries_over_the_cap_are_delayed_not_lost(
    live: httpx.AsyncClient, database: Database, receiver: Receiver
) -> None:
    """Twenty deliveries of one account to a slow receiver: never more than the cap at once,
    every one delivered on its first attempt."""
    noisy = await make_tenant(database)
    receiver.answer_next(1000, 204, hang_s=0.3)
    for n in range(ENDPOINTS):
        created = await subscribe(live, noisy, f"{receiver.url}/noisy/{n}")
        assert created.status_code == 201, created.text
    task, _ = await generate(live, noisy)
    assert task["status"] == "succeeded"

    async def delivered() -> bool:
        events = (await live.get("/webhook-events", headers=noisy.headers)).json()["data"]
        return bool(events) and all(
            d["status"] == "delivered" and len(d["attempts"]) == 1 for d in events[0]["deliveries"]
        )

    await eventually(delivered, deadline_s=20)
    assert noisy_requests(receiver) == ENDPOINTS
    assert receiver.most_at_once == PER_ACCOUNT


async def test_one_accounts_generation_backlog_does_not_stall_another(
    live: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """A noisy account fills the queue with 30 s generations; another account's quick one still
    ends within the bound, since one account runs at most its cap of the worker's slots."""
    noisy = await make_tenant(database, credits=100_000, name="Noisy")
    quiet = await make_tenant(database, name="Quiet")
    slow = {**IMAGE, "model": "rivya-image-slow"}
    backlog = [
        (await live.post("/generations", json=slow, headers=noisy.headers)).json()["id"]
        for _ in range(3 * settings.worker_concurrency)
    ]

    async def noisy_running() -> bool:
        listed = await live.get("/generations?limit=100", headers=noisy.headers)
        running = [t for t in listed.json()["data"] if t["status"] == "running"]
        cap = settings.generation_max_running_per_account or settings.worker_concurrency
        return len(running) == min(cap, settings.worker_concurrency)

    await eventually(noisy_running)
    started = time.monotonic()
    done = await live.post(
        "/generations", json=IMAGE, headers={**quiet.headers, "Prefer": "wait=10"}
    )
    assert done.json()["status"] == "succeeded", done.text
    assert time.monotonic() - started < BOUND_S
    for task_id in backlog:
        await live.post(f"/generations/{task_id}/cancel", headers=noisy.headers)
