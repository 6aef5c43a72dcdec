"""Requests per second of `GET /api/v1/models` on the real Rivya server next to bare Starlette.

One run measures two servers, one at a time, each a single uvicorn process on a free 127.0.0.1 port:

rivya      `python -m rivya.cli serve --dev` (what `rivya serve --dev` runs) with a fresh
           RIVYA_DATA_DIR in a temp dir; other RIVYA_* variables are dropped so runs are
           comparable. The dev API key is read from its stdout. Measured is its whole request
           path: connexion routing and validation, the Bearer key lookup in the SQLite store, the
           handler, and the per-request INFO access log line (stderr, sent to a file).
starlette  bench/_starlette_baseline.py: a one-route Starlette app under uvicorn with the options
           rivya uses (no log config, no access log), answering the exact bytes fetched once from
           rivya with the same key (content-type application/json). Its only auth is comparing the
           Authorization header with a constant string (an empty 401 otherwise).

Each server is polled until it answers 200 (30 s deadline), loaded for --warmup seconds (figures
discarded), loaded for --duration seconds over --connections keep-alive connections, and stopped
with SIGTERM (SIGKILL after 10 s), on errors too. Every response's status is checked.

Load generator: wrk (1 thread, with a Lua script that counts non-200 responses) when it is on
PATH, else a Python generator in its own process (raw keep-alive HTTP/1.1 over asyncio streams,
on uvloop when installed); --generator forces one. The generator shares the machine with the
server (on 2 cores, roughly one each, plus the kernel's loopback work), so absolute figures depend
on the generator and the machine: compare the ratio, and figures taken with the same generator.

Exit status: 0 ok; 1 if a measured request failed or answered other than 200; 2 if a server could
not be started or measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PATH = "/api/v1/models"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0
GENERATOR_GRACE = 30.0
DEV_KEY_LINE = re.compile(r"API key \(shown this once, keep it\): (rvya_sk_\S+)")
# What a failed request raises in the Python generator: counted, and the connection renewed.
REQUEST_ERRORS = (
    OSError,
    EOFError,
    TimeoutError,
    ValueError,
    IndexError,
    asyncio.LimitOverrunError,
)
WRK_THREADS = 1
WRK_RESULT = re.compile(r"^WRK_RESULT (\{.*\})$", re.MULTILINE)
WRK_SCRIPT = """\
-- Counts answers whose status is not @EXPECTED@ and prints the figures as one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
end

function response(status, headers, body)
  if status ~= @EXPECTED@ then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"non-@EXPECTED@": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    unexpected_total, e.connect, e.read, e.write, e.timeout))
end
"""


class BenchError(Exception):
    """A server could not be started or measured."""


@dataclass(frozen=True)
class Result:
    """One server's figures over the measured interval."""

    requests: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    errors: dict[str, int]

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds

    def as_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        return {
            "requests_per_s": round(self.rps, 1),
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "p50_ms": _round(self.p50_ms),
            "p99_ms": _round(self.p99_ms),
            "errors": self.errors,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# Servers


@dataclass(frozen=True)
class Server:
    """A running server process and where its output goes."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    def check_alive(self) -> None:
        """Raise BenchError if the process has exited."""
        if self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited with status {self.proc.returncode}{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        """The last lines of its stderr, for error messages."""
        text = self.stderr.read_text(errors="replace").splitlines()[-lines:]
        return "".join(f"\n  | {line}" for line in text)


def free_port() -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path
) -> Iterator[Server]:
    """Start a server process with its output in workdir; stop it on leaving, whatever happens."""
    stdout, stderr = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        yield Server(name, proc, port, stdout, stderr)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(server: Server, probe: Callable[[], T], what: str) -> T:
    """Poll probe() until it returns; it signals 'not yet' with OSError or LookupError."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        server.check_alive()
        try:
            return probe()
        except (OSError, LookupError) as exc:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{server.name}: no {what} within {STARTUP_TIMEOUT:g} s ({exc}){server.tail()}"
                ) from exc
        time.sleep(0.1)


def read_dev_key(stdout: Path) -> str:
    """The dev API key that `rivya serve --dev` prints on first start."""
    match = DEV_KEY_LINE.search(stdout.read_text(errors="replace"))
    if match is None:
        raise LookupError("no API key line on stdout yet")
    return match.group(1)


# A direct opener: 127.0.0.1 must never go through an HTTP proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_models(port: int, authorization: str) -> bytes:
    """The body of one 200 application/json answer to GET PATH (urllib raises on other statuses)."""
    request = urllib.request.Request(
        f"http://{HOST}:{port}{PATH}", headers={"Authorization": authorization}
    )
    with _DIRECT.open(request, timeout=REQUEST_TIMEOUT) as response:
        if response.status != 200 or response.headers.get_content_type() != "application/json":
            raise BenchError(f"unexpected answer: {response.status} {response.headers}")
        body: bytes = response.read()
        return body


# Load generators


class Wrk:
    """wrk with a Lua script that counts answers other than `expected` and reports figures as
    JSON; with a JSON `body`, every request POSTs it to `url_path`."""

    def __init__(
        self,
        path: str,
        workdir: Path,
        *,
        url_path: str = PATH,
        expected: int = 200,
        body: str | None = None,
    ) -> None:
        self.path = path
        self.url_path = url_path
        self.expected = expected
        self.script = workdir / "status.lua"
        post = f'wrk.method = "POST"\nwrk.body = [==[{body}]==]\n' if body is not None else ""
        self.script.write_text(post + WRK_SCRIPT.replace("@EXPECTED@", str(expected)))
        self.headers = ["--header=Content-Type: application/json"] if body is not None else []
        banner = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10).stdout
        version = banner.partition(" [")[0] or "wrk"
        method = "POST and " if body is not None else ""
        self.name = f"{version} ({WRK_THREADS} thread, Lua {method}status check)"

    def run(self, port: int, authorization: str, connections: int, seconds: int) -> Result:
        """Load the server for `seconds` over `connections` connections."""
        argv = [
            self.path,
            f"--threads={WRK_THREADS}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            f"--timeout={REQUEST_TIMEOUT:g}s",
            f"--script={self.script}",
            f"--header=Authorization: {authorization}",
            *self.headers,
            f"http://{HOST}:{port}{self.url_path}",
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + GENERATOR_GRACE, check=False
        )
        match = WRK_RESULT.search(done.stdout)
        if done.returncode != 0 or match is None:
            raise BenchError(f"wrk failed (status {done.returncode}): {done.stderr or done.stdout}")
        figures = json.loads(match.group(1))
        kinds = (f"non-{self.expected}", "connect", "read", "write", "timeout")
        return Result(
            requests=figures["requests"],
            seconds=figures["duration_us"] / 1e6,
            p50_ms=figures["p50_us"] / 1e3,
            p99_ms=figures["p99_us"] / 1e3,
            errors={kind: figures[kind] for kind in kinds if figures[kind]},
        )


class PythonLoad:
    """A Python asyncio load generator, run in a separate process so it has its own core."""

    def __init__(self) -> None:
        loop = "uvloop" if _loop_factory() else "asyncio"
        self.name = f"python ({loop} streams, keep-alive HTTP/1.1, separate process)"

    def run(self, port: int, authorization: str, connections: int, seconds: int) -> Result:
        """Load the server for `seconds` over `connections` connections."""
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            job = pool.apply_async(python_load, (port, authorization, connections, seconds))
            try:
                figures = job.get(timeout=seconds + GENERATOR_GRACE)
            except multiprocessing.TimeoutError:
                raise BenchError("the Python load generator did not finish in time") from None
        return Result(**figures)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def python_load(port: int, authorization: str, connections: int, seconds: int) -> dict[str, Any]:
    """Run in the generator process: the figures of a Result, as a dict."""
    request = (
        f"GET {PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: {authorization}\r\n\r\n"
    ).encode()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_load(port, request, connections, seconds))


async def _load(port: int, request: bytes, connections: int, seconds: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, latencies, errors) for _ in range(connections))
    )
    seconds = time.perf_counter() - started
    p50_ms, p99_ms = _percentiles_ms(latencies)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "p50_ms": p50_ms,
        "p99_ms": p99_ms,
        "errors": dict(errors),
    }


def _percentiles_ms(latencies: list[float]) -> tuple[float | None, float | None]:
    """p50 and p99 of latencies in seconds, as milliseconds (None under two samples)."""
    if len(latencies) < 2:
        return None, None
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1e3, cuts[98] * 1e3


async def _connection(
    port: int, request: bytes, deadline: float, latencies: list[float], errors: Counter[str]
) -> None:
    """One connection sending requests one after another until the deadline, reconnecting after
    an error or a `Connection: close`."""
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while time.perf_counter() < deadline:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    if conn is None:
                        conn = await asyncio.open_connection(HOST, port)
                    sent = time.perf_counter()
                    conn[1].write(request)
                    status, keep_alive = await _read_response(conn[0])
                latencies.append(time.perf_counter() - sent)
                if status != 200:
                    errors[f"status {status}"] += 1
            except REQUEST_ERRORS as exc:
                errors[type(exc).__name__] += 1
                keep_alive = False
            if not keep_alive and conn is not None:
                conn[1].close()
                conn = None
    finally:
        if conn is not None:
            conn[1].close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response: its status and whether the connection stays open. The body must come
    with a Content-Length (both servers send one)."""
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ValueError("response without Content-Length")
    await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split(" ", 2)[1]), headers.get("connection", "").lower() != "close"


def pick_generator(choice: str, workdir: Path) -> Wrk | PythonLoad:
    """wrk if it is on PATH (or asked for), else the Python generator."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise BenchError("--generator wrk: wrk is not on PATH")
    if wrk is not None and choice != "python":
        return Wrk(wrk, workdir)
    return PythonLoad()


# The benchmark


def measure(
    server: Server, generator: Wrk | PythonLoad, authorization: str, args: argparse.Namespace
) -> Result:
    """Warm up (figures discarded), then measure; the server must still be running after."""
    if args.warmup:
        generator.run(server.port, authorization, args.connections, args.warmup)
    result = generator.run(server.port, authorization, args.connections, args.duration)
    server.check_alive()
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure rivya, then the Starlette baseline serving rivya's bytes; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="rivya-bench-") as tmp:
        workdir = Path(tmp)
        generator = pick_generator(args.generator, workdir)

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIVYA_")}
        env["RIVYA_DATA_DIR"] = str(workdir / "data")
        env["RIVYA_RATE_LIMIT"] = ""  # one key sends everything: no request limit
        argv = [sys.executable, "-m", "rivya.cli", "serve", "--dev", "--host", HOST]
        with serving("rivya", [*argv, "--port", str(port)], env, port, workdir) as server:
            key = wait_for(server, lambda: read_dev_key(server.stdout), "API key line")
            authorization = f"Bearer {key}"
            body = wait_for(server, lambda: get_models(server.port, authorization), "200 answer")
            rivya = measure(server, generator, authorization, args)

        port = free_port()
        body_file = workdir / "models.json"
        body_file.write_bytes(body)
        env = {
            **os.environ,
            "BASELINE_BODY_FILE": str(body_file),
            "BASELINE_AUTHORIZATION": authorization,
        }
        argv = [sys.executable, str(BENCH_DIR / "_starlette_baseline.py"), HOST, str(port)]
        with serving("starlette", argv, env, port, workdir) as server:
            copy = wait_for(server, lambda: get_models(server.port, authorization), "200 answer")
            if copy != body:
                raise BenchError("the baseline's body differs from rivya's")
            starlette = measure(server, generator, authorization, args)

    return {
        "endpoint": f"GET {PATH}",
        "body_bytes": len(body),
        "generator": generator.name,
        "connections": args.connections,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "rivya": rivya.as_json(),
        "starlette": starlette.as_json(),
        "ratio": round(rivya.rps / starlette.rps, 4) if starlette.requests else None,
    }


def as_text(figures: dict[str, Any]) -> str:
    """The figures as a small table."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        f"{figures['endpoint']}: {figures['body_bytes']}-byte JSON body, "
        f"{figures['connections']} connections, {figures['warmup_s']} s warm-up, "
        f"{figures['duration_s']} s measured per server",
        f"generator: {figures['generator']}",
        "",
        f"{'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}",
    ]
    for name in ("rivya", "starlette"):
        r = figures[name]
        lines.append(
            f"{name:<10} {r['requests_per_s']:>9.1f} {ms(r['p50_ms']):>8} {ms(r['p99_ms']):>8} "
            f"{r['requests']:>9} {sum(r['errors'].values()):>7}"
        )
    for name in ("rivya", "starlette"):
        if figures[name]["errors"]:
            lines.append(f"{name} errors: {figures[name]['errors']}")
    ratio = figures["ratio"]
    if ratio:
        lines += [
            "",
            f"ratio rivya/starlette: {ratio:.4f} (starlette: {1 / ratio:.1f}x rivya's rate)",
        ]
    else:
        lines += ["", "ratio rivya/starlette: - (starlette completed no request)"]
    return "\n".join(lines)


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--duration", type=_int_at_least(1), default=10, help="measured seconds per server"
    )
    parser.add_argument(
        "--connections", type=_int_at_least(1), default=32, help="concurrent connections"
    )
    parser.add_argument(
        "--warmup", type=_int_at_least(0), default=2, help="warm-up seconds per server"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (auto: wrk when on PATH, else python)",
    )
    return parser.parse_args(argv)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; the exit status (see the module docstring)."""
    args = parse_args(argv)
    # On SIGTERM unwind like on Ctrl-C, so that the servers are stopped and the temp dir removed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        figures = run(args)
    except BenchError as exc:
        print(f"models_rps: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(json.dumps(figures, indent=2) if args.json else as_text(figures))
    if figures["rivya"]["errors"] or figures["starlette"]["errors"]:
        print("models_rps: some requests failed (see errors)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
