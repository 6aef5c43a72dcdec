"""Every way a key can fail gets its own 401 code, as a problem document with the request id."""

from __future__ import annotations

import httpx
import pytest

from rivya.auth import api_keys, security
from rivya.auth.keys import hash_secret, new_secret
from rivya.runtime import Runtime
from rivya.store.db import Database
from tests.conftest import FrozenClock, Tenant, eventually


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert {"type", "title", "detail"} <= body.keys()
    return body


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_api_key"),
        ("Basic dXNlcjpwYXNz", "missing_api_key"),
        ("Bearer", "malformed_api_key"),
        ("Bearer not-a-key", "malformed_api_key"),
        ("Bearer rvya_sk_short", "malformed_api_key"),
        ("Bearer rvya_sk_" + "A" * 38, "invalid_api_key_checksum"),
    ],
)
async def test_unusable_credentials(
    client: httpx.AsyncClient, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/credits", headers=headers)
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/credits", headers={"Authorization": f"Bearer {new_secret()}"})
    assert_problem(response, 401, "invalid_api_key")


async def test_revocation_reaches_a_server_that_cached_the_key(
    client: httpx.AsyncClient, database_url: str, database: Database, tenant: Tenant
) -> None:
    """Revoked by another process (as `rivya keys revoke` does): every later request fails once
    the server's next epoch poll has run."""
    assert (await client.get("/credits", headers=tenant.headers)).status_code == 200
    other_process = Database(database_url, **database.engine_kwargs)
    async with other_process.write() as conn:
        await api_keys.revoke_key(conn, tenant.key_id)
    await other_process.dispose()

    async def refused() -> bool:
        return (await client.get("/credits", headers=tenant.headers)).status_code == 401

    await eventually(refused)
    assert_problem(await client.get("/credits", headers=tenant.headers), 401, "revoked_api_key")


async def test_known_keys_are_served_from_the_cache(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cached() -> bool:
        response = await client.get("/models", headers=tenant.headers)
        return (
            response.status_code == 200
            and runtime.key_cache.get(hash_secret(tenant.secret)) is not None
        )

    await eventually(cached)

    async def no_database(*_: object) -> None:
        raise AssertionError("looked up in the database")

    monkeypatch.setattr(security, "authenticate", no_database)
    assert (await client.get("/models", headers=tenant.headers)).status_code == 200


async def test_rotated_secret_works_through_the_grace_period(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, frozen_clock: FrozenClock
) -> None:
    async with database.write() as conn:
        rotated = await api_keys.rotate_key(conn, tenant.key_id, grace=120)
    new_headers = {"Authorization": f"Bearer {rotated.secret}"}
    assert (await client.get("/credits", headers=tenant.headers)).status_code == 200
    assert (await client.get("/credits", headers=new_headers)).status_code == 200
    frozen_clock.advance(120)
    # Exactly at the end of the grace period, cached or not.
    assert_problem(await client.get("/credits", headers=tenant.headers), 401, "expired_api_key")
    assert (await client.get("/credits", headers=new_headers)).status_code == 200


async def test_a_request_records_the_keys_last_use(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, frozen_clock: FrozenClock
) -> None:
    await client.get("/models", headers=tenant.headers)
    async with database.read() as conn:
        assert (await api_keys.get_key(conn, tenant.key_id)).last_used_at == frozen_clock.now


async def test_the_spec_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.0")
