"""Generations served by upstream models (fake upstreams on 127.0.0.1): a success is charged, a
failure is refunded (retried first when it may pass), and no upstream detail reaches the user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from tests.api.test_generations import WAIT, download, submit, wallet
from tests.conftest import Tenant, write_catalog
from tests.fakes.upstream import ERROR_TEXT, FakeUpstream


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, upstream: FakeUpstream) -> Settings:
    """The test catalog plus `acme-image` (OpenAI-compatible images) and `acme-video`
    (submit-then-poll predictions), both served by the fake upstream."""
    image, video = yaml.safe_load(BUILTIN_CATALOG.read_text())["models"][:2]
    common = {"base_url": upstream.base_url, "max_retries": 2, "backoff_s": 0.01}
    extra = [
        {**image, "id": "acme-image", "provider": {"type": "openai-images", "options": {
            **common, "model": "upstream-image-model"}}},
        {**video, "id": "acme-video", "provider": {"type": "predictions", "options": {
            **common, "model": "upstream/video", "poll_interval_s": 0.01}}},
    ]  # fmt: skip
    return Settings(
        data_dir=tmp_path,
        catalog=write_catalog(tmp_path, extra),
        auth_cache_poll=0.05,
        worker_drain_seconds=0.2,
    )


async def test_an_upstream_image_is_charged(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    task = (
        await submit(live, tenant, "acme-image", WAIT, prompt="fox", width=64, height=64)
    ).json()
    assert task["status"] == "succeeded"
    assert (await download(live, tenant, task))[0].startswith(b"\x89PNG")
    assert upstream.calls[0].json()["model"] == "upstream-image-model"
    assert await wallet(database, tenant) == (1000 - 4, 0)


async def test_a_transient_failure_is_retried_then_refunded(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    upstream.answer_next(10, 503)
    task = (await submit(live, tenant, "acme-image", WAIT, prompt="fox")).json()
    assert task["status"] == "failed"
    assert task["error"]["code"] == "upstream_unavailable"
    assert task["credits"] == {"reserved": 4, "charged": 0, "refunded": 4}
    assert upstream.count("POST", "/v1/images/generations") == 3  # 1 + max_retries
    assert await wallet(database, tenant) == (1000, 0)
    leaked = str(task)
    for secret in (ERROR_TEXT, upstream.base_url, "127.0.0.1", "upstream-image-model", "503"):
        assert secret not in leaked


async def test_a_rejection_is_not_retried_and_refunded(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    upstream.answer_next(1, 400)
    task = (await submit(live, tenant, "acme-image", WAIT, prompt="fox")).json()
    assert task["status"] == "failed" and task["error"]["code"] == "upstream_rejected"
    assert upstream.count("POST", "/v1/images/generations") == 1
    assert await wallet(database, tenant) == (1000, 0)


async def test_a_prediction_is_polled_to_its_end(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    upstream.polls_to_finish = 3
    task = (await submit(live, tenant, "acme-video", WAIT, prompt="waves", duration=2)).json()
    assert task["status"] == "succeeded" and len(task["outputs"]) == 1
    assert await wallet(database, tenant) == (1000 - 20, 0)


async def test_canceling_a_prediction_cancels_it_upstream(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    upstream.polls_to_finish = 10_000
    task = (await submit(live, tenant, "acme-video", prompt="waves", duration=1)).json()
    await _running(live, tenant, task["id"])
    canceled = (await live.post(f"/generations/{task['id']}/cancel", headers=tenant.headers)).json()
    assert canceled["status"] == "canceled"
    assert len(upstream.cancels) == 1
    assert await wallet(database, tenant) == (1000, 0)


async def _running(http: httpx.AsyncClient, tenant: Tenant, task_id: str) -> None:
    from tests.conftest import eventually

    async def running() -> bool:
        found = await http.get(f"/generations/{task_id}", headers=tenant.headers)
        return bool(found.json()["status"] == "running")

    await eventually(running)
