"""The upstream providers against fake upstream servers on 127.0.0.1: request shapes, retries and
backoff, error classification, prediction polling and cancellation, and that no upstream detail
ever reaches the public side of a ProviderError."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import pytest

from rivya.net.ssrf import AllowList
from rivya.providers.base import GenerationRequest, Provider, ProviderError, Reference
from rivya.providers.http import UpstreamLimits
from rivya.providers.openai_compat import OpenAIImagesProvider, OpenAISpeechProvider
from rivya.providers.predictions import PredictionsProvider
from rivya.providers.upstream import upstream_provider
from tests.fakes.upstream import ERROR_TEXT, PNG, STREAM_CHUNK, WAV, WEBP, FakeUpstream
from tests.processes import free_port

KEY_ENV = "RIVYA_TEST_UPSTREAM_KEY"
KEY = "sk-test-not-a-real-key-1234"
# The fakes serve files from 127.0.0.1, which the SSRF guard lets through only when allowed.
LIMITS = UpstreamLimits(max_bytes=1024 * 1024, allow=AllowList.parse("127.0.0.1"))


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A running fake upstream."""
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def cdn() -> Iterator[FakeUpstream]:
    """A second fake on another origin, serving output files."""
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture(autouse=True)
def upstream_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def options(fake: FakeUpstream, **extra: Any) -> dict[str, Any]:
    """Options with tiny waits, so retries and polls cost milliseconds."""
    return {
        "base_url": fake.base_url,
        "api_key_env": KEY_ENV,
        "model": "acme/painter-1",
        "timeout": 5,
        "max_retries": 3,
        "backoff_s": 0.001,
        "poll_interval_s": 0.01,
        **extra,
    }


def request(kind: str = "image", **values: Any) -> GenerationRequest:
    return GenerationRequest(
        task_id="task_1", model_id="public-model", kind=kind, input={"prompt": "a fox", **values}
    )


async def failure(provider: Provider, req: GenerationRequest | None = None) -> ProviderError:
    """The ProviderError that generating raises, checked to say nothing of the upstream."""
    async with aclosing(provider):
        with pytest.raises(ProviderError) as raised:
            await provider.generate(req or request())
    error = raised.value
    public = f"{error.code} {error.public_message}"
    for secret in ("127.0.0.1", "localhost", "http", ERROR_TEXT, "gpu", "acme", "painter", "pred"):
        assert secret not in public
    assert error.code in {
        "upstream_unavailable",
        "upstream_rejected",
        "upstream_bad_response",
        "generation_failed",
    }
    return error


# Registry


def test_the_registry_builds_each_type_and_refuses_others(upstream: FakeUpstream) -> None:
    built = {
        t: upstream_provider(t, options(upstream), LIMITS) for t in ("openai-images", "predictions")
    }
    assert isinstance(built["openai-images"], OpenAIImagesProvider)
    assert isinstance(built["predictions"], PredictionsProvider)
    assert isinstance(
        upstream_provider("openai-speech", options(upstream), LIMITS), OpenAISpeechProvider
    )
    with pytest.raises(ValueError, match="unknown upstream provider type"):
        upstream_provider("local-image", options(upstream), LIMITS)


def test_an_unset_key_variable_fails_at_construction(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ValueError, match=KEY_ENV):
        upstream_provider("openai-images", options(upstream), LIMITS)


# OpenAI-compatible images and speech


async def test_images_round_trip_real_png_bytes(upstream: FakeUpstream) -> None:
    async with aclosing(upstream_provider("openai-images", options(upstream), LIMITS)) as provider:
        outputs = await provider.generate(request(width=256, height=128, num_images=2))
    assert [o.data for o in outputs] == [PNG, PNG]
    assert outputs[0].data.startswith(b"\x89PNG\r\n\x1a\n")
    (call,) = upstream.calls
    assert call.path == "/v1/images/generations"
    assert call.json() == {
        "model": "acme/painter-1",
        "prompt": "a fox",
        "n": 2,
        "size": "256x128",
        "response_format": "b64_json",
    }


async def test_image_links_are_downloaded_with_the_same_client(upstream: FakeUpstream) -> None:
    upstream.images_as_urls = True
    async with aclosing(upstream_provider("openai-images", options(upstream), LIMITS)) as provider:
        (output,) = await provider.generate(request())
    assert output.data == PNG
    assert upstream.calls[0].json()["size"] == "1024x1024"  # no width and height in the input
    assert upstream.count("GET", "/files/out.png") == 1


async def test_speech_returns_the_body_as_wav(upstream: FakeUpstream) -> None:
    opts = options(upstream, model="tts-1", voice="nova", speed=1.25)
    async with aclosing(upstream_provider("openai-speech", opts, LIMITS)) as provider:
        (output,) = await provider.generate(request(kind="audio"))
    assert output.data == WAV
    (call,) = upstream.calls
    assert call.path == "/v1/audio/speech"
    assert call.json() == {
        "model": "tts-1",
        "input": "a fox",
        "voice": "nova",
        "response_format": "wav",
        "speed": 1.25,
    }


async def test_the_key_is_sent_as_bearer_from_the_named_variable(upstream: FakeUpstream) -> None:
    opts = options(upstream)
    assert KEY not in repr(opts)
    async with aclosing(upstream_provider("openai-speech", opts, LIMITS)) as provider:
        await provider.generate(request(kind="audio"))
    assert upstream.calls[0].headers["authorization"] == f"Bearer {KEY}"


async def test_without_api_key_env_no_authorization_is_sent(upstream: FakeUpstream) -> None:
    opts = options(upstream)
    del opts["api_key_env"]
    async with aclosing(upstream_provider("openai-speech", opts, LIMITS)) as provider:
        await provider.generate(request(kind="audio"))
    assert "authorization" not in upstream.calls[0].headers


# Retries and error classification


async def test_two_5xx_then_success_is_retried(upstream: FakeUpstream) -> None:
    upstream.answer_next(2, 503)
    async with aclosing(upstream_provider("openai-images", options(upstream), LIMITS)) as provider:
        (output,) = await provider.generate(request())
    assert output.data == PNG
    assert upstream.count("POST", "/v1/images/generations") == 3


async def test_5xx_throughout_is_retryable_after_max_retries(upstream: FakeUpstream) -> None:
    upstream.answer_next(10, 502)
    error = await failure(
        upstream_provider("openai-images", options(upstream, max_retries=2), LIMITS)
    )
    assert error.retryable and error.code == "upstream_unavailable"
    assert upstream.count("POST", "/v1/images/generations") == 3
    # The log message has what an operator needs.
    assert upstream.base_url in str(error) and ERROR_TEXT in str(error) and "502" in str(error)


async def test_a_timeout_is_retried_then_retryable(upstream: FakeUpstream) -> None:
    upstream.hang_next(2, 1.0)
    opts = options(upstream, timeout=0.2, max_retries=1)
    started = time.monotonic()
    error = await failure(upstream_provider("openai-speech", opts, LIMITS), request(kind="audio"))
    assert error.retryable and error.code == "upstream_unavailable"
    assert "Timeout" in str(error)
    assert upstream.count("POST", "/v1/audio/speech") == 2
    assert time.monotonic() - started < 1.0  # gave up on each attempt after its timeout


async def test_a_refused_connection_is_retryable() -> None:
    opts = {"base_url": f"http://127.0.0.1:{free_port()}", "model": "m", "backoff_s": 0.001}
    error = await failure(upstream_provider("openai-images", opts, LIMITS))
    assert error.retryable and error.code == "upstream_unavailable"
    assert "ConnectError" in str(error) and "failed 4 times" in str(error)


async def test_a_400_is_not_retried_and_not_retryable(upstream: FakeUpstream) -> None:
    upstream.answer_next(1, 400)
    error = await failure(upstream_provider("openai-images", options(upstream), LIMITS))
    assert not error.retryable and error.code == "upstream_rejected"
    assert upstream.count("POST", "/v1/images/generations") == 1
    assert ERROR_TEXT in str(error)


async def test_a_429_waits_as_retry_after_asks(upstream: FakeUpstream) -> None:
    upstream.answer_next(1, 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    async with aclosing(upstream_provider("openai-speech", options(upstream), LIMITS)) as provider:
        await provider.generate(request(kind="audio"))
    assert time.monotonic() - started >= 0.95  # not the 1 ms backoff
    assert upstream.count("POST", "/v1/audio/speech") == 2


async def test_retry_after_is_capped(upstream: FakeUpstream) -> None:
    upstream.answer_next(1, 503, headers={"Retry-After": "3600"})
    started = time.monotonic()
    opts = options(upstream, max_delay_s=0.05)
    async with aclosing(upstream_provider("openai-speech", opts, LIMITS)) as provider:
        await provider.generate(request(kind="audio"))
    assert time.monotonic() - started < 2
    assert upstream.count("POST", "/v1/audio/speech") == 2


async def test_a_2xx_that_is_not_json_is_unusable(upstream: FakeUpstream) -> None:
    upstream.answer_next(1, 200, body="<html>gateway says hi</html>")
    provider = upstream_provider("openai-images", options(upstream), LIMITS)
    async with aclosing(provider):
        with pytest.raises(ProviderError) as raised:
            await provider.generate(request())
    assert not raised.value.retryable and raised.value.code == "upstream_bad_response"
    assert "gateway says hi" in str(raised.value)
    assert "gateway" not in raised.value.public_message


# Predictions


async def test_a_prediction_is_polled_to_success_and_downloaded(upstream: FakeUpstream) -> None:
    upstream.polls_to_finish = 3
    upstream.files["a.webp"] = (WEBP, "image/webp")
    upstream.files["raw"] = (PNG, None)  # no Content-Type: the bytes are what counts
    upstream.prediction_output = [upstream.url("/files/a.webp"), upstream.url("/files/raw")]
    req = GenerationRequest(
        task_id="task_1",
        model_id="public-model",
        kind="image",
        input={"prompt": "a fox", "image": "file_abc"},
        references={"image": Reference("file_abc", "image/png", PNG)},
    )
    async with aclosing(upstream_provider("predictions", options(upstream), LIMITS)) as provider:
        outputs = await provider.generate(req)
    assert [o.data for o in outputs] == [WEBP, PNG]
    submitted = upstream.calls[0].json()
    assert submitted == {
        "model": "acme/painter-1",
        "input": {
            "prompt": "a fox",
            "image": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        },
    }
    assert upstream.count("GET", "/v1/predictions/pred1") == 3
    assert upstream.cancels == []
    # Polls and downloads from this origin carry the key.
    assert all(c.headers["authorization"] == f"Bearer {KEY}" for c in upstream.calls)


async def test_a_version_is_sent_instead_of_a_model(upstream: FakeUpstream) -> None:
    opts = options(
        upstream, version="5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
    )
    del opts["model"]
    async with aclosing(upstream_provider("predictions", opts, LIMITS)) as provider:
        await provider.generate(request())
    assert upstream.calls[0].json()["version"].startswith("5c7d5dc6")
    assert "model" not in upstream.calls[0].json()


async def test_outputs_on_another_origin_never_get_the_key(
    upstream: FakeUpstream, cdn: FakeUpstream
) -> None:
    upstream.prediction_output = cdn.url("/files/out.png")
    async with aclosing(upstream_provider("predictions", options(upstream), LIMITS)) as provider:
        (output,) = await provider.generate(request())
    assert output.data == PNG
    (download,) = cdn.calls
    assert "authorization" not in download.headers


async def test_a_failed_prediction_is_not_retryable(upstream: FakeUpstream) -> None:
    upstream.final_status = "failed"
    error = await failure(upstream_provider("predictions", options(upstream), LIMITS))
    assert not error.retryable
    assert ERROR_TEXT in str(error)
    assert upstream.cancels == []


async def test_a_prediction_canceled_upstream_is_not_retryable(upstream: FakeUpstream) -> None:
    upstream.final_status = "canceled"
    error = await failure(upstream_provider("predictions", options(upstream), LIMITS))
    assert not error.retryable and "canceled upstream" in str(error)


async def test_cancelling_the_task_cancels_the_prediction(upstream: FakeUpstream) -> None:
    upstream.polls_to_finish = 10_000
    async with aclosing(upstream_provider("predictions", options(upstream), LIMITS)) as provider:
        task = asyncio.create_task(provider.generate(request()))
        await asyncio.to_thread(upstream.wait_for, "GET", "/v1/predictions/pred1", 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert upstream.cancels == ["pred1"]


async def test_past_the_deadline_the_prediction_is_canceled(upstream: FakeUpstream) -> None:
    upstream.polls_to_finish = 10_000
    opts = options(upstream, deadline_s=0.3)
    error = await failure(upstream_provider("predictions", opts, LIMITS))
    assert error.retryable and error.code == "upstream_unavailable"
    assert upstream.cancels == ["pred1"]


async def test_a_refused_poll_cancels_the_prediction(upstream: FakeUpstream) -> None:
    upstream.polls_to_finish = 10
    upstream.answer_next(1, 404, path="/v1/predictions/pred1")
    error = await failure(upstream_provider("predictions", options(upstream), LIMITS))
    assert not error.retryable and error.code == "upstream_rejected"
    assert upstream.cancels == ["pred1"]


async def test_a_failing_cancel_does_not_mask_the_deadline(upstream: FakeUpstream) -> None:
    upstream.polls_to_finish = 10_000
    upstream.answer_next(1, 500, path="/v1/predictions/pred1/cancel")
    error = await failure(
        upstream_provider("predictions", options(upstream, deadline_s=0.2), LIMITS)
    )
    assert error.retryable
    assert upstream.count("POST", "/v1/predictions/pred1/cancel") == 1  # best effort: once


# What an upstream hands back: links, redirects, sizes


async def refused_output(upstream: FakeUpstream, output: Any) -> ProviderError:
    """The error of a prediction whose output is `output`: unusable, and never retried."""
    upstream.prediction_output = output
    error = await failure(upstream_provider("predictions", options(upstream), LIMITS))
    assert error.code == "upstream_bad_response" and not error.retryable
    return error


@pytest.mark.parametrize(
    "link",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/out.png",
        "https://10.0.0.1/out.png",
        "http://[::ffff:169.254.169.254]/",
        "http://2130706433/out.png",  # 127.0.0.1 written as one number
        "https://user:pw@example.com/out.png",
    ],
)
async def test_a_file_link_to_a_private_address_is_refused(
    upstream: FakeUpstream, link: str
) -> None:
    error = await refused_output(upstream, [link])
    assert "url_not_allowed" in str(error) or "url_invalid" in str(error)  # the SSRF guard's


async def test_without_an_allow_list_the_fakes_own_files_are_refused(
    upstream: FakeUpstream,
) -> None:
    strict = UpstreamLimits(max_bytes=LIMITS.max_bytes)
    upstream.prediction_output = [upstream.url("/files/out.png")]
    error = await failure(upstream_provider("predictions", options(upstream), strict))
    assert error.code == "upstream_bad_response" and "url_not_allowed" in str(error)
    assert upstream.count("GET", "/files/out.png") == 0


async def test_a_redirect_is_not_followed(upstream: FakeUpstream, cdn: FakeUpstream) -> None:
    upstream.answer_next(
        1, 302, path="/files/out.png", headers={"Location": cdn.url("/files/out.png")}
    )
    error = await refused_output(upstream, [upstream.url("/files/out.png")])
    assert "redirects" in str(error)
    assert cdn.calls == []


async def test_a_redirect_of_an_api_call_is_not_followed(
    upstream: FakeUpstream, cdn: FakeUpstream
) -> None:
    upstream.answer_next(
        1, 307, path="/v1/images/generations", headers={"Location": cdn.url("/v1/x")}
    )
    error = await failure(upstream_provider("openai-images", options(upstream), LIMITS))
    assert error.code == "upstream_bad_response" and cdn.calls == []


async def test_poll_links_off_the_upstreams_origin_are_refused(
    upstream: FakeUpstream, cdn: FakeUpstream
) -> None:
    upstream.prediction_links = cdn.base_url
    error = await refused_output(upstream, None)
    assert "origin" in str(error)
    assert cdn.calls == []


async def test_a_file_over_the_limit_is_refused_by_its_length(upstream: FakeUpstream) -> None:
    upstream.files["big.png"] = (PNG + bytes(LIMITS.max_bytes), "image/png")
    error = await refused_output(upstream, [upstream.url("/files/big.png")])
    assert "over the limit" in str(error)


async def test_an_endless_file_is_cut_off_at_the_limit(upstream: FakeUpstream) -> None:
    """No Content-Length and no end: without the limit this test would never end."""
    error = await refused_output(upstream, [upstream.url("/stream")])
    assert "passed the limit" in str(error)


async def test_a_gzip_bomb_is_cut_off_at_the_limit_of_decoded_bytes(
    upstream: FakeUpstream,
) -> None:
    """64 MiB of zeros in under 200 KB of gzip: the limit (1 MiB) counts what the body inflates
    to, not what came over the wire."""
    chunks = 64 * 1024 * 1024 // STREAM_CHUNK
    error = await refused_output(upstream, [upstream.url(f"/stream?gzip=1&chunks={chunks}")])
    assert "passed the limit" in str(error)


async def test_an_answer_over_the_limit_is_refused(upstream: FakeUpstream) -> None:
    upstream.answer_next(1, 200, path="/v1/audio/speech", body="x" * (LIMITS.max_bytes + 1))
    opts = options(upstream, model="tts-1")
    error = await failure(upstream_provider("openai-speech", opts, LIMITS), request(kind="audio"))
    assert error.code == "upstream_bad_response"
