"""What an upload is, decided from its first bytes, and whether an image is safe to open.

A declared Content-Type or a filename is never consulted: clients get them wrong, and serving a
file back under a type it is not invites content-sniffing attacks. Only the types in `ALLOWED`
come out of `sniff`; everything else is None, which the API answers with 415.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Literal

from PIL import Image

from rivya.errors import RivyaError

HEAD_BYTES = 4096
"""How many leading bytes to give `sniff`; every format it knows is decided within them."""

DEFAULT_MAX_PIXELS = 40_000_000

Kind = Literal["image", "audio", "video"]


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A recognised media type, its kind, and the extension (no dot) to store it under."""

    content_type: str
    kind: Kind
    extension: str


ALLOWED: Mapping[str, Sniffed] = MappingProxyType(
    {
        sniffed.content_type: sniffed
        for sniffed in (
            Sniffed("image/png", "image", "png"),
            Sniffed("image/jpeg", "image", "jpg"),
            Sniffed("image/gif", "image", "gif"),
            Sniffed("image/webp", "image", "webp"),
            Sniffed("audio/wav", "audio", "wav"),
            Sniffed("audio/mpeg", "audio", "mp3"),
            Sniffed("audio/flac", "audio", "flac"),
            Sniffed("audio/ogg", "audio", "ogg"),
            Sniffed("audio/mp4", "audio", "m4a"),
            Sniffed("video/mp4", "video", "mp4"),
            Sniffed("video/quicktime", "video", "mov"),
            Sniffed("video/webm", "video", "webm"),
        )
    }
)
"""Every type an upload may have, by content type."""


class FileRejected(RivyaError):
    """An upload refused for what it contains; `code` says why (e.g. "image_too_large")."""

    code = "file_rejected"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def sniff(head: bytes) -> Sniffed | None:
    """The type of a file that starts with `head` (give it `HEAD_BYTES`), or None when the type is
    not one of `ALLOWED`: unknown, empty, or known but refused (SVG, HTML, PDF, MKV, HEIC…)."""
    for detect in _DETECTORS:
        content_type = detect(head)
        if content_type is not None:
            return ALLOWED.get(content_type)
    return None


# Fixed magic numbers: every (offset, bytes) pair must match.
_SIGNATURES: tuple[tuple[str, tuple[tuple[int, bytes], ...]], ...] = (
    ("image/png", ((0, b"\x89PNG\r\n\x1a\n"),)),
    ("image/jpeg", ((0, b"\xff\xd8\xff"),)),
    ("image/gif", ((0, b"GIF87a"),)),
    ("image/gif", ((0, b"GIF89a"),)),
    ("image/webp", ((0, b"RIFF"), (8, b"WEBPVP8"))),
    ("audio/wav", ((0, b"RIFF"), (8, b"WAVE"))),
    ("audio/flac", ((0, b"fLaC"),)),
)


def _signature(head: bytes) -> str | None:
    for content_type, parts in _SIGNATURES:
        if all(head.startswith(magic, offset) for offset, magic in parts):
            return content_type
    return None


def _id3(head: bytes) -> str | None:
    # An ID3v2 tag (major version 2-4) fronts most MP3s; it can run to megabytes of cover art, so
    # the first frame is usually out of sight and the tag itself has to decide.
    if head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4):
        return "audio/mpeg"
    return None


# Layer III bitrates in kbit/s by index, for MPEG-1 and for MPEG-2/2.5; index 0 is "free format".
_MP3_BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by the header's version bits: 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (1 is reserved).
_MP3_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(head: bytes, at: int) -> int | None:
    """The length of the MPEG audio Layer III frame whose header is at `at`, or None if there is
    no valid header there (free-format frames, whose length cannot be known, count as invalid)."""
    if len(head) < at + 4 or head[at] != 0xFF or head[at + 1] & 0xE0 != 0xE0:
        return None
    version = (head[at + 1] >> 3) & 3
    layer = (head[at + 1] >> 1) & 3
    bitrate_index = head[at + 2] >> 4
    rate_index = (head[at + 2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_BITRATES[version == 3][bitrate_index] * 1000
    rate = _MP3_SAMPLE_RATES[version][rate_index]
    padding = (head[at + 2] >> 1) & 1
    return (144 if version == 3 else 72) * bitrate // rate + padding


def _mp3_frames(head: bytes) -> str | None:
    # Two bytes of frame sync are common by chance in binary data, so where the next frame's
    # header is within sight it must be there too.
    length = _mp3_frame_length(head, 0)
    if length is None:
        return None
    if len(head) >= length + 4 and _mp3_frame_length(head, length) is None:
        return None
    return "audio/mpeg"


# Identification packets of the audio codecs that Ogg carries; Theora (video) is not among them.
_OGG_AUDIO_CODECS = (b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")


def _ogg(head: bytes) -> str | None:
    # A page header is 27 bytes plus one lacing byte per segment; the first page of a stream has
    # the beginning-of-stream flag and holds only the codec's identification packet.
    if not head.startswith(b"OggS\x00") or len(head) < 27 or not head[5] & 0x02:
        return None
    packet = head[27 + head[26] :]
    return "audio/ogg" if packet.startswith(_OGG_AUDIO_CODECS) else None


# ISO base media (MP4 family) files open with an `ftyp` box whose major brand says what the file
# is; compatible brands are not consulted, since HEIC, AVIF, 3GP and M4V files list MP4 brands
# there too.
_FTYP_MAJOR_BRANDS = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    **dict.fromkeys(
        (b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"),
        "video/mp4",
    ),
    b"M4V ": "video/mp4",
}


def _iso_bmff(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp" or int.from_bytes(head[:4], "big") < 16:
        return None
    return _FTYP_MAJOR_BRANDS.get(head[8:12])


_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = 0x4282


def _ebml_vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """The EBML variable-length integer at `at` as (value, length in bytes), or None if it is
    cut off or malformed. Element IDs keep their length marker bit; sizes do not."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    return (value if keep_marker else value & ((1 << (7 * length)) - 1)), length


def _webm(head: bytes) -> str | None:
    # WebM is Matroska with the EBML header's DocType set to "webm"; read the header's elements
    # rather than search for the word, which could appear anywhere (plain MKV is refused).
    if not head.startswith(_EBML_MAGIC):
        return None
    header_size = _ebml_vint(head, len(_EBML_MAGIC), keep_marker=False)
    if header_size is None:
        return None
    at = len(_EBML_MAGIC) + header_size[1]
    end = min(at + header_size[0], len(head))
    while at < end:
        element = _ebml_vint(head, at, keep_marker=True)
        size = None if element is None else _ebml_vint(head, at + element[1], keep_marker=False)
        if element is None or size is None:
            return None
        start = at + element[1] + size[1]
        if element[0] == _EBML_DOCTYPE:
            doctype = head[start : start + size[0]].rstrip(b"\x00")
            return "video/webm" if doctype == b"webm" else None
        at = start + size[0]
    return None


_DETECTORS: tuple[Callable[[bytes], str | None], ...] = (
    _signature,
    _id3,
    _mp3_frames,
    _ogg,
    _iso_bmff,
    _webm,
)

_PILLOW_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}

# Pillow reports a bad file in several ways: OSError (UnidentifiedImageError, truncated data),
# ValueError, SyntaxError (bad PNG checksums), EOFError and struct.error from format plugins.
_CORRUPT_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)


def check_image(
    source: Path | bytes | IO[bytes], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int, int]:
    """Check that `source` (a path, the whole file, or a seekable binary file, read from its
    start and left open) is a sound image that is not too large, and return its (width, height).
    Raises `FileRejected`: "not_an_image", "image_too_large" (more than `max_pixels`, or more than
    Pillow's own `Image.MAX_IMAGE_PIXELS`, which makes it warn) or "corrupt_image". Pillow opens
    the file only as the sniffed format, and the size is checked from the header before anything
    is decoded. Blocking: run it in a thread."""
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    too_large = FileRejected("image_too_large", f"The image has more than {limit} pixels.")
    corrupt = FileRejected("corrupt_image", "The image is damaged or not what its header says.")
    with _opened(source) as file:
        sniffed = sniff(file.read(HEAD_BYTES))
        if sniffed is None or sniffed.kind != "image":
            raise FileRejected("not_an_image", "The file is not a PNG, JPEG, GIF or WebP image.")
        file.seek(0)
        try:
            image = Image.open(file, formats=[_PILLOW_FORMATS[sniffed.content_type]])
        except Image.DecompressionBombError as exc:
            raise too_large from exc
        except _CORRUPT_IMAGE_ERRORS as exc:
            raise corrupt from exc
        with image:
            width, height = image.size
            if width * height > limit:
                raise too_large
            try:
                # Checks structure (and PNG checksums) without decoding the pixels.
                image.verify()
            except _CORRUPT_IMAGE_ERRORS as exc:
                raise corrupt from exc
    return width, height


@contextmanager
def _opened(source: Path | bytes | IO[bytes]) -> Iterator[IO[bytes]]:
    """`source` as a binary file positioned at its start; closed afterwards only if opened here."""
    if isinstance(source, Path):
        with source.open("rb") as file:
            yield file
    elif isinstance(source, bytes):
        yield io.BytesIO(source)
    else:
        source.seek(0)
        yield source
