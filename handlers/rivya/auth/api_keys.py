"""API keys of an account: create, list, rotate with a grace period, revoke, authenticate."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.accounts.service import get_account
from rivya.auth.cache import bump_epoch
from rivya.auth.keys import check_format, hash_secret, hint, new_secret
from rivya.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from rivya.ids import new_id
from rivya.store.tables import api_key_secrets, api_keys

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class ApiKey:
    """A key as listed: never its secret."""

    id: str
    account_id: str
    name: str
    hint: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None


@dataclass(frozen=True)
class IssuedKey:
    """A key together with its secret: returned once, by create and rotate."""

    key: ApiKey
    secret: str
    previous_secret_expires_at: int | None = None


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, until when (`ends_at`, None for never), and the key's last use."""

    account_id: str
    key_id: str
    ends_at: int | None
    last_used_at: int | None

    def expired(self) -> bool:
        """Whether the key's time is up."""
        return self.ends_at is not None and self.ends_at <= clock.now()


async def create_key(
    conn: AsyncConnection,
    account_id: str,
    *,
    name: str = "default",
    expires_in: int | None = None,
) -> IssuedKey:
    """A new key for the account; the secret is in the result and nowhere else."""
    await get_account(conn, account_id)
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"A key name has 1 to {MAX_NAME_LENGTH} characters.")
    if expires_in is not None and expires_in <= 0:
        raise InvalidRequest("A key's lifetime must be positive.")
    now = clock.now()
    key_id = new_id("key")
    expires_at = now + expires_in if expires_in is not None else None
    await conn.execute(
        api_keys.insert().values(
            id=key_id, account_id=account_id, name=name, created_at=now, expires_at=expires_at
        )
    )
    secret = await _add_secret(conn, key_id, now)
    key = ApiKey(key_id, account_id, name, hint(secret), now, expires_at, None, None)
    return IssuedKey(key=key, secret=secret)


async def list_keys(conn: AsyncConnection, account_id: str) -> list[ApiKey]:
    """The account's keys, oldest first, revoked ones included."""
    await get_account(conn, account_id)
    rows = (
        await conn.execute(
            select(api_keys).where(api_keys.c.account_id == account_id).order_by(api_keys.c.id)
        )
    ).all()
    hints = await _current_hints(conn, [row.id for row in rows])
    return [_key(row, hints.get(row.id, "")) for row in rows]


async def get_key(conn: AsyncConnection, key_id: str) -> ApiKey:
    """One key, or NotFound."""
    row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    if row is None:
        raise NotFound(f"No API key {key_id} has been found.")
    hints = await _current_hints(conn, [key_id])
    return _key(row, hints.get(key_id, ""))


async def rotate_key(conn: AsyncConnection, key_id: str, *, grace: int) -> IssuedKey:
    """Give the key a new secret. Its current secrets stay valid for `grace` more seconds
    (0: they stop at once); a secret already expiring sooner keeps its earlier end."""
    if grace < 0:
        raise InvalidRequest("The grace period cannot be negative.")
    key = await get_key(conn, key_id)
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id} is revoked; create a new key instead.")
    now = clock.now()
    ends = now + grace
    live = (api_key_secrets.c.key_id == key_id) & (
        api_key_secrets.c.expires_at.is_(None) | (api_key_secrets.c.expires_at > ends)
    )
    await conn.execute(update(api_key_secrets).where(live).values(expires_at=ends))
    await bump_epoch(conn)
    secret = await _add_secret(conn, key_id, now)
    rotated = ApiKey(
        key.id,
        key.account_id,
        key.name,
        hint(secret),
        key.created_at,
        key.expires_at,
        None,
        key.last_used_at,
    )
    return IssuedKey(key=rotated, secret=secret, previous_secret_expires_at=ends)


async def revoke_key(conn: AsyncConnection, key_id: str) -> ApiKey:
    """Revoke the key: every one of its secrets fails from the next request on. Idempotent."""
    revoked = await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if revoked.rowcount:
        await bump_epoch(conn)
    return await get_key(conn, key_id)


async def authenticate(conn: AsyncConnection, secret: str) -> Principal:
    """The principal that `secret` stands for, or AuthenticationFailed with a code saying why."""
    check_format(secret)
    digest = hash_secret(secret)
    row = (
        await conn.execute(
            select(
                api_key_secrets.c.secret_hash,
                api_key_secrets.c.expires_at.label("secret_expires_at"),
                api_keys.c.id,
                api_keys.c.account_id,
                api_keys.c.expires_at,
                api_keys.c.revoked_at,
                api_keys.c.last_used_at,
            )
            .join(api_keys, api_keys.c.id == api_key_secrets.c.key_id)
            .where(api_key_secrets.c.secret_hash == digest)
        )
    ).first()
    # The lookup is by hash, so timing reveals nothing of the secret; compare in constant time
    # all the same, in case an index or collation ever matched loosely.
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise AuthenticationFailed("This API key is not known.", code="invalid_api_key")
    if row.revoked_at is not None:
        raise AuthenticationFailed("This API key has been revoked.", code="revoked_api_key")
    ends = [t for t in (row.expires_at, row.secret_expires_at) if t is not None]
    principal = Principal(row.account_id, row.id, min(ends, default=None), row.last_used_at)
    if principal.expired():
        raise expired_key()
    return principal


def expired_key() -> AuthenticationFailed:
    """The refusal of a key whose lifetime or rotation grace period has ended."""
    return AuthenticationFailed("This API key has expired.", code="expired_api_key")


async def touch_key(conn: AsyncConnection, key_id: str, *, interval: int) -> None:
    """Record that the key was used now, writing at most once per `interval` seconds per key so
    that busy keys do not turn every read into a write."""
    now = clock.now()
    await conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.last_used_at.is_(None) | (api_keys.c.last_used_at <= now - interval),
        )
        .values(last_used_at=now)
    )


async def _add_secret(conn: AsyncConnection, key_id: str, now: int) -> str:
    secret = new_secret()
    await conn.execute(
        api_key_secrets.insert().values(
            secret_hash=hash_secret(secret), key_id=key_id, hint=hint(secret), created_at=now
        )
    )
    return secret


async def _current_hints(conn: AsyncConnection, key_ids: list[str]) -> dict[str, str]:
    """Each key's newest secret hint."""
    if not key_ids:
        return {}
    rows = await conn.execute(
        select(api_key_secrets.c.key_id, api_key_secrets.c.hint)
        .where(api_key_secrets.c.key_id.in_(key_ids))
        .order_by(api_key_secrets.c.created_at, api_key_secrets.c.expires_at.is_(None))
    )
    return {row.key_id: row.hint for row in rows}


def _key(row: Row[Any], key_hint: str) -> ApiKey:
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        hint=key_hint,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
