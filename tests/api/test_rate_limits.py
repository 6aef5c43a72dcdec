"""Request rate limits per account: OpenAI's headers on every answer, a 429 with Retry-After over
the limit, accounts counted apart, and one count shared by all servers through Redis (when
RIVYA_TEST_REDIS_URL is set, as .ci/run does). Failed authentications per client address, and
requests that name two keys."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
import pytest

from rivya.app import create_app
from rivya.auth import security
from rivya.auth.api_keys import authenticate
from rivya.auth.keys import new_secret
from rivya.runtime import Runtime
from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, eventually, make_tenant, serving, write_catalog

REDIS_URL = os.environ.get("RIVYA_TEST_REDIS_URL")
BASE = "http://test/api/v1"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        catalog=write_catalog(tmp_path),
        auth_cache_poll=0.05,
        rate_limit="3/minute",
    )


async def test_the_limit_and_its_headers(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    remaining = []
    for _ in range(3):
        response = await client.get("/credits", headers=tenant.headers)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit-requests"] == "3"
        assert response.headers["x-ratelimit-reset-requests"].endswith("s")
        remaining.append(int(response.headers["x-ratelimit-remaining-requests"]))
    assert remaining == [2, 1, 0]

    refused = await client.get("/models", headers=tenant.headers)
    problem = assert_problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert "3/minute" in str(problem["detail"])

    other = await make_tenant(database, name="Other")
    assert (await client.get("/credits", headers=other.headers)).status_code == 200


async def test_unauthenticated_requests_are_not_counted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for _ in range(5):
        assert (await client.get("/credits")).status_code == 401
    assert (await client.get("/credits", headers=tenant.headers)).status_code == 200


@pytest.mark.skipif(not REDIS_URL, reason="Redis run: set RIVYA_TEST_REDIS_URL (.ci/run does)")
async def test_servers_share_one_count_through_redis(
    settings: Settings, database: Database, tenant: Tenant
) -> None:
    settings.rate_limit_storage = f"async+{REDIS_URL}"
    first, second = Runtime.build(settings, db=database), Runtime.build(settings, db=database)
    async with serving(first, worker=False) as one, serving(second, worker=False) as two:
        statuses = [
            (await server.get("/credits", headers=tenant.headers)).status_code
            for server in (one, two, one, two)
        ]
    assert statuses == [200, 200, 200, 429]


@pytest.fixture
def counted_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets looked up in the database, in order."""
    looked_up: list[str] = []

    async def counting(conn: object, secret: str) -> object:
        looked_up.append(secret)
        return await authenticate(conn, secret)  # type: ignore[arg-type]

    monkeypatch.setattr(security, "authenticate", counting)
    return looked_up


async def test_failed_authentications_are_limited_per_address_before_any_lookup(
    settings: Settings,
    database: Database,
    tenant: Tenant,
    counted_lookups: list[str],
) -> None:
    settings.rate_limit = ""
    settings.auth_failure_limit = "5/minute"
    runtime = Runtime.build(settings, db=database)
    async with serving(runtime, worker=False) as attacker:

        async def served_from_the_key_cache() -> bool:
            before = len(counted_lookups)
            assert (await attacker.get("/credits", headers=tenant.headers)).status_code == 200
            return len(counted_lookups) == before

        # The tenant's key is known to this server before the attack.
        await eventually(served_from_the_key_cache)
        counted_lookups.clear()
        unknown = [{"Authorization": f"Bearer {new_secret()}"} for _ in range(8)]
        statuses = [(await attacker.get("/credits", headers=h)).status_code for h in unknown]
        assert statuses == [401] * 5 + [429] * 3
        assert len(counted_lookups) == 5  # none for the refused ones

        refused = await attacker.get("/credits", headers=unknown[0])
        problem = assert_problem(refused, 429, "too_many_auth_failures")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "5/minute" in str(problem["detail"])
        # A key this server knows is still served to the same address, without a lookup.
        assert (await attacker.get("/credits", headers=tenant.headers)).status_code == 200
        assert len(counted_lookups) == 5

        transport = httpx.ASGITransport(app=create_app(runtime=runtime), client=("10.0.0.2", 40))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as elsewhere:
            other = await make_tenant(database, name="Elsewhere")
            assert (await elsewhere.get("/credits", headers=other.headers)).status_code == 200
            assert (await elsewhere.get("/credits", headers=unknown[0])).status_code == 401


async def test_two_authorization_headers_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = [("Authorization", tenant.headers["Authorization"])] * 2
    response = await client.get("/credits", headers=headers)
    assert_problem(response, 400, "duplicate_authorization_header")


@pytest.mark.skipif(not REDIS_URL, reason="Redis run: set RIVYA_TEST_REDIS_URL (.ci/run does)")
async def test_servers_share_the_failure_count_through_redis(
    settings: Settings, database: Database
) -> None:
    settings.rate_limit_storage = f"async+{REDIS_URL}"
    settings.auth_failure_limit = "2/minute"
    # Counts outlive the test in Redis: an address of this run only.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    statuses = []
    for _ in range(2):
        runtime = Runtime.build(settings, db=database)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime), client=(address, 40))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as server:
            for _ in range(2):
                bad = {"Authorization": f"Bearer {new_secret()}"}
                statuses.append((await server.get("/credits", headers=bad)).status_code)
    assert statuses == [401, 401, 429, 429]
