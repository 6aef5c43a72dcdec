"""`files` tag: uploads, metadata, downloads, deletion."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from rivya import idempotency
from rivya.api import header, render, replayed, runtime
from rivya.errors import InvalidRequest, NotFound
from rivya.files import service
from rivya.files.service import UPLOAD_PURPOSES


async def create_file(user: str, **form: Any) -> Response:
    """POST /files"""
    rt = runtime()
    upload, purpose = _form(form)
    key = header("Idempotency-Key")
    try:
        sniffed = await service.inspect_upload(
            upload.file,
            max_bytes=rt.settings.max_upload_bytes,
            max_pixels=rt.settings.max_image_pixels,
        )
        filename = service.safe_filename(upload.filename, sniffed.extension)
        if key:
            content = await service.digest(upload.file)
            print_ = idempotency.fingerprint("POST", "/files", [purpose, filename, content])
            replay = await idempotency.claim(rt.db, user, key, print_)
            if replay is not None:
                return replayed(replay)
        file_id, storage_key, size, sha256 = await service.save_upload(
            rt.storage, upload.file, sniffed
        )
    finally:
        await upload.close()
    record = service.new_record(
        file_id=file_id,
        account_id=user,
        filename=filename,
        content_type=sniffed.content_type,
        size=size,
        sha256=sha256,
        purpose=purpose,
        storage_key=storage_key,
    )
    try:
        async with rt.db.write() as conn:
            await service.insert_file(conn, record)
            if key:
                await idempotency.store(conn, user, key, 201, record.public())
    except BaseException:
        with contextlib.suppress(Exception):
            await rt.storage.delete(storage_key)
        if key:
            await idempotency.abandon(rt.db, user, key)
        raise
    return render(record.public(), 201)


def _form(form: dict[str, Any]) -> tuple[UploadFile, str]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("Send the file's bytes in the multipart field 'file'.")
    body = form.get("body") or {}
    purpose = body.get("purpose", "reference") if isinstance(body, dict) else "reference"
    if purpose not in UPLOAD_PURPOSES:
        raise InvalidRequest(f"purpose must be one of {', '.join(UPLOAD_PURPOSES)}.")
    return upload, purpose


async def list_files(
    user: str, limit: int = 20, after: str | None = None, purpose: str | None = None
) -> Response:
    """GET /files"""
    async with runtime().db.read() as conn:
        found, has_more = await service.list_files(
            conn, user, limit=limit, after=after, purpose=purpose
        )
    return render({"object": "list", "data": [f.public() for f in found], "has_more": has_more})


async def get_file(user: str, file_id: str) -> Response:
    """GET /files/{fileId}"""
    async with runtime().db.read() as conn:
        record = await service.get_file(conn, user, file_id)
    return render(record.public())


async def get_file_content(user: str, file_id: str) -> Response:
    """GET /files/{fileId}/content"""
    rt = runtime()
    async with rt.db.read() as conn:
        record = await service.get_file(conn, user, file_id)
    try:
        chunks = await rt.storage.open(record.storage_key)
    except KeyError:
        raise NotFound(f"The bytes of file {file_id} are gone.") from None
    disposition = f"attachment; filename*=UTF-8''{quote(record.filename)}"
    return StreamingResponse(
        chunks,
        media_type=record.content_type,
        headers={
            "Content-Length": str(record.bytes),
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{record.sha256}"',
            "Cache-Control": "private, max-age=86400, immutable",
        },
    )


async def delete_file(user: str, file_id: str) -> Response:
    """DELETE /files/{fileId}"""
    rt = runtime()
    async with rt.db.write() as conn:
        record = await service.delete_file(conn, user, file_id)
    with contextlib.suppress(Exception):
        await rt.storage.delete(record.storage_key)
    return render({"id": record.id, "object": "file", "deleted": True})
