"""The server in front of the app (uvicorn with rivya.web.http_server's protocol): a request head
over RIVYA_MAX_HEADER_BYTES is a 431 problem and a closed connection, and the server goes on."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from rivya.settings import Settings
from tests.integration.test_server import Server

LIMIT = 64 * 1024


def _exchange(url: str, payload: bytes) -> bytes:
    """Send `payload` on a new connection and read until the server closes it. A server that
    closes while request bytes are still unread resets the connection: that ends the read too."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(payload)
        received = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received.append(chunk)
    return b"".join(received)


def _head(path: str, headers: list[tuple[str, str]], *, end: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + ("\r\n\r\n" if end else "")).encode("ascii")


def _assert_431(response: bytes) -> None:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), head[:80]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 431 and problem["code"] == "request_header_fields_too_large"
    assert str(LIMIT) in problem["detail"]


def test_the_default_limit_is_64_kib() -> None:
    assert Settings().max_header_bytes == LIMIT


def test_a_head_over_the_limit_is_refused_before_it_ends(live_url: str) -> None:
    # One header value still arriving: the server must not wait for (and buffer) all of it.
    path = urlsplit(live_url).path + "/credits"
    _assert_431(_exchange(live_url, _head(path, [("X-Big", "a" * (LIMIT + 4096))], end=False)))


def test_many_headers_over_the_limit_are_refused(live_url: str) -> None:
    path = urlsplit(live_url).path + "/credits"
    headers = [(f"X-H{i}", "b" * 1000) for i in range(80)]
    _assert_431(_exchange(live_url, _head(path, headers)))
    long_url = path + "?" + "c" * (LIMIT + 100)
    _assert_431(_exchange(live_url, _head(long_url, [])))


def test_a_megabyte_of_headers_gets_nowhere_and_the_server_goes_on(live_url: str) -> None:
    path = urlsplit(live_url).path + "/credits"
    response = _exchange(live_url, _head(path, [("X-Big", "d" * 1024 * 1024)]))
    # The 431 is written before the close; a client still sending may see the reset first.
    assert response == b"" or response.startswith(b"HTTP/1.1 431 ")
    # Heads under the limit are served as ever, on this connection and the next.
    with httpx.Client(base_url=live_url) as http:
        near_limit = {f"x-h{i}": "e" * 1000 for i in range(55)}
        assert http.get("/credits", headers=near_limit).status_code == 401
        assert http.get("/openapi.json").status_code == 200


def test_keep_alive_requests_are_each_measured_alone(live_url: str) -> None:
    # 40 KB a request on one connection: the count starts again with each request.
    with httpx.Client(base_url=live_url) as http:
        for _ in range(3):
            headers = {f"x-h{i}": "f" * 1000 for i in range(40)}
            assert http.get("/openapi.json", headers=headers).status_code == 200


def test_rivya_serve_applies_the_setting(tmp_path: Path) -> None:
    env = {**os.environ, "RIVYA_DATA_DIR": str(tmp_path), "RIVYA_MAX_HEADER_BYTES": "4096"}
    env.pop("RIVYA_DATABASE_URL", None)
    server = Server(env)
    try:
        path = urlsplit(server.base).path + "/credits"
        response = _exchange(server.base, _head(path, [("X-Big", "g" * 5000)]))
        assert response.startswith(b"HTTP/1.1 431 ") and b"4096 bytes" in response
        assert (
            httpx.get(f"{server.base}/credits", headers={"X-Small": "h" * 3000}).status_code == 401
        )
    finally:
        code, _ = server.stop()
    assert code == 0
