"""`files` tag: uploads, metadata, downloads, deletion."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from rivya.api import answer_response, header, render, runtime
from rivya.errors import InvalidRequest, NotFound
from rivya.files import service
from rivya.web.problems import domain_problem


async def create_file(user: str, **form: Any) -> Response:
    """POST /files"""
    rt = runtime()
    source = form.get("file")
    if not isinstance(source, UploadFile):
        raise InvalidRequest("Send the file's bytes in the multipart field 'file'.")
    fields = form.get("body")
    purpose = fields.get("purpose", "reference") if isinstance(fields, dict) else "reference"
    try:
        answer = await service.upload(
            rt.db,
            rt.storage,
            user,
            source.file,
            name=source.filename,
            purpose=str(purpose),
            limits=(rt.settings.max_upload_bytes, rt.settings.max_image_pixels),
            idempotency_key=header("Idempotency-Key"),
            refusal=domain_problem,
        )
    finally:
        await source.close()
    return answer_response(answer)


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
