"""Webhook endpoints: the URLs an account has subscribed to event types, with their signing
secrets.

A secret is shown once, when it is made (at creation and at each rotation). A rotation keeps the
previous secret signing too until its grace period ends, so receivers can switch over without
losing messages. An endpoint is disabled by its owner, when it answers 410 Gone ("gone"), or once
it has failed every attempt for a while ("failing"); enabling it again starts afresh. A URL is
stored as the SSRF guard (`check_url`) normalised it, and is checked again at each delivery.

Deleting an endpoint keeps its row as a tombstone (disabled, reason "deleted", secrets wiped):
its deliveries refer to it and stay in the account's event log. Tombstones are invisible here:
another account's endpoint and a deleted one are both NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import Conflict, InvalidRequest, NotFound
from rivya.ids import new_id
from rivya.net.ssrf import Target
from rivya.store.tables import accounts, webhook_endpoints
from rivya.webhooks.signing import new_secret

EVENT_TYPES = ("generation.succeeded", "generation.failed", "generation.canceled")
MAX_DESCRIPTION = 500
ROTATION_GRACE_S = 24 * 3600
MAX_ROTATION_GRACE_S = 7 * 24 * 3600
# Why an endpoint is disabled.
MANUAL, GONE, FAILING, DELETED = "manual", "gone", "failing", "deleted"


class Unset(Enum):
    """Marks an argument that was not given (where None means "clear it")."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class Endpoint:
    """An endpoint's row."""

    id: str
    account_id: str
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: int | None
    failing_since: int | None
    created_at: int
    updated_at: int

    def signing_secrets(self, now: int) -> list[str]:
        """The secrets that sign a message sent at `now`: the current one, and the previous one
        while its grace period runs."""
        found = [self.secret]
        if self.previous_secret and (self.previous_secret_expires_at or 0) > now:
            found.append(self.previous_secret)
        return found


async def create_endpoint(
    conn: AsyncConnection,
    account_id: str,
    *,
    target: Target,
    events: list[str],
    max_endpoints: int,
    description: str | None = None,
) -> Endpoint:
    """Subscribe the URL of `target` to `events`. The target is what `check_url` made of the URL:
    call it before the transaction (it resolves the host, and a write transaction should not wait
    on DNS). A bad event list or description is InvalidRequest; Conflict when the account has
    `max_endpoints` already (disabled ones count, deleted ones do not). The endpoint returned
    carries its secret: show it, it is not shown again."""
    description = _checked_description(description)
    events = _checked_events(events)
    # Creations of one account take turns (the row lock on PostgreSQL; SQLite's write
    # transactions are serial), so two at once cannot both pass the count.
    await conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
    held = await conn.scalar(
        select(func.count())
        .select_from(webhook_endpoints)
        .where(webhook_endpoints.c.account_id == account_id, _not_deleted())
    )
    if (held or 0) >= max_endpoints:
        raise Conflict(
            f"This account has {held} webhook endpoints, the most it may have "
            f"({max_endpoints}); delete one first.",
            code="webhook_endpoint_limit_reached",
        )
    now = clock.now()
    endpoint_id = new_id("whep")
    await conn.execute(
        webhook_endpoints.insert().values(
            id=endpoint_id,
            account_id=account_id,
            url=target.url,
            description=description,
            events=events,
            enabled=True,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
    )
    return await get_endpoint(conn, account_id, endpoint_id)


async def get_endpoint(conn: AsyncConnection, account_id: str, endpoint_id: str) -> Endpoint:
    """The account's endpoint, or NotFound (another account's, a deleted one, no such id)."""
    row = (
        await conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.id == endpoint_id,
                webhook_endpoints.c.account_id == account_id,
                _not_deleted(),
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"No webhook endpoint {endpoint_id} has been found.")
    return _endpoint(row)


async def load_endpoint(conn: AsyncConnection, endpoint_id: str) -> Endpoint:
    """Any endpoint by id, deleted ones included (deliveries refer to them)."""
    row = (
        await conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))
    ).one()
    return _endpoint(row)


async def list_endpoints(
    conn: AsyncConnection, account_id: str, *, limit: int, after: str | None = None
) -> tuple[list[Endpoint], bool]:
    """A page of the account's endpoints, newest first, and whether more follow."""
    query = select(webhook_endpoints).where(
        webhook_endpoints.c.account_id == account_id, _not_deleted()
    )
    if after:
        query = query.where(webhook_endpoints.c.id < after)
    rows = (
        await conn.execute(query.order_by(webhook_endpoints.c.id.desc()).limit(limit + 1))
    ).all()
    return [_endpoint(r) for r in rows[:limit]], len(rows) > limit


async def subscribed(conn: AsyncConnection, account_id: str, event_type: str) -> list[Endpoint]:
    """The account's enabled endpoints that subscribe to `event_type`, oldest first."""
    rows = await conn.execute(
        select(webhook_endpoints)
        .where(webhook_endpoints.c.account_id == account_id, webhook_endpoints.c.enabled.is_(True))
        .order_by(webhook_endpoints.c.id)
    )
    # The event list is JSON; filtering it here works the same on SQLite and PostgreSQL.
    return [e for e in map(_endpoint, rows) if event_type in e.events]


async def update_endpoint(
    conn: AsyncConnection,
    account_id: str,
    endpoint_id: str,
    *,
    target: Target | None = None,
    events: list[str] | None = None,
    enabled: bool | None = None,
    description: str | Unset | None = UNSET,
) -> Endpoint:
    """Change what is given (None or UNSET: unchanged; `description=None` clears it); a new URL
    comes as a `target` from `check_url`, called before the transaction. Disabling records the
    reason "manual"; enabling clears the reason and the failure streak, so the endpoint gets its
    full five days again."""
    endpoint = await get_endpoint(conn, account_id, endpoint_id)
    values: dict[str, Any] = {"updated_at": clock.now()}
    if target is not None:
        values["url"] = target.url
    if events is not None:
        values["events"] = _checked_events(events)
    if not isinstance(description, Unset):
        values["description"] = _checked_description(description)
    if enabled is True and not endpoint.enabled:
        values.update(enabled=True, disabled_reason=None, failing_since=None)
    elif enabled is False and endpoint.enabled:
        values.update(enabled=False, disabled_reason=MANUAL)
    await conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values)
    )
    return await get_endpoint(conn, account_id, endpoint_id)


async def delete_endpoint(conn: AsyncConnection, account_id: str, endpoint_id: str) -> None:
    """Delete the endpoint: nothing more is sent to it, its pending deliveries fail, and its
    secrets are forgotten. NotFound if it is not the account's (or is gone already)."""
    await get_endpoint(conn, account_id, endpoint_id)
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(
            enabled=False,
            disabled_reason=DELETED,
            # Not nullable: an empty string signs nothing, and tombstones never sign.
            secret="",
            previous_secret=None,
            previous_secret_expires_at=None,
            updated_at=clock.now(),
        )
    )


async def rotate_secret(
    conn: AsyncConnection,
    account_id: str,
    endpoint_id: str,
    *,
    grace_seconds: int = ROTATION_GRACE_S,
) -> Endpoint:
    """Give the endpoint a new secret; the current one keeps signing (a second signature) for
    `grace_seconds` (0: stops at once; at most 7 days, else InvalidRequest). A secret still in
    an earlier grace period stops now. The endpoint returned carries the new secret: show it, it
    is not shown again."""
    if not 0 <= grace_seconds <= MAX_ROTATION_GRACE_S:
        raise InvalidRequest(
            f"The grace period is 0 to {MAX_ROTATION_GRACE_S} seconds.", code="invalid_grace"
        )
    endpoint = await get_endpoint(conn, account_id, endpoint_id)
    now = clock.now()
    keep_previous = grace_seconds > 0
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(
            secret=new_secret(),
            previous_secret=endpoint.secret if keep_previous else None,
            previous_secret_expires_at=now + grace_seconds if keep_previous else None,
            updated_at=now,
        )
    )
    return await get_endpoint(conn, account_id, endpoint_id)


async def record_success(conn: AsyncConnection, endpoint_id: str) -> None:
    """A delivery went through: the endpoint is not failing (any more)."""
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.failing_since.isnot(None))
        .values(failing_since=None)
    )


async def record_failure(
    conn: AsyncConnection, endpoint_id: str, now: int, *, disable_after_s: int
) -> bool:
    """A delivery attempt failed: start the failure streak, or, when the streak has lasted
    `disable_after_s`, disable the endpoint ("failing"). True when this disabled it."""
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.failing_since.is_(None))
        .values(failing_since=now)
    )
    disabled = await conn.execute(
        update(webhook_endpoints)
        .where(
            webhook_endpoints.c.id == endpoint_id,
            webhook_endpoints.c.enabled.is_(True),
            webhook_endpoints.c.failing_since <= now - disable_after_s,
        )
        .values(enabled=False, disabled_reason=FAILING, updated_at=now)
    )
    return disabled.rowcount == 1


async def disable(conn: AsyncConnection, endpoint_id: str, reason: str) -> None:
    """Disable an enabled endpoint for `reason` (a receiver's 410 Gone: GONE)."""
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, updated_at=clock.now())
    )


def render(endpoint: Endpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """The endpoint as the API shows it; the secret only when it was just made (`with_secret`)."""
    shown: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "previous_secret_expires_at": (
            endpoint.previous_secret_expires_at if endpoint.previous_secret else None
        ),
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }
    if with_secret:
        shown["secret"] = endpoint.secret
    return shown


def _checked_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidRequest(
            f"Unknown event type {unknown[0]!r}; the types are {', '.join(EVENT_TYPES)}.",
            code="invalid_event_type",
        )
    if not events:
        raise InvalidRequest(
            "Subscribe the endpoint to at least one event type.", code="invalid_event_type"
        )
    return [t for t in EVENT_TYPES if t in events]


def _checked_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidRequest(
            f"A description is at most {MAX_DESCRIPTION} characters long.",
            code="invalid_description",
        )
    return description


def _not_deleted() -> ColumnElement[bool]:
    return webhook_endpoints.c.disabled_reason.is_distinct_from(DELETED)


def _endpoint(row: Row[Any]) -> Endpoint:
    return Endpoint(
        row.id, row.account_id, row.url, row.description, list(row.events), row.enabled,
        row.disabled_reason, row.secret, row.previous_secret, row.previous_secret_expires_at,
        row.failing_since, row.created_at, row.updated_at,
    )  # fmt: skip
