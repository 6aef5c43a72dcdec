"""The queue: jobs are rows; workers claim them with a lease that heartbeats keep alive.

Claiming takes queued jobs that are due, and running jobs whose lease has expired (their worker
died). On PostgreSQL the claim locks rows with FOR UPDATE SKIP LOCKED, so concurrent workers take
different jobs without waiting on each other; on SQLite a claim runs in a BEGIN IMMEDIATE
transaction, which serialises claims. Each claim counts an attempt. Execution is at-least-once;
whoever acts on a job's result must do so idempotently (a compare-and-set on the domain row).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.store.tables import jobs

QUEUED, RUNNING, DONE = "queued", "running", "done"


def now_ms() -> int:
    """Wall-clock milliseconds (leases are compared across machines)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Job:
    """A claimed job."""

    id: int
    kind: str
    ref: str
    attempts: int
    max_attempts: int

    @property
    def exhausted(self) -> bool:
        """Whether this claim went past the allowed number of attempts."""
        return self.attempts > self.max_attempts


async def enqueue(
    conn: AsyncConnection, kind: str, ref: str, *, max_attempts: int = 3, delay_ms: int = 0
) -> None:
    """Add a job in the caller's transaction."""
    await conn.execute(
        jobs.insert().values(
            kind=kind,
            ref=ref,
            status=QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            run_at=now_ms() + delay_ms,
            created_at=clock.now(),
        )
    )


async def claim(
    conn: AsyncConnection, owner: str, *, limit: int, lease_ms: int, postgres: bool
) -> list[Job]:
    """Lease up to `limit` due jobs to `owner`."""
    at = now_ms()
    due = (jobs.c.status == QUEUED) & (jobs.c.run_at <= at)
    abandoned = (jobs.c.status == RUNNING) & (jobs.c.lease_expires_at < at)
    query = select(jobs.c.id).where(due | abandoned).order_by(jobs.c.run_at).limit(limit)
    if postgres:
        query = query.with_for_update(skip_locked=True)
    ids = list((await conn.execute(query)).scalars())
    if not ids:
        return []
    await conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(ids))
        .values(
            status=RUNNING,
            attempts=jobs.c.attempts + 1,
            lease_owner=owner,
            lease_expires_at=at + lease_ms,
        )
    )
    rows = await conn.execute(
        select(jobs.c.id, jobs.c.kind, jobs.c.ref, jobs.c.attempts, jobs.c.max_attempts).where(
            jobs.c.id.in_(ids)
        )
    )
    return [Job(r.id, r.kind, r.ref, r.attempts, r.max_attempts) for r in rows]


async def heartbeat(conn: AsyncConnection, job_id: int, owner: str, *, lease_ms: int) -> bool:
    """Extend the lease; False when the lease was lost (another worker took the job)."""
    result = await conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == RUNNING)
        .values(lease_expires_at=now_ms() + lease_ms)
    )
    return result.rowcount == 1


async def finish(conn: AsyncConnection, job_id: int, owner: str | None = None) -> bool:
    """Mark the job done (in the transaction that records its outcome). With `owner`, only if
    that worker still holds the lease."""
    condition = jobs.c.id == job_id
    if owner is not None:
        condition &= (jobs.c.lease_owner == owner) & (jobs.c.status == RUNNING)
    result = await conn.execute(
        update(jobs).where(condition).values(status=DONE, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount == 1


async def finish_ref(conn: AsyncConnection, kind: str, ref: str) -> None:
    """Mark the job of a domain object done, whoever holds it (a cancel of a queued task)."""
    await conn.execute(
        update(jobs)
        .where(jobs.c.kind == kind, jobs.c.ref == ref)
        .values(status=DONE, lease_owner=None, lease_expires_at=None)
    )


async def hand_back(conn: AsyncConnection, job_id: int, owner: str, error: str | None) -> None:
    """Return a job that this worker cannot finish (shutting down): queued again at once, and the
    attempt it used is given back."""
    await conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == RUNNING)
        .values(
            status=QUEUED,
            attempts=jobs.c.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            run_at=now_ms(),
            last_error=error,
        )
    )


async def reschedule(
    conn: AsyncConnection, job_id: int, owner: str, delay_ms: int, error: str | None
) -> bool:
    """Put a running job of this worker back in the queue, due in `delay_ms` (a retry on the
    domain's own schedule, such as a webhook's). The claim's attempt is given back, as the domain
    row counts the tries itself: a job's attempts then count only claims that ended without an
    outcome (a worker that died), which is what max_attempts bounds. False when the lease was
    lost (another worker has the job)."""
    result = await conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == RUNNING)
        .values(
            status=QUEUED,
            attempts=jobs.c.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            run_at=now_ms() + delay_ms,
            last_error=error,
        )
    )
    return result.rowcount == 1
