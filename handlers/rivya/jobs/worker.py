"""The worker: claims due jobs, runs many at once on asyncio, keeps their leases alive, and on
shutdown finishes what it can and hands the rest back.

`rivya serve` runs one in-process (the embedded default); `rivya worker` runs one on its own
against the same database, as many as wanted on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
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


class Worker:
    """Runs jobs of the kinds it has handlers for."""

    def __init__(
        self,
        runtime: Runtime,
        handlers: dict[str, Handler],
        *,
        concurrency: int,
        lease_s: float,
        poll_s: float = 0.5,
        drain_s: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.handlers = handlers
        self.concurrency = concurrency
        self.lease_ms = int(lease_s * 1000)
        self.poll_s = poll_s
        self.drain_s = drain_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{random_base62(6)}"
        self._running: dict[asyncio.Task[None], Lease] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain."""
        log.info("worker %s started (concurrency %d)", self.owner, self.concurrency)
        wake = self.runtime.jobs_added
        loop = asyncio.get_running_loop()
        next_maintenance = loop.time()
        while not stop.is_set():
            if loop.time() >= next_maintenance:
                await self._maintain()
                next_maintenance = loop.time() + MAINTENANCE_EVERY_S
            free = self.concurrency - len(self._running)
            claimed = await self._claim(free) if free > 0 else []
            for job in claimed:
                lease = Lease(self.runtime, job, self.owner, self.lease_ms)
                task = asyncio.create_task(self._execute(lease), name=f"job-{job.id}")
                self._running[task] = lease
            if claimed and len(claimed) == free:
                await asyncio.sleep(0)
                continue
            wake.clear()
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

    async def _claim(self, limit: int) -> list[Job]:
        try:
            async with self.runtime.db.write() as conn:
                return await queue.claim(
                    conn,
                    self.owner,
                    limit=limit,
                    lease_ms=self.lease_ms,
                    postgres=not self.runtime.db.is_sqlite,
                )
        except Exception:
            log.exception("claiming jobs failed; retrying")
            return []

    async def _execute(self, lease: Lease) -> None:
        handler = self.handlers.get(lease.job.kind)
        try:
            if handler is None:
                log.error(
                    "no handler for job kind %s; dropping job %s", lease.job.kind, lease.job.id
                )
                async with self.runtime.db.write() as conn:
                    await queue.finish(conn, lease.job.id)
                return
            await handler(lease)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The job stays leased; when the lease runs out another attempt is made, and the
            # handler ends the task once attempts are exhausted.
            log.exception("job %s (%s %s) failed", lease.job.id, lease.job.kind, lease.job.ref)
        finally:
            self._running.pop(asyncio.current_task(), None)  # type: ignore[arg-type]

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
