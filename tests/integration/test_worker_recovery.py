"""Workers that die or are stopped in the middle of a generation, on SQLite and PostgreSQL.

A killed worker's lease runs out and another worker takes the task over; a job that keeps
crashing is failed and refunded once its attempts are spent; a worker told to stop finishes or
hands back what it runs. Whatever happens, each task ends exactly once: one settlement of its
credit hold, one outbox event, and a wallet that matches its ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from sqlalchemy import Row, select, update

from rivya import clock
from rivya.billing.wallet import Balance, get_balance, ledger_totals
from rivya.catalog.catalog import Catalog
from rivya.files.storage import storage_from_settings
from rivya.generation import tasks
from rivya.generation.runner import GenerationRunner
from rivya.jobs.queue import now_ms
from rivya.jobs.worker import Lane, Worker
from rivya.runtime import Runtime
from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from rivya.store.migrate import upgrade
from rivya.store.tables import events, files, holds, jobs, ledger_entries
from tests.conftest import POSTGRES_URL, eventually, make_tenant

MODEL = "rivya-image-slow"
DELAY_S = 3  # the slow model waits this long before painting
LEASE_S = 1.5
DRAIN_S = 10.0  # Worker's default drain time, which `rivya worker` uses
CREDITS = 1000
START_S = 30.0  # deadline for a worker process to start and claim the task


@dataclass
class Stack:
    """A migrated database that subprocesses can reach, and the files a worker needs."""

    url: str
    db: Database
    catalog_path: Path
    data_dir: Path

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.url,
            catalog=self.catalog_path,
            lease_seconds=LEASE_S,
            storage_url=None,
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIVYA_")}
        env.update(
            RIVYA_DATABASE_URL=self.url,
            RIVYA_CATALOG=str(self.catalog_path),
            RIVYA_DATA_DIR=str(self.data_dir),
            RIVYA_LEASE_SECONDS=str(LEASE_S),
            RIVYA_LOG_LEVEL="INFO",
        )
        return env


def write_catalog(path: Path) -> Path:
    """The built-in image model under another id, with a provider that takes DELAY_S seconds."""
    builtin = yaml.safe_load(BUILTIN_CATALOG.read_text(encoding="utf-8"))
    model = next(m for m in builtin["models"] if m["id"] == "rivya-image-dev")
    model = {
        **model,
        "id": MODEL,
        "provider": {"type": "local-image", "options": {"delay_seconds": DELAY_S}},
    }
    path.write_text(yaml.safe_dump({"models": [model]}), encoding="utf-8")
    return path


async def admin_sql(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    assert POSTGRES_URL
    conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """A fresh migrated database of each kind (a file, or a database of its own on PostgreSQL,
    since another process cannot see the `database` fixture's private schema)."""
    catalog_path = write_catalog(tmp_path / "catalog.yaml")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'rivya.db'}"
        db = Database(url)
        try:
            await upgrade(db)
            yield Stack(url, db, catalog_path, data_dir)
        finally:
            await db.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set RIVYA_TEST_POSTGRES_URL (.ci/run does)")
    name = f"rivya_wrk_{os.getpid()}_{secrets.token_hex(4)}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        db = Database(url)
        try:
            await upgrade(db)
            yield Stack(url, db, catalog_path, data_dir)
        finally:
            await db.dispose()
    finally:
        await admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


# --- processes -------------------------------------------------------------------------------


class WorkerProcess:
    """`rivya worker` as a process, its output in a log file."""

    def __init__(self, stack: Stack, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rivya.cli", "worker", "--concurrency", "2"],
            env=stack.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def worker_process(stack: Stack, log_path: Path) -> Iterator[WorkerProcess]:
    """A worker process, killed on the way out whatever happened."""
    worker = WorkerProcess(stack, log_path)
    try:
        yield worker
    finally:
        worker.kill()


@contextlib.asynccontextmanager
async def worker_in_process(stack: Stack, *, drain_s: float = DRAIN_S) -> AsyncIterator[None]:
    """A worker on this event loop (its own runtime and engine), stopped on the way out."""
    runtime = Runtime.build(stack.settings())
    worker = Worker(
        runtime,
        [Lane("generations", {tasks.JOB_KIND: GenerationRunner(runtime)}, slots=2)],
        lease_s=LEASE_S,
        drain_s=drain_s,
    )
    stop = asyncio.Event()
    run = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(run, drain_s + 10)
        finally:
            await runtime.stop()


# --- reading the database --------------------------------------------------------------------


async def submit_task(stack: Stack, account_id: str) -> tasks.Task:
    catalog = Catalog.load(stack.catalog_path)
    async with stack.db.write() as conn:
        task = await tasks.submit(conn, catalog, account_id, MODEL, {"prompt": "a lighthouse"})
    assert task.status == "queued" and task.hold_id and task.price > 0
    return task


async def task_of(stack: Stack, task_id: str) -> tasks.Task:
    async with stack.db.read() as conn:
        return await tasks.get_task(conn, None, task_id)


async def job_of(stack: Stack, task_id: str) -> Row[Any]:
    async with stack.db.read() as conn:
        query = select(jobs).where(jobs.c.kind == tasks.JOB_KIND, jobs.c.ref == task_id)
        return (await conn.execute(query)).one()


async def settlements(stack: Stack, hold_id: str) -> list[str]:
    """The kinds of the ledger entries that settled the hold (capture or release)."""
    async with stack.db.read() as conn:
        rows = await conn.execute(
            select(ledger_entries.c.kind).where(
                ledger_entries.c.hold_id == hold_id,
                ledger_entries.c.kind.in_(("capture", "release")),
            )
        )
        return sorted(rows.scalars())


async def hold_status(stack: Stack, hold_id: str) -> str:
    async with stack.db.read() as conn:
        return str(await conn.scalar(select(holds.c.status).where(holds.c.id == hold_id)))


async def event_types(stack: Stack, task_id: str) -> list[str]:
    async with stack.db.read() as conn:
        rows = await conn.execute(select(events.c.type).where(events.c.subject_id == task_id))
        return sorted(rows.scalars())


async def outputs_of(stack: Stack, task_id: str) -> list[Row[Any]]:
    async with stack.db.read() as conn:
        return list(await conn.execute(select(files).where(files.c.task_id == task_id)))


async def wallet_of(stack: Stack, account_id: str) -> Balance:
    async with stack.db.read() as conn:
        balance = await get_balance(conn, account_id)
        ledger = await ledger_totals(conn, account_id)
    assert ledger == balance, "the ledger must add up to the wallet"
    return balance


async def until_status(
    stack: Stack, task_id: str, statuses: tuple[str, ...], seconds: float
) -> None:
    async def reached() -> bool:
        return (await task_of(stack, task_id)).status in statuses

    await eventually(reached, seconds)


async def until_running(stack: Stack, task_id: str, worker: WorkerProcess) -> None:
    """Poll until the worker process has started the task (failing early if it died)."""

    async def running() -> bool:
        assert worker.alive(), f"the worker exited early:\n{worker.output()}"
        return (await task_of(stack, task_id)).status == "running"

    await eventually(running, START_S)


async def assert_succeeded_once(stack: Stack, task: tasks.Task, account_id: str) -> None:
    """The task succeeded, was charged exactly once, reported once, and has its image."""
    ended = await task_of(stack, task.id)
    assert ended.status == "succeeded", (ended.status, ended.error_code, ended.error_message)
    assert task.hold_id
    assert await settlements(stack, task.hold_id) == ["capture"]
    assert await hold_status(stack, task.hold_id) == "captured"
    assert await wallet_of(stack, account_id) == Balance(balance=CREDITS - task.price, reserved=0)
    assert await event_types(stack, task.id) == ["generation.succeeded"]
    outputs = await outputs_of(stack, task.id)
    assert len(outputs) == 1 and outputs[0].content_type == "image/png"
    storage = storage_from_settings(stack.data_dir, None)
    assert (await storage.read(outputs[0].storage_key)).startswith(b"\x89PNG")
    job = await job_of(stack, task.id)
    assert job.status == "done" and job.lease_owner is None


# --- tests -----------------------------------------------------------------------------------


async def test_killed_worker_task_is_taken_over_and_charged_once(
    stack: Stack, tmp_path: Path
) -> None:
    """A worker killed with SIGKILL mid-generation: once its lease runs out another worker runs
    the task again; the user gets one image, is charged once and hears of it once."""
    tenant = await make_tenant(stack.db, credits=CREDITS)
    task = await submit_task(stack, tenant.account_id)

    with worker_process(stack, tmp_path / "killed.log") as first:
        await until_running(stack, task.id, first)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        assert first.process.returncode == -signal.SIGKILL

    # Killed mid-task: nothing ended, the job is still leased to the dead worker.
    assert (await task_of(stack, task.id)).status == "running"
    job = await job_of(stack, task.id)
    assert job.status == "running" and job.attempts == 1 and job.lease_owner
    assert task.hold_id and await settlements(stack, task.hold_id) == []

    async with worker_in_process(stack):
        await until_status(stack, task.id, tasks.FINAL, LEASE_S + DELAY_S + 15)

    await assert_succeeded_once(stack, task, tenant.account_id)
    assert (await job_of(stack, task.id)).attempts == 2


async def test_job_out_of_attempts_is_failed_and_refunded(stack: Stack) -> None:
    """A task whose worker keeps dying: when its attempts are spent the next worker fails it with
    `generation_failed` and gives the credits back, once."""
    tenant = await make_tenant(stack.db, credits=CREDITS)
    task = await submit_task(stack, tenant.account_id)
    # As if MAX_ATTEMPTS workers had claimed it and died: running, lease long expired.
    async with stack.db.write() as conn:
        await conn.execute(
            update(jobs)
            .where(jobs.c.kind == tasks.JOB_KIND, jobs.c.ref == task.id)
            .values(
                status="running",
                attempts=jobs.c.max_attempts,
                lease_owner="dead-host:1:gone",
                lease_expires_at=now_ms() - 60_000,
            )
        )
        await conn.execute(
            update(tasks.tasks)
            .where(tasks.tasks.c.id == task.id)
            .values(status="running", started_at=clock.now())
        )
    assert (await job_of(stack, task.id)).attempts == tasks.MAX_ATTEMPTS

    async with worker_in_process(stack):
        await until_status(stack, task.id, tasks.FINAL, 15)

    ended = await task_of(stack, task.id)
    assert ended.status == "failed" and ended.error_code == "generation_failed"
    assert ended.finished_at is not None
    assert task.hold_id
    assert await settlements(stack, task.hold_id) == ["release"]
    assert await hold_status(stack, task.hold_id) == "released"
    assert await wallet_of(stack, tenant.account_id) == Balance(balance=CREDITS, reserved=0)
    assert await event_types(stack, task.id) == ["generation.failed"]
    assert await outputs_of(stack, task.id) == []
    job = await job_of(stack, task.id)
    assert job.status == "done" and job.lease_owner is None


async def test_sigterm_worker_exits_cleanly_and_task_ends_once(
    stack: Stack, tmp_path: Path
) -> None:
    """`rivya worker` stopped with SIGTERM mid-generation exits 0 within its drain time, leaving
    the task finished or handed back; either way it ends once, charged once."""
    tenant = await make_tenant(stack.db, credits=CREDITS)
    task = await submit_task(stack, tenant.account_id)

    with worker_process(stack, tmp_path / "terminated.log") as first:
        await until_running(stack, task.id, first)
        first.process.send_signal(signal.SIGTERM)

        async def exited() -> bool:
            return not first.alive()

        # The drain time, and a little for the process to close its database and exit.
        await eventually(exited, DRAIN_S + 3)
        assert first.process.returncode == 0, first.output()

    # Nothing is left leased to the stopped worker.
    job = await job_of(stack, task.id)
    if (await task_of(stack, task.id)).final:
        assert job.status == "done"
    else:
        assert job.status == "queued" and job.attempts == 0
    assert job.lease_owner is None

    async with worker_in_process(stack):
        await until_status(stack, task.id, tasks.FINAL, DELAY_S + 15)

    await assert_succeeded_once(stack, task, tenant.account_id)


async def test_stopped_worker_hands_back_unfinished_job(stack: Stack) -> None:
    """A worker whose drain time runs out before the generation ends hands the job back with its
    attempt returned; the next worker completes it and the user is charged once."""
    tenant = await make_tenant(stack.db, credits=CREDITS)
    task = await submit_task(stack, tenant.account_id)

    async with worker_in_process(stack, drain_s=0.2):
        await until_status(stack, task.id, ("running",), 15)

    job = await job_of(stack, task.id)
    assert job.status == "queued" and job.attempts == 0 and job.lease_owner is None
    assert job.last_error == "worker shut down"
    assert (await task_of(stack, task.id)).status == "running"
    assert task.hold_id and await settlements(stack, task.hold_id) == []
    assert await outputs_of(stack, task.id) == []

    async with worker_in_process(stack):
        await until_status(stack, task.id, tasks.FINAL, DELAY_S + 15)

    await assert_succeeded_once(stack, task, tenant.account_id)
    assert (await job_of(stack, task.id)).attempts == 1
