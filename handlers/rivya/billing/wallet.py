"""The wallet: balance and reserved credits, changed only together with a ledger entry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import InvalidRequest, NotFound
from rivya.store.tables import ledger_entries, wallets

MAX_GRANT = 10**12


@dataclass(frozen=True)
class Balance:
    """A wallet as `GET /credits` shows it."""

    balance: int
    reserved: int

    @property
    def available(self) -> int:
        """What new work may spend."""
        return self.balance - self.reserved


async def get_balance(conn: AsyncConnection, account_id: str) -> Balance:
    """The account's wallet, or NotFound."""
    row = (
        await conn.execute(
            select(wallets.c.balance, wallets.c.reserved).where(wallets.c.account_id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No wallet for account {account_id} has been found.")
    return Balance(balance=row.balance, reserved=row.reserved)


async def grant(
    conn: AsyncConnection, account_id: str, amount: int, *, reason: str | None = None
) -> Balance:
    """Add `amount` credits to the balance (an operator's top-up or a purchase)."""
    if not 0 < amount <= MAX_GRANT:
        raise InvalidRequest(f"A grant is a whole number of credits from 1 to {MAX_GRANT}.")
    result = await conn.execute(
        update(wallets)
        .where(wallets.c.account_id == account_id)
        .values(balance=wallets.c.balance + amount)
    )
    if result.rowcount != 1:
        raise NotFound(f"No account {account_id} has been found.")
    await record(conn, account_id, "grant", balance_delta=amount, reason=reason)
    return await get_balance(conn, account_id)


async def record(
    conn: AsyncConnection,
    account_id: str,
    kind: str,
    *,
    balance_delta: int = 0,
    reserved_delta: int = 0,
    hold_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Append one ledger entry; the caller changes the wallet by the same deltas in the same
    transaction."""
    await conn.execute(
        ledger_entries.insert().values(
            account_id=account_id,
            kind=kind,
            balance_delta=balance_delta,
            reserved_delta=reserved_delta,
            hold_id=hold_id,
            reason=reason,
            created_at=clock.now(),
        )
    )


async def ledger_totals(conn: AsyncConnection, account_id: str) -> Balance:
    """The wallet as the ledger adds it up; equal to `get_balance` at every commit."""
    row = (
        await conn.execute(
            select(
                func.coalesce(func.sum(ledger_entries.c.balance_delta), 0),
                func.coalesce(func.sum(ledger_entries.c.reserved_delta), 0),
            ).where(ledger_entries.c.account_id == account_id)
        )
    ).one()
    return Balance(balance=int(row[0]), reserved=int(row[1]))
