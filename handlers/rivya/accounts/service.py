"""Accounts: the owner of API keys, the credit wallet and everything a key creates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import InvalidRequest, NotFound
from rivya.ids import new_id
from rivya.store.tables import accounts, wallets

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Account:
    """An account as the CLI shows it."""

    id: str
    name: str
    created_at: int
    is_dev: bool = False


async def create_account(conn: AsyncConnection, name: str, *, is_dev: bool = False) -> Account:
    """A new account with an empty wallet."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"An account name has 1 to {MAX_NAME_LENGTH} characters.")
    account = Account(id=new_id("acct"), name=name, created_at=clock.now(), is_dev=is_dev)
    await conn.execute(
        accounts.insert().values(
            id=account.id, name=account.name, is_dev=is_dev, created_at=account.created_at
        )
    )
    await conn.execute(wallets.insert().values(account_id=account.id, balance=0, reserved=0))
    return account


async def get_account(conn: AsyncConnection, account_id: str) -> Account:
    """The account, or NotFound."""
    row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if row is None:
        raise NotFound(f"No account {account_id} has been found.")
    return Account(id=row.id, name=row.name, created_at=row.created_at, is_dev=row.is_dev)


async def find_dev_account(conn: AsyncConnection) -> Account | None:
    """The development account that `rivya serve --dev` made, if any."""
    row = (await conn.execute(select(accounts).where(accounts.c.is_dev.is_(True)).limit(1))).first()
    if row is None:
        return None
    return Account(id=row.id, name=row.name, created_at=row.created_at, is_dev=True)
