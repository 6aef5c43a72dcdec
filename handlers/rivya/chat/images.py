"""An attached image as a model takes it: no larger than the model would look at, and priced as
OpenAI prices image input.

OpenAI's rule (vision models of the GPT-4o family), which Rivya follows for every chat model:
`detail: "low"` looks at the image within 512 x 512 and costs 85 tokens; `"high"` and `"auto"`
(priced as high, the worst case) scale it to fit 2048 x 2048, then down to a shortest side of
768, and cost 85 tokens plus 170 for each 512-pixel tile of that. A model is sent nothing
larger than it looks at: a larger image is scaled down before it is encoded (JPEG, or PNG when it
has transparency), and so is one whose file is larger than MAX_SENT_BYTES. Decoding is bounded
too: one image at a time per process, in a thread of its own (_DECODER), so that a turn or many
turns at once cannot multiply the memory of large uploads (and the allocator reuses that one
thread's memory rather than keeping some in each thread of a pool).
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

LOW_DETAIL_TOKENS = 85
TILE_TOKENS = 170
TILE = 512
LOW_DETAIL_BOX = 512
HIGH_DETAIL_BOX = 2048
HIGH_DETAIL_SHORT_SIDE = 768
MAX_SENT_BYTES = 1024 * 1024  # an image file larger than this is re-encoded, smaller
JPEG_QUALITY = 85
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
_SENT_AS_IS = {"image/png", "image/jpeg", "image/webp", "image/gif"}
# One thread for the whole process, whatever the event loop: images are decoded one at a time.
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rivya-images")


@dataclass(frozen=True)
class SentImage:
    """An image as it goes to the model."""

    data_url: str
    width: int
    height: int


def looked_at(width: int, height: int, detail: str) -> tuple[int, int]:
    """The size at which a model looks at an image of this size."""
    if detail == "low":
        scale = min(1.0, LOW_DETAIL_BOX / max(width, height))
    else:
        scale = min(1.0, HIGH_DETAIL_BOX / max(width, height))
        scale *= min(1.0, HIGH_DETAIL_SHORT_SIDE / (min(width, height) * scale))
    return max(1, round(width * scale)), max(1, round(height * scale))


def image_tokens(width: int, height: int, detail: str) -> int:
    """What an image part costs, in prompt tokens (OpenAI's tile rule)."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    seen_w, seen_h = looked_at(width, height, detail)
    return LOW_DETAIL_TOKENS + TILE_TOKENS * math.ceil(seen_w / TILE) * math.ceil(seen_h / TILE)


def detail_of(part_detail: object) -> str:
    """A part's `detail`, with anything but "low" priced as "high"."""
    return "low" if part_detail == "low" else "high"


async def for_model(data: bytes, content_type: str, detail: str) -> SentImage:
    """The image, scaled down and re-encoded when the model would not look at all of it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DECODER, _scaled, data, content_type, detail)


def _scaled(data: bytes, content_type: str, detail: str) -> SentImage:
    with Image.open(io.BytesIO(data), formats=FORMATS) as image:
        size = looked_at(image.width, image.height, detail)
        if (
            size == (image.width, image.height)
            and len(data) <= MAX_SENT_BYTES
            and content_type in _SENT_AS_IS
        ):
            return SentImage(_data_url(content_type, data), image.width, image.height)
        mode = "RGBA" if _has_alpha(image) else "RGB"
        image.draft("RGB", size)  # JPEG decodes at a reduced scale: far less memory
        # Scaled in place before any conversion, so that the full-size pixels exist once (a
        # palette image is converted first: it cannot be resampled, and is small anyway).
        full = image if image.mode in ("RGB", "RGBA", "L") else image.convert(mode)
        full.thumbnail(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        smaller = full.convert(mode)
    encoded = io.BytesIO()
    if smaller.mode == "RGBA":
        smaller.save(encoded, "PNG", optimize=False)
        sent_type = "image/png"
        if encoded.tell() > MAX_SENT_BYTES:  # transparency costs too much: flatten it
            flat = Image.new("RGB", smaller.size, "white")
            flat.paste(smaller, mask=smaller.getchannel("A"))
            smaller = flat
    if smaller.mode == "RGB":
        encoded = io.BytesIO()
        smaller.save(encoded, "JPEG", quality=JPEG_QUALITY)
        sent_type = "image/jpeg"
    return SentImage(_data_url(sent_type, encoded.getvalue()), smaller.width, smaller.height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _data_url(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
