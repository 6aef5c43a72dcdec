"""A per-process cache of authenticated keys, kept correct across processes by an epoch.

Looking a key up costs a database round trip on every request (on SQLite through aiosqlite's
thread, most of a request's time). Every change that can turn a valid secret invalid (revoke,
rotate) bumps the `auth_epoch` row in the same transaction; each server polls that one row every
`poll` seconds and drops its whole cache when it moved. A revocation therefore takes effect in
every process within one poll interval; expiry needs no poll, since an entry keeps its end time
and is checked on every hit. Unknown keys are never cached.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya.store.db import Database
from rivya.store.tables import auth_epoch

if TYPE_CHECKING:
    from rivya.auth.api_keys import Principal

log = logging.getLogger(__name__)
MAX_ENTRIES = 10_000


async def bump_epoch(conn: AsyncConnection) -> None:
    """Tell every server to forget the keys it knows (call in the changing transaction)."""
    await conn.execute(update(auth_epoch).values(value=auth_epoch.c.value + 1))


async def read_epoch(conn: AsyncConnection) -> int:
    """The current epoch."""
    return int((await conn.execute(select(auth_epoch.c.value))).scalar_one())


class KeyCache:
    """Secret hash -> Principal. Enabled only while `watch` runs, so a process that cannot see
    epoch changes never answers from it."""

    def __init__(self, poll: float) -> None:
        self.poll = poll
        self.generation = 0
        self._entries: dict[str, Principal] = {}
        self._watching = False

    def get(self, secret_hash: str) -> Principal | None:
        """The cached key, if the cache is live and has it."""
        return self._entries.get(secret_hash) if self._watching else None

    def put(self, secret_hash: str, key: Principal, generation: int) -> None:
        """Remember a key looked up while the cache was at `generation`; a lookup that raced
        with a clear is dropped, since it may predate the change that caused the clear."""
        if not self._watching or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[secret_hash] = key

    def touched(self, secret_hash: str, at: int) -> None:
        """Record a write of last_used_at so the next hits do not write again."""
        entry = self._entries.get(secret_hash)
        if entry is not None:
            self._entries[secret_hash] = replace(entry, last_used_at=at)

    def clear(self) -> None:
        """Forget everything."""
        self.generation += 1
        self._entries.clear()

    async def watch(self, db: Database) -> None:
        """Poll the epoch until cancelled, clearing on every change; the cache is live only
        while this runs and the last poll succeeded."""
        if self.poll <= 0:
            return
        epoch: int | None = None
        try:
            while True:
                try:
                    async with db.read() as conn:
                        current = await read_epoch(conn)
                except Exception:
                    log.warning("cannot read the auth epoch; key cache off", exc_info=True)
                    self._watching = False
                    self.clear()
                else:
                    if current != epoch:
                        self.clear()
                        epoch = current
                    self._watching = True
                await asyncio.sleep(self.poll)
        finally:
            self._watching = False
            self.clear()
