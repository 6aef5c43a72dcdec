"""Image attachments of chat messages: they name Files API files, and only those.

A part `{"type": "image_url", "image_url": {"url": "rivya://files/file_…", "detail": …}}` is
checked to name an image of the account when the turn comes in (at most the limit of image parts
in a turn's new messages, 422 beyond), stored as it is, and turned into a data URL only for the
model's request, scaled to what the model looks at (rivya.chat.images). The model is sent the
newest images of the conversation up to the same limit; earlier ones become a note, so that a
long session cannot grow a request without bound.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from rivya.chat import images
from rivya.errors import InvalidRequest, NotFound
from rivya.files.service import StoredFile, get_file
from rivya.files.storage import Storage

SCHEME = "rivya://files/"
GONE = "(an attached image that has since been deleted)"
EARLIER = "(an earlier image, no longer sent to the model)"


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


async def check(
    conn: AsyncConnection, account_id: str, messages: list[dict[str, Any]], *, limit: int
) -> None:
    """Refuse more than `limit` image parts, and parts that do not name an image file of the
    account."""
    parts = _image_parts(messages)
    if len(parts) > limit:
        raise InvalidRequest(
            f"A turn may attach at most {limit} images; this one has {len(parts)}.",
            code="too_many_images",
        )
    for file_id in dict.fromkeys(_file_id(part) for part in parts):
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


@dataclass(frozen=True)
class ForModel:
    """A conversation as the model is sent it, and what its images cost in prompt tokens."""

    messages: list[dict[str, Any]]
    image_tokens: int


async def for_model(
    conn: AsyncConnection,
    storage: Storage,
    account_id: str,
    messages: list[dict[str, Any]],
    *,
    limit: int,
) -> ForModel:
    """A copy of the messages with the newest `limit` attachments as data URLs of what the
    model looks at (rivya.chat.images), older ones and deleted ones as a note. Each file is
    read once, however many parts name it."""
    resolved = copy.deepcopy(messages)
    parts = _image_parts(resolved)
    kept = parts[-limit:] if limit else []
    for part in parts[: len(parts) - len(kept)]:
        _to_note(part, EARLIER)
    wanted: dict[str, set[str]] = {}
    for part in kept:
        wanted.setdefault(_file_id(part), set()).add(
            images.detail_of(part["image_url"].get("detail"))
        )
    sent: dict[tuple[str, str], images.SentImage] = {}
    for file_id, details in wanted.items():
        record = await _find(conn, account_id, file_id)
        data = await _read(storage, record) if record else None
        if record is None or data is None:
            continue
        for detail in details:
            sent[file_id, detail] = await images.for_model(data, record.content_type, detail)
        del data  # one upload's bytes in memory at a time
    tokens = 0
    for part in kept:
        detail = images.detail_of(part["image_url"].get("detail"))
        image = sent.get((_file_id(part), detail))
        if image is None:
            _to_note(part, GONE)
            continue
        part["image_url"] = {**part["image_url"], "url": image.data_url}
        tokens += images.image_tokens(image.width, image.height, detail)
    return ForModel(resolved, tokens)


def _to_note(part: dict[str, Any], text: str) -> None:
    part.clear()
    part.update({"type": "text", "text": text})


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
