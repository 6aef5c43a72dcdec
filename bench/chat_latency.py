"""Latency and time to first token that Rivya adds to a chat turn, next to the upstream direct.

One run starts two servers, each its own process on a free 127.0.0.1 port:

upstream  bench/_fake_chat_upstream.py: an OpenAI-compatible `POST /v1/chat/completions` under
          uvicorn that answers every turn at once with the same answer of --tokens tokens
          (default 16; --token-delay-ms before each, default 0), as JSON or as SSE chunks (a
          usage chunk when `stream_options.include_usage`, then `data: [DONE]`).
rivya     `python -m rivya.cli serve --dev` (its in-process job worker included) with a fresh
          RIVYA_DATA_DIR (SQLite) and RIVYA_CATALOG naming one model, `bench-chat`: the
          built-in `rivya-chat-dev` entry on the `openai-chat` provider pointed at the fake
          (`model: fake-model`, `max_retries: 0`). Other RIVYA_* variables are dropped. The dev
          key and account are read from its stdout; credits are granted with the CLI if the
          planned turns could need more than the dev grant.

The client is httpx.AsyncClient in this process (keep-alive, no proxies from the environment).
For each concurrency level (--concurrency, default 1 and 16), each mode (non-streaming,
streaming) and each target (the fake directly, then Rivya), one fresh client runs --warmup turns
(figures discarded) and then --turns measured turns, C at a time. The two targets get the same
messages and `max_tokens`, with `stream_options.include_usage` on streams; the model answers
both the same. Rivya asks the upstream as it was asked: a non-streaming turn is one JSON answer
from the upstream too.

Recorded per turn: non-streaming, the time from sending to the whole JSON body; streaming, the
time to the first SSE data event with a non-empty `delta.content` (TTFT; Rivya's role chunk,
sent before the model is called, does not count) and to `data: [DONE]`. Shown: p50 and p95 of
each, the added milliseconds (rivya - direct, of each percentile) and the ratio rivya/direct;
and Rivya's own time for the request as its access log line reports it (middleware entry to the
end of the body). Every answer must be a 200 with the expected text and usage (streams: a usage
chunk, then [DONE]). At the end Rivya's wallet must hold nothing reserved and be charged exactly
the turns' usage. The figures of LiteLLM's proxy measured on the maintainers' rig
(/work/shared/REFERENCES.md) are printed next to ours, for orientation only: another machine.

At concurrency 1 the added latency is Rivya's work per turn; at 16 it includes queueing in
Rivya's one process (and in SQLite's one writer). The client, both servers and the kernel's
loopback share the machine (2 cores here): compare the added milliseconds and ratios of one run.

Exit status: 0 ok; 1 if a turn failed (status, transport error, wrong text or usage) or the
wallet check failed; 2 if a server could not be started or measured, or a phase overran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _fake_chat_upstream import PATH as UPSTREAM_PATH
from _fake_chat_upstream import answer_tokens
from _fake_chat_upstream import usage as upstream_usage
from generations import log_problems
from models_rps import (
    BENCH_DIR,
    HOST,
    BenchError,
    Server,
    _int_at_least,
    _terminated,
    free_port,
    get_models,
    read_dev_key,
    serving,
    wait_for,
)

MODEL_ID = "bench-chat"
SOURCE_MODEL_ID = "rivya-chat-dev"
UPSTREAM_MODEL = "fake-model"
RIVYA_PATH = "/api/v1/chat/completions"
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Say something about foxes."},
]
MODES = ("non-streaming", "streaming")
TURN_TIMEOUT = 30.0
PHASE_SLACK = 30.0  # s: a phase may last this plus its turns' share of TURN_TIMEOUT
CLI_TIMEOUT = 60.0
LOG_WAIT = 5.0  # s: how long access log lines may lag behind the answers
ERROR_SAMPLES = 3
DEV_ACCOUNT_LINE = re.compile(r"Development account (\S+) with (\d+) credits")
ACCESS_LINE = re.compile(
    r"^\S+ \S+ INFO rivya\.access \[[^\]]*\] (\S+) (\S+) (\S+) ([\d.]+)ms$", re.MULTILINE
)
REFERENCE = {
    "source": "/work/shared/REFERENCES.md, 'Measured here'",
    "system": "LiteLLM proxy 1.108.7, one worker, no database, fake upstream answering in 0.15 ms",
    "where": "the maintainers' bench rig (one core each), not this machine",
    "added_p50_ms": 25.8,
    "added_ttft_ms": 19.6,
}

# A direct opener: 127.0.0.1 must never go through an HTTP proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TurnFailed(Exception):
    """A turn's answer was not the expected one."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """Where turns go: the fake upstream directly, or Rivya."""

    name: str  # direct | rivya
    base_url: str
    path: str
    model: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Expected:
    """What every answer must say."""

    text: str
    usage: dict[str, int]


@dataclass(frozen=True)
class Sample:
    """One measured turn, in seconds."""

    total_s: float
    ttft_s: float | None = None


@dataclass
class Samples:
    """The turns of one phase."""

    samples: list[Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def failed(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(f"{kind}: {detail[:300]}")


# The turns


def request_body(model: str, stream: bool, max_tokens: int) -> bytes:
    """The JSON body of every turn of one mode and target."""
    body: dict[str, Any] = {"model": model, "messages": MESSAGES, "max_tokens": max_tokens}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body, separators=(",", ":")).encode()


def check_usage(found: Any, expected: Expected) -> None:
    """Raise TurnFailed unless the answer's usage is the upstream's."""
    if not isinstance(found, dict) or any(found.get(k) != v for k, v in expected.usage.items()):
        raise TurnFailed("wrong usage", f"{found!r} (expected {expected.usage})")


async def complete_turn(
    client: httpx.AsyncClient, target: Target, body: bytes, expected: Expected
) -> Sample:
    """One non-streaming turn: the time to the whole answer."""
    started = time.perf_counter()
    response = await client.post(target.path, content=body)
    total = time.perf_counter() - started
    if response.status_code != 200:
        raise TurnFailed(f"status {response.status_code}", response.text)
    try:
        answer = response.json()
        text = answer["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError) as exc:
        raise TurnFailed("malformed answer", response.text) from exc
    if text != expected.text:
        raise TurnFailed("wrong text", repr(text))
    check_usage(answer.get("usage"), expected)
    return Sample(total_s=total)


async def stream_turn(
    client: httpx.AsyncClient, target: Target, body: bytes, expected: Expected
) -> Sample:
    """One streaming turn: the times to the first token and to `data: [DONE]`. The body is read
    to its end, so that the connection stays open for the next turn."""
    started = time.perf_counter()
    first: float | None = None
    done: float | None = None
    parts: list[str] = []
    found_usage: Any = None
    async with client.stream("POST", target.path, content=body) as response:
        if response.status_code != 200:
            await response.aread()
            raise TurnFailed(f"status {response.status_code}", response.text)
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue  # blank separators, `: keep-alive` comments
            data = line.removeprefix("data:").strip()
            if done is not None:
                raise TurnFailed("data after [DONE]", data)
            if data == "[DONE]":
                done = time.perf_counter()
                continue
            try:
                chunk = json.loads(data)
                choices = chunk.get("choices") or []
                content = choices[0].get("delta", {}).get("content") if choices else None
            except (ValueError, AttributeError, LookupError) as exc:
                raise TurnFailed("malformed chunk", data) from exc
            if chunk.get("error") is not None:
                raise TurnFailed("error event", data)
            if content:
                if first is None:
                    first = time.perf_counter()
                parts.append(content)
            if chunk.get("usage"):
                found_usage = chunk["usage"]
    if done is None:
        raise TurnFailed("no [DONE]", "the stream ended without data: [DONE]")
    if first is None or "".join(parts) != expected.text:
        raise TurnFailed("wrong text", repr("".join(parts)))
    check_usage(found_usage, expected)
    return Sample(total_s=done - started, ttft_s=first - started)


async def run_turns(turn: Callable[[], Awaitable[Sample]], count: int, concurrency: int) -> Samples:
    """`count` turns, `concurrency` at a time; the phase must end within its deadline."""
    result = Samples()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                result.samples.append(await turn())
            except TurnFailed as exc:
                result.failed(exc.kind, exc.detail)
            except httpx.HTTPError as exc:
                result.failed(type(exc).__name__, str(exc) or type(exc).__name__)

    limit = PHASE_SLACK + math.ceil(count / concurrency) * TURN_TIMEOUT
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    except TimeoutError:
        raise BenchError(f"{count} turns did not end within {limit:g} s") from None
    result.seconds = time.perf_counter() - started
    return result


# Rivya's access log


class AccessLog:
    """Rivya's access log lines (stderr), to read its own time per request."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def entries(self) -> list[float]:
        """The milliseconds of every chat turn logged so far."""
        text = self.server.stderr.read_text(errors="replace")
        return [
            float(ms)
            for method, path, _, ms in ACCESS_LINE.findall(text)
            if method == "POST" and path == RIVYA_PATH
        ]

    async def settle(self, at_least: int) -> list[float]:
        """The turns' milliseconds, once there are `at_least` (a line is written after the body
        is sent); after LOG_WAIT, whatever there is."""
        deadline = time.monotonic() + LOG_WAIT
        while True:
            entries = self.entries()
            if len(entries) >= at_least or time.monotonic() > deadline:
                return entries
            await asyncio.sleep(0.02)


# The phases


@dataclass
class Bench:
    """Both servers, the expected answer and the options."""

    args: argparse.Namespace
    direct: Target
    rivya: Target
    expected: Expected
    servers: list[Server]
    access: AccessLog
    rivya_requests: int = 0  # turns sent to rivya so far (each logs one access line)
    rivya_turns_ok: int = 0

    async def phase(self, target: Target, mode: str, concurrency: int) -> dict[str, Any]:
        """Warm up, then measure one target in one mode at one concurrency."""
        stream = mode == "streaming"
        body = request_body(target.model, stream, self.args.max_tokens)
        run_one = stream_turn if stream else complete_turn
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=target.base_url,
            headers={**target.headers, "Content-Type": "application/json"},
            timeout=TURN_TIMEOUT,
            limits=limits,
            trust_env=False,
        ) as client:

            async def turn() -> Sample:
                return await run_one(client, target, body, self.expected)

            warm = await run_turns(turn, self.args.warmup, concurrency)
            self._count(target, warm)
            logged = await self._log_mark(target)
            measured = await run_turns(turn, self.args.turns, concurrency)
            self._count(target, measured)
            in_app = await self._in_app_ms(target, logged)
        for server in self.servers:
            server.check_alive()
        return summary(measured, warm, stream, in_app)

    def _count(self, target: Target, samples: Samples) -> None:
        if target is self.rivya:
            self.rivya_requests += len(samples.samples) + sum(samples.errors.values())
            self.rivya_turns_ok += len(samples.samples)

    async def _log_mark(self, target: Target) -> int:
        """How many access lines there are once the turns so far have logged theirs."""
        if target is not self.rivya:
            return 0
        return len(await self.access.settle(self.rivya_requests))

    async def _in_app_ms(self, target: Target, start: int) -> list[float]:
        if target is not self.rivya:
            return []
        return (await self.access.settle(self.rivya_requests))[start:]


def _percentile(values: list[float], pct: int) -> float | None:
    """The pct-th percentile (statistics.quantiles, exclusive method); None under two values."""
    if len(values) < 2:
        return None
    return statistics.quantiles(values, n=100)[pct - 1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1e3, 3)


def summary(measured: Samples, warm: Samples, stream: bool, in_app: list[float]) -> dict[str, Any]:
    """One target's figures in one phase."""
    totals = [s.total_s for s in measured.samples]
    out: dict[str, Any] = {
        "turns": len(measured.samples),
        "turns_per_s": round(len(totals) / measured.seconds, 1) if measured.seconds else None,
        "total_p50_ms": _ms(_percentile(totals, 50)),
        "total_p95_ms": _ms(_percentile(totals, 95)),
    }
    if stream:
        ttfts = [s.ttft_s for s in measured.samples if s.ttft_s is not None]
        out["ttft_p50_ms"] = _ms(_percentile(ttfts, 50))
        out["ttft_p95_ms"] = _ms(_percentile(ttfts, 95))
    if in_app and totals:
        out["in_app_p50_ms"] = round(statistics.median(in_app), 3)
        out["in_app_p95_ms"] = _round(_percentile(in_app, 95))
    errors = measured.errors + warm.errors
    out["errors"] = dict(errors)
    out["error_samples"] = (warm.error_samples + measured.error_samples)[:ERROR_SAMPLES]
    return out


def compare(direct: dict[str, Any], rivya: dict[str, Any]) -> dict[str, Any]:
    """Added milliseconds and ratios, per figure both have."""
    added: dict[str, float] = {}
    ratio: dict[str, float] = {}
    for metric in ("total", "ttft"):
        for pct in ("p50", "p95"):
            key = f"{metric}_{pct}"
            a, b = direct.get(f"{key}_ms"), rivya.get(f"{key}_ms")
            if a is None or b is None:
                continue
            added[key] = round(b - a, 3)
            if a > 0:
                ratio[key] = round(b / a, 3)
    return {"added_ms": added, "ratio": ratio}


# Setting up


def write_catalog(path: Path, upstream_port: int) -> None:
    """The one-model catalog: rivya-chat-dev as `bench-chat`, on the fake upstream."""
    import yaml

    from rivya.settings import BUILTIN_CATALOG

    models = yaml.safe_load(BUILTIN_CATALOG.read_text(encoding="utf-8"))["models"]
    source = next((m for m in models if m["id"] == SOURCE_MODEL_ID), None)
    if source is None:
        raise BenchError(f"no {SOURCE_MODEL_ID} in {BUILTIN_CATALOG}")
    model = {
        **source,
        "id": MODEL_ID,
        "name": "Bench chat (bench/chat_latency.py)",
        "description": "A fake OpenAI-compatible upstream that answers at once.",
        "provider": {
            "type": "openai-chat",
            "options": {
                "base_url": f"http://{HOST}:{upstream_port}",
                "model": UPSTREAM_MODEL,
                "max_retries": 0,
            },
        },
    }
    path.write_text(yaml.safe_dump({"models": [model]}, sort_keys=False), encoding="utf-8")


def turn_prices(catalog: Path, max_tokens: int, count: int) -> tuple[int, int]:
    """Credits of one turn as the fake's usage prices it, and the most that one turn reserves
    (Rivya's estimate of MESSAGES with its margin, plus max_tokens)."""
    from rivya.billing.pricing import chat_cost
    from rivya.catalog.catalog import Catalog
    from rivya.chat.turns import ESTIMATE_MARGIN, ESTIMATE_SLACK
    from rivya.providers.tokens import estimate_prompt_tokens

    model = Catalog.load(catalog).get(MODEL_ID)
    if model is None:
        raise BenchError(f"no {MODEL_ID} in {catalog}")
    used = upstream_usage(count)
    charge = chat_cost(model, used["prompt_tokens"], used["completion_tokens"])
    estimate = math.ceil(estimate_prompt_tokens(MESSAGES) * ESTIMATE_MARGIN) + ESTIMATE_SLACK
    return charge, max(chat_cost(model, estimate, max_tokens), 1)


def get_json(port: int, path: str, authorization: str | None = None) -> dict[str, Any]:
    """One GET's JSON answer (urllib raises on 4xx/5xx)."""
    headers = {"Authorization": authorization} if authorization else {}
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
    with _DIRECT.open(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def read_dev_account(stdout: Path) -> str:
    """The dev account's id, from the banner of `rivya serve --dev`."""
    match = DEV_ACCOUNT_LINE.search(stdout.read_text(errors="replace"))
    if match is None:
        raise LookupError("no development account line on stdout yet")
    return match.group(1)


def grant(env: dict[str, str], account: str, amount: int) -> None:
    """Add credits to the account with the CLI."""
    argv = [sys.executable, "-m", "rivya.cli", "credits", "grant", "--account", account]
    argv += ["--amount", str(amount), "--json"]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"rivya credits grant failed ({done.returncode}): {done.stderr}")


def planned_turns(args: argparse.Namespace) -> int:
    """Turns sent to Rivya in the whole run."""
    return len(args.concurrency) * len(MODES) * (args.warmup + args.turns)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start both servers, run every phase; the figures as a dict."""
    tokens = answer_tokens(args.tokens)
    expected = Expected(text="".join(tokens), usage=upstream_usage(args.tokens))
    with tempfile.TemporaryDirectory(prefix="rivya-bench-") as tmp:
        workdir = Path(tmp)
        upstream_port, rivya_port = free_port(), free_port()
        catalog = workdir / "catalog.yaml"
        write_catalog(catalog, upstream_port)
        charge, worst = turn_prices(catalog, args.max_tokens, args.tokens)

        argv = [sys.executable, str(BENCH_DIR / "_fake_chat_upstream.py"), HOST]
        argv += [str(upstream_port), "--tokens", str(args.tokens)]
        argv += ["--token-delay-ms", str(args.token_delay_ms)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIVYA_")}
        rivya_env = {
            **env,
            "RIVYA_DATA_DIR": str(workdir / "data"),
            "RIVYA_CATALOG": str(catalog),
            "RIVYA_RATE_LIMIT": "",  # the bench measures latency, not the limiter
        }
        rivya_argv = [sys.executable, "-m", "rivya.cli", "serve", "--dev", "--host", HOST]
        rivya_argv += ["--port", str(rivya_port)]
        with (
            serving("upstream", argv, env, upstream_port, workdir) as upstream,
            serving("rivya", rivya_argv, rivya_env, rivya_port, workdir) as rivya,
        ):
            wait_for(upstream, lambda: get_json(upstream_port, "/health"), "200 answer")
            key = wait_for(rivya, lambda: read_dev_key(rivya.stdout), "API key line")
            account = read_dev_account(rivya.stdout)
            authorization = f"Bearer {key}"
            wait_for(rivya, lambda: get_models(rivya_port, authorization), "200 answer")
            before = get_json(rivya_port, "/api/v1/credits", authorization)
            needed = planned_turns(args) * worst + max(args.concurrency) * worst
            granted = 0
            if needed > before["available"]:
                granted = needed - before["available"]
                grant(rivya_env, account, granted)
                before = get_json(rivya_port, "/api/v1/credits", authorization)

            direct = Target(
                "direct", f"http://{HOST}:{upstream_port}", UPSTREAM_PATH, UPSTREAM_MODEL, {}
            )
            through = Target(
                "rivya",
                f"http://{HOST}:{rivya_port}",
                RIVYA_PATH,
                MODEL_ID,
                {"Authorization": authorization},
            )
            bench = Bench(args, direct, through, expected, [upstream, rivya], AccessLog(rivya))
            rows = asyncio.run(measure_all(bench, args))
            after = get_json(rivya_port, "/api/v1/credits", authorization)
        log = log_problems(rivya.stderr, upstream.stderr)

    spent = before["balance"] - after["balance"]
    wallet_problems = []
    if after["reserved"] != 0:
        wallet_problems.append(f"{after['reserved']} credits still reserved after the run")
    if spent != bench.rivya_turns_ok * charge:
        wallet_problems.append(
            f"charged {spent} credits for {bench.rivya_turns_ok} turns of {charge} "
            f"(expected {bench.rivya_turns_ok * charge})"
        )
    return {
        "model": f"{MODEL_ID} (openai-chat -> fake {UPSTREAM_MODEL})",
        "answer_tokens": args.tokens,
        "token_delay_ms": args.token_delay_ms,
        "max_tokens": args.max_tokens,
        "turns": args.turns,
        "warmup": args.warmup,
        "client": f"httpx {httpx.__version__} AsyncClient, keep-alive, in the bench process",
        "rows": rows,
        "credits": {
            "per_turn": charge,
            "reserved_per_turn": worst,
            "granted": granted,
            "spent": spent,
            "turns_through_rivya": bench.rivya_turns_ok,
            "problems": wallet_problems,
        },
        "log": log,
        "reference": REFERENCE,
    }


async def measure_all(bench: Bench, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every phase: per concurrency and mode, the fake directly, then Rivya."""
    rows = []
    for concurrency in args.concurrency:
        for mode in MODES:
            direct = await bench.phase(bench.direct, mode, concurrency)
            rivya = await bench.phase(bench.rivya, mode, concurrency)
            rows.append(
                {
                    "concurrency": concurrency,
                    "mode": mode,
                    "direct": direct,
                    "rivya": rivya,
                    **compare(direct, rivya),
                }
            )
    return rows


# Output


def failures(figures: dict[str, Any]) -> list[str]:
    """What makes the exit status 1."""
    found = []
    for row in figures["rows"]:
        for name in ("direct", "rivya"):
            r = row[name]
            if r["errors"]:
                where = f"{name}, {row['mode']}, concurrency {row['concurrency']}"
                found.append(f"{where}: failed turns {r['errors']}")
    found += [f"wallet: {p}" for p in figures["credits"]["problems"]]
    return found


def as_text(figures: dict[str, Any]) -> str:
    """The figures as a table, the comparison with the reference and any problems."""

    def num(value: float | None, spec: str = ".2f") -> str:
        return "-" if value is None else format(value, spec)

    def signed(value: float | None) -> str:
        return "-" if value is None else f"{value:+.2f}"

    lines = [
        f"chat turns: {figures['model']}, {figures['answer_tokens']}-token answer, "
        f"{figures['token_delay_ms']:g} ms/token upstream, max_tokens {figures['max_tokens']}",
        f"{figures['turns']} measured turns per row and target after {figures['warmup']} "
        f"warm-up turns; client: {figures['client']}",
        "milliseconds; added = rivya - direct, ratio = rivya / direct, of each percentile; "
        "in-app = rivya's access log",
        "",
        f"{'conc':>4} {'mode':<13} {'metric':<6} {'direct p50':>10} {'p95':>7} "
        f"{'rivya p50':>10} {'p95':>7} {'added p50':>10} {'p95':>7} {'ratio p50':>10} "
        f"{'p95':>6} {'in-app p50':>11} {'turns/s d/r':>12} {'errors':>6}",
    ]
    for row in figures["rows"]:
        d, r = row["direct"], row["rivya"]
        metrics = ("ttft", "total") if row["mode"] == "streaming" else ("total",)
        for metric in metrics:
            errors = sum(d["errors"].values()) + sum(r["errors"].values())
            rates = f"{num(d['turns_per_s'], '.0f')}/{num(r['turns_per_s'], '.0f')}"
            in_app = r.get("in_app_p50_ms") if metric == "total" else None
            lines.append(
                f"{row['concurrency']:>4} {row['mode']:<13} {metric:<6} "
                f"{num(d[f'{metric}_p50_ms']):>10} {num(d[f'{metric}_p95_ms']):>7} "
                f"{num(r[f'{metric}_p50_ms']):>10} {num(r[f'{metric}_p95_ms']):>7} "
                f"{signed(row['added_ms'].get(f'{metric}_p50')):>10} "
                f"{signed(row['added_ms'].get(f'{metric}_p95')):>7} "
                f"{num(row['ratio'].get(f'{metric}_p50')):>10} "
                f"{num(row['ratio'].get(f'{metric}_p95')):>6} "
                f"{num(in_app):>11} {rates:>12} {errors:>6}"
            )

    def added(mode: str, key: str) -> float | None:
        found = [
            row["added_ms"].get(key)
            for row in figures["rows"]
            if row["mode"] == mode and row["concurrency"] == 1
        ]
        return found[0] if found else None

    ref = figures["reference"]
    lines += [
        "",
        f"reference: {ref['system']}, on {ref['where']}: "
        f"+{ref['added_p50_ms']} ms at the median per request, "
        f"+{ref['added_ttft_ms']} ms to the first streamed token",
    ]
    ours_total, ours_ttft = added("non-streaming", "total_p50"), added("streaming", "ttft_p50")
    if ours_total is not None or ours_ttft is not None:
        lines.append(
            f"rivya, this run (concurrency 1): {signed(ours_total)} ms at the median per "
            f"request, {signed(ours_ttft)} ms to the first streamed token"
        )
    credits = figures["credits"]
    lines += [
        "",
        f"credits: {credits['spent']} charged for {credits['turns_through_rivya']} turns "
        f"({credits['per_turn']} each, {credits['reserved_per_turn']} reserved while running)"
        + (f"; {credits['granted']} granted first" if credits["granted"] else ""),
    ]
    log = figures["log"]
    if log["counts"]:
        lines.append(f"log warnings/errors: {log['counts']}")
        lines += [f"  {s}" for s in log["samples"]]
    for row in figures["rows"]:
        for name in ("direct", "rivya"):
            for sample in row[name]["error_samples"]:
                lines.append(f"{name} {row['mode']} c={row['concurrency']}: {sample}")
    lines += [f"wallet: {p}" for p in credits["problems"]]
    return "\n".join(lines)


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of integers") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels must be at least 1")
    return list(dict.fromkeys(levels))


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be a number of at least 0")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--turns", type=_int_at_least(2), default=200, help="measured turns per row and target"
    )
    parser.add_argument(
        "--warmup", type=_int_at_least(0), default=20, help="warm-up turns per row and target"
    )
    parser.add_argument(
        "--concurrency",
        type=_levels,
        default=[1, 16],
        help="comma-separated concurrency levels, one set of rows each (default 1,16; "
        "1 measures the added latency)",
    )
    parser.add_argument(
        "--tokens", type=_int_at_least(1), default=16, help="tokens of the upstream's answer"
    )
    parser.add_argument(
        "--token-delay-ms",
        type=_non_negative,
        default=0.0,
        help="the upstream's wait before each token",
    )
    parser.add_argument(
        "--max-tokens", type=_int_at_least(1), default=64, help="max_tokens of every turn"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; the exit status (see the module docstring)."""
    args = parse_args(argv)
    # On SIGTERM unwind like on Ctrl-C, so that the servers are stopped and the temp dir removed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        figures = run(args)
    except BenchError as exc:
        print(f"chat_latency: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(json.dumps(figures, indent=2) if args.json else as_text(figures))
    found = failures(figures)
    for failure in found:
        print(f"chat_latency: {failure}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
