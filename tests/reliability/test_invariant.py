"""The reliability run's money check finds what it looks for, so that its passes mean something:
a wallet off its ledger, a hold left pending by an ended or unfinished task, a chat hold that no
kill explains, a capture above its hold, a charge to the attacker. On SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya.billing import holds
from rivya.store.db import Database
from rivya.store.tables import holds as holds_table
from rivya.store.tables import tasks, wallets
from tests.conftest import make_tenant
from tests.reliability.run import ATTACKER_GRANT, Account, Figures, Proc, Run, invariant


async def a_run(database: Database) -> Run:
    """A finished run's state: an attacker and a victim, and a server killed at no time."""
    attacker = await make_tenant(database, credits=ATTACKER_GRANT, name="attacker")
    victim = await make_tenant(database, credits=1000, name="victim")
    run = Run(Figures("test"), 0, random.Random(0), argparse.Namespace())
    run.accounts = [
        Account("attacker", attacker.account_id, attacker.secret, "attacker"),
        Account("victim", victim.account_id, victim.secret, "normal"),
    ]
    run.server = Proc("server", [], {}, Path())
    return run


async def task(conn: AsyncConnection, run: Run, status: str, *, charge: int | None = None) -> None:
    """A task of the victim's with a hold of 10, captured for `charge` when given."""
    account = run.of("normal")[0].id
    hold = await holds.reserve(conn, account, 10, kind=holds.GENERATION, reference=f"task_{status}")
    await conn.execute(
        tasks.insert().values(
            id=f"task_{status}", account_id=account, model="rivya-image-dev", kind="image",
            status=status, input={}, hold_id=hold.id, price=10, created_at=0,
        )
    )  # fmt: skip
    if charge is not None:
        await holds.capture(conn, hold.id, charge)


def failed(run: Run) -> list[str]:
    return [name for name, ok, _ in run.figures.checks if not ok]


async def test_settled_work_passes(database: Database) -> None:
    run = await a_run(database)
    async with database.write() as conn:
        await task(conn, run, "succeeded", charge=8)
        turn = await holds.reserve(
            conn, run.of("normal")[0].id, 5, kind=holds.CHAT, reference="chatcmpl-done"
        )
        await holds.capture(conn, turn.id, 3)
    await invariant(run, database)
    assert failed(run) == []
    assert len(run.figures.checks) >= 9


async def off_ledger(conn: AsyncConnection, run: Run) -> None:
    account = run.of("normal")[0].id
    await conn.execute(
        update(wallets).where(wallets.c.account_id == account).values(balance=wallets.c.balance + 1)
    )


async def ended_with_a_pending_hold(conn: AsyncConnection, run: Run) -> None:
    await task(conn, run, "succeeded")


async def unfinished(conn: AsyncConnection, run: Run) -> None:
    await task(conn, run, "queued")


async def chat_hold_nobody_killed(conn: AsyncConnection, run: Run) -> None:
    await holds.reserve(conn, run.of("normal")[0].id, 5, kind=holds.CHAT, reference="chatcmpl-lost")


async def chat_hold_left_settled_by_the_client(conn: AsyncConnection, run: Run) -> None:
    await holds.reserve(conn, run.of("normal")[0].id, 5, kind=holds.CHAT, reference="chatcmpl-cut")
    assert run.server is not None
    # A kill 30 s after the turn began, but 20 s after the client had cut it.
    run.server.kill_times.append(time.time() + 30)
    run.left_turns["chatcmpl-cut"] = (time.time() + 10, "cut")


async def capture_above_the_hold(conn: AsyncConnection, run: Run) -> None:
    await task(conn, run, "succeeded", charge=10)
    await conn.execute(update(holds_table).values(captured=11))


async def attacker_charged(conn: AsyncConnection, run: Run) -> None:
    hold = await holds.reserve(
        conn, run.of("attacker")[0].id, 2, kind=holds.CHAT, reference="chatcmpl-attack"
    )
    await holds.capture(conn, hold.id, 1)


@pytest.mark.parametrize(
    ("fault", "caught"),
    [
        (off_ledger, "wallet = ledger sums"),
        (ended_with_a_pending_hold, "no ended task with a pending hold"),
        (unfinished, "every task finished after the restarts"),
        (chat_hold_nobody_killed, "pending chat holds only from turns cut by a SIGKILL"),
        (chat_hold_left_settled_by_the_client, "pending chat holds only from turns cut by a"),
        (capture_above_the_hold, "captures ≤ holds"),
        (attacker_charged, "the attacks moved no money"),
    ],
)
async def test_each_fault_is_caught(
    database: Database,
    fault: Callable[[AsyncConnection, Run], Awaitable[None]],
    caught: str,
) -> None:
    run = await a_run(database)
    async with database.write() as conn:
        await fault(conn, run)
    await invariant(run, database)
    assert any(name.startswith(caught) for name in failed(run)), run.figures.checks


async def test_a_turn_killed_in_flight_is_explained(database: Database) -> None:
    run = await a_run(database)
    async with database.write() as conn:
        await holds.reserve(
            conn, run.of("normal")[0].id, 5, kind=holds.CHAT, reference="chatcmpl-killed"
        )
    assert run.server is not None
    run.server.kill_times.append(time.time() + 1)
    await invariant(run, database)
    assert failed(run) == []
