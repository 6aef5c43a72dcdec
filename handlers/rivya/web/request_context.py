"""Per-request context: a request id on every response and log line, an access log line, and the
runtime handed to handlers and security functions through the ASGI scope."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rivya.ids import new_id

if TYPE_CHECKING:
    from rivya.runtime import Runtime

SCOPE_KEY = "rivya.runtime"
# Headers that code deeper in the stack adds to the answer (connexion copies the scope between
# its middlewares, so this is a list shared by reference, not a key set later).
HEADERS_KEY = "rivya.headers"
request_id_var: ContextVar[str] = ContextVar("rivya_request_id", default="-")
access_log = logging.getLogger("rivya.access")


def current_request_id() -> str:
    """The id of the request being served ('-' outside a request)."""
    return request_id_var.get()


class RequestContextMiddleware:
    """Outermost application middleware: sets up the request id and logs each request once."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("req")
        token = request_id_var.set(request_id)
        scope[SCOPE_KEY] = self.runtime
        extra: list[tuple[str, str]] = []
        scope[HEADERS_KEY] = extra
        started = time.perf_counter()
        status = 0
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {k.lower() for k, _ in message.get("headers", ())}
                added = [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in extra
                    if k.lower().encode("latin-1") not in present
                ]
                message = {**message, "headers": [*message.get("headers", ()), *added, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status or "-",
                (time.perf_counter() - started) * 1000,
            )
            request_id_var.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record, so formats can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
