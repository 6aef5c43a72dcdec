"""A scriptable fake upstream, served by uvicorn on 127.0.0.1 in a background thread: an
OpenAI-compatible images and speech API, a Replicate-style predictions API, and static files.

Every request is recorded. A test scripts misbehaviour ahead of time (`answer_next`, `hang_next`)
and the shape of predictions (`polls_to_finish`, `final_status`, `prediction_output`).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import struct
import threading
import time
import wave
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

# An upstream error text that must reach logs but never a customer.
ERROR_TEXT = "upstream-internal: gpu-node-7 out of memory"


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 800)
    return buffer.getvalue()


PNG = _png()
WAV = _wav()
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 fake-webp-bytes"
# The start of an MP4 (an `ftyp` box of major brand isom): what a sniffer reads as video/mp4.
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free"
STREAM_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int | None = None  # the caller's side of the connection

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class _Script:
    path: str | None  # None: any path
    status: int
    headers: dict[str, str]
    body: str
    hang_s: float


@dataclass
class _Prediction:
    id: str
    status: str = "starting"
    polls: int = 0


@dataclass
class FakeUpstream:
    """The fake. Use as a context manager: it serves between enter and exit."""

    images_as_urls: bool = False
    polls_to_finish: int = 1  # the GET that ends a prediction (earlier ones say "processing")
    final_status: str = "succeeded"
    prediction_output: Any = None  # None: one link to /files/out.png
    prediction_links: str | None = None  # the origin of a prediction's get and cancel links
    calls: list[Call] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    files: dict[str, tuple[bytes, str | None]] = field(
        default_factory=lambda: {"out.png": (PNG, "image/png")}
    )

    def __post_init__(self) -> None:
        self._scripts: list[_Script] = []
        self._predictions: dict[str, _Prediction] = {}
        self._lock = threading.Condition()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        routes = [
            Route("/v1/images/generations", self._wrap(self._images), methods=["POST"]),
            Route("/v1/audio/speech", self._wrap(self._speech), methods=["POST"]),
            Route("/v1/predictions", self._wrap(self._create), methods=["POST"]),
            Route("/v1/predictions/{id}", self._wrap(self._get), methods=["GET"]),
            Route("/v1/predictions/{id}/cancel", self._wrap(self._cancel), methods=["POST"]),
            Route("/files/{name}", self._wrap(self._file), methods=["GET"]),
            Route("/stream", self._wrap(self._stream), methods=["GET"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes),
            log_level="warning",
            lifespan="off",
            # A hung handler must not hold up the test's teardown for long.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    # Scripting

    def answer_next(
        self,
        n: int,
        status: int = 503,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        body: str = ERROR_TEXT,
    ) -> None:
        """Answer the next `n` requests (to `path`, if given) with this instead."""
        with self._lock:
            self._scripts += [_Script(path, status, headers or {}, body, 0.0)] * n

    def hang_next(self, n: int, seconds: float, *, path: str | None = None) -> None:
        """Hold the next `n` requests (to `path`, if given) for `seconds` before answering."""
        with self._lock:
            self._scripts += [_Script(path, 200, {}, "", seconds)] * n

    def count(self, method: str, path: str) -> int:
        """How many `method` requests reached `path`."""
        return sum(1 for c in self.calls if c.method == method and c.path == path)

    def wait_for(self, method: str, path: str, n: int, timeout_s: float = 5.0) -> None:
        """Block until `n` `method` requests have reached `path` (a thread's wait, for
        asyncio.to_thread: the server runs in another thread)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.count(method, path) >= n, timeout_s):
                raise TimeoutError(f"{n} {method} {path} did not arrive within {timeout_s} s")

    def url(self, path: str) -> str:
        """An absolute link to `path` on this fake."""
        return f"{self.base_url}{path}"

    # Serving

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake upstream did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def _wrap(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            path = request.url.path
            with self._lock:
                port = request.client.port if request.client else None
                self.calls.append(Call(request.method, path, dict(request.headers), body, port))
                self._lock.notify_all()
                script = next((s for s in self._scripts if s.path in (None, path)), None)
                if script is not None:
                    self._scripts.remove(script)
            if script is not None and script.hang_s:
                await asyncio.sleep(script.hang_s)
            elif script is not None:
                return PlainTextResponse(script.body, script.status, headers=script.headers)
            return await handler(request)

        return endpoint

    async def _images(self, request: Request) -> Response:
        n = (await request.json())["n"]
        if self.images_as_urls:
            item = {"url": self.url("/files/out.png")}
        else:
            item = {"b64_json": base64.b64encode(PNG).decode()}
        return JSONResponse({"created": 0, "data": [item] * n})

    async def _speech(self, request: Request) -> Response:
        return Response(WAV, media_type="audio/wav")

    def _render(self, prediction: _Prediction) -> dict[str, Any]:
        succeeded = prediction.status == "succeeded"
        links = self.prediction_links or self.base_url
        output = self.prediction_output or [self.url("/files/out.png")]
        return {
            "id": prediction.id,
            "status": prediction.status,
            "output": output if succeeded else None,
            "error": ERROR_TEXT if prediction.status == "failed" else None,
            "urls": {
                "get": f"{links}/v1/predictions/{prediction.id}",
                "cancel": f"{links}/v1/predictions/{prediction.id}/cancel",
            },
        }

    async def _create(self, request: Request) -> Response:
        prediction = _Prediction(id=f"pred{len(self._predictions) + 1}")
        self._predictions[prediction.id] = prediction
        return JSONResponse(self._render(prediction), status_code=201)

    async def _get(self, request: Request) -> Response:
        prediction = self._predictions[request.path_params["id"]]
        prediction.polls += 1
        if prediction.status in ("starting", "processing"):
            done = prediction.polls >= self.polls_to_finish
            prediction.status = self.final_status if done else "processing"
        return JSONResponse(self._render(prediction))

    async def _cancel(self, request: Request) -> Response:
        prediction = self._predictions[request.path_params["id"]]
        self.cancels.append(prediction.id)
        prediction.status = "canceled"
        return JSONResponse(self._render(prediction))

    async def _file(self, request: Request) -> Response:
        data, content_type = self.files[request.path_params["name"]]
        return Response(data, media_type=content_type)

    async def _stream(self, request: Request) -> Response:
        """A PNG padded with zeros, sent in chunks of STREAM_CHUNK with no Content-Length:
        endless, or `?chunks=N` of them. With `?gzip=1` it is gzip-encoded, every chunk then a
        few dozen bytes on the wire. (StreamingResponse is imported with the chat fake below.)"""
        compress = request.query_params.get("gzip") == "1"
        count = int(request.query_params.get("chunks", "0")) or None
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container

        def encoded(data: bytes) -> bytes:
            return packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH) if compress else data

        async def chunks() -> Any:
            yield encoded(PNG)
            sent = 0
            zeros = bytes(STREAM_CHUNK)
            while count is None or sent < count:
                yield encoded(zeros)
                sent += 1
                await asyncio.sleep(0)
            if compress:
                yield packer.flush()

        headers = {"Content-Encoding": "gzip"} if compress else {}
        return StreamingResponse(chunks(), media_type="image/png", headers=headers)


# Chat completions. A subclass, so that the fakes above keep exactly their routes and behaviour;
# appended whole, its import included, so that edits of the code above never collide with it.

from starlette.responses import StreamingResponse  # noqa: E402

CHAT_CHUNKS = ("Hello", " there", ",", " fox", "!")
CHAT_USAGE = {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26}


class _Dropped(Exception):
    """Raised inside a streaming response: uvicorn then closes the connection mid-body."""


class _WatchedStream(StreamingResponse):
    """A streaming response that calls `on_left` when the client went away before its end."""

    def __init__(self, events: Any, finished: Callable[[], bool], on_left: Callable[[], None]):
        super().__init__(events, media_type="text/event-stream")
        self._finished = finished
        self._on_left = on_left

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Under uvicorn's ASGI spec 2.3 a client disconnect cancels the body and returns here.
        await super().__call__(scope, receive, send)
        if not self._finished():
            self._on_left()


@dataclass
class FakeChatUpstream(FakeUpstream):
    """The fake, plus an OpenAI-compatible POST /v1/chat/completions that streams chat
    completion chunks in OpenAI's exact SSE format: a role chunk, one chunk per text piece, one
    per tool-call fragment, a finish chunk, a usage chunk (only when the request asked for it
    with stream_options.include_usage, as OpenAI does), then `data: [DONE]`.

    `answer_next` scripts an error status before streaming. Mid-stream misbehaviour counts the
    events sent before it (the role chunk is event 0)."""

    chat_chunks: list[str] = field(default_factory=lambda: list(CHAT_CHUNKS))
    chat_tool_calls: list[dict[str, Any]] = field(default_factory=list)  # delta fragments
    chat_usage: dict[str, int] | None = field(default_factory=lambda: dict(CHAT_USAGE))
    chat_error_after: int | None = None  # send a `{"error": …}` event after this many events
    chat_drop_after: int | None = None  # close the connection after this many events
    chat_delay_s: float = 0.0  # before each event
    chat_disconnects: int = 0  # streams that the client left before their end

    def __post_init__(self) -> None:
        super().__post_init__()
        app = self._server.config.app
        assert isinstance(app, Starlette)
        route = Route("/v1/chat/completions", self._wrap(self._chat), methods=["POST"])
        app.router.routes.append(route)

    def __enter__(self) -> FakeChatUpstream:
        super().__enter__()
        return self

    def wait_for_disconnect(self, timeout_s: float = 5.0) -> None:
        """Block until a client has left a stream before its end (a thread's wait)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.chat_disconnects >= 1, timeout_s):
                raise TimeoutError(f"no client left a stream within {timeout_s} s")

    def _left(self) -> None:
        with self._lock:
            self.chat_disconnects += 1
            self._lock.notify_all()

    def _chat_events(self, request: dict[str, Any]) -> list[str]:
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[dict[str, Any]], usage: Any = None) -> str:
            body: dict[str, Any] = {
                "id": "chatcmpl-fake1",
                "object": "chat.completion.chunk",
                "created": 1700000000,
                "model": request.get("model"),
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if include_usage:  # OpenAI then sends "usage": null on every other chunk
                body["usage"] = usage
            return f"data: {json.dumps(body)}\n\n"

        def choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

        events = [chunk([choice({"role": "assistant", "content": "", "refusal": None})])]
        events += [chunk([choice({"content": text})]) for text in self.chat_chunks]
        events += [chunk([choice({"tool_calls": [f]})]) for f in self.chat_tool_calls]
        finish_reason = "tool_calls" if self.chat_tool_calls else "stop"
        events.append(chunk([choice({}, finish_reason)]))
        if include_usage and self.chat_usage is not None:
            events.append(chunk([], self.chat_usage))
        events.append("data: [DONE]\n\n")
        return events

    def _chat_answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The non-streaming answer (`stream: false`): the same text, tool calls joined by
        index, finish reason and usage (always sent, as OpenAI does)."""
        calls: dict[int, dict[str, Any]] = {}
        for fragment in self.chat_tool_calls:
            call = calls.setdefault(
                fragment.get("index", 0),
                {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
            )
            call["id"] = fragment.get("id") or call["id"]
            for key in ("name", "arguments"):
                call["function"][key] += (fragment.get("function") or {}).get(key) or ""
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.chat_chunks)}
        if calls:
            message["tool_calls"] = [calls[i] for i in sorted(calls)]
        answer: dict[str, Any] = {
            "id": "chatcmpl-fake1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": request.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if calls else "stop",
                    "logprobs": None,
                }
            ],
        }
        if self.chat_usage is not None:
            answer["usage"] = self.chat_usage
        return answer

    async def _chat(self, request: Request) -> Response:
        asked = await request.json()
        if not asked.get("stream"):
            if self.chat_delay_s:
                await asyncio.sleep(self.chat_delay_s)
            return JSONResponse(self._chat_answer(asked))
        events = self._chat_events(asked)
        error = {"error": {"message": ERROR_TEXT, "type": "server_error", "code": None}}
        finished = False

        async def stream() -> Any:
            nonlocal finished
            for sent, event in enumerate(events):
                if self.chat_delay_s:
                    await asyncio.sleep(self.chat_delay_s)
                if sent == self.chat_error_after:
                    yield f"data: {json.dumps(error)}\n\n"
                    break
                if sent == self.chat_drop_after:
                    raise _Dropped(f"dropping the connection after {sent} events")
                yield event
            finished = True

        return _WatchedStream(stream(), lambda: finished, self._left)
