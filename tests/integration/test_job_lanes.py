"""Lanes and fair shares of the queue, on SQLite and PostgreSQL: a claim takes only its lane's
kinds; a lane with a cap per group never has more of a group's jobs running than the cap, across
workers, and takes groups in turn, so that a group's backlog does not hold the others back."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select, update

from rivya.jobs import queue
from rivya.jobs.worker import Lane, Lease, Worker
from rivya.runtime import Runtime
from rivya.settings import Settings
from rivya.store.db import Database
from rivya.store.tables import jobs
from tests.conftest import eventually

LEASE_MS = 30_000


async def add(db: Database, kind: str, refs: Sequence[str], group: str | None = None) -> None:
    """Jobs due in the order given (one millisecond apart)."""
    async with db.write() as conn:
        for n, ref in enumerate(refs):
            await queue.enqueue(conn, kind, ref, group=group)
            await conn.execute(
                update(jobs).where(jobs.c.ref == ref).values(run_at=queue.now_ms() - 1000 + n)
            )


async def claim(
    db: Database, kinds: Sequence[str], limit: int, per_group: int | None = None
) -> list[str]:
    async with db.write() as conn:
        found = await queue.claim(
            conn,
            "worker-1",
            kinds=kinds,
            limit=limit,
            lease_ms=LEASE_MS,
            postgres=not db.is_sqlite,
            per_group=per_group,
        )
    return [job.ref for job in found]


async def test_a_claim_takes_only_its_lanes_kinds(database: Database) -> None:
    await add(database, "webhook", [f"w{n}" for n in range(5)], group="acct_a")
    await add(database, "generation", ["g0"])
    assert await claim(database, ["generation"], limit=8) == ["g0"]
    assert await claim(database, ["generation"], limit=8) == []
    assert len(await claim(database, ["webhook"], limit=8)) == 5


async def test_a_group_at_its_cap_waits_and_the_others_go_first(database: Database) -> None:
    """Group a has ten old jobs, b and c one newer job each: with a cap of 3 and room for 4,
    every group's first job comes before any group's second, and a stays at 3."""
    await add(database, "webhook", [f"a{n}" for n in range(10)], group="acct_a")
    await add(database, "webhook", ["b0"], group="acct_b")
    await add(database, "webhook", ["c0"], group="acct_c")
    first = await claim(database, ["webhook"], limit=4, per_group=3)
    assert sorted(first) == ["a0", "a1", "b0", "c0"]
    assert await claim(database, ["webhook"], limit=4, per_group=3) == ["a2"]
    assert await claim(database, ["webhook"], limit=4, per_group=3) == []
    # One of a's ends: the next of a's goes.
    async with database.write() as conn:
        await queue.finish(conn, await conn.scalar(select(jobs.c.id).where(jobs.c.ref == "a0")))
    assert await claim(database, ["webhook"], limit=4, per_group=3) == ["a3"]


async def test_jobs_of_a_dead_worker_do_not_count_against_the_cap(database: Database) -> None:
    await add(database, "webhook", [f"a{n}" for n in range(4)], group="acct_a")
    assert await claim(database, ["webhook"], limit=8, per_group=2) == ["a0", "a1"]
    async with database.write() as conn:
        held = jobs.c.ref.in_(["a0", "a1"])
        await conn.execute(update(jobs).where(held).values(lease_expires_at=queue.now_ms() - 1))
    # Their leases ran out: they are taken over, and still no more than two run.
    assert sorted(await claim(database, ["webhook"], limit=8, per_group=2)) == ["a0", "a1"]
    assert await claim(database, ["webhook"], limit=8, per_group=2) == []


async def test_two_workers_keep_to_the_cap_together(database: Database, tmp_path: Path) -> None:
    """Two workers with eight slots each, thirty jobs of one account and a cap of three: never
    more than three run at once, and all of them run."""
    runtime = Runtime.build(Settings(data_dir=tmp_path), db=database)
    await add(database, "webhook", [f"a{n}" for n in range(30)], group="acct_a")
    running: Counter[str] = Counter()
    most = 0
    done: list[str] = []

    async def handle(lease: Lease) -> None:
        nonlocal most
        running["acct_a"] += 1
        most = max(most, running["acct_a"])
        await asyncio.sleep(0.05)  # a receiver taking its time
        running["acct_a"] -= 1
        async with database.write() as conn:
            await queue.finish(conn, lease.job.id, lease.owner)
        done.append(lease.job.ref)

    lane = Lane("webhooks", {"webhook": handle}, slots=8, per_group=3)
    workers = [Worker(runtime, [lane], lease_s=30, poll_s=0.01, drain_s=1) for _ in range(2)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:

        async def all_done() -> bool:
            return len(done) == 30

        await eventually(all_done, deadline_s=30)
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert sorted(done) == sorted(f"a{n}" for n in range(30))
    assert most == 3
