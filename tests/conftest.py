"""Shared fixtures. `database` runs a test once on SQLite and once on PostgreSQL; PostgreSQL needs
RIVYA_TEST_POSTGRES_URL (for example postgresql+asyncpg://postgres@127.0.0.1:5432/test), and its
runs are skipped, with that reason, when it is not set. Each PostgreSQL test gets a schema of its
own, dropped afterwards, so tests never see each other's rows."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text

from rivya import clock
from rivya.accounts.service import create_account
from rivya.app import create_app
from rivya.auth.api_keys import create_key
from rivya.billing.wallet import grant
from rivya.runtime import Runtime
from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from rivya.store.migrate import upgrade
from rivya.web.http_server import server_options

POSTGRES_URL = os.environ.get("RIVYA_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'rivya.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set RIVYA_TEST_POSTGRES_URL (.ci/run does)")
    yield POSTGRES_URL


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (a private schema on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        db = Database(database_url)
        await upgrade(db)
        yield db
        await db.dispose()
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = Database(database_url)
    async with admin.write() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(database_url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(db)
        yield db
    finally:
        await db.dispose()
        async with admin.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


class FrozenClock:
    """Replaces rivya.clock.now for tests that cross an expiry."""

    def __init__(self) -> None:
        self.now = clock.now()

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """A clock that moves only when told to."""
    frozen = FrozenClock()
    monkeypatch.setattr(clock, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a test server (the database comes from the `database` fixture)."""
    return Settings(
        data_dir=tmp_path,
        catalog=write_catalog(tmp_path),
        key_touch_interval=60,
        auth_cache_poll=0.05,
        worker_drain_seconds=0.2,
    )


def write_catalog(tmp_path: Path, extra: list[dict[str, object]] | None = None) -> Path:
    """The built-in catalog plus `rivya-image-slow`, an image model that takes 30 s (for tests
    that need a task to stay running), `rivya-chat-slow`, a chat model that takes 50 ms a token
    (for tests that need a turn in flight), and `extra` models."""
    models = yaml.safe_load(BUILTIN_CATALOG.read_text())["models"]
    slow = {**models[0], "id": "rivya-image-slow", "name": "Slow image (tests)"}
    slow["provider"] = {"type": "local-image", "options": {"delay_seconds": 30}}
    chat = next(m for m in models if m["kind"] == "chat")
    slow_chat = {**chat, "id": "rivya-chat-slow", "name": "Slow chat (tests)"}
    slow_chat["provider"] = {"type": "local-chat", "options": {"token_delay_s": 0.05}}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"models": [*models, slow, slow_chat, *(extra or [])]}))
    return path


@pytest.fixture
def runtime(settings: Settings, database: Database) -> Runtime:
    """A runtime over the test database."""
    return Runtime.build(settings, db=database)


@asynccontextmanager
async def serving(runtime: Runtime, *, worker: bool) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, in process. httpx runs no lifespan, so this starts the
    runtime's background work itself (the database is migrated already)."""
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    await runtime.start(worker=worker)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as http:
            yield http
    finally:
        await runtime.stop()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app without a worker: generations stay queued."""
    async with serving(runtime, worker=False) as http:
        yield http


@pytest.fixture
async def live(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its in-process worker, as `rivya serve` runs it."""
    async with serving(runtime, worker=True) as http:
        yield http


async def eventually(check: Callable[[], Awaitable[bool]], deadline_s: float = 5.0) -> None:
    """Poll `check` until it holds, failing after the deadline (no sleeps for ordering)."""
    deadline = asyncio.get_running_loop().time() + deadline_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class Tenant:
    """An account with credits and a key, as a test's user."""

    def __init__(self, account_id: str, key_id: str, secret: str) -> None:
        self.account_id = account_id
        self.key_id = key_id
        self.secret = secret
        self.headers = {"Authorization": f"Bearer {secret}"}


async def make_tenant(db: Database, *, credits: int = 1000, name: str = "Tenant") -> Tenant:
    """A new account with `credits` and one key."""
    async with db.write() as conn:
        account = await create_account(conn, name)
        issued = await create_key(conn, account.id)
        if credits:
            await grant(conn, account.id, credits)
    return Tenant(account.id, issued.key.id, issued.secret)


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    """An account with 1,000 credits and a key."""
    return await make_tenant(database)


class LiveServer:
    """The app served by uvicorn on a free 127.0.0.1 port, in a thread with its own event loop
    and its own handle on the test database (for real HTTP clients: SDKs, streams, disconnects).
    `url` is the API's base URL; `stop()` shuts it down as SIGTERM would (requests still running
    after `graceful_s` are cancelled, then the lifespan shutdown runs)."""

    def __init__(self, settings: Settings, database: Database, *, graceful_s: float = 2) -> None:
        import socket
        import threading

        import uvicorn

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        url = str(database.engine.url.render_as_string(hide_password=False))
        self._server: uvicorn.Server | None = None

        def serve() -> None:
            runtime = Runtime.build(settings, db=Database(url, **database.engine_kwargs))
            app = create_app(runtime=runtime, run_worker=True)
            config = uvicorn.Config(
                app,
                log_config=None,
                timeout_graceful_shutdown=graceful_s,
                **server_options(settings),
            )
            self._server = uvicorn.Server(config)
            self._server.run(sockets=[self._sock])

        self._thread = threading.Thread(target=serve, daemon=True)

    def start(self) -> None:
        """Serve, returning once the server accepts requests."""
        import time

        self._thread.start()
        deadline = time.monotonic() + 20
        while self._server is None or not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no server started"
            time.sleep(0.02)

    def stop(self) -> None:
        """Shut down and wait for the lifespan shutdown to end."""
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()


@pytest.fixture
def live_server(settings: Settings, database: Database) -> Iterator[LiveServer]:
    """A running LiveServer."""
    server = LiveServer(settings, database)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_url(live_server: LiveServer) -> str:
    """The base URL of a running LiveServer."""
    return live_server.url
