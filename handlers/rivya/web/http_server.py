"""How uvicorn serves the app: its HTTP protocol with a limit on the size of a request head.

uvicorn's httptools protocol (the one it picks when httptools is installed, as here) sets no limit
on the request line and headers: a client can send a megabyte of headers, and httptools buffers a
header value whole before reporting it. This protocol counts the head as it arrives and answers
431 (Request Header Fields Too Large, a problem document) and closes the connection as soon as it
passes `RIVYA_MAX_HEADER_BYTES`, so no more than that (plus one socket read) is ever held. The
limit only applies in front of the app, so `rivya serve` and the tests' live server share this.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rivya.ids import new_id
from rivya.settings import Settings


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the limit."""


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over `max_head_bytes` with a 431."""

    max_head_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        # Bytes of the socket reads that ended inside the current head (this overcounts only
        # when a read also held the end of a pipelined request before it), and the size of the
        # read being parsed. Counting reads, not parser callbacks, costs nothing per header and
        # covers a long header that httptools is still buffering.
        self._head_received = 0
        self._read_size = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._read_size = len(data)
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_received += len(data)
            if self._head_received > self.max_head_bytes:
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_received = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        # The head ended in this read: measure it exactly only when it could be over the limit.
        if self._head_received + self._read_size > self.max_head_bytes and (
            self._head_size() > self.max_head_bytes
        ):
            self._refused = True
            raise HeadTooLarge
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser error, ours included, through this.
        if self._refused:
            self._send_431()
        else:
            super().send_400_response(msg)

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse(self) -> None:
        self._refused = True
        self._send_431()

    def _send_431(self) -> None:
        request_id = new_id("req")
        self.logger.warning("[%s] request head over %d bytes: 431", request_id, self.max_head_bytes)
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Request Header Fields Too Large",
                "status": 431,
                "detail": f"The request line and headers are larger than {self.max_head_bytes} "
                "bytes.",
                "code": "request_header_fields_too_large",
                "request_id": request_id,
            }
        ).encode("ascii")
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/problem+json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.Config options that carry the settings' limits."""
    protocol = type(
        "HeadLimitedHttpToolsProtocol",
        (HeadLimitedHttpToolsProtocol,),
        {"max_head_bytes": settings.max_header_bytes},
    )
    return {"http": protocol}
