"""Files of an account: uploads (reference media, chat attachments) and generation outputs.

Rows hold what the API shows; bytes live in a Storage under a generated key (`<file id>.<ext>`),
never under a client's filename. A file's type is sniffed from its bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock, idempotency
from rivya.errors import InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from rivya.files.sniff import ALLOWED, HEAD_BYTES, FileRejected, Sniffed, check_image, sniff
from rivya.files.storage import Storage
from rivya.ids import new_id
from rivya.store.db import Database
from rivya.store.tables import files

UPLOAD_PURPOSES = ("reference", "chat")
OUTPUT_PURPOSE = "generation_output"
CHUNK = 1024 * 1024
_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]]+")


@dataclass(frozen=True)
class StoredFile:
    """A file's row."""

    id: str
    account_id: str
    filename: str
    content_type: str
    bytes: int
    sha256: str
    purpose: str
    storage_key: str
    task_id: str | None
    created_at: int

    @property
    def kind(self) -> str:
        """image, audio or video."""
        return ALLOWED[self.content_type].kind

    def public(self) -> dict[str, Any]:
        """The file as the API shows it."""
        return {
            "id": self.id,
            "object": "file",
            "filename": self.filename,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "purpose": self.purpose,
            "created_at": self.created_at,
        }


def content_url(file_id: str) -> str:
    """Where the file's bytes are served."""
    return f"/api/v1/files/{file_id}/content"


def safe_filename(name: str | None, extension: str) -> str:
    """A display name: the client's base name without path or control characters, at most 255
    characters; 'upload.<ext>' when nothing usable is left."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("_", base).strip(" ._")[:255]
    return base or f"upload.{extension}"


async def inspect_upload(source: IO[bytes], *, max_bytes: int, max_pixels: int) -> Sniffed:
    """Decide what an upload is and whether it is acceptable; leaves `source` rewound."""
    size = source.seek(0, 2)
    if size > max_bytes:
        raise PayloadTooLarge(f"The upload is larger than {max_bytes} bytes.")
    if size == 0:
        raise InvalidRequest("The uploaded file is empty.", code="empty_file")
    source.seek(0)
    sniffed = sniff(source.read(HEAD_BYTES))
    source.seek(0)
    if sniffed is None:
        raise UnsupportedMediaType(
            "Only images (PNG, JPEG, GIF, WebP), audio (WAV, MP3, FLAC, Ogg, M4A) and video "
            "(MP4, QuickTime, WebM) can be uploaded; the type is read from the file's content."
        )
    if sniffed.kind == "image":
        await asyncio.to_thread(check_image, source, max_pixels=max_pixels)
        source.seek(0)
    return sniffed


async def save_upload(
    storage: Storage, source: IO[bytes], sniffed: Sniffed
) -> tuple[str, str, int, str]:
    """Copy an inspected upload into storage; returns (file id, storage key, size, sha256)."""
    file_id = new_id("file")
    key = f"{file_id}.{sniffed.extension}"
    digest = hashlib.sha256()
    size = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal size
        while chunk := await asyncio.to_thread(source.read, CHUNK):
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    await storage.put(key, chunks())
    return file_id, key, size, digest.hexdigest()


async def upload(
    db: Database,
    storage: Storage,
    account_id: str,
    source: IO[bytes],
    *,
    name: str | None,
    purpose: str,
    limits: tuple[int, int],
    idempotency_key: str | None,
    refusal: idempotency.Refusal,
) -> idempotency.StoredAnswer:
    """Accept an upload: check it, store its bytes, then record it (once per idempotency key).
    `limits` is (max bytes, max image pixels). The bytes are stored before the row so that no
    database transaction waits on storage; bytes that end up unrecorded are deleted."""
    if purpose not in UPLOAD_PURPOSES:
        raise InvalidRequest(f"purpose must be one of {', '.join(UPLOAD_PURPOSES)}.")
    sniffed = await inspect_upload(source, max_bytes=limits[0], max_pixels=limits[1])
    filename = safe_filename(name, sniffed.extension)
    file_id, key, size, sha256 = await save_upload(storage, source, sniffed)
    record = new_record(
        file_id=file_id,
        account_id=account_id,
        filename=filename,
        content_type=sniffed.content_type,
        size=size,
        sha256=sha256,
        purpose=purpose,
        storage_key=key,
    )

    async def record_it(conn: AsyncConnection) -> tuple[int, dict[str, Any]]:
        await insert_file(conn, record)
        return 201, record.public()

    print_ = idempotency.fingerprint("POST", "/files", [purpose, filename, sha256])
    try:
        answer = await idempotency.run_once(
            db, account_id, idempotency_key, print_, record_it, refusal
        )
    except BaseException:
        await storage.delete(key)
        raise
    if answer.replayed:
        await storage.delete(key)
    return answer


async def inspect_output(data: bytes, kind: str, *, max_bytes: int, max_pixels: int) -> Sniffed:
    """Decide what a generated output is, as an upload's type is decided, and whether a model of
    `kind` may have made it. Raises FileRejected: "empty_output", "output_too_large" (over
    `max_bytes`), "unsupported_type" (none of ALLOWED: HTML, SVG, JSON…), "wrong_kind" (an
    image model's output must be an image, and so on), or check_image's refusals for an image
    (too many pixels, a decompression bomb, damaged)."""
    if not data:
        raise FileRejected("empty_output", "The output is empty.")
    if len(data) > max_bytes:
        raise FileRejected("output_too_large", f"The output is larger than {max_bytes} bytes.")
    sniffed = sniff(data[:HEAD_BYTES])
    if sniffed is None:
        raise FileRejected("unsupported_type", "The output is not a supported media type.")
    if sniffed.kind != kind:
        raise FileRejected(
            "wrong_kind", f"A {kind} model made a {sniffed.content_type} file, not {kind}."
        )
    if sniffed.kind == "image":
        await asyncio.to_thread(check_image, data, max_pixels=max_pixels)
    return sniffed


async def save_bytes(storage: Storage, data: bytes, sniffed: Sniffed) -> tuple[str, str, str]:
    """Store an inspected generated output; returns (file id, storage key, sha256)."""
    file_id = new_id("file")
    key = f"{file_id}.{sniffed.extension}"

    async def one() -> AsyncIterator[bytes]:
        yield data

    await storage.put(key, one())
    return file_id, key, hashlib.sha256(data).hexdigest()


async def insert_file(
    conn: AsyncConnection, record: StoredFile, position: int | None = None
) -> None:
    """Add the row of a stored file."""
    await conn.execute(
        files.insert().values(
            id=record.id,
            account_id=record.account_id,
            filename=record.filename,
            content_type=record.content_type,
            bytes=record.bytes,
            sha256=record.sha256,
            purpose=record.purpose,
            storage_key=record.storage_key,
            task_id=record.task_id,
            position=position,
            created_at=record.created_at,
        )
    )


def new_record(
    *,
    file_id: str,
    account_id: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    purpose: str,
    storage_key: str,
    task_id: str | None = None,
) -> StoredFile:
    """A row to insert, stamped now."""
    return StoredFile(
        file_id, account_id, filename, content_type, size, sha256, purpose, storage_key,
        task_id, clock.now(),
    )  # fmt: skip


async def get_file(conn: AsyncConnection, account_id: str, file_id: str) -> StoredFile:
    """The account's file, or NotFound (another account's file is not found either)."""
    row = (
        await conn.execute(
            select(files).where(files.c.id == file_id, files.c.account_id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No file {file_id} has been found.")
    return _record(row)


async def list_files(
    conn: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    after: str | None = None,
    purpose: str | None = None,
) -> tuple[list[StoredFile], bool]:
    """A page of the account's files, newest first, and whether more follow."""
    query = select(files).where(files.c.account_id == account_id)
    if after:
        query = query.where(files.c.id < after)
    if purpose:
        query = query.where(files.c.purpose == purpose)
    rows = (await conn.execute(query.order_by(files.c.id.desc()).limit(limit + 1))).all()
    return [_record(r) for r in rows[:limit]], len(rows) > limit


async def task_outputs(conn: AsyncConnection, task_ids: list[str]) -> dict[str, list[StoredFile]]:
    """The outputs of each task, in order."""
    if not task_ids:
        return {}
    rows = await conn.execute(
        select(files).where(files.c.task_id.in_(task_ids)).order_by(files.c.position)
    )
    found: dict[str, list[StoredFile]] = {}
    for row in rows:
        found.setdefault(row.task_id, []).append(_record(row))
    return found


async def delete_file(conn: AsyncConnection, account_id: str, file_id: str) -> StoredFile:
    """Remove the row (the caller deletes the bytes after commit)."""
    record = await get_file(conn, account_id, file_id)
    await conn.execute(delete(files).where(files.c.id == file_id))
    return record


def _record(row: Row[Any]) -> StoredFile:
    return StoredFile(
        row.id, row.account_id, row.filename, row.content_type, row.bytes, row.sha256,
        row.purpose, row.storage_key, row.task_id, row.created_at,
    )  # fmt: skip
