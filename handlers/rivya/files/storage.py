"""Where uploaded and generated files are kept: a local directory or an S3-compatible bucket.

Keys are names the server generates, never a client's filename. Every backend streams: `put`
holds at most one block of a file in memory, and `open` hands a file back in chunks. A missing
key raises `KeyError` from `open`, `read` and `size`; `delete` of a missing key does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import stat
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk that `open` yields, and per write that LocalStorage makes."""

MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part of a multipart upload (all but the last part)."""

PART_SIZE = 8 * 1024 * 1024
"""S3Storage's default part size; smaller streams are stored with a single PutObject."""

MAX_KEY_LENGTH = 512

# A key is "/"-separated segments of these characters. No segment may start with a dot, which
# rules out "." and ".." and keeps keys apart from LocalStorage's hidden temporary files.
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")

# How each backend says "no such file": S3's GetObject answers NoSuchKey, HeadObject a bare 404.
_MISSING_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
_MISSING_S3_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class Storage(Protocol):
    """A place that keeps files by key."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """Store the stream under `key`, replacing any file there. The file appears whole or not
        at all: if `chunks` raises (or the call is cancelled), nothing is left behind."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The file's contents in chunks; raises `KeyError` here, before any chunk, if it is
        missing. The iterator holds the file open until it is exhausted or closed."""
        ...

    async def read(self, key: str) -> bytes:
        """The whole file, for small files only (a provider's input); `KeyError` if missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; removing a missing file is not an error."""
        ...

    async def size(self, key: str) -> int:
        """The file's length in bytes; `KeyError` if missing."""
        ...


def validate_key(key: str) -> str:
    """Return `key` if it is a relative path of safe segments (`[A-Za-z0-9_.-]+`, none starting
    with a dot); raise ValueError otherwise."""
    if len(key) > MAX_KEY_LENGTH or not all(map(_KEY_SEGMENT.fullmatch, key.split("/"))):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def storage_from_settings(data_dir: Path, url: str | None) -> Storage:
    """The storage that settings name: with no URL, files under `data_dir`/files; otherwise an
    S3 bucket given as `s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1`
    (both query parameters optional). Credentials come from the AWS environment, never the URL."""
    if not url:
        return LocalStorage(data_dir / "files")
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme != "s3" or not parts.netloc or "@" in parts.netloc:
        raise ValueError("a storage URL must look like s3://bucket/prefix")
    if unknown := options.keys() - {"endpoint_url", "region"}:
        raise ValueError(f"unknown storage URL parameters: {', '.join(sorted(unknown))}")
    return S3Storage(
        parts.netloc,
        endpoint_url=options.get("endpoint_url"),
        region=options.get("region"),
        prefix=parts.path,
    )


class LocalStorage:
    """Files in a directory tree under `root`. Each file is written to a hidden temporary name
    beside its final one, synced and renamed, so readers never see part of a file and a crash
    leaves at most a stray `.*.tmp`. Blocking file calls run in worker threads."""

    def __init__(self, root: Path, *, chunk_size: int = CHUNK_SIZE) -> None:
        self.root = root
        self.chunk_size = chunk_size

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """See `Storage.put`."""
        path = self._path(key)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        file = await asyncio.to_thread(_create, temp)
        try:
            async with aclosing(_blocks(chunks, self.chunk_size)) as blocks:
                async for block in blocks:
                    await asyncio.to_thread(file.write, block)
            await asyncio.to_thread(_commit, file, temp, path)
        except BaseException:
            # Not in a thread: inside a cancelled anyio scope every further await is cancelled
            # too, and closing and unlinking one file is quick.
            file.close()
            temp.unlink(missing_ok=True)
            raise

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """See `Storage.open`."""
        path = self._path(key)
        with _missing_is_key_error(key):
            file = await asyncio.to_thread(path.open, "rb")
        return _chunks(file, self.chunk_size)

    async def read(self, key: str) -> bytes:
        """See `Storage.read`."""
        path = self._path(key)
        with _missing_is_key_error(key):
            return await asyncio.to_thread(path.read_bytes)

    async def delete(self, key: str) -> None:
        """See `Storage.delete`."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def size(self, key: str) -> int:
        """See `Storage.size`."""
        path = self._path(key)
        with _missing_is_key_error(key):
            status = await asyncio.to_thread(path.stat)
        if not stat.S_ISREG(status.st_mode):
            raise KeyError(key)
        return status.st_size


class S3Storage:
    """Objects in an S3-compatible bucket, named `prefix` + key. boto3 is synchronous, so each
    call runs in a worker thread (its clients are thread-safe). Credentials come from the standard
    AWS chain: environment variables, shared credential files, instance or task roles."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        part_size: int = PART_SIZE,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.chunk_size = chunk_size
        config = Config(retries={"mode": "standard"})
        if endpoint_url:
            # S3-compatible servers (MinIO, Ceph, moto) are reached at a bare host or IP, where
            # virtual-hosted bucket names cannot resolve; and many refuse the x-amz-checksum-*
            # headers that botocore sends by default since 1.36.
            config = config.merge(
                Config(
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
            )
        # A session of its own: boto3's shared default session is not safe to use from threads.
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """See `Storage.put`. A stream shorter than one part is sent with a single PutObject;
        a longer one as a multipart upload, which is aborted if anything fails."""
        name = self._name(key)
        async with aclosing(_blocks(chunks, self.part_size)) as blocks:
            first = await anext(blocks, b"")
            if len(first) < self.part_size:
                await self._call("put_object", Key=name, Body=first)
                return
            upload = await self._call("create_multipart_upload", Key=name)
            upload_id = upload["UploadId"]
            try:
                parts = [await self._upload_part(name, upload_id, 1, first)]
                async for block in blocks:
                    parts.append(await self._upload_part(name, upload_id, len(parts) + 1, block))
                await self._call(
                    "complete_multipart_upload",
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            except BaseException:
                # Shielded, and started before the await: a cancelled caller must still abort,
                # or the uploaded parts linger (and are billed) until a lifecycle rule ends them.
                abort = asyncio.get_running_loop().run_in_executor(
                    None,
                    partial(
                        self._client.abort_multipart_upload,
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                    ),
                )
                try:
                    await asyncio.shield(abort)
                except Exception:
                    # The upload's own error is the one to report; a lifecycle rule must mop up.
                    log.warning("could not abort the multipart upload of %s", name, exc_info=True)
                raise

    async def _upload_part(
        self, name: str, upload_id: str, number: int, block: bytes
    ) -> dict[str, Any]:
        answer = await self._call(
            "upload_part", Key=name, UploadId=upload_id, PartNumber=number, Body=block
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """See `Storage.open`."""
        with _missing_is_key_error(key):
            answer = await self._call("get_object", Key=self._name(key))
        return _chunks(answer["Body"], self.chunk_size)

    async def read(self, key: str) -> bytes:
        """See `Storage.read`."""
        with _missing_is_key_error(key):
            answer = await self._call("get_object", Key=self._name(key))
        body = answer["Body"]
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def delete(self, key: str) -> None:
        """See `Storage.delete`."""
        await self._call("delete_object", Key=self._name(key))

    async def size(self, key: str) -> int:
        """See `Storage.size`."""
        with _missing_is_key_error(key):
            answer = await self._call("head_object", Key=self._name(key))
        return int(answer["ContentLength"])

    async def _call(self, operation: str, **params: Any) -> Any:
        return await asyncio.to_thread(
            getattr(self._client, operation), Bucket=self.bucket, **params
        )


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


async def _chunks(source: _Readable, size: int) -> AsyncIterator[bytes]:
    """Read `source` in a worker thread, `size` bytes at a time, and close it at the end."""
    try:
        while chunk := await asyncio.to_thread(source.read, size):
            yield chunk
    finally:
        source.close()


async def _blocks(chunks: AsyncIterable[bytes], size: int) -> AsyncGenerator[bytes, None]:
    """Regroup a stream into blocks of at least `size` bytes (the last may be shorter, never
    empty), so that a stream of small chunks costs one thread hop or one request per block."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            # Rebinding frees the buffer before the yield, so only one block's copy is held.
            block, buffer = bytes(buffer), bytearray()
            yield block
    if buffer:
        yield bytes(buffer)


@contextmanager
def _missing_is_key_error(key: str) -> Iterator[None]:
    """Turn each backend's own "no such file" into the `KeyError` that `Storage` promises."""
    try:
        yield
    except _MISSING_FILE_ERRORS as exc:
        raise KeyError(key) from exc
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_S3_CODES:
            raise KeyError(key) from exc
        raise


def _create(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("xb")


def _commit(file: BinaryIO, temp: Path, path: Path) -> None:
    """Make the temporary file durable, then give it its final name in one atomic step."""
    file.flush()
    os.fsync(file.fileno())
    file.close()
    os.replace(temp, path)
    # The rename itself is durable only once the directory is synced.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
