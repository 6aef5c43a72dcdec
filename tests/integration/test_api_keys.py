"""Key lifecycle on both databases: create, list, rotate with grace, revoke, expire, last use."""

from __future__ import annotations

import pytest

from rivya.accounts.service import create_account
from rivya.auth import api_keys
from rivya.errors import AuthenticationFailed, Conflict, NotFound
from rivya.store.db import Database
from tests.conftest import FrozenClock, make_tenant


async def auth_code(db: Database, secret: str) -> str:
    """'ok' or the refusal code."""
    try:
        async with db.read() as conn:
            await api_keys.authenticate(conn, secret)
    except AuthenticationFailed as exc:
        return exc.code
    return "ok"


async def test_a_new_key_authenticates_as_its_account(database: Database) -> None:
    t = await make_tenant(database)
    async with database.read() as conn:
        principal = await api_keys.authenticate(conn, t.secret)
    assert principal.account_id == t.account_id and principal.key_id == t.key_id


async def test_listing_never_shows_secrets(database: Database) -> None:
    t = await make_tenant(database)
    async with database.write() as conn:
        await api_keys.create_key(conn, t.account_id, name="second")
        listed = await api_keys.list_keys(conn, t.account_id)
    assert [k.name for k in listed] == ["default", "second"]
    assert all(t.secret not in repr(k) for k in listed)
    assert listed[0].hint == t.secret[-4:]


async def test_unknown_revoked_and_foreign_keys(database: Database) -> None:
    t = await make_tenant(database)
    from rivya.auth.keys import new_secret

    assert await auth_code(database, new_secret()) == "invalid_api_key"
    async with database.write() as conn:
        revoked = await api_keys.revoke_key(conn, t.key_id)
        again = await api_keys.revoke_key(conn, t.key_id)
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert await auth_code(database, t.secret) == "revoked_api_key"
    with pytest.raises(Conflict):
        async with database.write() as conn:
            await api_keys.rotate_key(conn, t.key_id, grace=60)
    with pytest.raises(NotFound):
        async with database.write() as conn:
            await api_keys.create_key(conn, "acct_missing")


async def test_rotation_keeps_the_old_secret_for_the_grace_period(
    database: Database, frozen_clock: FrozenClock
) -> None:
    t = await make_tenant(database)
    async with database.write() as conn:
        rotated = await api_keys.rotate_key(conn, t.key_id, grace=3600)
    assert rotated.key.id == t.key_id and rotated.secret != t.secret
    assert rotated.previous_secret_expires_at == frozen_clock.now + 3600
    assert await auth_code(database, t.secret) == "ok"
    assert await auth_code(database, rotated.secret) == "ok"

    frozen_clock.advance(3599)
    assert await auth_code(database, t.secret) == "ok"
    frozen_clock.advance(1)
    assert await auth_code(database, t.secret) == "expired_api_key"
    assert await auth_code(database, rotated.secret) == "ok"


async def test_rotation_without_grace_and_twice(
    database: Database, frozen_clock: FrozenClock
) -> None:
    t = await make_tenant(database)
    async with database.write() as conn:
        second = await api_keys.rotate_key(conn, t.key_id, grace=600)
        third = await api_keys.rotate_key(conn, t.key_id, grace=0)
    # A second rotation never lengthens an earlier secret's grace; grace 0 ends it at once.
    assert await auth_code(database, t.secret) == "expired_api_key"
    assert await auth_code(database, second.secret) == "expired_api_key"
    assert await auth_code(database, third.secret) == "ok"
    async with database.read() as conn:
        (listed,) = await api_keys.list_keys(conn, t.account_id)
    assert listed.hint == third.secret[-4:]


async def test_a_key_with_a_lifetime_expires(database: Database, frozen_clock: FrozenClock) -> None:
    async with database.write() as conn:
        account = await create_account(conn, "Short-lived")
        issued = await api_keys.create_key(conn, account.id, expires_in=60)
    assert await auth_code(database, issued.secret) == "ok"
    frozen_clock.advance(60)
    assert await auth_code(database, issued.secret) == "expired_api_key"


async def test_last_use_is_recorded_at_most_once_per_interval(
    database: Database, frozen_clock: FrozenClock
) -> None:
    t = await make_tenant(database)

    async def last_used() -> int | None:
        async with database.read() as conn:
            return (await api_keys.get_key(conn, t.key_id)).last_used_at

    assert await last_used() is None
    first = frozen_clock.now
    async with database.write() as conn:
        await api_keys.touch_key(conn, t.key_id, interval=60)
    frozen_clock.advance(30)
    async with database.write() as conn:
        await api_keys.touch_key(conn, t.key_id, interval=60)
    assert await last_used() == first
    frozen_clock.advance(30)
    async with database.write() as conn:
        await api_keys.touch_key(conn, t.key_id, interval=60)
    assert await last_used() == first + 60
