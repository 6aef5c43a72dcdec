"""Reliability run: concurrent mixed load, hostile requests and SIGKILLs against the real server,
then the money invariant checked straight in the database. On SQLite (a fresh data directory) and
on PostgreSQL when RIVYA_TEST_POSTGRES_URL is set (a fresh database, dropped at the end).

For each database it starts `rivya serve` (with its in-process worker) and, on PostgreSQL, a
standalone `rivya worker`; creates accounts (one noisy, several normal, one attacker) through the
CLI; then for --duration seconds drives every kind of request at once (generations of each kind
with and without Idempotency-Key and Prefer: wait, polls, cancels, uploads, chat turns plain,
streamed, with image attachments, and streams cut by the client with a FIN or a TCP reset) while
the attacker sends hostile requests and a killer SIGKILLs the server or the worker every
--kill-every seconds and starts it again. Then it lets the queue drain, stops everything
gracefully and checks, in the database, that every wallet equals its ledger sums, that no hold is
left pending by ended work, that nothing was charged twice, and that the attacks moved no money.

Every attack must get a 4xx problem+json, never a 5xx. Prints figures per database and exits
non-zero when anything failed. Run with `nox -s reliability` (`-- --short` for CI's quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import asyncpg
import httpx
import yaml
from PIL import Image
from sqlalchemy import func, select

from rivya.auth.keys import new_secret
from rivya.billing import holds as billing_holds
from rivya.billing.wallet import get_balance, ledger_totals
from rivya.chat import turns
from rivya.settings import BUILTIN_CATALOG
from rivya.store.db import Database
from rivya.store.tables import accounts, holds, jobs, ledger_entries, tasks
from tests.conftest import write_catalog
from tests.processes import free_port, rivya

GRANT = 10**9
ATTACKER_GRANT = 1_000_000
MARK = "victim-secret-"  # in every prompt and name of the normal accounts: probes must never see it
PAUSE_MODEL = "rivya-image-pause"  # an image model that takes 2 s: tasks to poll and cancel
TERMINAL = ("succeeded", "failed", "canceled")
# The 60-part attack may grow the server's peak memory by at most this much (before the fix it
# went from 570 MB to 1.86 GB).
IMAGE_PARTS_RSS_BOUND_MB = 64
# The longest a chat turn of this run lasts (the slow model's longest answer, or a cut's timeout).
TURN_LIFETIME_S = 40
# A turn the client cuts is settled within a second (the bound), with a second to spare.
SETTLE_GRACE_S = 2


# Figures


@dataclass
class Attack:
    """One kind of hostile request: how many cases were sent and how many were refused properly."""

    tried: int = 0
    held: int = 0
    skipped: int = 0  # the server was down (killed) for every try
    failures: list[str] = field(default_factory=list)

    def record(self, ok: bool, detail: str) -> None:
        self.tried += 1
        if ok:
            self.held += 1
        elif len(self.failures) < 4:
            self.failures.append(detail)


@dataclass
class Figures:
    """What one database's run measured."""

    database: str
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    latency: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    codes: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    attacks: defaultdict[str, Attack] = field(default_factory=lambda: defaultdict(Attack))
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    kills: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    runner_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def request(self, kind: str, status: int | None, elapsed: float, request_id: str = "") -> None:
        cls = "transport" if status is None else f"{status // 100}xx"
        self.requests[(kind, cls)] += 1
        if status is not None:
            self.latency[kind].append(elapsed)
        if status is not None and status >= 500 and len(self.server_errors) < 10:
            self.server_errors.append(f"{kind} → {status} (request {request_id})")

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, ok, detail))

    @property
    def failed(self) -> bool:
        return (
            any(not ok for _, ok, _ in self.checks)
            or any(a.held < a.tried for a in self.attacks.values())
            or bool(self.server_errors)
            or bool(self.runner_errors)
        )


# Processes


class Proc:
    """A `rivya serve` or `rivya worker` process that can be SIGKILLed and started again; each
    incarnation logs to a file of its own."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.incarnation = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.kill_times: list[float] = []

    def start(self) -> None:
        self.incarnation += 1
        log = (self.log_dir / f"{self.name}.{self.incarnation}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rivya.cli", *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kill_times.append(time.time())

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit status, or None if it had to be killed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def logs(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.name}.*.log"))
        )


def rss_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# Accounts and their clients


@dataclass
class Account:
    name: str
    id: str
    secret: str
    role: str  # noisy | normal | attacker
    http: httpx.AsyncClient | None = None
    tasks: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


class Run:
    """The state of one database's run, shared by the load, the attacks and the killer."""

    def __init__(
        self, figures: Figures, port: int, rng: random.Random, args: argparse.Namespace
    ) -> None:
        self.figures = figures
        self.port = port
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.rng = rng
        self.args = args
        self.up = asyncio.Event()
        self.accounts: list[Account] = []
        self.server: Proc | None = None
        self.worker: Proc | None = None
        self.hook_port = 0
        self.big_image: str | None = None
        self.rss_growth_mb = 0.0  # the most the 60-part attack grew the server's (peak) RSS
        # Completion ids of turns the client saw to their end or cut, and when: each is settled
        # within a second of that, so none stays pending unless a kill came in that second.
        self.left_turns: dict[str, tuple[float, str]] = {}

    def of(self, role: str) -> list[Account]:
        return [a for a in self.accounts if a.role == role]

    async def send(
        self,
        account: Account | None,
        kind: str,
        method: str,
        path: str,
        *,
        client: httpx.AsyncClient | None = None,
        retries: int = 0,
        **kwargs: Any,
    ) -> httpx.Response | None:
        """One request, timed and counted; None when the connection failed (a killed server).
        With `retries`, waits for the server to be up and tries again after a connection failure."""
        http = client or (account.http if account else None)
        assert http is not None
        for attempt in range(retries + 1):
            started = time.perf_counter()
            try:
                response = await http.request(method, path, **kwargs)
            except httpx.TransportError:
                self.figures.request(kind, None, 0)
                if attempt == retries:
                    return None
                await self.wait_up()
                continue
            self.figures.request(
                kind,
                response.status_code,
                time.perf_counter() - started,
                response.headers.get("x-request-id", ""),
            )
            if 400 <= response.status_code < 500 and not kind.startswith("attack"):
                code = ""
                if is_problem(response):
                    with contextlib.suppress(ValueError):
                        code = str(response.json().get("code"))
                self.figures.codes[(kind, response.status_code, code)] += 1
            return response
        return None

    async def wait_up(self) -> None:
        await asyncio.sleep(0.2)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.up.wait(), 30)


def is_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


def refused(response: httpx.Response | None) -> tuple[bool | None, str]:
    """The generic rule for an attack: a 4xx problem+json (None: the server was down)."""
    if response is None:
        return None, "no answer"
    code = ""
    if is_problem(response):
        with contextlib.suppress(ValueError):
            code = str(response.json().get("code"))
    ok = 400 <= response.status_code < 500 and is_problem(response)
    return ok, f"{response.status_code} {code or response.headers.get('content-type', '')}"


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    if noise:  # incompressible: about as large as its pixels
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (width % 256, height % 256, 90))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0 if noise else 6)
    return out.getvalue()


# The load


def generation_body(run: Run, account: Account) -> dict[str, Any]:
    rng = run.rng
    prompt = f"{MARK}{account.name} {uuid.uuid4().hex[:8]}"
    # Mostly quick work, so that the workers keep up with the load; slow tasks come from
    # submit_then_cancel, which cancels each of them.
    choice = rng.choice(["image", "image", "image", "audio", "audio", "video", "pause"])
    if choice == "image":
        return {
            "model": "rivya-image-dev",
            "input": {"prompt": prompt, "width": 64, "height": 64, "seed": rng.randrange(10**6)},
        }
    if choice == "audio":
        return {
            "model": "rivya-audio-dev",
            "input": {"prompt": prompt, "duration": round(rng.uniform(0.2, 3), 2)},
        }
    if choice == "video":
        return {
            "model": "rivya-video-dev",
            "input": {"prompt": prompt, "duration": 1, "fps": 2, "width": 64, "height": 64},
        }
    return {"model": PAUSE_MODEL, "input": {"prompt": prompt, "width": 64, "height": 64}}


async def submit(run: Run, account: Account) -> None:
    headers: dict[str, str] = {}
    kind = "generation.submit"
    if run.rng.random() < 0.5:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if run.rng.random() < 0.25:
        headers["Prefer"] = "wait=3"
        kind = f"generation.submit+wait ({account.role} account)"
    r = await run.send(
        account, kind, "POST", "/generations", json=generation_body(run, account), headers=headers
    )
    if r is not None and r.status_code in (200, 202):
        account.tasks.append(r.json()["id"])


async def same_key_group(run: Run, account: Account) -> None:
    """Concurrent submits with one Idempotency-Key and one body: at most one task comes of them."""
    body = generation_body(run, account)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    n = run.rng.randint(2, 5)
    answers = await asyncio.gather(
        *(
            run.send(
                account,
                "generation.submit same key",
                "POST",
                "/generations",
                json=body,
                headers=headers,
            )
            for _ in range(n)
        )
    )
    if any(a is None for a in answers):
        return
    ids = {a.json()["id"] for a in answers if a is not None and a.status_code in (200, 202)}
    statuses = sorted(a.status_code for a in answers if a is not None)
    ok = len(ids) <= 1 and all(s in (200, 202, 409) for s in statuses)
    run.figures.attacks["concurrent same Idempotency-Key"].record(
        ok, f"{n} requests: {statuses}, tasks {ids}"
    )
    account.tasks.extend(ids)


async def submit_then_cancel(run: Run, account: Account) -> None:
    """A slow task (30 s) canceled while it is queued or running: refunded, or a 409 if it ended."""
    body = {"model": "rivya-image-slow", "input": {"prompt": f"{MARK}{account.name} slow"}}
    r = await run.send(account, "generation.submit (slow)", "POST", "/generations", json=body)
    if r is None or r.status_code != 202:
        return
    task = r.json()["id"]
    account.tasks.append(task)
    await asyncio.sleep(run.rng.uniform(0, 2.5))
    # Retried through a kill, as a client would: a lost cancel leaves 30 s of work behind.
    await run.send(
        account, "generation.cancel (slow)", "POST", f"/generations/{task}/cancel", retries=3
    )


async def poll(run: Run, account: Account) -> None:
    if account.tasks:
        await run.send(
            account, "generation.get", "GET", f"/generations/{run.rng.choice(account.tasks[-20:])}"
        )


async def cancel(run: Run, account: Account) -> None:
    if account.tasks:
        await run.send(
            account,
            "generation.cancel",
            "POST",
            f"/generations/{run.rng.choice(account.tasks[-5:])}/cancel",
        )


def chat_body(
    run: Run, account: Account, *, stream: bool = False, model: str = "rivya-chat-dev"
) -> dict[str, Any]:
    said = f"{MARK}{account.name} " + "tell me a story " * run.rng.randint(1, 20)
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": said, "name": f"u{account.name}"}],
    }
    if stream:
        body["stream"] = True
    if account.sessions and run.rng.random() < 0.3:
        body["session_id"] = run.rng.choice(account.sessions[-10:])
    return body


def remember_session(account: Account, response: httpx.Response) -> None:
    session = response.headers.get("x-rivya-session-id")
    if session and session not in account.sessions:
        account.sessions.append(session)


async def chat(run: Run, account: Account) -> None:
    r = await run.send(account, "chat", "POST", "/chat/completions", json=chat_body(run, account))
    if r is not None and r.status_code == 200:
        remember_session(account, r)
        run.left_turns[r.json()["id"]] = (time.time(), "answered")


async def chat_stream(run: Run, account: Account) -> None:
    assert account.http is not None
    started = time.perf_counter()
    try:
        async with account.http.stream(
            "POST", "/chat/completions", json=chat_body(run, account, stream=True)
        ) as r:
            run.figures.request(
                "chat.stream",
                r.status_code,
                time.perf_counter() - started,
                r.headers.get("x-request-id", ""),
            )
            if r.status_code == 200:
                remember_session(account, r)
            lines = [line async for line in r.aiter_lines()]
            if r.status_code != 200:
                code = json.loads("".join(lines)).get("code", "") if is_problem(r) else ""
                run.figures.codes[("chat.stream", r.status_code, code)] += 1
            elif "data: [DONE]" in lines:
                first = json.loads(next(x for x in lines if x.startswith("data: {"))[6:])
                run.left_turns[first["id"]] = (time.time(), "streamed to [DONE]")
            else:
                run.figures.requests[("chat.stream without [DONE]", "2xx")] += 1
    except httpx.TransportError:
        run.figures.request("chat.stream", None, 0)


async def chat_cut(run: Run, account: Account) -> None:
    """A streamed turn the client leaves at a random point: a FIN, or a TCP reset (SO_LINGER 0)."""
    how = run.rng.choice(("close", "reset"))
    want = run.rng.choice(
        [0, 1, 3, 10, 40, -1]
    )  # content events to read first; -1: up to the finish chunk
    model = run.rng.choice(["rivya-chat-dev", "rivya-chat-slow"])
    body = json.dumps(chat_body(run, account, stream=True, model=model)).encode()
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {account.secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    kind = f"chat.stream cut ({how})"
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", run.port), 5)
    except (OSError, TimeoutError):
        run.figures.request(kind, None, 0)
        return
    status: int | None = None
    data = b""
    chose = False  # the client left on its own (not the server's end: a SIGKILL)
    try:
        writer.write(head + body)
        await writer.drain()
        async with asyncio.timeout(30):
            while True:
                piece = await reader.read(65536)
                if not piece:
                    break
                data += piece
                if status is None and b"\r\n" in data:
                    status = int(data.split(b" ", 2)[1])
                    run.figures.request(kind, status, time.perf_counter() - started)
                if status is not None and status != 200:
                    break
                seen = len(re.findall(rb'"delta":\{"content":"[^"]', data))
                if (
                    (want >= 0 and seen >= want)
                    or b'"finish_reason":"' in data
                    or b"[DONE]" in data
                ):
                    chose = True
                    break
    except (OSError, TimeoutError):
        pass
    finally:
        if status is None:
            run.figures.request(kind, None, 0)
        completion = re.search(rb'"id":"(chatcmpl-\w+)"', data)
        if completion and chose:
            run.left_turns[completion.group(1).decode()] = (
                time.time(),
                f"{model} cut ({how}) after {len(re.findall(rb'delta.:.content', data))} events"
                + (" and the finish" if b'"finish_reason":"' in data else "")
                + "".join(f", {m.decode()}" for m in re.findall(rb"req_\w+", data[:2000])[:1]),
            )
        if how == "reset":
            sock = writer.get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def upload(run: Run, account: Account) -> None:
    data = png(run.rng.randint(16, 96), run.rng.randint(16, 96))
    r = await run.send(
        account, "file.upload", "POST", "/files", files={"file": ("i.png", data, "image/png")}
    )
    if r is not None and r.status_code == 201:
        account.files.append(r.json()["id"])


async def chat_image(run: Run, account: Account) -> None:
    if not account.files:
        return await upload(run, account)
    parts = [{"type": "text", "text": f"{MARK}{account.name} what is this"}]
    for file_id in run.rng.sample(account.files, min(len(account.files), run.rng.randint(1, 3))):
        parts.append({"type": "image_url", "image_url": {"url": f"rivya://files/{file_id}"}})  # type: ignore[dict-item]
    body = {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": parts}]}
    r = await run.send(account, "chat with images", "POST", "/chat/completions", json=body)
    if r is not None and r.status_code == 200:
        remember_session(account, r)


async def lists(run: Run, account: Account) -> None:
    path = run.rng.choice(
        ["/credits", "/chat/sessions", "/files", "/generations", "/webhook-events", "/models"]
    )
    await run.send(account, "list", "GET", path)


ACTIONS: list[tuple[Callable[[Run, Account], Awaitable[None]], int]] = [
    (submit, 30),
    (same_key_group, 4),
    (poll, 15),
    (cancel, 5),
    (submit_then_cancel, 3),
    (chat, 10),
    (chat_stream, 10),
    (chat_cut, 8),
    (upload, 4),
    (chat_image, 4),
    (lists, 10),
]


async def latency_probe(run: Run, until: float) -> None:
    """A normal account's small image, waited for, about every second: what the noisy account's
    load (generations and slow webhook endpoints) must not stall."""
    account = run.of("normal")[0]
    body = {"model": "rivya-image-dev", "input": {"prompt": f"{MARK}probe", "width": 64}}
    while time.monotonic() < until:
        await run.send(
            account, "generation latency probe (normal, wait=15)", "POST", "/generations",
            json=body, headers={"Prefer": "wait=15"},
        )  # fmt: skip
        await asyncio.sleep(1)


async def load(run: Run, account: Account, until: float) -> None:
    functions = [f for f, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    while time.monotonic() < until:
        action = run.rng.choices(functions, weights)[0]
        try:
            await action(run, account)
        except Exception as error:  # a bug of this runner, or an answer of a shape nobody expected
            if len(run.figures.runner_errors) < 10:
                run.figures.runner_errors.append(f"{action.__name__}: {error!r}")
        if not run.up.is_set():
            await run.wait_up()


# The attacks


def json_operations(run: Run, attacker: Account) -> list[tuple[str, str]]:
    hook = attacker.webhooks[0]
    return [
        ("POST", "/generations"),
        ("POST", "/chat/completions"),
        ("POST", "/webhooks"),
        ("PATCH", f"/webhooks/{hook}"),
        ("POST", f"/webhooks/{hook}/rotate-secret"),
        ("POST", "/webhook-events/evt_0000000000000000000000/resend"),
    ]


async def attack(
    run: Run, attacker: Account, name: str, method: str, path: str, **kwargs: Any
) -> httpx.Response | None:
    response = await run.send(attacker, f"attack: {name}", method, path, retries=3, **kwargs)
    ok, detail = refused(response)
    if ok is None:
        run.figures.attacks[name].skipped += 1
    else:
        run.figures.attacks[name].record(ok, f"{method} {path[:40]} → {detail}")
    return response


def raw(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


async def deep_json(run: Run, attacker: Account) -> None:
    for method, path in json_operations(run, attacker):
        for depth in (1_000, 10_000, 100_000):
            for text in (
                "[" * depth + "]" * depth,
                '{"a":' * depth + "1" + "}" * depth,
                '{"model":"rivya-chat-dev","messages":[{"role":"user","content":'
                + "[" * depth
                + "]" * depth
                + "}]}",
            ):
                await attack(
                    run, attacker, "JSON nesting ≥ 1,000 levels", method, path, **raw(text)
                )


def spliced(body: dict[str, Any], literal: str) -> dict[str, Any]:
    """Request arguments of `body` as JSON with `literal`, raw JSON text that json.dumps would
    never write (NaN, 5,000 digits, a lone surrogate escape), in place of the value "@"."""
    return raw(json.dumps(body).replace('"@"', literal))


def chat_with(**fields: Any) -> dict[str, Any]:
    return {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": "hi"}], **fields}


def image_with(**fields: Any) -> dict[str, Any]:
    return {"model": "rivya-image-dev", "input": {"prompt": "x", **fields}}


async def non_finite(run: Run, attacker: Account) -> None:
    name = "NaN / Infinity / 1e400"
    for number in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400"):
        audio = {"model": "rivya-audio-dev", "input": {"prompt": "x", "duration": "@"}}
        await attack(run, attacker, name, "POST", "/generations", **spliced(audio, number))
        await attack(
            run, attacker, name, "POST", "/generations", **spliced(image_with(width="@"), number)
        )
        for param in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
            body = spliced(chat_with(**{param: "@"}), number)
            await attack(run, attacker, name, "POST", "/chat/completions", **body)


async def huge_integers(run: Run, attacker: Account) -> None:
    name = "integers of 5,000 digits"
    number = "9" * 5000
    for param in ("seed", "max_tokens", "max_completion_tokens", "n"):
        body = spliced(chat_with(**{param: "@"}), number)
        await attack(run, attacker, name, "POST", "/chat/completions", **body)
    for param in ("seed", "width", "num_images"):
        body = spliced(image_with(**{param: "@"}), number)
        await attack(run, attacker, name, "POST", "/generations", **body)


async def bad_text(run: Run, attacker: Account) -> None:
    name = "lone surrogate / NUL in text"
    hook = f"/webhooks/{attacker.webhooks[0]}"
    url = f"http://127.0.0.1:{run.hook_port}/fast"
    for value in ('"\\ud800"', '"a\\udc00b"', '"\\udbff"', '"a\\u0000b"'):
        for message in (
            {"role": "user", "content": "hi", "name": "@"},
            {"role": "user", "content": "@"},
            {"role": "user", "content": [{"type": "text", "text": "@"}]},
        ):
            for stream in (False, True):
                body = spliced(chat_with(messages=[message], stream=stream), value)
                await attack(run, attacker, name, "POST", "/chat/completions", **body)
        endpoint = {"url": url, "events": ["generation.succeeded"], "description": "@"}
        r = await attack(run, attacker, name, "POST", "/webhooks", **spliced(endpoint, value))
        if r is not None and r.status_code == 201:  # accepted (counted): take it away again
            await run.send(attacker, "cleanup", "DELETE", f"/webhooks/{r.json()['id']}")
        await attack(run, attacker, name, "PATCH", hook, **spliced({"description": "@"}, value))
        await attack(
            run, attacker, name, "POST", "/generations", **spliced(image_with(prompt="@"), value)
        )


async def image_parts(run: Run, attacker: Account) -> None:
    """60 image parts naming one 20 MB image: a 422 before any of it is read."""
    if run.big_image is None:
        r = await run.send(
            attacker,
            "file.upload (20 MB)",
            "POST",
            "/files",
            retries=3,
            files={"file": ("big.png", png(2600, 2600, noise=True), "image/png")},
        )
        if r is None or r.status_code != 201:
            run.figures.notes.append(
                f"the 20 MB upload failed: {r.status_code if r else 'no answer'}"
            )
            return
        run.big_image = r.json()["id"]
    part = {
        "type": "image_url",
        "image_url": {"url": f"rivya://files/{run.big_image}", "detail": "high"},
    }
    body = {
        "model": "rivya-chat-dev",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, *[part] * 60]}],
    }
    assert run.server is not None
    for stream in (False, True):
        pid = run.server.pid
        try:
            before = rss_mb(pid)
        except (OSError, KeyError):
            continue
        r = await attack(
            run,
            attacker,
            "60 image parts of one 20 MB image",
            "POST",
            "/chat/completions",
            json={**body, "stream": stream},
        )
        if r is None or run.server.pid != pid:
            continue
        after = rss_mb(pid)
        grew = after[1] - before[1]
        name = "60 image parts: peak RSS stays put"
        run.figures.attacks[name].record(
            grew <= IMAGE_PARTS_RSS_BOUND_MB and r.status_code == 422,
            f"{r.status_code}, peak RSS {before[1]:.0f} → {after[1]:.0f} MB "
            f"(bound +{IMAGE_PARTS_RSS_BOUND_MB})",
        )
        run.rss_growth_mb = max(run.rss_growth_mb, grew, after[0] - before[0])


async def two_authorizations(run: Run, attacker: Account) -> None:
    good = f"Bearer {attacker.secret}"
    junk = f"Bearer {new_secret()}"
    async with httpx.AsyncClient(base_url=run.base, timeout=30) as bare:
        for pair in ((good, junk), (junk, good), (good, good)):
            headers = [("Authorization", pair[0]), ("Authorization", pair[1])]
            for method, path in (("GET", "/credits"), ("GET", "/files")):
                await attack(
                    run,
                    attacker,
                    "two Authorization headers",
                    method,
                    path,
                    client=bare,
                    headers=headers,
                )


async def exchange(port: int, payload: bytes) -> bytes:
    """Send `payload` on a new connection and read until the server closes it. A server that
    closes while request bytes are still unread resets the connection: that ends the read too."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    received = b""
    try:
        with contextlib.suppress(OSError):
            writer.write(payload)
            await writer.drain()
        with contextlib.suppress(OSError):
            async with asyncio.timeout(30):
                while piece := await reader.read(65536):
                    received += piece
    finally:
        writer.transport.abort()
    return received


async def big_headers(run: Run, attacker: Account) -> None:
    """A megabyte of request head, three ways, with the attacker's valid key: refused (a 4xx, or
    the connection closed unanswered), never served."""
    name = "1 MB request headers"
    assert run.server is not None
    for headers in (
        [("Authorization", f"Bearer {attacker.secret}"), ("X-Padding", "a" * (1 << 20))],
        [("Authorization", f"Bearer {attacker.secret}")]
        + [(f"X-Pad-{i}", "b" * 1024) for i in range(1024)],
        [("Authorization", "Bearer " + "c" * (1 << 20))],
    ):
        lines = [
            "GET /api/v1/credits HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in headers),
        ]
        pid, started = run.server.pid, time.perf_counter()
        try:
            answer = await exchange(run.port, ("\r\n".join(lines) + "\r\n\r\n").encode())
        except (OSError, TimeoutError):
            answer = None
        status = (
            int(answer.split(b" ", 2)[1]) if answer and answer.startswith(b"HTTP/1.1 ") else None
        )
        alive = await run.send(attacker, "list", "GET", "/models", retries=3)
        if alive is None or run.server.pid != pid or answer is None:  # killed meanwhile
            run.figures.attacks[name].skipped += 1
            continue
        run.figures.request(f"attack: {name}", status, time.perf_counter() - started)
        shown = "closed unanswered" if status is None else f"{status}"
        run.figures.attacks[name].record(status is None or 400 <= status < 500, shown)


async def unknown_keys(run: Run, attacker: Account) -> None:
    """Well-formed keys nobody issued, from one address (127.0.0.2, so the load's own address is
    not the one limited): all refused; a limit should act on the address; the load goes on."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    statuses: Counter[int] = Counter()
    assert run.server is not None
    pid = run.server.pid  # the limit's counts live in the server process: a kill resets them
    async with httpx.AsyncClient(base_url=run.base, timeout=30, transport=transport) as other:
        for _ in range(5 if run.args.short else 10):
            answers = await asyncio.gather(
                *(
                    run.send(
                        attacker,
                        "attack: unknown keys",
                        "GET",
                        "/credits",
                        client=other,
                        headers={"Authorization": f"Bearer {new_secret()}"},
                    )
                    for _ in range(30)
                )
            )
            for r in answers:
                ok, detail = refused(r)
                if ok is None:
                    run.figures.attacks["unknown keys from one address"].skipped += 1
                    continue
                assert r is not None
                statuses[r.status_code] += 1
                run.figures.attacks["unknown keys from one address"].record(ok, detail)
    limited = statuses.get(429, 0) > 0
    name = "unknown keys: the address gets limited (429)"
    if run.server.pid != pid:
        run.figures.attacks[name].skipped += 1
    else:
        run.figures.attacks[name].record(limited, f"statuses {dict(statuses)}")
    r = await run.send(attacker, "attack: unknown keys", "GET", "/credits", retries=3)
    if r is not None:
        run.figures.attacks["unknown keys: other addresses still served"].record(
            r.status_code == 200, f"{r.status_code}"
        )


async def cross_account(run: Run, attacker: Account) -> None:
    victims = run.of("normal") + run.of("noisy")
    probes: list[tuple[str, str, dict[str, Any]]] = []
    for victim in victims:
        for task in victim.tasks[:2]:
            probes += [
                ("GET", f"/generations/{task}", {}),
                ("POST", f"/generations/{task}/cancel", {}),
            ]
        for file_id in victim.files[:2]:
            probes += [
                ("GET", f"/files/{file_id}", {}),
                ("GET", f"/files/{file_id}/content", {}),
                ("DELETE", f"/files/{file_id}", {}),
            ]
            probes.append(
                (
                    "POST",
                    "/chat/completions",
                    {
                        "json": {
                            "model": "rivya-chat-dev",
                            "messages": [
                                {
                                    "role": "user",
                                    "content": [
                                        {
                                            "type": "image_url",
                                            "image_url": {"url": f"rivya://files/{file_id}"},
                                        }
                                    ],
                                }
                            ],
                        }
                    },
                )
            )
            probes.append(
                (
                    "POST",
                    "/generations",
                    {
                        "json": {
                            "model": "rivya-image-dev",
                            "input": {"prompt": "x", "reference_image": file_id},
                        }
                    },
                )
            )
        for session in victim.sessions[:2]:
            probes += [
                ("GET", f"/chat/sessions/{session}", {}),
                (
                    "POST",
                    "/chat/completions",
                    {
                        "json": {
                            "model": "rivya-chat-dev",
                            "session_id": session,
                            "messages": [{"role": "user", "content": "what did I say?"}],
                        }
                    },
                ),
            ]
        for hook in victim.webhooks[:1]:
            probes += [
                ("GET", f"/webhooks/{hook}", {}),
                ("PATCH", f"/webhooks/{hook}", {"json": {"description": "mine"}}),
                ("POST", f"/webhooks/{hook}/rotate-secret", {}),
                ("DELETE", f"/webhooks/{hook}", {}),
            ]
        if victim.http is not None:
            events = await run.send(victim, "list", "GET", "/webhook-events", params={"limit": 2})
            if events is not None and events.status_code == 200:
                for event in events.json()["data"]:
                    probes += [
                        ("GET", f"/webhook-events/{event['id']}", {}),
                        ("POST", f"/webhook-events/{event['id']}/resend", {}),
                    ]
    for method, path, kwargs in probes:
        r = await run.send(attacker, "attack: cross-account", method, path, retries=3, **kwargs)
        name = "cross-account probes (404, no data)"
        if r is None:
            run.figures.attacks[name].skipped += 1
            continue
        # A reference to another account's file or session in a body may be a 404 or a 422: never
        # a success and never that account's data.
        expected = r.status_code == 404 or (
            method == "POST"
            and path in ("/chat/completions", "/generations")
            and 400 <= r.status_code < 500
        )
        run.figures.attacks[name].record(
            expected and MARK not in r.text and is_problem(r),
            f"{method} {path[:48]} → {r.status_code}",
        )
    for path in ("/generations", "/files", "/chat/sessions", "/webhooks", "/webhook-events"):
        r = await run.send(attacker, "attack: cross-account", "GET", path, retries=3)
        if r is not None:
            run.figures.attacks["cross-account: the attacker's lists show only its own"].record(
                r.status_code == 200 and MARK not in r.text, f"GET {path} → {r.status_code}"
            )
    # The victims still have what the probes aimed at.
    for victim in victims:
        for file_id in victim.files[:2]:
            r = await run.send(victim, "generation.get", "GET", f"/files/{file_id}", retries=3)
            if r is not None:
                run.figures.attacks["cross-account probes: the victim's objects intact"].record(
                    r.status_code == 200, f"{file_id} → {r.status_code}"
                )


async def idempotency(run: Run, account: Account) -> None:
    """Same key at once → one task, the others 409 or its replay; same key, another body → 422;
    same key, same body → the replay. For generations and for uploads."""
    key = uuid.uuid4().hex
    body = {"model": PAUSE_MODEL, "input": {"prompt": f"{MARK}{account.name} idem"}}
    headers = {"Idempotency-Key": key}
    answers = await asyncio.gather(
        *(
            run.send(
                account, "attack: idempotency", "POST", "/generations", json=body, headers=headers
            )
            for _ in range(6)
        )
    )
    if any(a is None for a in answers):
        run.figures.attacks["Idempotency-Key in flight (409 or replay)"].skipped += 1
        return
    created = {a.json()["id"] for a in answers if a is not None and a.status_code in (200, 202)}
    for a in answers:
        assert a is not None
        ok = (a.status_code == 202 and len(created) == 1) or (
            a.status_code == 409 and is_problem(a)
        )
        run.figures.attacks["Idempotency-Key in flight (409 or replay)"].record(
            ok, f"{a.status_code}, tasks {created}"
        )
    in_use = sum(1 for a in answers if a is not None and a.status_code == 409)
    run.figures.requests[("idempotency: 409 in flight seen", "4xx")] += in_use
    account.tasks.extend(created)
    other = await run.send(
        account,
        "attack: idempotency",
        "POST",
        "/generations",
        headers=headers,
        json={**body, "input": {"prompt": "another"}},
    )
    if other is not None:
        ok, detail = refused(other)
        run.figures.attacks["Idempotency-Key reused with another body (422)"].record(
            bool(ok) and other.status_code == 422, detail
        )
    again = await run.send(
        account, "attack: idempotency", "POST", "/generations", json=body, headers=headers
    )
    if again is not None and created:
        run.figures.attacks["Idempotency-Key replay (same task)"].record(
            again.status_code in (200, 202) and again.json().get("id") in created,
            f"{again.status_code}",
        )
    upload_key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await run.send(
        account,
        "attack: idempotency",
        "POST",
        "/files",
        headers=upload_key,
        files={"file": ("a.png", png(20, 20), "image/png")},
    )
    if first is not None and first.status_code == 201:
        account.files.append(first.json()["id"])
        other = await run.send(
            account,
            "attack: idempotency",
            "POST",
            "/files",
            headers=upload_key,
            files={"file": ("a.png", png(30, 30), "image/png")},
        )
        if other is not None:
            ok, detail = refused(other)
            run.figures.attacks["Idempotency-Key reused with another body (422)"].record(
                bool(ok) and other.status_code == 422, f"upload: {detail}"
            )


ATTACKS: list[Callable[[Run, Account], Awaitable[None]]] = [
    deep_json,
    non_finite,
    huge_integers,
    bad_text,
    image_parts,
    two_authorizations,
    big_headers,
    unknown_keys,
    cross_account,
]


async def attacks(run: Run, until: float) -> None:
    """Rounds of every attack until the load ends (at least one round)."""
    attacker = run.of("attacker")[0]
    await asyncio.sleep(min(3.0, run.args.duration / 4))  # let the victims make something to probe
    rounds = 0
    while rounds == 0 or time.monotonic() < until:
        for step in ATTACKS:
            try:
                await step(run, attacker)
            except Exception as error:
                if len(run.figures.runner_errors) < 10:
                    run.figures.runner_errors.append(f"{step.__name__}: {error!r}")
        try:
            await idempotency(run, run.rng.choice(run.of("normal")))
        except Exception as error:
            run.figures.runner_errors.append(f"idempotency: {error!r}")
        rounds += 1
    run.figures.notes.append(f"attack rounds: {rounds}")
    run.figures.notes.append(
        f"60 image parts: the server's RSS or peak RSS grew at most {run.rss_growth_mb:.1f} MB"
    )


# SIGKILLs


async def killer(run: Run, start: float, until: float) -> None:
    """SIGKILL the server or the worker at about every --kill-every seconds of the load (a
    second of jitter), and start it again at once."""
    targets = [p for p in (run.server, run.worker) if p is not None]
    run.rng.shuffle(targets)
    at = start
    for n in itertools.count():
        at += run.args.kill_every
        moment = at + run.rng.uniform(-1, 1)
        if moment > until - 2:
            return
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        target = targets[n % len(targets)]  # in turns: each process is killed
        if target is run.server:
            run.up.clear()
        target.kill()
        run.figures.kills[target.name] += 1
        await asyncio.sleep(run.rng.uniform(0, 0.5))
        target.start()
        if target is run.server:
            await wait_until_up(run)
            run.up.set()


async def wait_until_up(run: Run, deadline_s: float = 40) -> None:
    deadline = time.monotonic() + deadline_s
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{run.base}/openapi.json")).status_code == 200:
                    return
            server = run.server
            if server and server.process and server.process.poll() is not None:
                raise RuntimeError(f"the server exited: {server.logs()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            await asyncio.sleep(0.1)


# A webhook receiver: /fast answers at once, /slow after --slow-webhook seconds


async def webhook_receiver(slow_s: float) -> tuple[asyncio.Server, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            if length:
                await reader.readexactly(int(length.group(1)))
            if b" /slow" in head.split(b"\r\n", 1)[0]:
                await asyncio.sleep(slow_s)
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


# The invariant


async def invariant(run: Run, db: Database) -> None:
    """Check the money invariant in the database, after every process has stopped."""
    figures = run.figures
    async with db.read() as conn:
        ids = list((await conn.execute(select(accounts.c.id))).scalars())
        mismatched, negative = [], []
        for account_id in ids:
            wallet, ledger = (
                await get_balance(conn, account_id),
                await ledger_totals(conn, account_id),
            )
            if wallet != ledger:
                mismatched.append(f"{account_id}: wallet {wallet}, ledger {ledger}")
            if wallet.balance < 0 or wallet.reserved < 0 or wallet.reserved > wallet.balance:
                negative.append(f"{account_id}: {wallet}")
        figures.check(
            f"wallet = ledger sums ({len(ids)} accounts)",
            not mismatched,
            "; ".join(mismatched[:3]),
        )
        figures.check("no negative balance or reservation", not negative, "; ".join(negative[:3]))

        open_tasks = (
            await conn.execute(select(func.count()).where(tasks.c.status.not_in(TERMINAL)))
        ).scalar_one()
        figures.check(
            "every task finished after the restarts",
            open_tasks == 0,
            f"{open_tasks} queued or running",
        )
        ended_pending = (
            (
                await conn.execute(
                    select(tasks.c.id)
                    .join(holds, holds.c.id == tasks.c.hold_id)
                    .where(tasks.c.status.in_(TERMINAL), holds.c.status == "pending")
                )
            )
            .scalars()
            .all()
        )
        figures.check(
            "no ended task with a pending hold", not ended_pending, ", ".join(ended_pending[:3])
        )
        orphan = (
            (
                await conn.execute(
                    select(holds.c.id).where(
                        holds.c.status == "pending",
                        holds.c.kind != billing_holds.CHAT,
                    )
                )
            )
            .scalars()
            .all()
        )
        figures.check(
            "no pending generation hold (all tasks ended)", not orphan, ", ".join(orphan[:3])
        )

        twice = (
            await conn.execute(
                select(ledger_entries.c.hold_id, ledger_entries.c.kind)
                .where(ledger_entries.c.hold_id.is_not(None))
                .group_by(ledger_entries.c.hold_id, ledger_entries.c.kind)
                .having(func.count() > 1)
            )
        ).all()
        settled_twice = (
            (
                await conn.execute(
                    select(ledger_entries.c.hold_id)
                    .where(ledger_entries.c.kind.in_(("capture", "release")))
                    .group_by(ledger_entries.c.hold_id)
                    .having(func.count() > 1)
                )
            )
            .scalars()
            .all()
        )
        figures.check(
            "no hold settled twice (one capture or release each)",
            not twice and not settled_twice,
            f"{twice[:3]} {settled_twice[:3]}",
        )
        over = (
            (
                await conn.execute(
                    select(holds.c.id).where(
                        holds.c.status == "captured", holds.c.captured > holds.c.amount
                    )
                )
            )
            .scalars()
            .all()
        )
        wrong_capture = (
            (
                await conn.execute(
                    select(holds.c.id)
                    .join(
                        ledger_entries,
                        (ledger_entries.c.hold_id == holds.c.id)
                        & (ledger_entries.c.kind == "capture"),
                    )
                    .where(
                        (ledger_entries.c.balance_delta != -holds.c.captured)
                        | (ledger_entries.c.reserved_delta != -holds.c.amount)
                    )
                )
            )
            .scalars()
            .all()
        )
        overcharged = (
            (
                await conn.execute(
                    select(tasks.c.id)
                    .join(holds, holds.c.id == tasks.c.hold_id)
                    .where(holds.c.status == "captured", holds.c.captured > tasks.c.price)
                )
            )
            .scalars()
            .all()
        )
        figures.check(
            "captures ≤ holds, ledger = hold, task charge ≤ price",
            not (over or wrong_capture or overcharged),
            f"{over[:3]} {wrong_capture[:3]} {overcharged[:3]}",
        )
        by_status = select(tasks.c.status, func.count()).group_by(tasks.c.status)
        counts = dict(
            (
                await conn.execute(select(holds.c.status, func.count()).group_by(holds.c.status))
            ).all()
        )
        figures.notes.append(
            f"holds: {counts}; tasks: {dict((await conn.execute(by_status)).all())}"
        )
        failed = select(tasks.c.error_code, tasks.c.error_message, func.count()).where(
            tasks.c.status == "failed"
        )
        failures = (
            await conn.execute(failed.group_by(tasks.c.error_code, tasks.c.error_message))
        ).all()
        if failures:
            figures.notes.append(f"failed tasks: {[tuple(f) for f in failures]}")

        attacker = run.of("attacker")[0]
        entries = (
            await conn.execute(
                select(ledger_entries.c.kind, ledger_entries.c.balance_delta).where(
                    ledger_entries.c.account_id == attacker.id
                )
            )
        ).all()
        wallet = await get_balance(conn, attacker.id)
        figures.check(
            "the attacks moved no money",
            [tuple(e) for e in entries] == [("grant", ATTACKER_GRANT)]
            and (wallet.balance, wallet.reserved) == (ATTACKER_GRANT, 0),
            f"ledger {entries[:5]}, wallet {wallet}",
        )

        chat_pending = (
            await conn.execute(
                select(holds.c.id, holds.c.created_at, holds.c.reference, holds.c.account_id).where(
                    holds.c.status == "pending",
                    holds.c.kind == billing_holds.CHAT,
                )
            )
        ).all()
    assert run.server is not None
    kills = run.server.kill_times
    attacker = run.of("attacker")[0].id
    unexplained = []
    for h in chat_pending:
        # A turn killed with its server began at most a turn's lifetime before the kill; a
        # turn the client saw end (or cut) was killed unsettled only if a kill came just after.
        left, how = run.left_turns.get(h.reference, (None, ""))
        if h.account_id == attacker:
            unexplained.append(f"{h.reference}: an attack's turn")
        elif not any(-1 <= kill - h.created_at <= TURN_LIFETIME_S for kill in kills):
            unexplained.append(f"{h.reference}: made at {h.created_at}, no kill within 40 s")
        elif left is not None and not any(-1 <= k - left <= SETTLE_GRACE_S for k in kills):
            after = sorted(round(k - left, 1) for k in kills if k > left - 1)
            unexplained.append(
                f"{h.reference} ({how}): left at {left:.1f}, kills {after[:2]} s later"
            )
    figures.check(
        f"pending chat holds only from turns cut by a SIGKILL ({len(chat_pending)})",
        not unexplained,
        "; ".join(unexplained[:5]),
    )
    # The hourly sweep, told that every turn still pending is abandoned (the servers are down).
    with mock.patch.object(turns, "ABANDONED_AFTER_S", -1):
        released = await turns.release_abandoned(SimpleNamespace(db=db))  # type: ignore[arg-type]
    async with db.read() as conn:
        left = (
            await conn.execute(select(func.count()).where(holds.c.status == "pending"))
        ).scalar_one()
        mismatched = [a for a in ids if await get_balance(conn, a) != await ledger_totals(conn, a)]
        reserved = [a for a in ids if (await get_balance(conn, a)).reserved != 0]
    figures.check(
        f"after the sweep ({released} released): no pending hold, nothing reserved, "
        "wallet = ledger",
        left == 0 and not mismatched and not reserved,
        f"{left} pending, {reserved[:3]} reserved",
    )


# One database


async def admin_sql(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run_database(kind: str, args: argparse.Namespace, rng: random.Random) -> Figures:
    figures = Figures(kind)
    started = time.monotonic()
    pg_url = os.environ.get("RIVYA_TEST_POSTGRES_URL", "")
    with tempfile.TemporaryDirectory(prefix=f"rivya-reliability-{kind}-") as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "RIVYA_DATA_DIR": str(data_dir), "RIVYA_LOG_LEVEL": args.log_level}
        env.pop("RIVYA_DATABASE_URL", None)
        db_name = ""
        if kind == "postgresql":
            db_name = f"rivya_rel_{os.getpid()}_{free_port()}"
            await admin_sql(pg_url, f'CREATE DATABASE "{db_name}"')
            env["RIVYA_DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + f"/{db_name}"
        url = env.get("RIVYA_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'rivya.db'}"
        hooks, hook_port = await webhook_receiver(args.slow_webhook)
        try:
            image = yaml.safe_load(BUILTIN_CATALOG.read_text())["models"][0]
            pause = {**image, "id": PAUSE_MODEL, "name": "Pause (tests)"}
            pause["provider"] = {"type": "local-image", "options": {"delay_seconds": 2}}
            env.update(
                {
                    "RIVYA_CATALOG": str(write_catalog(data_dir, [pause])),
                    # Thousands of requests a minute per account: lift the request limit.
                    "RIVYA_RATE_LIMIT": "1000000/minute",
                    "RIVYA_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
                    # A killed worker's tasks are taken over within seconds, and stops are quick.
                    "RIVYA_LEASE_SECONDS": "3",
                    "RIVYA_WORKER_DRAIN_SECONDS": "1",
                    "RIVYA_SHUTDOWN_SETTLE_SECONDS": "2",
                    # Every line logged before a SIGKILL reaches the log file.
                    "PYTHONUNBUFFERED": "1",
                }
            )
            await asyncio.to_thread(rivya, env, "db", "upgrade")
            roles = ["noisy"] + ["normal"] * 3 + ["attacker"]
            accounts_made = await asyncio.gather(
                *(
                    asyncio.to_thread(make_account, env, f"{role}{i}", role)
                    for i, role in enumerate(roles)
                )
            )
            port = free_port()
            run = Run(figures, port, rng, args)
            run.hook_port = hook_port
            run.accounts = list(accounts_made)
            logs = data_dir / "logs"
            logs.mkdir()
            run.server = Proc(
                "server", ["serve", "--host", "127.0.0.1", "--port", str(port)], env, logs
            )
            if kind == "postgresql":
                run.worker = Proc("worker", ["worker"], env, logs)
            run.server.start()
            if run.worker:
                run.worker.start()
            await wait_until_up(run)
            run.up.set()
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            for account in run.accounts:
                account.http = httpx.AsyncClient(
                    base_url=run.base, headers=account.auth, timeout=60, limits=limits
                )
            try:
                await setup_webhooks(run)
                start = time.monotonic()
                figures.notes.append(f"setup took {start - started:.1f} s")
                until = start + args.duration
                actors = [
                    load(run, a, until) for a in run.of("normal") for _ in range(args.concurrency)
                ]
                actors += [
                    load(run, a, until)
                    for a in run.of("noisy")
                    for _ in range(args.concurrency * 3)
                ]
                await asyncio.gather(
                    *actors, latency_probe(run, until), attacks(run, until),
                    killer(run, start, until),
                )  # fmt: skip
                figures.notes.append(f"load took {time.monotonic() - start:.1f} s")
                await drain(run, url)
            finally:
                stopping = time.monotonic()
                for account in run.accounts:
                    if account.http:
                        await account.http.aclose()
                for proc in (run.worker, run.server):
                    if proc is not None and proc.process is not None:
                        status = await asyncio.to_thread(proc.stop)
                        figures.check(
                            f"{proc.name} stopped gracefully", status == 0, f"exit status {status}"
                        )
                figures.notes.append(f"stopping took {time.monotonic() - stopping:.1f} s")
            db = Database(url)
            try:
                await invariant(run, db)
            finally:
                await db.dispose()
            for proc in (run.server, run.worker):
                if proc is not None:
                    text = proc.logs()
                    found = text.count("Traceback")
                    figures.check(
                        f"no traceback in the {proc.name}'s logs", found == 0, tracebacks(text)
                    )
        finally:
            hooks.close()
            if args.keep_logs:
                kept = Path(args.keep_logs) / kind
                kept.mkdir(parents=True, exist_ok=True)
                for log in (data_dir / "logs").glob("*.log"):
                    shutil.copy(log, kept / log.name)
            if db_name:
                await admin_sql(pg_url, f'DROP DATABASE "{db_name}" WITH (FORCE)')
    figures.seconds = time.monotonic() - started
    return figures


def tracebacks(text: str) -> str:
    """How many tracebacks of each exception the log holds, then the first one in full."""
    at = text.find("Traceback")
    if at < 0:
        return ""
    # A traceback ends at its first unindented line: the exception and its message.
    ends = re.findall(r"^Traceback[^\n]*\n(?:[ \t][^\n]*\n)*([^\n]{0,100})", text, re.MULTILINE)
    kinds = Counter(ends)
    summary = "; ".join(f"{n} x {kind}" for kind, n in kinds.most_common())
    return f"{summary}\n         first: {text[max(0, at - 300) : at + 2500]}"


def make_account(env: dict[str, str], name: str, role: str) -> Account:
    account = rivya(env, "accounts", "create", "--name", name)
    amount = ATTACKER_GRANT if role == "attacker" else GRANT
    rivya(env, "credits", "grant", "--account", account["id"], "--amount", str(amount))
    key = rivya(env, "keys", "create", "--account", account["id"])
    return Account(name, account["id"], key["secret"], role)


async def setup_webhooks(run: Run) -> None:
    """The noisy account subscribes as many slow endpoints as it may, the others one fast
    endpoint each."""
    for account in run.accounts:
        # The noisy account asks for more endpoints than an account may have (20 by default).
        count, path = (25, "slow") if account.role == "noisy" else (1, "fast")
        for _ in range(count):
            r = await run.send(
                account,
                "webhook.create",
                "POST",
                "/webhooks",
                retries=3,
                json={
                    "url": f"http://127.0.0.1:{run.hook_port}/{path}",
                    "description": f"{MARK}{account.name}" if account.role != "attacker" else "",
                    "events": ["generation.succeeded", "generation.failed", "generation.canceled"],
                },
            )
            if r is not None and r.status_code == 201:
                account.webhooks.append(r.json()["id"])
    if not run.of("attacker")[0].webhooks:
        raise RuntimeError("the attacker could not create its webhook endpoint")


async def drain(run: Run, url: str) -> None:
    """Wait (with a deadline) until no task is queued or running: nothing a kill interrupted is
    lost."""
    db = Database(url)
    started = time.monotonic()
    try:
        while True:
            async with db.read() as conn:
                left = (
                    await conn.execute(select(func.count()).where(tasks.c.status.not_in(TERMINAL)))
                ).scalar_one()
            if left == 0 or time.monotonic() - started > run.args.drain_deadline:
                break
            await asyncio.sleep(0.25)
        async with db.read() as conn:
            backlog = (
                await conn.execute(
                    select(jobs.c.kind, jobs.c.status, func.count())
                    .where(jobs.c.status != "done")
                    .group_by(jobs.c.kind, jobs.c.status)
                )
            ).all()
    finally:
        await db.dispose()
    run.figures.notes.append(
        f"jobs not done at the end of the drain: {[tuple(b) for b in backlog]}"
    )
    run.figures.notes.append(f"queue drained in {time.monotonic() - started:.1f} s ({left} left)")


# Output


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(figures: Figures) -> None:
    killed = ", ".join(f"{k} {v}" for k, v in sorted(figures.kills.items()))
    print(
        f"\n=== {figures.database}: {figures.seconds:.0f} s, kills survived: "
        f"{sum(figures.kills.values())} ({killed or 'none'})"
    )
    kinds = sorted({k for k, _ in figures.requests})
    print(
        f"\n{'requests':44} {'2xx':>6} {'4xx':>6} {'5xx':>5} {'conn':>5}"
        f" {'p50 ms':>8} {'p99 ms':>8}"
    )
    for kind in kinds:
        row = [figures.requests[(kind, c)] for c in ("2xx", "4xx", "5xx", "transport")]
        lat = figures.latency.get(kind) or []
        p50 = f"{percentile(lat, 0.5):8.1f}" if lat else f"{'-':>8}"
        p99 = f"{percentile(lat, 0.99):8.1f}" if lat else f"{'-':>8}"
        print(f"  {kind:42} {row[0]:6} {row[1]:6} {row[2]:5} {row[3]:5} {p50} {p99}")
    total = sum(figures.requests.values())
    print(f"  {'total':42} {total:6}")
    if figures.codes:
        print(
            "\n4xx answers under load: "
            + ", ".join(
                f"{kind} {status} {code}: {n}"
                for (kind, status, code), n in sorted(figures.codes.items())
            )
        )
    print(f"\n{'attacks':60} {'tried':>6} {'held':>6}")
    for name, a in sorted(figures.attacks.items()):
        mark = "ok  " if a.held == a.tried else "FAIL"
        skipped = f"  ({a.skipped} skipped: server down)" if a.skipped else ""
        print(f"  {mark} {name:55} {a.tried:6} {a.held:6}{skipped}")
        for failure in a.failures:
            print(f"         e.g. {failure}")
    print("\nchecks")
    for name, ok, detail in figures.checks:
        print(
            f"  {'ok  ' if ok else 'FAIL'} {name}"
            + ("" if ok or not detail else f"\n         {detail[:3000]}")
        )
    if figures.server_errors:
        print(
            "  FAIL 5xx answers under load:\n         " + "\n         ".join(figures.server_errors)
        )
    if figures.runner_errors:
        print(
            "  FAIL unexpected errors in the runner:\n         "
            + "\n         ".join(figures.runner_errors)
        )
    for note in figures.notes:
        print(f"  · {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--short", action="store_true", help="CI's quick run: 15 s of load, a kill every 5.5 s"
    )
    parser.add_argument("--duration", type=float, default=120, help="seconds of load per database")
    parser.add_argument("--kill-every", type=float, default=20, help="seconds between SIGKILLs")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="concurrent clients per normal account"
    )
    parser.add_argument(
        "--drain-deadline", type=float, default=60, help="seconds for the queue to drain"
    )
    parser.add_argument(
        "--slow-webhook", type=float, default=1.0, help="seconds the noisy account's endpoints take"
    )
    parser.add_argument("--seed", type=int, default=int(time.time()), help="random seed (printed)")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], action="append", help="only these"
    )
    parser.add_argument("--log-level", default="WARNING", help="the servers' RIVYA_LOG_LEVEL")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the servers' logs there")
    args = parser.parse_args(argv)
    if args.short:
        args.duration, args.kill_every, args.concurrency, args.drain_deadline = 15, 5.5, 2, 30
    databases = args.database or ["sqlite", "postgresql"]
    if "postgresql" in databases and not os.environ.get("RIVYA_TEST_POSTGRES_URL"):
        print("PostgreSQL skipped: set RIVYA_TEST_POSTGRES_URL (.ci/run does)")
        databases.remove("postgresql")
    print(
        f"reliability run: seed {args.seed}, {args.duration:.0f} s of load, a kill every "
        f"~{args.kill_every:.0f} s, on {', '.join(databases)}"
    )
    failed = False
    for kind in databases:
        figures = asyncio.run(run_database(kind, args, random.Random(f"{args.seed}-{kind}")))
        report(figures)
        failed = failed or figures.failed
    print("\nreliability run: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
