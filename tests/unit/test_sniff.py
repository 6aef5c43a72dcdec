"""Upload types come from the bytes alone, only allowed types pass, and images are checked for
size from their headers, before anything is decoded."""

from __future__ import annotations

import io
import struct
import time
import wave
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from rivya.files.sniff import ALLOWED, HEAD_BYTES, FileRejected, check_image, sniff


def image(fmt: str, size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 10)).save(out, fmt)
    return out.getvalue()


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 144 * 128000 // 44100 = 417 bytes a frame.
MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + bytes(4) + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ebml(doctype: bytes) -> bytes:
    elements = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(elements)]) + elements + b"\x18\x53\x80\x67"


def ogg(packet: bytes) -> bytes:
    # Version 0, beginning of stream, granule, serial, sequence, checksum, one segment.
    header = b"OggS\x00\x02" + bytes(8) + b"\x01\x00\x00\x00" + bytes(8) + b"\x01"
    return header + bytes([len(packet)]) + packet


ACCEPTED = {
    "png": (image("PNG"), "image/png"),
    "jpeg": (image("JPEG"), "image/jpeg"),
    "gif": (image("GIF"), "image/gif"),
    "webp": (image("WEBP"), "image/webp"),
    "wav": (wav(), "audio/wav"),
    "mp3 with ID3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME, "audio/mpeg"),
    "mp3 frames": (MP3_FRAME * 3, "audio/mpeg"),
    "mp3 frame, next one out of sight": (MP3_FRAME[:100], "audio/mpeg"),
    "flac": (b"fLaC\x00\x00\x00\x22" + bytes(34), "audio/flac"),
    "ogg vorbis": (ogg(b"\x01vorbis" + bytes(22)), "audio/ogg"),
    "ogg opus": (ogg(b"OpusHead\x01\x01" + bytes(17)), "audio/ogg"),
    "m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "mp4 isom": (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    "mp4 mp42": (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
    "mp4 iso2": (ftyp(b"iso2", b"iso2"), "video/mp4"),
    "mp4 avc1": (ftyp(b"avc1", b"avc1"), "video/mp4"),
    "mp4 dash": (ftyp(b"dash", b"iso6", b"avc1"), "video/mp4"),
    "mov": (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    "webm": (ebml(b"webm"), "video/webm"),
}

REFUSED = {
    "empty": b"",
    "text": b"hello, world\n",
    "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(30),
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
    "elf": b"\x7fELF\x02\x01\x01\x00" + bytes(56),
    "matroska (not webm)": ebml(b"matroska"),
    "heic": ftyp(b"heic", b"mif1", b"heic"),
    "avif (lists mp4 brands)": ftyp(b"avif", b"avif", b"mif1", b"isom"),
    "3gp (lists isom)": ftyp(b"3gp4", b"3gp4", b"isom"),
    "ogg theora": ogg(b"\x80theora" + bytes(34)),
    "aac adts": b"\xff\xf1\x50\x80" + bytes(400),
    "lone mp3 frame sync": MP3_FRAME + b"not another frame",
    "riff avi": b"RIFF\x00\x00\x00\x00AVI LIST",
    "png signature cut short": b"\x89PNG\r\n",
}


@pytest.mark.parametrize(("data", "content_type"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_allowed_types_are_recognised(data: bytes, content_type: str) -> None:
    sniffed = sniff(data[:HEAD_BYTES])
    assert sniffed is not None and sniffed == ALLOWED[content_type]


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_refused(data: bytes) -> None:
    assert sniff(data) is None


def test_every_allowed_type_has_a_sample() -> None:
    assert {content_type for _, content_type in ACCEPTED.values()} == set(ALLOWED)


def test_the_name_is_irrelevant(tmp_path: Path) -> None:
    renamed = tmp_path / "song.mp3"
    renamed.write_bytes(image("PNG"))
    assert sniff(renamed.read_bytes()[:HEAD_BYTES]) == ALLOWED["image/png"]


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(self: ImageFile.ImageFile) -> None:
        raise AssertionError("check_image decoded the pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_sound_images_pass_with_their_size(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = image(fmt, (30, 20))
    forbid_decoding(monkeypatch)
    assert check_image(data) == (30, 20)
    path = tmp_path / "image"
    path.write_bytes(data)
    assert check_image(path) == (30, 20)
    with path.open("rb") as file:
        file.seek(7)
        assert check_image(file) == (30, 20)
        assert not file.closed


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose IHDR (with a correct CRC) claims another size."""
    data = image("PNG", (1, 1))
    ihdr = bytearray(data[12:29])  # chunk type and the 13 bytes of IHDR data
    ihdr[4:12] = struct.pack(">II", width, height)
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


@pytest.mark.parametrize(
    ("width", "height"),
    [(50_000, 50_000), (8_000, 8_000)],
    ids=["beyond Pillow's own limit", "beyond ours only"],
)
def test_decompression_bombs_are_refused_from_the_header(
    width: int, height: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_decoding(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(FileRejected) as refused:
        check_image(png_claiming(width, height))
    assert refused.value.code == "image_too_large"
    assert time.perf_counter() - started < 1


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_size_that_makes_pillow_warn_is_refused_whatever_the_limit() -> None:
    with pytest.raises(FileRejected) as refused:
        check_image(png_claiming(10_000, 10_000), max_pixels=200_000_000)
    assert refused.value.code == "image_too_large"


def test_the_pixel_limit_is_configurable() -> None:
    assert check_image(image("PNG", (100, 100)), max_pixels=10_000) == (100, 100)
    with pytest.raises(FileRejected) as refused:
        check_image(image("PNG", (100, 101)), max_pixels=10_000)
    assert refused.value.code == "image_too_large"


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


CORRUPT = {
    "png with a damaged chunk": flipped(image("PNG", (64, 64)), 45),
    "truncated png": image("PNG", (64, 64))[:-20],
    "truncated jpeg": image("JPEG")[:100],
    "truncated webp": image("WEBP")[:30],
    "jpeg signature then junk": b"\xff\xd8\xff" + bytes(200),
}


@pytest.mark.parametrize("data", CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_images_are_refused(data: bytes) -> None:
    with pytest.raises(FileRejected) as refused:
        check_image(data)
    assert refused.value.code == "corrupt_image"


@pytest.mark.parametrize("data", [wav(), b"", b"<svg/>"], ids=["wav", "empty", "svg"])
def test_only_images_are_checked_as_images(data: bytes) -> None:
    with pytest.raises(FileRejected) as refused:
        check_image(data)
    assert refused.value.code == "not_an_image"
