"""Idempotency keys (Stripe's semantics, IETF draft "The Idempotency-Key HTTP Header Field").

A key is scoped to the account. The first request with a key claims it (a row with a lock
time); the operation then stores its answer in the same transaction as its own writes, so a crash
can never leave the work done without the answer stored, or the answer stored without the work.
A retry with the same key and the same request replays the stored answer; with another request
it is refused (422); while the first request still runs it is refused (409). A claim whose
request died without finishing expires after LOCK_SECONDS so that the client can retry. Answers
are kept for RETENTION_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import Conflict, InvalidRequest, RivyaError
from rivya.store.db import Database
from rivya.store.tables import idempotency_keys

LOCK_SECONDS = 90
RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StoredAnswer:
    """An answer: fresh, or `replayed` from the first request with the same key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


Work = Callable[[AsyncConnection], Awaitable[tuple[int, dict[str, Any]]]]
Refusal = Callable[[RivyaError], tuple[int, dict[str, Any]]]


async def run_once(
    db: Database,
    account_id: str,
    key: str | None,
    print_: str,
    work: Work,
    refusal: Refusal,
) -> StoredAnswer:
    """Run `work` in a write transaction, at most once per (account, key): its answer is stored
    in that same transaction and replayed to retries. A refusal (a RivyaError, rendered by
    `refusal`) is stored too, since the request did run; any other failure releases the key so
    that a retry runs anew. Without a key, just run `work`."""
    if key:
        replay = await claim(db, account_id, key, print_)
        if replay is not None:
            return replay
    try:
        async with db.write() as conn:
            status, body = await work(conn)
            if key:
                await store(conn, account_id, key, status, body)
    except RivyaError as exc:
        if key:
            status, body = refusal(exc)
            async with db.write() as conn:
                await store(conn, account_id, key, status, body)
        raise
    except BaseException:
        if key:
            await abandon(db, account_id, key)
        raise
    return StoredAnswer(status, body)


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of what makes two requests the same request."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def claim(db: Database, account_id: str, key: str, print_: str) -> StoredAnswer | None:
    """Claim the key for a new request (None), or return the answer to replay. Raises Conflict
    while another request holds the key, InvalidRequest when the key was used for another
    request."""
    now = clock.now()
    async with db.write() as conn:
        row = (
            await conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
                )
            )
        ).first()
        if row is not None and row.created_at <= now - RETENTION_SECONDS:
            await _forget(conn, account_id, key)
            row = None
        if row is None:
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        idempotency_keys.insert().values(
                            account_id=account_id,
                            key=key,
                            fingerprint=print_,
                            locked_until=now + LOCK_SECONDS,
                            created_at=now,
                        )
                    )
            except IntegrityError:
                # Another request inserted the key between our read and our insert.
                raise _in_use() from None
            return None
        if row.fingerprint != print_:
            raise InvalidRequest(
                "This Idempotency-Key was used with a different request; use a new key.",
                code="idempotency_key_reused",
            )
        if row.response_status is not None:
            return StoredAnswer(row.response_status, json.loads(row.response_body), replayed=True)
        if row.locked_until is not None and row.locked_until > now:
            raise _in_use()
        # The first request died without an answer: this one takes over.
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key)
            .values(locked_until=now + LOCK_SECONDS)
        )
        return None


async def store(
    conn: AsyncConnection, account_id: str, key: str, status: int, body: dict[str, Any]
) -> None:
    """Save the answer to replay (call inside the operation's own transaction)."""
    await conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key)
        .values(response_status=status, response_body=json.dumps(body), locked_until=None)
    )


async def abandon(db: Database, account_id: str, key: str) -> None:
    """Release a claim whose request failed before doing anything, so a retry runs anew."""
    async with db.write() as conn:
        await _forget(conn, account_id, key)


async def purge_expired(conn: AsyncConnection) -> int:
    """Delete answers older than the retention period; returns how many."""
    cutoff = clock.now() - RETENTION_SECONDS
    result = await conn.execute(
        delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
    )
    return int(result.rowcount)


async def _forget(conn: AsyncConnection, account_id: str, key: str) -> None:
    await conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
        )
    )


def _in_use() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry later.",
        code="idempotency_key_in_use",
    )
