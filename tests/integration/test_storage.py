"""Both storage backends behave alike: streamed round trips, atomic replacement, idempotent
deletes, KeyError for missing keys, and nothing left behind by a failed or cancelled upload. S3
runs against moto's S3 server on 127.0.0.1, started once for the module."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from rivya.files.storage import (
    PART_SIZE,
    LocalStorage,
    S3Storage,
    Storage,
    storage_from_settings,
)

MiB = 1024 * 1024


class Boom(Exception):
    """The upload's source failing part-way."""


@dataclass
class Backend:
    storage: Storage
    leftovers: Callable[[], list[str]]
    """Everything the backend holds: files (with temporaries), or objects and unfinished uploads."""


@dataclass
class S3Server:
    endpoint: str
    admin: Any
    """A boto3 client for setting up and inspecting buckets."""


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    admin = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield S3Server(endpoint, admin)
    server.stop()


@pytest.fixture(params=["local", "s3"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    if request.param == "local":
        root = tmp_path / "data" / "files"
        storage = storage_from_settings(tmp_path / "data", None)
        assert isinstance(storage, LocalStorage) and storage.root == root
        return Backend(storage, lambda: sorted(str(p) for p in root.rglob("*") if p.is_file()))

    s3: S3Server = request.getfixturevalue("s3_server")
    # Dummy credentials through the standard chain, and no stray profile from the machine.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    bucket = f"rivya-test-{secrets.token_hex(4)}"
    s3.admin.create_bucket(Bucket=bucket)
    storage = storage_from_settings(
        tmp_path, f"s3://{bucket}/uploads?endpoint_url={s3.endpoint}&region=us-east-1"
    )
    assert isinstance(storage, S3Storage) and storage.prefix == "uploads/"

    def leftovers() -> list[str]:
        objects = s3.admin.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = s3.admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [o["Key"] for o in objects] + [f"upload of {u['Key']}" for u in uploads]

    return Backend(storage, leftovers)


async def stream(
    data: bytes, chunk: int = 64 * 1024, fail_at: int | None = None
) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        if fail_at is not None and start >= fail_at:
            raise Boom
        yield data[start : start + chunk]


async def drain(storage: Storage, key: str) -> tuple[str, int]:
    """The sha256 and the number of chunks of what `open` yields."""
    digest, count = hashlib.sha256(), 0
    async for chunk in await storage.open(key):
        digest.update(chunk)
        count += 1
    return digest.hexdigest(), count


async def test_a_large_stream_round_trips(backend: Backend) -> None:
    data = os.urandom(12 * MiB)  # over one S3 part, so the multipart path runs
    await backend.storage.put("ab/cd/file_1.bin", stream(data))
    assert await backend.storage.size("ab/cd/file_1.bin") == len(data)
    digest, chunks = await drain(backend.storage, "ab/cd/file_1.bin")
    assert digest == hashlib.sha256(data).hexdigest() and chunks > 1
    assert await backend.storage.read("ab/cd/file_1.bin") == data


@pytest.mark.parametrize("data", [b"", b"hello"], ids=["empty", "small"])
async def test_small_files_round_trip(backend: Backend, data: bytes) -> None:
    await backend.storage.put("small.txt", stream(data))
    assert await backend.storage.read("small.txt") == data
    assert await backend.storage.size("small.txt") == len(data)
    assert b"".join([chunk async for chunk in await backend.storage.open("small.txt")]) == data


async def test_a_file_is_replaced_only_once_the_new_one_is_whole(backend: Backend) -> None:
    storage = backend.storage
    await storage.put("f", stream(b"old"))

    async def new_version() -> AsyncIterator[bytes]:
        yield bytes(PART_SIZE + MiB)  # S3 has uploaded a part once this generator resumes
        assert await storage.read("f") == b"old"
        yield bytes(MiB)

    await storage.put("f", new_version())
    assert await storage.size("f") == PART_SIZE + 2 * MiB


async def test_delete_is_idempotent(backend: Backend) -> None:
    await backend.storage.put("gone", stream(b"x"))
    await backend.storage.delete("gone")
    await backend.storage.delete("gone")
    await backend.storage.delete("never-there")
    with pytest.raises(KeyError):
        await backend.storage.size("gone")
    assert backend.leftovers() == []


async def test_a_missing_key_raises_key_error_before_any_chunk(backend: Backend) -> None:
    with pytest.raises(KeyError):
        await backend.storage.open("missing")
    with pytest.raises(KeyError):
        await backend.storage.read("missing/nested")
    with pytest.raises(KeyError):
        await backend.storage.size("missing")


@pytest.mark.parametrize(
    "key",
    [
        *("", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", ".hidden"),
        *("a b", "a\\b", "é", "a\nb", "x" * 600),
    ],
)
async def test_unsafe_keys_are_refused(backend: Backend, key: str) -> None:
    storage = backend.storage
    with pytest.raises(ValueError):
        await storage.put(key, stream(b"x"))
    for call in (storage.open, storage.read, storage.size, storage.delete):
        with pytest.raises(ValueError):
            await call(key)
    assert backend.leftovers() == []


@pytest.mark.parametrize(
    "fail_at", [64 * 1024, PART_SIZE + 2 * MiB], ids=["within a part", "after a part"]
)
async def test_a_failing_stream_leaves_nothing_behind(backend: Backend, fail_at: int) -> None:
    with pytest.raises(Boom):
        await backend.storage.put("broken", stream(os.urandom(12 * MiB), fail_at=fail_at))
    with pytest.raises(KeyError):
        await backend.storage.size("broken")
    assert backend.leftovers() == []


async def test_a_cancelled_upload_leaves_nothing_behind(backend: Backend) -> None:
    reached = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        for _ in range(PART_SIZE // MiB + 1):
            yield bytes(MiB)
        reached.set()
        await asyncio.Event().wait()
        yield b"never"

    upload = asyncio.create_task(backend.storage.put("stalled", stalls()))
    await asyncio.wait_for(reached.wait(), timeout=10)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert backend.leftovers() == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///tmp/x",
        "s3://",
        "s3://key:secret@bucket/prefix",
        "s3://bucket/prefix?endpoint=http://127.0.0.1:9000",
    ],
)
def test_bad_storage_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        storage_from_settings(tmp_path, url)
