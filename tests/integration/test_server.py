"""`rivya serve` as a process: the development quickstart, logs, and a clean SIGTERM shutdown,
on the embedded SQLite default and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.processes import free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def server_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "RIVYA_DATA_DIR": str(tmp_path / "data")}
    env.pop("RIVYA_DATABASE_URL", None)
    if request.param == "sqlite":
        yield env
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set RIVYA_TEST_POSTGRES_URL (.ci/run does)")
    name = f"rivya_srv_{os.getpid()}_{free_port()}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield {**env, "RIVYA_DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"}
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def admin_sql(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    assert POSTGRES_URL
    conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class Server:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rivya.cli", "serve", "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert self.process.poll() is None, self.process.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.1)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        return self.process.returncode, output


def test_dev_quickstart_and_clean_shutdown(server_env: dict[str, str]) -> None:
    first = Server(server_env, "--dev")
    try:
        key = None
        models = httpx.get(f"{first.base}/models", timeout=5)
        assert models.status_code == 401
    finally:
        code, output = first.stop()
    assert code == 0, output
    key = re.search(r"rvya_sk_[0-9A-Za-z]{38}", output)
    assert key, output
    assert "Application shutdown complete" in output
    # Every log line of a request carries its id.
    request_id = models.headers["x-request-id"]
    assert re.search(rf"\[{request_id}\] GET /api/v1/models 401", output), output

    second = Server(server_env, "--dev")
    try:
        headers = {"Authorization": f"Bearer {key.group(0)}"}
        credits = httpx.get(f"{second.base}/credits", headers=headers, timeout=5)
        assert credits.status_code == 200 and credits.json()["balance"] == 100_000
    finally:
        code, output = second.stop()
    assert code == 0
    assert "already exists" in output and "rvya_sk_" not in output
