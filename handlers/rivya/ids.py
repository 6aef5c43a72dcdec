"""Prefixed opaque ids (`acct_…`, `key_…`, `req_…`): random base62, unguessable."""

from __future__ import annotations

import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def random_base62(length: int) -> str:
    """`length` characters drawn uniformly from [0-9A-Za-z] by the OS's CSPRNG."""
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """A new id such as `acct_4dXbQ2vN8pK1mZ7tR3yW0a` (24 base62 characters, about 143 bits)."""
    return f"{prefix}_{random_base62(length)}"
