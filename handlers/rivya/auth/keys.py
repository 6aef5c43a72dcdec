"""API key secrets: `rvya_sk_` + 32 random base62 characters + a 6-character base62 CRC32 checksum.

The format follows GitHub's tokens: the prefix lets secret scanners find leaked keys, and the
checksum lets a mistyped or truncated key be refused before any database lookup. 32 base62
characters carry about 190 bits of entropy, so a fast hash (SHA-256) is the right one to store:
there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import re
import zlib

from rivya.errors import AuthenticationFailed
from rivya.ids import BASE62, random_base62

PREFIX = "rvya_sk_"
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
SECRET_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
_SHAPE = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(random_part: str) -> str:
    """The base62 CRC32 of the random part, zero-padded to six characters."""
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def new_secret() -> str:
    """A fresh API key secret."""
    random_part = random_base62(RANDOM_LENGTH)
    return f"{PREFIX}{random_part}{checksum(random_part)}"


def hash_secret(secret: str) -> str:
    """The hex SHA-256 that the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hint(secret: str) -> str:
    """The last four characters, enough for a person to tell keys apart."""
    return secret[-4:]


def check_format(secret: str) -> None:
    """Refuse, without any lookup, a string that cannot be a key this server issued."""
    if not _SHAPE.fullmatch(secret):
        raise AuthenticationFailed(
            f"An API key is {PREFIX!r} followed by {RANDOM_LENGTH + CHECKSUM_LENGTH} letters and "
            "digits.",
            code="malformed_api_key",
        )
    body = secret[len(PREFIX) :]
    if checksum(body[:RANDOM_LENGTH]) != body[RANDOM_LENGTH:]:
        raise AuthenticationFailed(
            "This API key's checksum does not match: it was mistyped or cut short.",
            code="invalid_api_key_checksum",
        )
