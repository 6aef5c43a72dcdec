"""Reservations, captures and releases: exact arithmetic, exactly-once settlement, and no
overspending under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from rivya.billing import holds
from rivya.billing.wallet import Balance, get_balance, grant, ledger_totals
from rivya.errors import InsufficientCredits, InvalidRequest
from rivya.settings import Settings
from rivya.store.db import Database
from tests.conftest import FrozenClock, make_tenant


async def wallet_of(db: Database, account_id: str) -> Balance:
    async with db.read() as conn:
        balance = await get_balance(conn, account_id)
        ledger = await ledger_totals(conn, account_id)
    assert ledger == balance, "the ledger must add up to the wallet"
    return balance


async def test_reserve_then_partial_capture_releases_the_rest(database: Database) -> None:
    t = await make_tenant(database, credits=100)
    async with database.write() as conn:
        hold = await holds.reserve(
            conn, t.account_id, 40, kind=holds.GENERATION, reference="task_x"
        )
    assert await wallet_of(database, t.account_id) == Balance(balance=100, reserved=40)

    async with database.write() as conn:
        settled = await holds.capture(conn, hold.id, 25)
    assert settled.applied and settled.hold.status == "captured" and settled.hold.captured == 25
    assert await wallet_of(database, t.account_id) == Balance(balance=75, reserved=0)


async def test_full_capture_and_release(database: Database) -> None:
    t = await make_tenant(database, credits=100)
    async with database.write() as conn:
        a = await holds.reserve(conn, t.account_id, 30, kind=holds.GENERATION)
        b = await holds.reserve(conn, t.account_id, 50, kind=holds.GENERATION)
    async with database.write() as conn:
        await holds.capture(conn, a.id)
        await holds.release(conn, b.id)
    assert await wallet_of(database, t.account_id) == Balance(balance=70, reserved=0)


async def test_a_hold_resolves_exactly_once(database: Database) -> None:
    t = await make_tenant(database, credits=100)
    async with database.write() as conn:
        hold = await holds.reserve(conn, t.account_id, 60, kind=holds.GENERATION)
    async with database.write() as conn:
        assert (await holds.capture(conn, hold.id, 10)).applied
    for settle in (holds.capture, holds.release):
        async with database.write() as conn:
            again = await settle(conn, hold.id)
        assert not again.applied
        assert again.hold.status == "captured" and again.hold.captured == 10
    assert await wallet_of(database, t.account_id) == Balance(balance=90, reserved=0)


async def test_insufficient_credits_holds_nothing(database: Database) -> None:
    t = await make_tenant(database, credits=10)
    async with database.write() as conn:
        await holds.reserve(conn, t.account_id, 7, kind=holds.GENERATION)
    with pytest.raises(InsufficientCredits) as refused:
        async with database.write() as conn:
            await holds.reserve(conn, t.account_id, 4, kind=holds.GENERATION)
    assert refused.value.needed == 4 and refused.value.available == 3
    assert await wallet_of(database, t.account_id) == Balance(balance=10, reserved=7)


async def test_bad_amounts_are_refused(database: Database) -> None:
    t = await make_tenant(database, credits=10)
    async with database.write() as conn:
        hold = await holds.reserve(conn, t.account_id, 5, kind=holds.GENERATION)
    for bad in (
        lambda c: holds.reserve(c, t.account_id, 0, kind=holds.GENERATION),
        lambda c: holds.reserve(c, t.account_id, -3, kind=holds.GENERATION),
        lambda c: grant(c, t.account_id, 0),
    ):
        with pytest.raises(InvalidRequest):
            async with database.write() as conn:
                await bad(conn)
    for outside in (6, -1):
        with pytest.raises(ValueError):
            async with database.write() as conn:
                await holds.capture(conn, hold.id, outside)
    assert await wallet_of(database, t.account_id) == Balance(balance=10, reserved=5)


async def test_fifty_concurrent_reservations_against_ten(database: Database) -> None:
    """A balance that covers 10 reservations admits exactly 10 of 50 racing ones."""
    t = await make_tenant(database, credits=100)

    async def attempt() -> bool:
        try:
            async with database.write() as conn:
                await holds.reserve(conn, t.account_id, 10, kind=holds.GENERATION)
        except InsufficientCredits:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    assert results.count(True) == 10
    wallet = await wallet_of(database, t.account_id)
    assert wallet == Balance(balance=100, reserved=100) and wallet.available == 0


async def test_concurrent_settlements_of_one_hold_apply_once(database: Database) -> None:
    """Workers racing to capture and release the same hold: exactly one wins."""
    t = await make_tenant(database, credits=100)
    async with database.write() as conn:
        hold = await holds.reserve(conn, t.account_id, 40, kind=holds.GENERATION)

    async def settle(i: int) -> bool:
        async with database.write() as conn:
            if i % 2:
                return (await holds.capture(conn, hold.id)).applied
            return (await holds.release(conn, hold.id)).applied

    results = await asyncio.gather(*(settle(i) for i in range(20)))
    assert results.count(True) == 1
    wallet = await wallet_of(database, t.account_id)
    assert wallet.reserved == 0 and wallet.balance in (60, 100)


async def test_settlement_rolls_back_with_its_transaction(database: Database) -> None:
    """A crash after the capture statement but before commit leaves the hold pending."""
    t = await make_tenant(database, credits=50)
    async with database.write() as conn:
        hold = await holds.reserve(conn, t.account_id, 20, kind=holds.GENERATION)
    with pytest.raises(RuntimeError):
        async with database.write() as conn:
            await holds.capture(conn, hold.id)
            raise RuntimeError("worker died before commit")
    async with database.read() as conn:
        assert (await holds.get_hold(conn, hold.id)).status == "pending"
    assert await wallet_of(database, t.account_id) == Balance(balance=50, reserved=20)
    async with database.write() as conn:
        assert (await holds.release(conn, hold.id)).applied
    assert await wallet_of(database, t.account_id) == Balance(balance=50, reserved=0)


async def test_abandoned_chat_reservations_are_released(
    database: Database, frozen_clock: FrozenClock, settings: Settings
) -> None:
    """A server that died mid-turn left a pending hold: maintenance gives it back, once an hour
    has passed, and leaves recent ones (turns still running) alone."""
    from rivya.chat.turns import ABANDONED_AFTER_S, release_abandoned
    from rivya.runtime import Runtime

    t = await make_tenant(database, credits=100)
    async with database.write() as conn:
        await holds.reserve(conn, t.account_id, 30, kind=holds.CHAT, reference="chatcmpl-dead")
        await holds.reserve(conn, t.account_id, 5, kind=holds.GENERATION, reference="task_other")
    runtime = Runtime.build(settings, db=database)
    assert await release_abandoned(runtime) == 0
    frozen_clock.advance(ABANDONED_AFTER_S + 1)
    assert await release_abandoned(runtime) == 1
    assert await wallet_of(database, t.account_id) == Balance(balance=100, reserved=5)
