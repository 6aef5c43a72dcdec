"""GET /credits: the caller's own wallet, never another account's."""

from __future__ import annotations

import httpx

from rivya.billing import holds
from rivya.store.db import Database
from rivya_models.models import Credits
from tests.conftest import Tenant, make_tenant


async def test_shows_balance_reserved_and_available(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    async with database.write() as conn:
        await holds.reserve(conn, tenant.account_id, 300, kind=holds.GENERATION)
    response = await client.get("/credits", headers=tenant.headers)
    assert response.status_code == 200
    wallet = Credits.model_validate(response.json())
    assert (wallet.balance, wallet.reserved, wallet.available) == (1000, 300, 700)


async def test_each_key_sees_its_own_account(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    other = await make_tenant(database, credits=5, name="Other")
    assert (await client.get("/credits", headers=other.headers)).json()["balance"] == 5
    assert (await client.get("/credits", headers=tenant.headers)).json()["balance"] == 1000
