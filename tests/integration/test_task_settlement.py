"""A task ends exactly once, whoever tries to end it: concurrent finishes (a worker's success,
a user's cancel, a retried worker's failure) leave one status, one settlement and one event."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from rivya.billing.wallet import get_balance, ledger_totals
from rivya.catalog.catalog import Catalog
from rivya.errors import Conflict
from rivya.generation import tasks
from rivya.settings import BUILTIN_CATALOG
from rivya.store.db import Database
from rivya.store.tables import events, ledger_entries
from tests.conftest import eventually, make_tenant


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


async def _running_task(database: Database) -> tuple[tasks.Task, str]:
    tenant = await make_tenant(database, credits=100)
    async with database.write() as conn:
        catalog = Catalog.load(BUILTIN_CATALOG)
        task = await tasks.submit(
            conn, catalog, tenant.account_id, "rivya-image-dev", {"prompt": "x"}
        )
        await tasks.start(conn, task.id)
    return task, tenant.account_id


async def _waits_on_a_row_lock(database: Database, statement: str) -> bool:
    """Whether a session is blocked on a row lock in a statement that contains `statement`."""
    async with database.read() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE :q"
            ),
            {"q": f"%{statement}%"},
        )
        return bool(waiting.scalar_one())


async def test_a_cancel_that_arrives_while_completion_commits_is_a_conflict(
    database: Database,
) -> None:
    """The cancel reads the task as running, then the worker's success commits before the cancel
    writes its flag: the cancel must not answer for a task that succeeded."""
    task, account_id = await _running_task(database)

    async def cancel() -> tasks.Task:
        async with database.write() as conn:
            return await tasks.request_cancel(conn, account_id, task.id)

    async with database.write() as conn:
        assert await tasks.finish(conn, task.id, tasks.SUCCEEDED)
        canceling = asyncio.create_task(cancel())
        if not database.is_sqlite:
            # The cancel has read "running" and now waits for this transaction's row lock.
            await eventually(lambda: _waits_on_a_row_lock(database, "cancel_requested_at"))
        # (On SQLite writers are serial: the cancel waits to begin until this commits.)
    with pytest.raises(Conflict) as caught:
        await canceling
    assert caught.value.code == "generation_finished"
    assert "already succeeded" in str(caught.value)
    async with database.read() as conn:
        ended = await tasks.get_task(conn, None, task.id)
        wallet = await get_balance(conn, account_id)
    assert ended.status == tasks.SUCCEEDED and ended.cancel_requested_at is None
    assert (wallet.balance, wallet.reserved) == (96, 0)
