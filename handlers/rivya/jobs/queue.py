"""The queue: jobs are rows; workers claim them with a lease that heartbeats keep alive.

Claiming takes queued jobs that are due, and running jobs whose lease has expired (their worker
died), of the kinds of one lane (a worker claims for each lane apart, so a lane that is full
never keeps another from claiming). On PostgreSQL the claim locks rows with FOR UPDATE SKIP
LOCKED, so concurrent workers take different jobs without waiting on each other; on SQLite a
claim runs in a BEGIN IMMEDIATE transaction, which serialises claims. Each claim counts an
attempt. Execution is at-least-once; whoever acts on a job's result must do so idempotently (a
compare-and-set on the domain row).

A lane may cap the jobs of one group (`group_key`, such as an account) running at once, across
all workers: jobs of a group at its cap stay queued, and the claim takes the others in turn,
each group's oldest first (the group with the fewest running comes first), so that one busy
group neither takes every slot nor makes the others wait behind its backlog (GoodJob's
concurrency keys and Oban's partitioned limits do the same). On PostgreSQL the claims of a
capped lane take turns across workers (a transaction-level advisory lock), so each one counts
what the previous one leased; a group with no key counts as one group.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select, update
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
    conn: AsyncConnection,
    kind: str,
    ref: str,
    *,
    max_attempts: int = 3,
    delay_ms: int = 0,
    group: str | None = None,
) -> None:
    """Add a job in the caller's transaction; `group` says whose it is, for lanes with a cap
    per group."""
    await conn.execute(
        jobs.insert().values(
            kind=kind,
            ref=ref,
            group_key=group,
            status=QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            run_at=now_ms() + delay_ms,
            created_at=clock.now(),
        )
    )


async def claim(
    conn: AsyncConnection,
    owner: str,
    *,
    kinds: Sequence[str],
    limit: int,
    lease_ms: int,
    postgres: bool,
    per_group: int | None = None,
) -> list[Job]:
    """Lease up to `limit` due jobs of `kinds` to `owner`; with `per_group`, so that no group
    has more than that many running (leases that have not expired) once the claim commits."""
    at = now_ms()
    if per_group is None:
        query = _due(kinds, at).order_by(jobs.c.run_at).limit(limit)
    else:
        if postgres:
            # Claims of a capped lane take turns across workers, so each counts what the
            # previous one leased (a statement sees what committed before it began).
            await conn.execute(select(func.pg_advisory_xact_lock(_lane_lock(kinds))))
        chosen = await _fair_share(conn, kinds, at, per_group, limit)
        # Locked and checked again by id: jobs this claim did not see leased may have changed.
        query = select(jobs.c.id).where(jobs.c.id.in_(chosen), _takeable(at))
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


def _due(kinds: Sequence[str], at: int) -> Select[tuple[int]]:
    """Ids of the jobs of `kinds` a worker may take at `at`."""
    return select(jobs.c.id).where(jobs.c.kind.in_(kinds), _takeable(at))


def _takeable(at: int) -> ColumnElement[bool]:
    """A job a worker may take at `at`: queued and due, or abandoned (its lease ran out)."""
    due = (jobs.c.status == QUEUED) & (jobs.c.run_at <= at)
    abandoned = (jobs.c.status == RUNNING) & (jobs.c.lease_expires_at < at)
    return due | abandoned


async def _fair_share(
    conn: AsyncConnection, kinds: Sequence[str], at: int, per_group: int, limit: int
) -> list[int]:
    """Ids of up to `limit` due jobs of `kinds`, at most `per_group` running per group counting
    those already running, taken in turn: each group's n-th job (counting its running ones)
    after every group's (n-1)-th, oldest first among equals. Two plain queries, whose cost does
    not hang on the planner's statistics of a table that changes all the time."""
    counts = await conn.execute(
        select(jobs.c.group_key, func.count())
        .where(jobs.c.kind.in_(kinds), jobs.c.status == RUNNING, jobs.c.lease_expires_at >= at)
        .group_by(jobs.c.group_key)
    )
    running: dict[str | None, int] = {group: n for group, n in counts}
    place = func.row_number().over(
        partition_by=jobs.c.group_key, order_by=(jobs.c.run_at, jobs.c.id)
    )
    due = _due(kinds, at).add_columns(jobs.c.group_key, jobs.c.run_at, place.label("place"))
    full = [group for group, n in running.items() if group is not None and n >= per_group]
    if full:
        # Not even ranked: the backlog of a group at its cap can be most of the queue.
        due = due.where(jobs.c.group_key.is_(None) | jobs.c.group_key.not_in(full))
    ranked = due.subquery()
    heads = await conn.execute(select(ranked).where(ranked.c.place <= per_group))
    turns = sorted((row.place + running.get(row.group_key, 0), row.run_at, row.id) for row in heads)
    return [job_id for turn, _, job_id in turns if turn <= per_group][:limit]


def _lane_lock(kinds: Sequence[str]) -> int:
    """The PostgreSQL advisory lock of a lane's claims: a number of its kinds."""
    return zlib.crc32(",".join(sorted(kinds)).encode())


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
