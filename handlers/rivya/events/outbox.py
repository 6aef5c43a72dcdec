"""The outbox. An event row is written in the same transaction as the change it reports, so an
event exists if and only if the change committed; delivery (webhooks) reads from here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.ids import new_id
from rivya.store.tables import events


async def emit(
    conn: AsyncConnection, account_id: str, type_: str, subject_id: str, payload: dict[str, Any]
) -> str:
    """Record an event in the caller's transaction; returns its id (`evt_…`)."""
    event_id = new_id("evt")
    await conn.execute(
        events.insert().values(
            id=event_id,
            account_id=account_id,
            type=type_,
            subject_id=subject_id,
            payload=payload,
            created_at=clock.now(),
        )
    )
    return event_id
