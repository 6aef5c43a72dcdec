"""Chat image attachments cannot multiply memory: at most the limit of image parts per turn, each
file read once, images sent no larger than the model looks at, priced by OpenAI's tile rule, and
a turn at the limit of large images stays within a memory bound. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from rivya.chat import images
from rivya.runtime import Runtime
from rivya.settings import Settings
from rivya.store.db import Database
from tests.api.test_auth import assert_problem
from tests.api.test_chat import wallet
from tests.conftest import Tenant

CHAT = "rivya-chat-dev"
# A turn of the limit's worth of 20 MB images may grow the server's memory by no more than this:
# about one file's bytes and pixels at a time, whatever the number of parts (before, every part
# held its file and its base64 at once: 10 parts took about 500 MB, 60 parts 1.3 GB).
PEAK_BOUND_MB = 200


def png(width: int, height: int, *, noise: bool = False, mode: str = "RGB") -> bytes:
    if noise:  # incompressible: a PNG about as large as its pixels
        image = Image.frombytes(mode, (width, height), os.urandom(width * height * len(mode)))
    else:
        image = Image.new(mode, (width, height), "red")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0 if noise else 6)
    return out.getvalue()


async def upload(client: httpx.AsyncClient, tenant: Tenant, data: bytes) -> str:
    response = await client.post("/files", files={"file": ("i.png", data)}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def turn(*file_ids: str, detail: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": "what is this"}]
    for file_id in file_ids:
        url: dict[str, str] = {"url": f"rivya://files/{file_id}"}
        if detail:
            url["detail"] = detail
        parts.append({"type": "image_url", "image_url": url})
    return {"model": CHAT, "messages": [{"role": "user", "content": parts}]}


# The tile rule, with OpenAI's own worked examples


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1024, 1024), "high", 765),  # 768 x 768: 4 tiles
        ((2048, 4096), "high", 1105),  # 1024 x 2048, then 768 x 1536: 6 tiles
        ((4096, 8192), "low", 85),
        ((300, 200), "high", 255),  # 1 tile
    ],
)
def test_image_tokens_follow_openais_tile_rule(
    size: tuple[int, int], detail: str, tokens: int
) -> None:
    assert images.image_tokens(*size, detail) == tokens


async def test_a_large_image_is_sent_as_large_as_the_model_looks() -> None:
    sent = await images.for_model(png(3000, 1500, noise=True), "image/png", "high")
    assert (sent.width, sent.height) == (1536, 768)
    assert sent.data_url.startswith("data:image/jpeg;base64,")
    assert len(sent.data_url) < 1.4 * images.MAX_SENT_BYTES
    low = await images.for_model(png(3000, 1500), "image/png", "low")
    assert (low.width, low.height) == (512, 256)
    clear = await images.for_model(png(3000, 3000, mode="RGBA"), "image/png", "high")
    assert clear.data_url.startswith("data:image/png;base64,")  # transparency is kept
    small = png(64, 64)
    as_is = await images.for_model(small, "image/png", "high")
    assert as_is.data_url.endswith(base64.b64encode(small).decode())


# The API


async def test_more_images_than_the_limit_are_refused_before_any_charge(
    client: httpx.AsyncClient, tenant: Tenant, database: Database, settings: Settings
) -> None:
    file_id = await upload(client, tenant, png(16, 16))
    over = turn(*[file_id] * (settings.chat_max_images + 1))
    response = await client.post("/chat/completions", json=over, headers=tenant.headers)
    problem = assert_problem(response, 422, "too_many_images")
    assert str(settings.chat_max_images) in str(problem["detail"])
    assert await wallet(database, tenant) == (1000, 0)
    at_limit = turn(*[file_id] * settings.chat_max_images)
    ok = await client.post("/chat/completions", json=at_limit, headers=tenant.headers)
    assert ok.status_code == 200, ok.text


async def test_images_are_priced_by_the_tile_rule(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    file_id = await upload(client, tenant, png(1024, 1024))
    plain = await client.post("/chat/completions", json=turn(), headers=tenant.headers)
    high = await client.post("/chat/completions", json=turn(file_id), headers=tenant.headers)
    low = await client.post(
        "/chat/completions", json=turn(file_id, detail="low"), headers=tenant.headers
    )
    base = plain.json()["usage"]["prompt_tokens"]
    assert high.json()["usage"]["prompt_tokens"] - base == 765
    assert low.json()["usage"]["prompt_tokens"] - base == 85


async def test_each_file_is_read_once_per_turn(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await upload(client, tenant, png(32, 32))
    second = await upload(client, tenant, png(40, 40))
    reads: list[str] = []
    real_read = runtime.storage.read

    async def counted(key: str) -> bytes:
        reads.append(key)
        return await real_read(key)

    monkeypatch.setattr(runtime.storage, "read", counted)
    ids = [first, second] * (settings.chat_max_images // 2)
    response = await client.post("/chat/completions", json=turn(*ids), headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert len(reads) == 2


async def test_only_the_newest_images_of_a_session_are_sent(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.chat_max_images = 2
    file_id = await upload(client, tenant, png(16, 16))
    first = await client.post(
        "/chat/completions", json=turn(file_id, file_id), headers=tenant.headers
    )
    session = first.json()["session_id"]
    sent: list[list[dict[str, Any]]] = []
    provider = runtime.chat_provider_for(runtime.catalog.get(CHAT))  # type: ignore[arg-type]
    real_stream = provider.stream

    def spied(request: Any) -> Any:
        sent.append(request.messages)
        return real_stream(request)

    monkeypatch.setattr(provider, "stream", spied)
    again = await client.post(
        "/chat/completions",
        json={**turn(file_id), "session_id": session},
        headers=tenant.headers,
    )
    assert again.status_code == 200, again.text
    parts = [p for m in sent[0] if isinstance(m["content"], list) for p in m["content"]]
    kinds = [p["type"] if p["type"] == "image_url" else p["text"] for p in parts]
    assert kinds.count("image_url") == 2
    assert kinds.index("(an earlier image, no longer sent to the model)") < kinds.index("image_url")


def test_a_turn_of_large_images_at_the_limit_stays_within_its_memory_bound(
    settings: Settings,
) -> None:
    """The limit's worth of parts naming five 20 MB images, in a fresh process (see
    tests/api/turn_memory.py): memory grows by about one image, not by one per part."""
    root = Path(__file__).parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "tests.api.turn_memory", str(settings.chat_max_images)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    grew_mb = float(run.stdout.split()[-1])
    assert grew_mb < PEAK_BOUND_MB, f"the turn took {grew_mb:.0f} MB"
