"""The webhook sender against a real receiver on loopback: it connects to the checked address
whatever the host name, follows no redirects, gives up at its timeout, reads little of an
answer, and reports Retry-After. `Receiver` serves the delivery tests too."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from types import TracebackType

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from rivya.net.ssrf import AllowList, Target
from rivya.webhooks import client
from rivya.webhooks.client import send
from rivya.webhooks.ssrf import check_url

LOOPBACK = IPv4Address("127.0.0.1")


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    hang_s: float
    endless: bool


@dataclass
class Receiver:
    """A webhook receiver served by uvicorn on 127.0.0.1 in a thread. Its port is bound from the
    start but refuses connections until `start()`, so a test can have it down, then up. It
    answers 204 unless told otherwise with `answer_next`, and counts the most requests it was
    answering at once (`most_at_once`)."""

    certificate: tuple[Path, Path] | None = None  # (certificate, key): serve https
    received: list[Received] = field(default_factory=list)
    most_at_once: int = 0

    def __post_init__(self) -> None:
        self._answers: list[_Answer] = []
        self._at_once = 0
        self._lock = threading.Condition()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        config = uvicorn.Config(
            Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])]),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            ssl_certfile=self.certificate and self.certificate[0],
            ssl_keyfile=self.certificate and self.certificate[1],
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def answer_next(
        self,
        n: int,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        hang_s: float = 0.0,
        endless: bool = False,
    ) -> None:
        """Answer the next `n` requests so."""
        with self._lock:
            self._answers += [_Answer(status, headers or {}, hang_s, endless)] * n

    def reset(self) -> None:
        """Forget what was received and scripted."""
        with self._lock:
            self.received.clear()
            self._answers.clear()
            self.most_at_once = self._at_once

    def start(self) -> Receiver:
        """Start accepting connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "receiver not up"
            time.sleep(0.01)
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(
                Received(request.url.path, dict(request.headers), body, time.monotonic())
            )
            answer = self._answers.pop(0) if self._answers else _Answer(204, {}, 0.0, False)
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
        try:
            if answer.hang_s:
                await asyncio.sleep(answer.hang_s)
        finally:
            with self._lock:
                self._at_once -= 1
        if answer.endless:
            return StreamingResponse(_endless(), answer.status, headers=answer.headers)
        return Response(status_code=answer.status, headers=answer.headers)


async def _endless() -> AsyncIterator[bytes]:
    while True:
        yield b"x" * 65536
        await asyncio.sleep(0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver, up."""
    with Receiver() as up:
        yield up


def pinned(receiver: Receiver, host: str = "127.0.0.1") -> Target:
    """The receiver as a target named `host` (a name nothing resolves)."""
    return Target(f"http://{host}:{receiver.port}/hooks", "http", host, receiver.port, (LOOPBACK,))


async def test_connects_to_the_checked_address_and_keeps_the_host_name(
    receiver: Receiver,
) -> None:
    """A host name that does not resolve at all is reached through its pinned address, with
    the name in the Host header: the sender never resolves the name itself."""
    result = await send(
        pinned(receiver, "hooks.rivya.invalid"), b"{}", {"webhook-id": "msg_1"}, timeout_s=5
    )
    assert result.status_code == 204 and result.error is None and result.succeeded
    (request,) = receiver.received
    assert request.headers["host"] == f"hooks.rivya.invalid:{receiver.port}"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["content-type"] == "application/json"
    assert request.body == b"{}"


async def test_a_checked_url_is_sent_to() -> None:
    """check_url and send together, the way deliveries use them."""
    with Receiver() as up:
        target = await check_url(up.url, AllowList.parse("127.0.0.1"))
        assert target.addresses == (LOOPBACK,)
        assert (await send(target, b"{}", {}, timeout_s=5)).status_code == 204


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.answer_next(1, 307, headers={"location": "http://169.254.169.254/latest/meta-data"})
    result = await send(pinned(receiver), b"{}", {}, timeout_s=5)
    assert result.status_code == 307 and not result.succeeded
    assert len(receiver.received) == 1


async def test_a_slow_receiver_times_out(receiver: Receiver) -> None:
    receiver.answer_next(1, 200, hang_s=3)
    started = time.monotonic()
    result = await send(pinned(receiver), b"{}", {}, timeout_s=0.3)
    assert result.status_code is None and result.error == "timeout"
    assert time.monotonic() - started < 2 and 250 <= result.duration_ms < 2000


async def test_an_endless_answer_is_cut_short(receiver: Receiver) -> None:
    receiver.answer_next(1, 200, endless=True)
    result = await send(pinned(receiver), b"{}", {}, timeout_s=5)
    # Reading it all would have run into the timeout.
    assert result.status_code == 200 and result.error is None and result.duration_ms < 2000


async def test_a_closed_port_is_a_connection_failure() -> None:
    down = Receiver()
    try:
        result = await send(pinned(down), b"{}", {}, timeout_s=5)
    finally:
        down.close()
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("connection failed")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None)],
)
async def test_retry_after_is_reported(
    receiver: Receiver, header: str, expected: float | None
) -> None:
    receiver.answer_next(1, 503, headers={"retry-after": header})
    result = await send(pinned(receiver), b"{}", {}, timeout_s=5)
    assert result.status_code == 503 and result.retry_after_s == expected


def issue(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it signed for `host`: (CA certificate, certificate, key)."""

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str
    ) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
        )

    ca_key, host_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = (
        certificate("Rivya test CA", ca_key, "Rivya test CA")
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        certificate(host, host_key, "Rivya test CA")
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "host.pem", directory / "host.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        host_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_tls_checks_the_host_name_over_the_pinned_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over https the connection still goes to the pinned address, and TLS (SNI and the
    certificate check) uses the host name: the right name verifies, another name does not."""
    ca, cert, key = issue(tmp_path, "hooks.rivya.test")
    monkeypatch.setattr(client, "ssl_context", lambda: ssl.create_default_context(cafile=ca))
    with Receiver(certificate=(cert, key)) as receiver:
        port = receiver.port
        right = Target(
            f"https://hooks.rivya.test:{port}/hooks", "https", "hooks.rivya.test", port, (LOOPBACK,)
        )
        assert (await send(right, b"{}", {}, timeout_s=5)).status_code == 204
        wrong = Target(
            f"https://other.rivya.test:{port}/hooks", "https", "other.rivya.test", port, (LOOPBACK,)
        )
        refused = await send(wrong, b"{}", {}, timeout_s=5)
    assert refused.status_code is None
    assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error
    assert len(receiver.received) == 1
