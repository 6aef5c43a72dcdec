"""Request rate limits per account: OpenAI's headers on every answer, a 429 with Retry-After over
the limit, accounts counted apart, and one count shared by all servers through Redis (when
RIVYA_TEST_REDIS_URL is set, as .ci/run does)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from rivya.runtime import Runtime
from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, make_tenant, serving, write_catalog

REDIS_URL = os.environ.get("RIVYA_TEST_REDIS_URL")


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
