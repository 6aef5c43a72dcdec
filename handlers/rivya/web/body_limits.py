"""Request body size limits, enforced on the byte stream in front of connexion's validation.

Connexion's body validators buffer the whole body to validate it, so a limit checked afterwards
comes too late: a huge body has been read into memory already. Here the Content-Length is checked
before anything is read, and the bytes are counted as they arrive (a chunked body has no length).
Multipart uploads are not buffered by connexion at all: Starlette's form parser spools them to
disk, and the handler checks the file itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from connexion.validators import AbstractRequestBodyValidator, JSONRequestBodyValidator
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from rivya.web import strict_json
from rivya.web.problems import ApiProblem
from rivya.web.request_context import SCOPE_KEY

# Multipart framing (boundaries, part headers, the other fields) around an upload's bytes.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(limit: int) -> ApiProblem:
    """The 413 problem."""
    return ApiProblem(413, "payload_too_large", f"The request body is larger than {limit} bytes.")


def limit_body(receive: Receive, scope: Scope, limit: int) -> Receive:
    """`receive`, refusing a body over `limit` bytes: at once when Content-Length says so, else
    as soon as the bytes read cross it."""
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return limited


class LimitedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON bodies up to `max_json_bytes`, parsed strictly (rivya.web.strict_json), then
    connexion's validation."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> Any:
        limit = scope[SCOPE_KEY].settings.max_json_bytes
        return await super().wrap_receive(limit_body(receive, scope, limit), scope=scope)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        text = b"".join([chunk async for chunk in stream]).decode(self._encoding)
        return strict_json.loads(text) if text else None


class StreamingUploadValidator(AbstractRequestBodyValidator):  # type: ignore[misc]
    """multipart/form-data bodies pass through unbuffered, counted against the upload limit; the
    handler validates the form (it must stream the file, so connexion must not read it)."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> Any:
        limit = scope[SCOPE_KEY].settings.max_upload_bytes + MULTIPART_OVERHEAD
        return limit_body(receive, scope, limit), scope
