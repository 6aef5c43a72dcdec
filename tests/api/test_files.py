"""The Files API: uploads typed by their bytes, limits acting on the stream, downloads served
safely, idempotent retries, deletion. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import struct
import wave
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from rivya.runtime import Runtime
from rivya.settings import Settings
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant


def png(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, "PNG")
    return out.getvalue()


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


def bomb() -> bytes:
    """A valid little PNG whose header claims 50,000 x 50,000 pixels."""
    data = bytearray(png(1, 1))
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


async def upload(
    http: httpx.AsyncClient, tenant: Tenant, data: bytes, name: str = "x.bin", **extra: str
) -> httpx.Response:
    headers = {**tenant.headers}
    if "key" in extra:
        headers["Idempotency-Key"] = extra.pop("key")
    return await http.post("/files", files={"file": (name, data)}, data=extra, headers=headers)


async def test_upload_read_download_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    data = png()
    response = await upload(client, tenant, data, "../../etc/My Fox.PNG", purpose="chat")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("file_") and created["object"] == "file"
    assert created["content_type"] == "image/png" and created["bytes"] == len(data)
    assert created["sha256"] == hashlib.sha256(data).hexdigest()
    assert created["filename"] == "My Fox.PNG" and created["purpose"] == "chat"

    fetched = await client.get(f"/files/{created['id']}", headers=tenant.headers)
    assert fetched.json() == created
    content = await client.get(f"/files/{created['id']}/content", headers=tenant.headers)
    assert content.content == data
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"] == "attachment; filename*=UTF-8''My%20Fox.PNG"

    listed = (await client.get("/files?purpose=chat", headers=tenant.headers)).json()
    assert [f["id"] for f in listed["data"]] == [created["id"]]

    deleted = await client.delete(f"/files/{created['id']}", headers=tenant.headers)
    assert deleted.json() == {"id": created["id"], "object": "file", "deleted": True}
    gone = await client.get(f"/files/{created['id']}/content", headers=tenant.headers)
    assert_problem(gone, 404, "not_found")


async def test_the_type_comes_from_the_bytes(client: httpx.AsyncClient, tenant: Tenant) -> None:
    sound = await upload(client, tenant, wav(), "song.png")
    assert sound.status_code == 201 and sound.json()["content_type"] == "audio/wav"
    for data, name in [
        (b"<html><script>alert(1)</script></html>", "page.png"),
        (b"%PDF-1.4\n%%EOF", "doc.png"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "run.mp4"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "icon.svg"),
    ]:
        assert_problem(await upload(client, tenant, data, name), 415, "unsupported_file_type")
    assert (await client.get("/files", headers=tenant.headers)).json()["data"] == [sound.json()]


async def test_images_are_checked(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_problem(await upload(client, tenant, bomb(), "b.png"), 422, "image_too_large")
    broken = png()[:40] + b"\x00" * 40
    assert_problem(await upload(client, tenant, broken, "c.png"), 422, "corrupt_image")


async def test_bad_forms(client: httpx.AsyncClient, tenant: Tenant) -> None:
    no_file = await client.post("/files", data={"purpose": "reference"}, headers=tenant.headers)
    assert 400 <= no_file.status_code < 500
    empty = await upload(client, tenant, b"")
    assert_problem(empty, 422, "empty_file")
    wrong = await upload(client, tenant, png(), purpose="generation_output")
    assert 400 <= wrong.status_code < 500
    raw = await client.post(
        "/files",
        content=b"\xff" * 100,
        headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= raw.status_code < 500


@pytest.fixture
def small_limit(settings: Settings) -> Settings:
    settings.max_upload_bytes = 100_000
    return settings


async def test_the_size_limit_acts_on_the_stream(
    small_limit: Settings, runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    too_big = png() + b"\x00" * 200_000
    assert_problem(await upload(client, tenant, too_big, "big.png"), 413, "payload_too_large")

    sent = 0

    async def chunks() -> object:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        for _ in range(1000):  # 64 MB if it were all read, sent without a Content-Length
            sent += 1
            yield b"-" * 64_000
        yield b"\r\n--b--\r\n"

    chunked = await client.post(
        "/files",
        content=chunks(),
        headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_problem(chunked, 413, "payload_too_large")
    assert sent < 10, "the body was read past the limit"
    assert (await client.get("/files", headers=tenant.headers)).json()["data"] == []
    assert nothing_stored(Path(runtime.settings.data_dir, "files"))


def nothing_stored(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


async def test_an_idempotent_upload_is_stored_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await upload(client, tenant, png(), "a.png", key="up-1")
    again = await upload(client, tenant, png(), "a.png", key="up-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await upload(client, tenant, png(8, 8), "a.png", key="up-1")
    assert_problem(other, 422, "idempotency_key_reused")
    assert len((await client.get("/files", headers=tenant.headers)).json()["data"]) == 1
