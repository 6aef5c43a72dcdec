"""Submit and drain rates of generations, on SQLite and on PostgreSQL, in one run.

Both use `bench-noop`, a model written into a temp catalog (RIVYA_CATALOG): the built-in
`rivya-image-dev` entry (price 4 credits for the default input) with provider `local-noop`, which
returns no outputs at once, so what is measured is Rivya's own work and the database's.

submit  requests per second of `POST /api/v1/generations` against `rivya serve --no-worker` (one
        uvicorn process on a free 127.0.0.1 port), so the tasks only queue. Each 202 reserves
        credits and inserts a task, a hold, a ledger entry and a job in one write transaction.
        The account, its key and a grant of 10^9 credits are made with the `rivya` CLI. Loaded
        like models_rps.py: --warmup seconds (figures discarded), then --duration seconds over
        --connections keep-alive connections; any answer other than 202 is an error.
drain   tasks per second through the queue: --tasks tasks are queued first (in this process,
        through rivya.generation.tasks.submit, in batches inside write transactions), then
        `rivya worker --concurrency C` processes start, and the database is polled until every
        task has ended (every 50 ms). Measured is the time from the first claim (the first task
        that leaves `queued`) to the last task's end; the workers' start-up (launch to first
        claim) is shown apart. Runs: 1 worker on SQLite, 1 and 2 workers on PostgreSQL (FOR
        UPDATE SKIP LOCKED claims; workers on several machines is the PostgreSQL story). The
        tasks belong to one account unless --accounts spreads them over more: each task's end
        updates its account's wallet row, which PostgreSQL locks until the ending transaction
        commits.

Every phase gets a fresh database: a new data dir (SQLite file) under one temp dir, or a new
PostgreSQL database made from --postgres-url (an admin URL; its database is only connected to)
and dropped WITH (FORCE) at the end, on errors too. Other RIVYA_* variables are dropped so that
runs are comparable. After each phase the wallet is checked against the tasks and the ledger
(reserved = prices of unfinished tasks, balance = grant - prices of succeeded ones, ledger sums =
wallet). WARNING and ERROR lines in the servers' and workers' logs are counted and shown.

A server is polled until it answers (30 s deadline); a drain must end within 30 s of the workers'
launch plus 1 s per 20 tasks. Servers and workers are stopped with SIGTERM (SIGKILL after 10 s),
on errors too.

Load generator for submit: wrk (1 thread, a Lua script that makes the POST and counts non-202
answers) when on PATH, else a Python generator in its own process; --generator forces one. On a
2-core machine the generator, the server and PostgreSQL share the cores: compare the ratios.

Exit status: 0 ok; 1 if a submit failed or answered other than 202, a drained task did not
succeed, or a wallet check failed; 2 if a server, worker or database could not be started or
measured, or a drain missed its deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from models_rps import (
    GENERATOR_GRACE,
    HOST,
    REQUEST_ERRORS,
    REQUEST_TIMEOUT,
    STARTUP_TIMEOUT,
    BenchError,
    Result,
    Server,
    Wrk,
    _int_at_least,
    _loop_factory,
    _percentiles_ms,
    _read_response,
    _terminated,
    free_port,
    serving,
    wait_for,
)

T = TypeVar("T")

PATH = "/api/v1/generations"
MODEL_ID = "bench-noop"
SOURCE_MODEL_ID = "rivya-image-dev"
INPUT = {"prompt": "a benchmark"}
BODY = json.dumps({"model": MODEL_ID, "input": INPUT}, separators=(",", ":"))
GRANT = 10**9
ENQUEUE_BATCH = 250
POLL_S = 0.05
DRAIN_MIN_RATE = 20.0  # tasks/s: a drain slower than this (after 30 s) is a failure
CLI_TIMEOUT = 60.0
ADMIN_TIMEOUT = 10.0
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FINAL = ("succeeded", "failed", "canceled")
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|CRITICAL) (\S+) \[[^\]]*\] (.*)$", re.MULTILINE
)
LOG_SAMPLES = 3

# A direct opener: 127.0.0.1 must never go through an HTTP proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Target:
    """One database of a phase: its SQLAlchemy URL, data dir, and the environment of the
    processes that use it."""

    kind: str  # sqlite | postgresql
    url: str
    data_dir: Path
    catalog: Path

    @property
    def env(self) -> dict[str, str]:
        """This process's environment without RIVYA_*, plus the target's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIVYA_")}
        env["RIVYA_DATA_DIR"] = str(self.data_dir)
        env["RIVYA_RATE_LIMIT"] = ""  # one account sends everything: no request limit
        env["RIVYA_DATABASE_URL"] = self.url
        env["RIVYA_CATALOG"] = str(self.catalog)
        return env


def run_async(what: str, coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end; a failure other than BenchError becomes one, naming `what`."""
    try:
        return asyncio.run(coro)
    except BenchError:
        raise
    except Exception as exc:
        raise BenchError(f"{what}: {type(exc).__name__}: {exc}") from exc


# Databases


class Databases:
    """Makes a fresh database per phase: SQLite files under workdir, PostgreSQL databases on the
    admin URL's server (dropped by drop_all)."""

    def __init__(self, workdir: Path, catalog: Path, postgres_admin_url: str | None) -> None:
        self.workdir = workdir
        self.catalog = catalog
        self.admin_url = postgres_admin_url
        self.created: list[str] = []
        self.prefix = f"rivya_bench_{os.getpid()}_{secrets.token_hex(3)}"

    def check_postgres(self) -> None:
        """Fail early, before any phase, when the PostgreSQL server cannot be reached."""
        what = "PostgreSQL at --postgres-url (--skip-postgres measures SQLite only)"
        run_async(what, self._admin("SELECT 1"))

    def fresh(self, kind: str, phase: str) -> Target:
        """A new, empty database for `phase` (the schema is made by whoever connects first)."""
        data_dir = self.workdir / f"{kind}-{phase}"
        data_dir.mkdir()
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{data_dir / 'rivya.db'}"
            return Target(kind, url, data_dir, self.catalog)
        name = f"{self.prefix}_{phase}".replace("-", "_")
        what = f"CREATE DATABASE {name} (--skip-postgres measures SQLite only)"
        run_async(what, self._admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return Target(kind, self._url(name, "postgresql+asyncpg"), data_dir, self.catalog)

    def drop_all(self) -> list[str]:
        """Drop every database made here; the problems met, as messages."""
        problems = []
        while self.created:
            name = self.created.pop()
            try:
                asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:
                problems.append(f"could not drop database {name}: {exc}")
        return problems

    def _url(self, database: str | None, driver: str) -> str:
        from sqlalchemy.engine import make_url

        assert self.admin_url is not None
        url = make_url(self.admin_url).set(drivername=driver)
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._url(None, "postgresql"), timeout=ADMIN_TIMEOUT)
        try:
            await conn.execute(sql, timeout=ADMIN_TIMEOUT * 3)
        finally:
            await conn.close()


def write_catalog(path: Path) -> None:
    """The one-model catalog: rivya-image-dev as `bench-noop` on the `local-noop` provider."""
    import yaml

    from rivya.settings import BUILTIN_CATALOG

    models = yaml.safe_load(BUILTIN_CATALOG.read_text(encoding="utf-8"))["models"]
    source = next((m for m in models if m["id"] == SOURCE_MODEL_ID), None)
    if source is None:
        raise BenchError(f"no {SOURCE_MODEL_ID} in {BUILTIN_CATALOG}")
    model = {
        **source,
        "id": MODEL_ID,
        "name": "Bench no-op (bench/generations.py)",
        "description": "Makes nothing, at once: measures the queue itself.",
        "provider": {"type": "local-noop"},
    }
    path.write_text(yaml.safe_dump({"models": [model]}, sort_keys=False), encoding="utf-8")


async def fill_queue(target: Target, count: int, accounts: int) -> dict[str, Any]:
    """`accounts` accounts with GRANT credits each and `count` queued bench-noop tasks spread
    over them in turn, submitted through the service in write transactions of ENQUEUE_BATCH; the
    account ids and the enqueue time."""
    from rivya.accounts.service import create_account
    from rivya.billing import wallet
    from rivya.catalog.catalog import Catalog
    from rivya.generation import tasks
    from rivya.store.db import Database
    from rivya.store.migrate import upgrade

    catalog = Catalog.load(target.catalog)
    db = Database(target.url)
    try:
        await upgrade(db)
        ids = []
        async with db.write() as conn:
            for i in range(accounts):
                account = await create_account(conn, f"bench {i + 1}")
                await wallet.grant(conn, account.id, GRANT, reason="bench/generations.py")
                ids.append(account.id)
        started = time.perf_counter()
        for first in range(0, count, ENQUEUE_BATCH):
            async with db.write() as conn:
                for n in range(first, min(first + ENQUEUE_BATCH, count)):
                    await tasks.submit(conn, catalog, ids[n % accounts], MODEL_ID, dict(INPUT))
        seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    return {"account_ids": ids, "enqueue_s": seconds}


async def task_counts(db: Any) -> dict[str, int]:
    """Tasks per status."""
    from sqlalchemy import text

    async with db.read() as conn:
        rows = await conn.execute(text("SELECT status, COUNT(*) FROM tasks GROUP BY status"))
        return {str(status): int(n) for status, n in rows}


async def check_wallets(target: Target, account_ids: list[str]) -> dict[str, Any]:
    """Tasks per status, and whether each account's wallet agrees with its tasks and with the
    ledger."""
    from sqlalchemy import text

    from rivya.billing import wallet
    from rivya.store.db import Database

    problems = []
    db = Database(target.url)
    try:
        counts = await task_counts(db)
        for account_id in account_ids:
            async with db.read() as conn:
                balance = await wallet.get_balance(conn, account_id)
                ledger = await wallet.ledger_totals(conn, account_id)
                rows = await conn.execute(
                    text(
                        "SELECT status, COALESCE(SUM(price), 0) FROM tasks "
                        "WHERE account_id = :a GROUP BY status"
                    ),
                    {"a": account_id},
                )
                prices = {str(status): int(total) for status, total in rows}
            open_prices = prices.get("queued", 0) + prices.get("running", 0)
            if balance.reserved != open_prices:
                problems.append(
                    f"{account_id}: reserved {balance.reserved} != prices of open tasks "
                    f"{open_prices}"
                )
            expected = GRANT - prices.get("succeeded", 0)
            if balance.balance != expected:
                problems.append(
                    f"{account_id}: balance {balance.balance} != grant - prices of succeeded "
                    f"{expected}"
                )
            if ledger != balance:
                problems.append(f"{account_id}: ledger sums {ledger} != wallet {balance}")
    finally:
        await db.dispose()
    return {"tasks": counts, "wallet_problems": problems}


def log_problems(*paths: Path) -> dict[str, Any]:
    """WARNING/ERROR/CRITICAL log lines in these files: counts per level and logger, and the
    first few distinct messages."""
    counts: Counter[str] = Counter()
    samples: list[str] = []
    for path in paths:
        for level, logger, message in LOG_LINE.findall(path.read_text(errors="replace")):
            counts[f"{level} {logger}"] += 1
            sample = f"{level} {logger}: {message[:200]}"
            if len(samples) < LOG_SAMPLES and sample not in samples:
                samples.append(sample)
    return {"counts": dict(counts), "samples": samples}


# The submit load generators


class PythonLoad:
    """A Python asyncio load generator, run in a separate process so it has its own core."""

    def __init__(self) -> None:
        loop = "uvloop" if _loop_factory() else "asyncio"
        self.name = f"python ({loop} streams, keep-alive HTTP/1.1, separate process)"

    def run(self, port: int, authorization: str, connections: int, seconds: int) -> Result:
        """Load the server for `seconds` over `connections` connections."""
        body = BODY.encode()
        request = (
            f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            job = pool.apply_async(python_load, (port, request, connections, seconds))
            try:
                figures = job.get(timeout=seconds + GENERATOR_GRACE)
            except multiprocessing.TimeoutError:
                raise BenchError("the Python load generator did not finish in time") from None
        return Result(**figures)


def python_load(port: int, request: bytes, connections: int, seconds: int) -> dict[str, Any]:
    """Run in the generator process: the figures of a Result, as a dict."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_load(port, request, connections, seconds))


async def _load(port: int, request: bytes, connections: int, seconds: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, latencies, errors) for _ in range(connections))
    )
    seconds = time.perf_counter() - started
    p50_ms, p99_ms = _percentiles_ms(latencies)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "p50_ms": p50_ms,
        "p99_ms": p99_ms,
        "errors": dict(errors),
    }


async def _connection(
    port: int, request: bytes, deadline: float, latencies: list[float], errors: Counter[str]
) -> None:
    """One connection sending requests one after another until the deadline, reconnecting after
    an error or a `Connection: close`."""
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while time.perf_counter() < deadline:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    if conn is None:
                        conn = await asyncio.open_connection(HOST, port)
                    sent = time.perf_counter()
                    conn[1].write(request)
                    status, keep_alive = await _read_response(conn[0])
                latencies.append(time.perf_counter() - sent)
                if status != 202:
                    errors[f"status {status}"] += 1
            except REQUEST_ERRORS as exc:
                errors[type(exc).__name__] += 1
                keep_alive = False
            if not keep_alive and conn is not None:
                conn[1].close()
                conn = None
    finally:
        if conn is not None:
            conn[1].close()


def pick_generator(choice: str, workdir: Path) -> Wrk | PythonLoad:
    """wrk if it is on PATH (or asked for), else the Python generator."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise BenchError("--generator wrk: wrk is not on PATH")
    if wrk is not None and choice != "python":
        return Wrk(wrk, workdir, url_path=PATH, expected=202, body=BODY)
    return PythonLoad()


# The phases


def rivya_cli(target: Target, *args: str) -> dict[str, Any]:
    """Run `rivya ARGS --json` against the target; its JSON answer."""
    argv = [sys.executable, "-m", "rivya.cli", *args, "--json"]
    done = subprocess.run(
        argv, env=target.env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"rivya {' '.join(args)} failed ({done.returncode}): {done.stdout}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def request_once(
    port: int, method: str, authorization: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """Status and body of one POST to PATH or GET of the models (urllib raises on 4xx/5xx)."""
    path = PATH if method == "POST" else "/api/v1/models"
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body, headers=headers, method=method
    )
    with _DIRECT.open(request, timeout=REQUEST_TIMEOUT) as response:
        return int(response.status), response.read()


def submit_phase(
    databases: Databases, kind: str, generator: Wrk | PythonLoad, args: argparse.Namespace
) -> dict[str, Any]:
    """Submit rate on a fresh database: account, key and credits by the CLI, then load."""
    target = databases.fresh(kind, "submit")
    account = rivya_cli(target, "accounts", "create", "--name", "bench")["id"]
    secret = rivya_cli(target, "keys", "create", "--account", account)["secret"]
    rivya_cli(target, "credits", "grant", "--account", account, "--amount", str(GRANT))
    authorization = f"Bearer {secret}"

    port = free_port()
    argv = [sys.executable, "-m", "rivya.cli", "serve", "--no-worker", "--host", HOST]
    argv += ["--port", str(port)]
    name = f"{kind}-serve"
    with serving(name, argv, target.env, port, databases.workdir) as server:
        wait_for(server, lambda: request_once(port, "GET", authorization), "200 answer")
        status, answer = request_once(port, "POST", authorization, BODY.encode())
        if status != 202:
            raise BenchError(f"{name}: POST {PATH} answered {status}: {answer[:300]!r}")
        if args.warmup:
            generator.run(port, authorization, args.connections, args.warmup)
        result = generator.run(port, authorization, args.connections, args.duration)
        server.check_alive()
    check = run_async(f"{kind} wallet check", check_wallets(target, [account]))
    return {
        **result.as_json(),
        "tasks_in_database": sum(check["tasks"].values()),
        "wallet_problems": check["wallet_problems"],
        "log": log_problems(server.stderr),
    }


def drain_phase(
    databases: Databases, kind: str, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Drain rate on a fresh database: queue --tasks tasks, start `workers` worker processes,
    and time them until every task has ended."""
    target = databases.fresh(kind, f"drain{workers}")
    filled = run_async(
        f"{kind}: queueing {args.tasks} tasks",
        fill_queue(target, args.tasks, args.accounts),
    )
    argv = [sys.executable, "-m", "rivya.cli", "worker"]
    argv += ["--concurrency", str(args.worker_concurrency)]
    with ExitStack() as stack:
        launched = time.perf_counter()
        procs = [
            stack.enter_context(
                serving(f"{kind}-worker-{i + 1}of{workers}", argv, target.env, 0, databases.workdir)
            )
            for i in range(workers)
        ]
        timing = run_async(f"{kind} drain", watch_drain(target, args.tasks, procs, launched))
        for proc in procs:
            proc.check_alive()
    check = run_async(f"{kind} wallet check", check_wallets(target, filled["account_ids"]))
    succeeded = check["tasks"].get("succeeded", 0)
    not_succeeded = {s: n for s, n in check["tasks"].items() if s != "succeeded" and n}
    return {
        "database": kind,
        "workers": workers,
        "tasks_per_s": round(succeeded / timing["drain_s"], 1) if timing["drain_s"] else None,
        "tasks": args.tasks,
        "accounts": args.accounts,
        "succeeded": succeeded,
        "not_succeeded": not_succeeded,
        "drain_s": round(timing["drain_s"], 3),
        "startup_s": round(timing["startup_s"], 3),
        "enqueue_per_s": round(args.tasks / filled["enqueue_s"], 1),
        "wallet_problems": check["wallet_problems"],
        "log": log_problems(*(proc.stderr for proc in procs)),
    }


async def watch_drain(
    target: Target, count: int, workers: list[Server], launched: float
) -> dict[str, float]:
    """Poll the tasks every POLL_S until all `count` have ended; the start-up (launch to the
    first claim) and drain (first claim to the last end) times."""
    from rivya.store.db import Database

    deadline = launched + STARTUP_TIMEOUT + count / DRAIN_MIN_RATE
    first_claim: float | None = None
    db = Database(target.url)
    try:
        while True:
            for worker in workers:
                worker.check_alive()
            counts = await task_counts(db)
            now = time.perf_counter()
            if first_claim is None and counts.get("queued", 0) < count:
                first_claim = now
            if sum(counts.get(status, 0) for status in FINAL) >= count:
                break
            if now > deadline:
                raise BenchError(
                    f"{target.kind}: the drain did not end within {deadline - launched:.0f} s "
                    f"(tasks: {counts}){workers[0].tail()}"
                )
            await asyncio.sleep(POLL_S)
    finally:
        await db.dispose()
    assert first_claim is not None
    return {"startup_s": first_claim - launched, "drain_s": now - first_claim}


@contextmanager
def databases_in(workdir: Path, postgres: str | None) -> Iterator[Databases]:
    """The phase databases; the PostgreSQL ones are dropped on leaving, whatever happens."""
    catalog = workdir / "catalog.yaml"
    write_catalog(catalog)
    databases = Databases(workdir, catalog, postgres)
    try:
        yield databases
    finally:
        for problem in databases.drop_all():
            print(f"generations: {problem}", file=sys.stderr)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase, one after another; the figures as a dict."""
    kinds = ["sqlite"] if args.skip_postgres else ["sqlite", "postgresql"]
    submit: dict[str, Any] = {}
    drain: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="rivya-bench-") as tmp,
        databases_in(Path(tmp), None if args.skip_postgres else args.postgres_url) as databases,
    ):
        if not args.skip_postgres:
            databases.check_postgres()
        generator = pick_generator(args.generator, databases.workdir)
        for kind in kinds:
            submit[kind] = submit_phase(databases, kind, generator, args)
            for workers in (1, 2) if kind == "postgresql" else (1,):
                drain.append(drain_phase(databases, kind, workers, args))

    def rate(kind: str, workers: int) -> float | None:
        found = [d for d in drain if d["database"] == kind and d["workers"] == workers]
        return found[0]["tasks_per_s"] if found else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    submit_rate = {k: v["requests_per_s"] if v["requests"] else None for k, v in submit.items()}
    return {
        "endpoint": f"POST {PATH}",
        "model": f"{MODEL_ID} (local-noop)",
        "generator": generator.name,
        "connections": args.connections,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "worker_concurrency": args.worker_concurrency,
        "submit": submit,
        "drain": drain,
        "ratios": {
            "submit_postgresql_vs_sqlite": ratio(
                submit_rate.get("postgresql"), submit_rate.get("sqlite")
            ),
            "drain_postgresql_vs_sqlite": ratio(rate("postgresql", 1), rate("sqlite", 1)),
            "drain_postgresql_2_vs_1_workers": ratio(rate("postgresql", 2), rate("postgresql", 1)),
        },
    }


def failures(figures: dict[str, Any]) -> list[str]:
    """What makes the exit status 1."""
    found = []
    for kind, r in figures["submit"].items():
        if r["errors"]:
            found.append(f"{kind} submit: failed requests {r['errors']}")
        if r["wallet_problems"]:
            found.append(f"{kind} submit: wallet {r['wallet_problems']}")
    for d in figures["drain"]:
        where = f"{d['database']} drain ({d['workers']} worker(s))"
        if d["not_succeeded"]:
            found.append(f"{where}: tasks not succeeded {d['not_succeeded']}")
        if d["wallet_problems"]:
            found.append(f"{where}: wallet {d['wallet_problems']}")
    return found


def as_text(figures: dict[str, Any]) -> str:
    """The figures as two small tables, the ratios and what the logs complained about."""

    def num(value: float | None, spec: str = ".1f") -> str:
        return "-" if value is None else format(value, spec)

    def log_count(log: dict[str, Any]) -> int:
        return sum(log["counts"].values())

    lines = [
        f"submit: {figures['endpoint']} ({figures['model']}), {figures['connections']} "
        f"connections, {figures['warmup_s']} s warm-up, {figures['duration_s']} s measured, "
        "rivya serve --no-worker",
        f"generator: {figures['generator']}",
        "",
        f"{'database':<11} {'submit/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
        f"{'errors':>7} {'tasks in db':>12} {'log warn+err':>13}",
    ]
    for kind, r in figures["submit"].items():
        lines.append(
            f"{kind:<11} {r['requests_per_s']:>9.1f} {num(r['p50_ms']):>8} {num(r['p99_ms']):>8} "
            f"{r['requests']:>9} {sum(r['errors'].values()):>7} {r['tasks_in_database']:>12} "
            f"{log_count(r['log']):>13}"
        )
    drains = figures["drain"]
    if drains:
        lines += [
            "",
            f"drain: {drains[0]['tasks']} queued tasks of {drains[0]['accounts']} account(s), "
            f"rivya worker --concurrency {figures['worker_concurrency']} per process; tasks/s "
            "from the first claim to the last end",
            "",
            f"{'database':<11} {'workers':>7} {'tasks/s':>9} {'drain s':>8} {'startup s':>10} "
            f"{'not ok':>7} {'enqueue/s':>10} {'log warn+err':>13}",
        ]
    for d in drains:
        lines.append(
            f"{d['database']:<11} {d['workers']:>7} {num(d['tasks_per_s']):>9} "
            f"{d['drain_s']:>8.2f} {d['startup_s']:>10.2f} {sum(d['not_succeeded'].values()):>7} "
            f"{d['enqueue_per_s']:>10.1f} {log_count(d['log']):>13}"
        )
    ratios = figures["ratios"]
    labels = {
        "submit_postgresql_vs_sqlite": "submit  postgresql/sqlite",
        "drain_postgresql_vs_sqlite": "drain   postgresql/sqlite (1 worker)",
        "drain_postgresql_2_vs_1_workers": "drain   postgresql 2 workers/1 worker",
    }
    shown = [f"{labels[k]}: {v:.3f}" for k, v in ratios.items() if v is not None]
    if shown:
        lines += ["", "ratios:", *(f"  {line}" for line in shown)]
    notes = []
    for kind, r in figures["submit"].items():
        notes += [f"{kind} submit log: {s}" for s in r["log"]["samples"]]
        if r["errors"]:
            notes.append(f"{kind} submit errors: {r['errors']}")
    for d in drains:
        where = f"{d['database']} drain {d['workers']}w"
        notes += [f"{where} log: {s}" for s in d["log"]["samples"]]
        if d["not_succeeded"]:
            notes.append(f"{where} tasks not succeeded: {d['not_succeeded']}")
    problems = [
        f"{name} wallet: {p}"
        for name, r in [*figures["submit"].items(), *((d["database"], d) for d in drains)]
        for p in r["wallet_problems"]
    ]
    if notes or problems:
        lines += ["", *notes, *problems]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--duration", type=_int_at_least(1), default=10, help="measured submit seconds per database"
    )
    parser.add_argument(
        "--connections", type=_int_at_least(1), default=16, help="concurrent submit connections"
    )
    parser.add_argument(
        "--warmup", type=_int_at_least(0), default=2, help="submit warm-up seconds per database"
    )
    parser.add_argument(
        "--tasks", type=_int_at_least(1), default=2000, help="queued tasks per drain"
    )
    parser.add_argument(
        "--accounts",
        type=_int_at_least(1),
        default=1,
        help="accounts the drained tasks are spread over (1: every task settles on one wallet row)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=_int_at_least(1),
        default=16,
        help="rivya worker --concurrency of each worker process",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("RIVYA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL admin URL, where the bench databases are made and dropped (default: "
        f"$RIVYA_BENCH_POSTGRES_URL, else {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="submit load generator (auto: wrk when on PATH, else python)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; the exit status (see the module docstring)."""
    args = parse_args(argv)
    # On SIGTERM unwind like on Ctrl-C: servers and workers stopped, databases dropped.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        figures = run(args)
    except BenchError as exc:
        print(f"generations: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(json.dumps(figures, indent=2) if args.json else as_text(figures))
    found = failures(figures)
    for failure in found:
        print(f"generations: {failure}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
