"""The worker: claims due jobs, runs many at once on asyncio, keeps their leases alive, and on
shutdown finishes what it can and hands the rest back.

Jobs run in lanes, each with its own slots, claimed apart: webhook deliveries that wait on slow
receivers fill the delivery lane only, and generations are still claimed the moment they come.
A lane may also cap the jobs of one group (an account) running at once, across workers.

`rivya serve` runs one in-process (the embedded default); `rivya worker` runs one on its own
against the same database, as many as wanted on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rivya import idempotency
from rivya.ids import random_base62
from rivya.jobs import queue
from rivya.jobs.queue import Job

if TYPE_CHECKING:
    from rivya.runtime import Runtime

log = logging.getLogger(__name__)
MAINTENANCE_EVERY_S = 600.0


@dataclass
class Lease:
    """A worker's claim on one job."""

    runtime: Runtime
    job: Job
    owner: str
    lease_ms: int

    async def renew(self) -> bool:
        """Extend the claim; False when another worker has taken the job over."""
        async with self.runtime.db.write() as conn:
            return await queue.heartbeat(conn, self.job.id, self.owner, lease_ms=self.lease_ms)

    @property
    def heartbeat_s(self) -> float:
        """How often to renew: three times per lease."""
        return self.lease_ms / 3000


Handler = Callable[[Lease], Awaitable[None]]


@dataclass(frozen=True)
class Lane:
    """Jobs of some kinds, run by their handlers, at most `slots` at once in a worker; with
    `per_group`, at most that many of one group (an account) at once across all workers."""

    name: str
    handlers: Mapping[str, Handler]
    slots: int
    per_group: int | None = None

    def describe(self) -> str:
        """The lane's budget, for the log."""
        cap = f", {self.per_group} per group" if self.per_group is not None else ""
        return f"{self.name} {self.slots}{cap}"


class Worker:
    """Runs jobs of the kinds its lanes have handlers for."""

    def __init__(
        self,
        runtime: Runtime,
        lanes: Sequence[Lane],
        *,
        lease_s: float,
        poll_s: float = 0.5,
        drain_s: float = 10.0,
    ) -> None:
        kinds = [kind for lane in lanes for kind in lane.handlers]
        if len(kinds) != len(set(kinds)) or len({lane.name for lane in lanes}) != len(lanes):
            raise ValueError("lanes need names of their own, and a job kind belongs to one lane")
        self.runtime = runtime
        self.lanes = lanes
        self.lease_ms = int(lease_s * 1000)
        self.poll_s = poll_s
        self.drain_s = drain_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{random_base62(6)}"
        self._running: dict[asyncio.Task[None], Lease] = {}
        self._busy: dict[str, set[asyncio.Task[None]]] = {lane.name: set() for lane in lanes}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain."""
        lanes = "; ".join(lane.describe() for lane in self.lanes)
        log.info("worker %s started (lanes: %s)", self.owner, lanes)
        wake = self.runtime.jobs_added
        loop = asyncio.get_running_loop()
        next_maintenance = loop.time()
        while not stop.is_set():
            if loop.time() >= next_maintenance:
                await self._maintain()
                next_maintenance = loop.time() + MAINTENANCE_EVERY_S
            # Cleared before claiming: a job added while the lanes claim wakes the next wait.
            wake.clear()
            filled = False
            for lane in self.lanes:
                busy = self._busy[lane.name]
                free = lane.slots - len(busy)
                claimed = await self._claim(lane, free) if free > 0 else []
                for job in claimed:
                    lease = Lease(self.runtime, job, self.owner, self.lease_ms)
                    task = asyncio.create_task(self._execute(lane, lease), name=f"job-{job.id}")
                    self._running[task] = lease
                    busy.add(task)
                filled |= bool(claimed) and len(claimed) == free
            if filled:
                await asyncio.sleep(0)
                continue
            waiters: set[asyncio.Future[object]] = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(wake.wait()),
            }
            await asyncio.wait(
                waiters | set(self._running), timeout=self.poll_s, return_when="FIRST_COMPLETED"
            )
            for waiter in waiters:
                waiter.cancel()
        await self._drain()
        log.info("worker %s stopped", self.owner)

    async def _claim(self, lane: Lane, limit: int) -> list[Job]:
        try:
            async with self.runtime.db.write() as conn:
                return await queue.claim(
                    conn,
                    self.owner,
                    kinds=list(lane.handlers),
                    limit=limit,
                    lease_ms=self.lease_ms,
                    postgres=not self.runtime.db.is_sqlite,
                    per_group=lane.per_group,
                )
        except Exception:
            log.exception("claiming %s jobs failed; retrying", lane.name)
            return []

    async def _execute(self, lane: Lane, lease: Lease) -> None:
        try:
            await lane.handlers[lease.job.kind](lease)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The job stays leased; when the lease runs out another attempt is made, and the
            # handler ends the task once attempts are exhausted.
            log.exception("job %s (%s %s) failed", lease.job.id, lease.job.kind, lease.job.ref)
        finally:
            task = asyncio.current_task()
            self._running.pop(task, None)  # type: ignore[arg-type]
            self._busy[lane.name].discard(task)

    async def _drain(self) -> None:
        if not self._running:
            return
        log.info("waiting up to %.0f s for %d running jobs", self.drain_s, len(self._running))
        leases = dict(self._running)
        _, pending = await asyncio.wait(set(leases), timeout=self.drain_s)
        for task in pending:
            lease = leases[task]
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            async with self.runtime.db.write() as conn:
                await queue.hand_back(conn, lease.job.id, self.owner, "worker shut down")
            log.info("handed back job %s", lease.job.id)

    async def _maintain(self) -> None:
        from rivya.chat.turns import release_abandoned

        try:
            async with self.runtime.db.write() as conn:
                purged = await idempotency.purge_expired(conn)
            if purged:
                log.info("purged %d expired idempotency keys", purged)
            released = await release_abandoned(self.runtime)
            if released:
                log.warning("released %d reservations of chat turns that never settled", released)
        except Exception:
            log.exception("maintenance failed")
