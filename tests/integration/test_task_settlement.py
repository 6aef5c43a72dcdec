"""A task ends exactly once, whoever tries to end it: concurrent finishes (a worker's success,
a user's cancel, a retried worker's failure) leave one status, one settlement and one event."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from rivya.billing.wallet import get_balance, ledger_totals
from rivya.catalog.catalog import Catalog
from rivya.generation import tasks
from rivya.settings import BUILTIN_CATALOG
from rivya.store.db import Database
from rivya.store.tables import events, ledger_entries
from tests.conftest import make_tenant


async def test_racing_finishes_settle_once(database: Database) -> None:
    tenant = await make_tenant(database, credits=100)
    catalog = Catalog.load(BUILTIN_CATALOG)
    async with database.write() as conn:
        task = await tasks.submit(
            conn, catalog, tenant.account_id, "rivya-image-dev", {"prompt": "x"}
        )

    endings = [tasks.SUCCEEDED, tasks.CANCELED, tasks.FAILED] * 7

    async def end(status: str) -> bool:
        async with database.write() as conn:
            return await tasks.finish(conn, task.id, status, error=("e", "e"))

    results = await asyncio.gather(*(end(status) for status in endings))
    assert results.count(True) == 1
    winner = endings[results.index(True)]

    async with database.read() as conn:
        ended = await tasks.get_task(conn, None, task.id)
        settlements = (
            (
                await conn.execute(
                    select(ledger_entries.c.kind).where(
                        ledger_entries.c.hold_id == task.hold_id, ledger_entries.c.kind != "reserve"
                    )
                )
            )
            .scalars()
            .all()
        )
        event_count = (
            await conn.execute(
                select(func.count()).select_from(events).where(events.c.subject_id == task.id)
            )
        ).scalar_one()
        wallet = await get_balance(conn, tenant.account_id)
        assert await ledger_totals(conn, tenant.account_id) == wallet
    assert ended.status == winner
    assert settlements == (["capture"] if winner == tasks.SUCCEEDED else ["release"])
    assert event_count == 1
    assert wallet.reserved == 0
    assert wallet.balance == (96 if winner == tasks.SUCCEEDED else 100)
