"""Media the local development models make: PNG images, WAV tones and H.264 MP4 clips.

Pure and synchronous (callers run them in a thread). Everything is drawn from a random generator
seeded by a hash of the prompt and the seed, so the same request gives byte-identical output.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import random
import sys
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageOps

from rivya.providers.base import ProviderError

REFERENCE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
MAX_REFERENCE_PIXELS = 40_000_000

# Pillow signals a bad file in several ways: OSError (UnidentifiedImageError, truncated data),
# ValueError, SyntaxError and EOFError from format plugins, and DecompressionBombError beyond its
# own (looser) pixel limit.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)

RGB = tuple[int, int, int]


def _rng(*parts: str | int | float) -> random.Random:
    # JSON keeps the parts apart unambiguously, whatever characters the prompt holds.
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _colour(rng: random.Random, value: tuple[float, float]) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.45, 0.95), rng.uniform(*value))
    return round(r * 255), round(g * 255), round(b * 255)


def _bounce(position: float) -> float:
    """Fold a position that keeps growing into 0..1 and back, like a ball between two walls."""
    return 1 - abs(position % 2 - 1)


@dataclass(frozen=True)
class _Shape:
    sides: int  # 0 draws a circle
    fill: tuple[int, int, int, int]
    x: float  # centre, as fractions of the width and height
    y: float
    radius: float  # a fraction of the shorter side
    vx: float  # frame widths (heights) per second
    vy: float
    rotation: float  # degrees
    spin: float  # degrees per second

    def draw(
        self, canvas: ImageDraw.ImageDraw, size: tuple[int, int], t: float, opacity: float
    ) -> None:
        width, height = size
        cx = _bounce(self.x + self.vx * t) * width
        cy = _bounce(self.y + self.vy * t) * height
        r = self.radius * min(width, height)
        fill = (*self.fill[:3], round(self.fill[3] * opacity))
        if self.sides == 0:
            canvas.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            rotation = (self.rotation + self.spin * t) % 360
            canvas.regular_polygon((cx, cy, r), self.sides, rotation=rotation, fill=fill)


@dataclass(frozen=True)
class _Scene:
    """A gradient with translucent shapes drifting over it, all drawn from one generator."""

    start: RGB
    end: RGB
    gradient: str  # vertical | horizontal | radial
    shapes: tuple[_Shape, ...]

    @classmethod
    def draw_from(cls, rng: random.Random) -> _Scene:
        start, end = _colour(rng, (0.15, 0.5)), _colour(rng, (0.5, 0.9))
        gradient = rng.choice(("vertical", "horizontal", "radial"))
        shapes = tuple(
            _Shape(
                sides=rng.choice((0, 0, 3, 4, 5, 6)),
                fill=(*_colour(rng, (0.6, 1.0)), rng.randint(110, 230)),
                x=rng.random(),
                y=rng.random(),
                radius=rng.uniform(0.05, 0.25),
                vx=rng.uniform(-0.4, 0.4),
                vy=rng.uniform(-0.4, 0.4),
                rotation=rng.uniform(0, 360),
                spin=rng.uniform(-90, 90),
            )
            for _ in range(rng.randint(5, 12))
        )
        return cls(start, end, gradient, shapes)

    def background(self, size: tuple[int, int]) -> Image.Image:
        """The gradient alone, at `size`."""
        if self.gradient == "radial":
            mask = Image.radial_gradient("L")
        else:
            mask = Image.linear_gradient("L")
            if self.gradient == "horizontal":
                mask = mask.transpose(Image.Transpose.ROTATE_90)
        mask = mask.resize(size, Image.Resampling.BILINEAR)
        return Image.composite(
            Image.new("RGB", size, self.end), Image.new("RGB", size, self.start), mask
        )

    def render(self, background: Image.Image, t: float, opacity: float = 1.0) -> Image.Image:
        """The shapes as they are `t` seconds in, painted over a copy of `background`."""
        frame = background.copy()
        canvas = ImageDraw.Draw(frame, "RGBA")  # RGBA mode blends the translucent fills
        for shape in self.shapes:
            shape.draw(canvas, frame.size, t, opacity)
        return frame


def open_reference(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode an uploaded image and crop-scale it to cover `size`, as RGBA.

    Only PNG, JPEG, WebP and GIF are decoded, and the pixel count is checked from the header
    before any decoding, so a small file that claims huge dimensions costs nothing. A bad file
    raises a ProviderError that no retry can fix.
    """
    try:
        with Image.open(io.BytesIO(data), formats=REFERENCE_FORMATS) as image:
            if image.width * image.height > MAX_REFERENCE_PIXELS:
                raise _too_large(f"{image.width}x{image.height} pixels")
            upright = ImageOps.exif_transpose(image).convert("RGBA")
    except Image.DecompressionBombError as exc:
        raise _too_large(str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise ProviderError(
            f"unreadable reference image: {exc}",
            retryable=False,
            code="invalid_reference",
            public_message="The reference image could not be read as PNG, JPEG, WebP or GIF.",
        ) from exc
    return ImageOps.fit(upright, size, Image.Resampling.LANCZOS)


def _too_large(detail: str) -> ProviderError:
    return ProviderError(
        f"reference image over the pixel limit: {detail}",
        retryable=False,
        code="invalid_reference",
        public_message=f"The reference image has more than {MAX_REFERENCE_PIXELS:,} pixels.",
    )


def render_images(
    prompt: str, seed: int, width: int, height: int, count: int, reference: bytes | None = None
) -> list[bytes]:
    """`count` different PNG images (RGB, width x height) for the prompt and seed.

    Image i depends only on (prompt, seed, i), so asking for more images keeps the first ones. A
    reference image becomes the background, with the shapes drawn fainter over it.
    """
    size = (width, height)
    layer = None if reference is None else open_reference(reference, size)
    images = []
    for index in range(count):
        scene = _Scene.draw_from(_rng("image", prompt, seed, index))
        background = scene.background(size)
        if layer is not None:
            background.paste(layer, (0, 0), layer)  # its transparent parts show the gradient
        image = scene.render(background, 0, opacity=1.0 if layer is None else 0.5)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        images.append(buffer.getvalue())
    return images


# A major pentatonic scale over two octaves, in semitones above the root: it sounds pleasant
# whatever order the hash picks.
_SCALE = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)
_AMPLITUDE = 0.3 * 32767
_RAMP_SECONDS = 0.01  # fade each note in and out so the joins do not click


def render_audio(
    prompt: str, seed: int, duration: float, sample_rate: int, reference: bytes | None = None
) -> bytes:
    """A mono 16-bit PCM WAV of round(duration * sample_rate) frames: a tone sequence whose
    pitches, rhythm and timbre come from the prompt and seed (and the reference's bytes, which
    stand in for a voice sample)."""
    voice = hashlib.sha256(reference).hexdigest() if reference is not None else ""
    rng = _rng("audio", prompt, seed, voice)
    root = rng.uniform(180, 330)
    beat = rng.uniform(0.12, 0.3)
    harmonics = (1.0, rng.uniform(0, 0.5), rng.uniform(0, 0.3), rng.uniform(0, 0.15))
    total = round(duration * sample_rate)
    samples = array("h")
    while len(samples) < total:
        length = min(round(beat * rng.choice((1, 1, 2, 3)) * sample_rate), total - len(samples))
        if rng.random() < 0.15:
            samples.extend(array("h", bytes(2 * length)))  # a rest
        else:
            frequency = root * 2 ** (rng.choice(_SCALE) / 12)
            samples.extend(_note(frequency, harmonics, length, sample_rate))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _note(frequency: float, harmonics: tuple[float, ...], length: int, rate: int) -> array[int]:
    # Synthesise one period and repeat it: a whole number of samples per period keeps that
    # exact (the pitch moves by well under a semitone), and sample-by-sample Python is slow.
    period = max(2, round(rate / frequency))
    scale = _AMPLITUDE / sum(harmonics)
    cycle = array(
        "h",
        (
            round(
                scale
                * sum(
                    a * math.sin(2 * math.pi * k * i / period) for k, a in enumerate(harmonics, 1)
                )
            )
            for i in range(period)
        ),
    )
    note = (cycle * (length // period + 1))[:length]
    ramp = min(length // 2, round(_RAMP_SECONDS * rate))
    for i in range(ramp):
        note[i] = note[i] * i // ramp
        note[length - 1 - i] = note[length - 1 - i] * i // ramp
    return note


def even_size(width: int, height: int) -> tuple[int, int]:
    """Round odd dimensions up: H.264 in 4:2:0 needs even ones."""
    return width + width % 2, height + height % 2


_FADE_IN_SECONDS = 1.0


def render_video(
    prompt: str,
    seed: int,
    duration: float,
    fps: int,
    width: int,
    height: int,
    reference: bytes | None = None,
) -> bytes:
    """An MP4 (H.264, yuv420p) of round(duration * fps) frames at the even size covering
    width x height: shapes for the prompt and seed drifting over a gradient. A reference image
    becomes the background and the opening frame, with the shapes fading in over a second."""
    size = even_size(width, height)
    scene = _Scene.draw_from(_rng("video", prompt, seed))
    background = scene.background(size)
    if reference is not None:
        layer = open_reference(reference, size)
        background.paste(layer, (0, 0), layer)
    with tempfile.TemporaryDirectory(prefix="rivya-video-") as directory:
        # A file, not memory: moving the index to the front (faststart, so players can start
        # before the whole file arrives) needs the muxer to reopen its output.
        path = Path(directory) / "out.mp4"
        # bitexact: no wall-clock creation time or library version string in the header.
        options = {"movflags": "+faststart", "fflags": "+bitexact"}
        with av.open(str(path), mode="w", format="mp4", options=options) as out:
            # One thread: x264's output then does not depend on the host's CPU count, and the
            # worker gets its parallelism from running many tasks at once.
            stream = out.add_stream(
                "libx264", rate=fps, options={"preset": "veryfast", "threads": "1"}
            )
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            for index in range(max(1, round(duration * fps))):
                t = index / fps
                opacity = 1.0 if reference is None else min(1.0, t / _FADE_IN_SECONDS)
                image = scene.render(background, t, opacity)
                # PyAV's stubs leave from_image untyped; it returns a VideoFrame.
                rgb = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
                frame = rgb.reformat(format="yuv420p")
                frame.pts = index
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        return path.read_bytes()
