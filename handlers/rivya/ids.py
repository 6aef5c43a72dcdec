"""Prefixed opaque ids (`acct_…`, `key_…`, `req_…`).

An id is a millisecond timestamp (8 base62 characters, good until the year 10889) followed by
random base62 characters, in the spirit of ULID and KSUID: ids of one kind sort by creation time
as plain strings, so lists page on the id alone, and the random part (16 characters, about
95 bits) keeps them unguessable.
"""

from __future__ import annotations

import secrets
import string
import time

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase  # ASCII order
_TIME_WIDTH = 8


def random_base62(length: int) -> str:
    """`length` characters drawn uniformly from [0-9A-Za-z] by the OS's CSPRNG."""
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _timestamp(ms: int) -> str:
    digits = []
    for _ in range(_TIME_WIDTH):
        ms, digit = divmod(ms, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def new_id(prefix: str, random_length: int = 16) -> str:
    """A new id such as `acct_0Y3k9QpZ4dXbQ2vN8pK1mZ7tR3yW` that sorts after every earlier one."""
    return f"{prefix}_{_timestamp(time.time_ns() // 1_000_000)}{random_base62(random_length)}"
