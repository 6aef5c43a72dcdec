"""Image attachments of chat messages: they name Files API files, and only those.

A part `{"type": "image_url", "image_url": {"url": "rivya://files/file_…"}}` is checked to name
an image of the account when the turn comes in, stored as it is, and turned into a data URL of
the file's bytes only for the model's request.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from rivya.errors import InvalidRequest, NotFound
from rivya.files.service import StoredFile, get_file
from rivya.files.storage import Storage

SCHEME = "rivya://files/"
GONE = "(an attached image that has since been deleted)"


def _image_parts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        part
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image_url"
    ]


def _file_id(part: dict[str, Any]) -> str:
    url = str((part.get("image_url") or {}).get("url", ""))
    if not url.startswith(SCHEME):
        raise InvalidRequest(
            "Image parts must name an uploaded image as rivya://files/<file id>; upload the "
            "image with POST /api/v1/files first (external and data: URLs are not fetched).",
            code="invalid_attachment",
        )
    return url.removeprefix(SCHEME)


async def check(conn: AsyncConnection, account_id: str, messages: list[dict[str, Any]]) -> None:
    """Refuse parts that do not name an image file of the account."""
    for part in _image_parts(messages):
        file_id = _file_id(part)
        try:
            record = await get_file(conn, account_id, file_id)
        except NotFound:
            raise InvalidRequest(
                f"No file {file_id} in this account; upload it with POST /api/v1/files.",
                code="invalid_attachment",
            ) from None
        if record.kind != "image":
            raise InvalidRequest(
                f"{file_id} is {record.content_type}; only images can be attached.",
                code="invalid_attachment",
            )


async def for_model(
    conn: AsyncConnection, storage: Storage, account_id: str, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A copy of the messages with each attachment as a data URL (a deleted one as a note)."""
    resolved = copy.deepcopy(messages)
    for message in resolved:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for index, part in enumerate(content):
            if not (isinstance(part, dict) and part.get("type") == "image_url"):
                continue
            record = await _find(conn, account_id, _file_id(part))
            data = await _read(storage, record) if record else None
            if record is None or data is None:
                content[index] = {"type": "text", "text": GONE}
                continue
            url = f"data:{record.content_type};base64,{base64.b64encode(data).decode('ascii')}"
            part["image_url"] = {**part["image_url"], "url": url}
    return resolved


async def _find(conn: AsyncConnection, account_id: str, file_id: str) -> StoredFile | None:
    try:
        return await get_file(conn, account_id, file_id)
    except NotFound:
        return None


async def _read(storage: Storage, record: StoredFile) -> bytes | None:
    try:
        return await storage.read(record.storage_key)
    except KeyError:
        return None
