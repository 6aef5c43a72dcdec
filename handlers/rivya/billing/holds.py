"""Holds: credits reserved for work in progress, settled exactly once.

reserve   pending hold; reserved += amount, if and only if available covers it
capture   pending -> captured; balance -= charged and reserved -= amount (a partial capture
          releases the rest in the same step)
release   pending -> released; reserved -= amount

The admission check is one guarded UPDATE whose WHERE clause re-checks availability against the
row as the database sees it at write time, so concurrent reservations cannot overspend on SQLite
(where FOR UPDATE does nothing) or on PostgreSQL. Settlement is a compare-and-set on the hold's
status, and the ledger's unique (hold_id, kind) backs it up: a retried or concurrent capture or
release finds the hold already resolved and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.billing.wallet import get_balance, record
from rivya.errors import InsufficientCredits, InvalidRequest, NotFound
from rivya.ids import new_id
from rivya.store.tables import holds, wallets

PENDING, CAPTURED, RELEASED = "pending", "captured", "released"
GENERATION, CHAT = "generation", "chat"  # what a hold pays for


@dataclass(frozen=True)
class Hold:
    """A reservation and how it ended."""

    id: str
    account_id: str
    amount: int
    status: str
    captured: int | None
    reference: str | None


@dataclass(frozen=True)
class Settlement:
    """What a capture or release call found: `applied` is False when the hold had already been
    resolved (by this call's earlier try, or by another worker) and nothing changed."""

    hold: Hold
    applied: bool


async def reserve(
    conn: AsyncConnection,
    account_id: str,
    amount: int,
    *,
    kind: str,
    reference: str | None = None,
) -> Hold:
    """Hold `amount` credits for work of `kind` (GENERATION or CHAT), or raise
    InsufficientCredits and hold nothing."""
    if amount <= 0:
        raise InvalidRequest("A reservation is a positive number of credits.")
    guarded = (
        update(wallets)
        .where(
            wallets.c.account_id == account_id,
            wallets.c.balance - wallets.c.reserved >= amount,
        )
        .values(reserved=wallets.c.reserved + amount)
    )
    if (await conn.execute(guarded)).rowcount != 1:
        available = (await get_balance(conn, account_id)).available
        raise InsufficientCredits(needed=amount, available=available)
    hold = Hold(new_id("hold"), account_id, amount, PENDING, None, reference)
    await conn.execute(
        holds.insert().values(
            id=hold.id,
            account_id=account_id,
            amount=amount,
            status=PENDING,
            reference=reference,
            kind=kind,
            created_at=clock.now(),
        )
    )
    await record(conn, account_id, "reserve", reserved_delta=amount, hold_id=hold.id)
    return hold


async def capture(conn: AsyncConnection, hold_id: str, amount: int | None = None) -> Settlement:
    """Charge `amount` (default: all of it, at most the hold) and release the rest."""
    hold = await get_hold(conn, hold_id)
    charged = hold.amount if amount is None else amount
    if not 0 <= charged <= hold.amount:
        # A caller's bug, never a client's input: callers cap what they charge at the hold.
        raise ValueError(f"A capture is 0 to {hold.amount} credits of hold {hold_id}.")
    if not await _resolve(conn, hold_id, CAPTURED, charged):
        return Settlement(await get_hold(conn, hold_id), applied=False)
    await record(
        conn,
        hold.account_id,
        "capture",
        balance_delta=-charged,
        reserved_delta=-hold.amount,
        hold_id=hold_id,
    )
    await _settle_wallet(conn, hold, balance_delta=-charged)
    return Settlement(replace(hold, status=CAPTURED, captured=charged), applied=True)


async def release(conn: AsyncConnection, hold_id: str) -> Settlement:
    """Give the whole hold back (a refund of work that failed or was canceled)."""
    hold = await get_hold(conn, hold_id)
    if not await _resolve(conn, hold_id, RELEASED, None):
        return Settlement(await get_hold(conn, hold_id), applied=False)
    await record(conn, hold.account_id, "release", reserved_delta=-hold.amount, hold_id=hold_id)
    await _settle_wallet(conn, hold, balance_delta=0)
    return Settlement(replace(hold, status=RELEASED), applied=True)


async def get_hold(conn: AsyncConnection, hold_id: str) -> Hold:
    """The hold, or NotFound."""
    row = (await conn.execute(select(holds).where(holds.c.id == hold_id))).first()
    if row is None:
        raise NotFound(f"No hold {hold_id} has been found.")
    return Hold(row.id, row.account_id, row.amount, row.status, row.captured, row.reference)


async def _resolve(conn: AsyncConnection, hold_id: str, status: str, captured: int | None) -> bool:
    """Compare-and-set pending -> status; True if this call made the change."""
    result = await conn.execute(
        update(holds)
        .where(holds.c.id == hold_id, holds.c.status == PENDING)
        .values(status=status, captured=captured, resolved_at=clock.now())
    )
    return result.rowcount == 1


async def _settle_wallet(conn: AsyncConnection, hold: Hold, *, balance_delta: int) -> None:
    # Callers make this the last statement of their settlement: the wallet row is the one every
    # request of the account writes, so its row lock should be held for as little as possible.
    await conn.execute(
        update(wallets)
        .where(wallets.c.account_id == hold.account_id)
        .values(
            balance=wallets.c.balance + balance_delta,
            reserved=wallets.c.reserved - hold.amount,
        )
    )


async def stale(conn: AsyncConnection, kind: str, created_before: int) -> list[str]:
    """Pending holds of `kind` made before the given time: work whose process died before
    settling it."""
    rows = await conn.execute(
        select(holds.c.id).where(
            holds.c.kind == kind,
            holds.c.status == PENDING,
            holds.c.created_at < created_before,
        )
    )
    return list(rows.scalars())
