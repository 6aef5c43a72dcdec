"""The local development providers make real media: PNGs Pillow opens, WAVs `wave` reads and
H.264 MP4s PyAV decodes, deterministic per prompt and seed, and refuse bad reference images."""

from __future__ import annotations

import asyncio
import io
import struct
import wave
import zlib
from typing import Any

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from rivya.files.sniff import HEAD_BYTES, sniff
from rivya.providers.base import GenerationRequest, Output, ProviderError, Reference
from rivya.providers.local import (
    LocalAudioProvider,
    LocalImageProvider,
    LocalVideoProvider,
    local_provider,
)


def png(colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height but holds no pixel data: what a bomb's header says."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def request(
    kind: str, task_id: str = "task_1", reference: bytes | None = None, **values: Any
) -> GenerationRequest:
    defaults: dict[str, dict[str, Any]] = {
        "image": {"prompt": "a red fox", "width": 96, "height": 64, "num_images": 1, "seed": 1},
        "audio": {"prompt": "a lullaby", "duration": 0.5, "sample_rate": 16000, "seed": 1},
        "video": {"prompt": "waves", "duration": 1, "fps": 6, "width": 64, "height": 48, "seed": 1},
    }
    data = defaults[kind] | values
    references = {}
    if reference is not None:
        field = "reference_audio" if kind == "audio" else "reference_image"
        data[field] = "file_ref1"
        references[field] = Reference("file_ref1", "application/octet-stream", reference)
    return GenerationRequest(
        task_id=task_id, model_id=f"rivya-{kind}-dev", kind=kind, input=data, references=references
    )


async def image(**values: Any) -> list[Output]:
    return await LocalImageProvider({}).generate(request("image", **values))


async def audio(**values: Any) -> Output:
    [output] = await LocalAudioProvider({}).generate(request("audio", **values))
    return output


async def video(**values: Any) -> Output:
    [output] = await LocalVideoProvider({}).generate(request("video", **values))
    return output


def kind_of(output: Output) -> tuple[str, str] | None:
    """The type and kind that the worker will read from the output's bytes."""
    sniffed = sniff(output.data[:HEAD_BYTES])
    return None if sniffed is None else (sniffed.content_type, sniffed.kind)


# Images


async def test_an_image_is_a_png_of_the_requested_size() -> None:
    [output] = await image(width=96, height=64)
    assert kind_of(output) == ("image/png", "image")
    with Image.open(io.BytesIO(output.data)) as picture:
        assert (picture.format, picture.size, picture.mode) == ("PNG", (96, 64), "RGB")
        assert len(picture.getcolors(96 * 64) or []) > 2  # painted, not a flat fill


async def test_images_are_deterministic_per_prompt_and_seed() -> None:
    [first] = await image(seed=7)
    assert (await image(seed=7))[0].data == first.data
    assert (await image(seed=8))[0].data != first.data
    assert (await image(seed=7, prompt="a blue whale"))[0].data != first.data


async def test_num_images_gives_that_many_different_images() -> None:
    outputs = await image(num_images=3)
    assert [kind_of(o) for o in outputs] == [("image/png", "image")] * 3
    assert len({o.data for o in outputs}) == 3
    assert outputs[0].data == (await image(num_images=1))[0].data


async def test_without_a_seed_each_task_gets_its_own_image_and_retries_repeat_it() -> None:
    provider = LocalImageProvider({})
    once, again, other = [
        (await provider.generate(request("image", task_id=task, seed=None)))[0].data
        for task in ("task_a", "task_a", "task_b")
    ]
    assert once == again != other


async def test_a_reference_image_shows_through() -> None:
    [plain] = await image()
    [over_red] = await image(reference=png(colour=(255, 0, 0)))
    assert over_red.data != plain.data
    with Image.open(io.BytesIO(over_red.data)) as picture:
        assert picture.size == (96, 64)
        red, green, blue = ImageStat.Stat(picture).mean
        assert red > 2 * max(green, blue)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "GIF"])
async def test_reference_formats_other_than_png_are_read(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 0, 255)).save(buffer, format=fmt)
    [output] = await image(reference=buffer.getvalue())
    assert output.data != (await image())[0].data


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png_header(8000, 6000), id="over-40-megapixels"),
        pytest.param(png_header(20000, 20000), id="over-pillows-own-limit"),
    ],
)
async def test_decompression_bombs_are_refused(data: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        await image(reference=data)
    assert caught.value.retryable is False
    assert caught.value.code == "invalid_reference"


def bmp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not an image", id="garbage"),
        pytest.param(png()[:60], id="truncated"),
        pytest.param(bmp(), id="bmp-not-allowed"),
    ],
)
async def test_unreadable_references_are_refused(data: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        await image(reference=data)
    assert caught.value.retryable is False
    assert caught.value.code == "invalid_reference"


async def test_a_reference_the_worker_did_not_supply_is_an_error() -> None:
    bare = request("image", reference_image="file_missing")
    with pytest.raises(ProviderError) as caught:
        await LocalImageProvider({}).generate(bare)
    assert caught.value.retryable is False


# Audio


@pytest.mark.parametrize(
    ("duration", "rate"), [(0.5, 16000), (0.37, 22050), (1, 24000), (0.1234, 44100)]
)
async def test_audio_is_a_mono_16_bit_wav_of_the_exact_length(duration: float, rate: int) -> None:
    output = await audio(duration=duration, sample_rate=rate)
    assert kind_of(output) == ("audio/wav", "audio")
    with wave.open(io.BytesIO(output.data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, rate)
        assert wav.getnframes() == round(duration * rate)
        frames = wav.readframes(wav.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    assert max(samples) > 1000  # audible, not silence


async def test_audio_is_deterministic_per_prompt_seed_and_voice() -> None:
    first = await audio(seed=3)
    assert (await audio(seed=3)).data == first.data
    assert (await audio(seed=4)).data != first.data
    assert (await audio(seed=3, prompt="a march")).data != first.data
    assert (await audio(seed=3, reference=b"a voice sample")).data != first.data


# Video


def probe(data: bytes) -> tuple[str, str, int, int, int, float]:
    """codec, pixel format, decoded frame count, width, height, duration in seconds."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert stream.duration is not None and stream.time_base is not None
        seconds = float(stream.duration * stream.time_base)
        context = stream.codec_context
        return context.name, context.pix_fmt or "", frames, stream.width, stream.height, seconds


@pytest.mark.parametrize(("duration", "fps"), [(1, 6), (2, 5)])
async def test_video_is_an_h264_mp4_of_the_requested_length(duration: int, fps: int) -> None:
    output = await video(duration=duration, fps=fps, width=64, height=48)
    assert kind_of(output) == ("video/mp4", "video")
    assert output.data[4:8] == b"ftyp"
    codec, pix_fmt, frames, width, height, seconds = probe(output.data)
    assert (codec, pix_fmt, frames, width, height) == ("h264", "yuv420p", duration * fps, 64, 48)
    assert abs(seconds - duration) <= 1 / fps


async def test_odd_video_sizes_round_up_to_even() -> None:
    _, _, _, width, height, _ = probe((await video(width=65, height=47)).data)
    assert (width, height) == (66, 48)


def first_frame(data: bytes) -> Image.Image:
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(container.streams.video[0]))
        return frame.to_image()  # type: ignore[no-untyped-call,no-any-return]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


async def test_video_content_is_deterministic_per_prompt_and_seed() -> None:
    """The same prompt and seed show the same picture. (Not the same bytes: x264's output was
    seen to vary by a few bytes on a loaded machine, so the check is on decoded pixels.)"""
    first = first_frame((await video(seed=5)).data)
    assert mean_difference(first, first_frame((await video(seed=5)).data)) < 2
    assert mean_difference(first, first_frame((await video(seed=6)).data)) > 10


async def test_a_reference_image_opens_the_video() -> None:
    output = await video(reference=png(colour=(255, 0, 0)))
    assert output.data != (await video()).data
    with av.open(io.BytesIO(output.data), mode="r") as container:
        first = next(container.decode(video=0)).to_image()  # type: ignore[no-untyped-call]
    red, green, blue = ImageStat.Stat(first).mean
    assert red > 200 and green < 40 and blue < 40


async def test_a_bomb_reference_is_refused_for_video_too() -> None:
    with pytest.raises(ProviderError) as caught:
        await video(reference=png_header(8000, 6000))
    assert caught.value.retryable is False


# The registry and options


def test_local_provider_maps_catalog_types() -> None:
    assert isinstance(local_provider("local-image", {}), LocalImageProvider)
    assert isinstance(local_provider("local-audio", {}), LocalAudioProvider)
    assert isinstance(local_provider("local-video", {"delay_seconds": 0.5}), LocalVideoProvider)
    with pytest.raises(ValueError):
        local_provider("local-chat-ish", {})


@pytest.mark.parametrize(
    "options", [{"colour": "red"}, {"delay_seconds": -1}, {"delay_seconds": "1"}]
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        local_provider("local-image", options)


async def test_a_delayed_generation_can_be_cancelled() -> None:
    provider = local_provider("local-image", {"delay_seconds": 30})
    task = asyncio.create_task(provider.generate(request("image")))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await provider.aclose()
