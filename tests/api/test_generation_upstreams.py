"""Generations served by upstream models (fake upstreams on 127.0.0.1): a success is charged, a
failure is refunded (retried first when it may pass), an output that is not what the model should
make (wrong type, too large, at a private address, behind a redirect) fails the task and is
refunded, and no upstream detail reaches the user."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from rivya.settings import BUILTIN_CATALOG, Settings
from rivya.store.db import Database
from tests.api.test_generations import WAIT, download, submit, wallet
from tests.conftest import Tenant, write_catalog
from tests.fakes.upstream import ERROR_TEXT, MP4, PNG, FakeUpstream

MAX_OUTPUT_BYTES = 256 * 1024


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """The fake, serving an MP4 for the video model's predictions."""
    with FakeUpstream() as fake:
        fake.files["clip.mp4"] = (MP4, "video/mp4")
        fake.prediction_output = [fake.url("/files/clip.mp4")]
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
        upstream_allow_hosts="127.0.0.1",  # the fake's files; any other address must be public
        max_output_bytes=MAX_OUTPUT_BYTES,
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


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims `width` x `height` pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


async def _refused(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, model: str, **given: Any
) -> dict[str, Any]:
    """Submit, and check that the task failed as the model's fault, refunded, saying nothing of
    the upstream."""
    task = (await submit(live, tenant, model, WAIT, prompt="fox", **given)).json()
    assert task["status"] == "failed"
    assert task["error"] == {
        "code": "upstream_bad_response",
        "message": "The model returned a result that could not be used.",
    }
    assert task["outputs"] == []
    assert task["credits"]["charged"] == 0 and task["credits"]["refunded"] > 0
    assert await wallet(database, tenant) == (1000, 0)
    for secret in ("127.0.0.1", "169.254", "10.0.0.1", "html", "redirect", "upstream/video"):
        assert secret not in str(task)
    return task


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.png", HTML),  # HTML served as image/png
        ("big.png", PNG + bytes(MAX_OUTPUT_BYTES)),  # over the output limit
        ("bomb.png", _png_claiming(50_000, 50_000)),  # 2.5 G pixels from a few bytes
        ("sound.png", b"RIFF\x24\x00\x00\x00WAVEfmt "),  # a WAV from an image model
    ],
)
async def test_an_unfit_image_link_fails_and_refunds(
    live: httpx.AsyncClient,
    tenant: Tenant,
    database: Database,
    upstream: FakeUpstream,
    name: str,
    data: bytes,
) -> None:
    upstream.images_as_urls = True
    upstream.files["out.png"] = (data, "image/png")
    await _refused(live, tenant, database, "acme-image")


async def test_a_video_model_that_hands_back_a_png_fails_and_refunds(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    """The kind is read from the bytes, whatever the Content-Type says: video/mp4 here."""
    upstream.files["clip.mp4"] = (PNG, "video/mp4")
    await _refused(live, tenant, database, "acme-video", duration=1)


@pytest.mark.parametrize(
    "link",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/clip.mp4",
        "https://10.0.0.1/clip.mp4",
    ],
)
async def test_a_link_to_a_private_address_fails_and_refunds(
    live: httpx.AsyncClient,
    tenant: Tenant,
    database: Database,
    upstream: FakeUpstream,
    link: str,
) -> None:
    upstream.prediction_output = [link]
    await _refused(live, tenant, database, "acme-video", duration=1)


async def test_a_redirected_link_fails_and_refunds(
    live: httpx.AsyncClient, tenant: Tenant, database: Database, upstream: FakeUpstream
) -> None:
    location = {"Location": "http://169.254.169.254/latest/meta-data/"}
    upstream.answer_next(1, 302, path="/files/clip.mp4", headers=location)
    await _refused(live, tenant, database, "acme-video", duration=1)
    assert upstream.count("GET", "/files/clip.mp4") == 1  # asked once, not retried
