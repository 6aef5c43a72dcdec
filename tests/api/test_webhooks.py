"""Webhooks through the API: subscribe, receive a signed `generation.succeeded` when a task ends,
see the delivery in the event log, manage and rotate endpoints, SSRF refusals, isolation between
accounts. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, eventually, make_tenant, write_catalog
from tests.integration.test_webhook_client import Receiver

EVENTS = ["generation.succeeded", "generation.failed", "generation.canceled"]


@pytest.fixture(scope="module")
def serving() -> Iterator[Receiver]:
    with Receiver() as up:
        yield up


@pytest.fixture
def receiver(serving: Receiver) -> Receiver:
    serving.reset()
    return serving


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        catalog=write_catalog(tmp_path),
        auth_cache_poll=0.05,
        worker_drain_seconds=0.2,
        webhook_allow_hosts="127.0.0.1",
        webhook_retry_schedule=(0.1, 0.1),
        webhook_timeout_seconds=2,
    )


async def subscribe(http: httpx.AsyncClient, tenant: Tenant, url: str) -> dict[str, object]:
    response = await http.post(
        "/webhooks", json={"url": url, "events": EVENTS}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_a_finished_generation_is_delivered_signed(
    live: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(live, tenant, receiver.url)
    assert str(endpoint["id"]).startswith("whep_")
    secret = str(endpoint["secret"])
    assert secret.startswith("whsec_")
    listed = (await live.get("/webhooks", headers=tenant.headers)).json()
    assert secret not in json.dumps(listed) and "secret" not in listed["data"][0]

    task = await live.post(
        "/generations",
        json={"model": "rivya-image-dev", "input": {"prompt": "fox", "width": 64, "height": 64}},
        headers={**tenant.headers, "Prefer": "wait=30"},
    )
    assert task.json()["status"] == "succeeded"

    async def arrived() -> bool:
        return len(receiver.received) == 1

    await eventually(arrived, deadline_s=10)
    request = receiver.received[0]
    payload = Webhook(secret).verify(request.body, dict(request.headers))
    assert payload["type"] == "generation.succeeded"
    assert payload["data"] == task.json() | {"finished_at": payload["data"]["finished_at"]}

    async def logged() -> bool:
        events = (await live.get("/webhook-events", headers=tenant.headers)).json()["data"]
        return bool(events and events[0]["deliveries"][0]["status"] == "delivered")

    await eventually(logged, deadline_s=10)
    event = (await live.get("/webhook-events", headers=tenant.headers)).json()["data"][0]
    attempt = event["deliveries"][0]["attempts"][0]
    assert attempt["status_code"] == 204 and attempt["error"] is None
    assert event["deliveries"][0]["id"] == request.headers["webhook-id"]

    resent = await live.post(f"/webhook-events/{event['id']}/resend", headers=tenant.headers)
    assert resent.status_code == 200 and len(resent.json()["deliveries"]) == 2

    async def twice() -> bool:
        return len(receiver.received) == 2

    await eventually(twice, deadline_s=10)


async def test_manage_and_rotate(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    path = f"/webhooks/{endpoint['id']}"
    changed = await client.patch(
        path, json={"events": ["generation.failed"], "enabled": False}, headers=tenant.headers
    )
    assert changed.json()["events"] == ["generation.failed"] and changed.json()["enabled"] is False
    rotated = await client.post(
        f"{path}/rotate-secret", json={"grace_seconds": 60}, headers=tenant.headers
    )
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    deleted = await client.delete(path, headers=tenant.headers)
    assert deleted.json() == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    assert_problem(await client.get(path, headers=tenant.headers), 404, "not_found")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",
        "https://127.0.0.2/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://2130706433/hooks",
        "https://user:pw@example.com/hooks",
    ],
)
async def test_internal_addresses_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    response = await client.post(
        "/webhooks", json={"url": url, "events": EVENTS}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    assert str(response.json()["code"]).startswith("webhook_url")
    assert (await client.get("/webhooks", headers=tenant.headers)).json()["data"] == []


async def test_another_account_cannot_touch_an_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    other = await make_tenant(database, name="Other")
    path = f"/webhooks/{endpoint['id']}"
    for response in (
        await client.get(path, headers=other.headers),
        await client.patch(path, json={"enabled": False}, headers=other.headers),
        await client.delete(path, headers=other.headers),
        await client.post(f"{path}/rotate-secret", headers=other.headers),
    ):
        assert_problem(response, 404, "not_found")
    assert (await client.get("/webhooks", headers=other.headers)).json()["data"] == []
    assert (await client.get(path, headers=tenant.headers)).json()["enabled"] is True


async def test_an_account_has_at_most_twenty_endpoints(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    """The default limit, as the contract states it: one more is a 409 that changes nothing;
    deleting one makes room."""
    made = [await subscribe(client, tenant, f"{receiver.url}/{n}") for n in range(20)]
    refused = await client.post(
        "/webhooks", json={"url": receiver.url, "events": EVENTS}, headers=tenant.headers
    )
    body = assert_problem(refused, 409, "webhook_endpoint_limit_reached")
    assert "20" in str(body["detail"])
    listed = (await client.get("/webhooks?limit=100", headers=tenant.headers)).json()["data"]
    assert len(listed) == 20
    await client.delete(f"/webhooks/{made[0]['id']}", headers=tenant.headers)
    await subscribe(client, tenant, receiver.url)
