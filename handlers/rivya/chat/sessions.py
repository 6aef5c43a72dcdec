"""Chat sessions and their stored messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import NotFound
from rivya.ids import new_id
from rivya.store.tables import chat_messages, chat_sessions

# The fields of an OpenAI message that a session keeps.
MESSAGE_FIELDS = ("role", "content", "name", "tool_calls", "tool_call_id")


@dataclass(frozen=True)
class Session:
    """A session's row."""

    id: str
    account_id: str
    model: str
    created_at: int
    updated_at: int

    def public(self) -> dict[str, Any]:
        """The session as the API shows it."""
        return {
            "id": self.id,
            "object": "chat.session",
            "model": self.model,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def new_session_id() -> str:
    """The id of a session still to be made."""
    return new_id("sess")


async def create_session(
    conn: AsyncConnection, account_id: str, model: str, *, session_id: str | None = None
) -> Session:
    """A new, empty session (with the id given, if any)."""
    now = clock.now()
    session = Session(session_id or new_session_id(), account_id, model, now, now)
    await conn.execute(
        chat_sessions.insert().values(
            id=session.id, account_id=account_id, model=model, created_at=now, updated_at=now
        )
    )
    return session


async def get_session(conn: AsyncConnection, account_id: str, session_id: str) -> Session:
    """The account's session, or NotFound."""
    row = (
        await conn.execute(
            select(chat_sessions).where(
                chat_sessions.c.id == session_id, chat_sessions.c.account_id == account_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"No chat session {session_id} has been found.")
    return _session(row)


async def list_sessions(
    conn: AsyncConnection, account_id: str, *, limit: int, after: str | None = None
) -> tuple[list[Session], bool]:
    """A page of the account's sessions, newest first, and whether more follow."""
    query = select(chat_sessions).where(chat_sessions.c.account_id == account_id)
    if after:
        query = query.where(chat_sessions.c.id < after)
    rows = (await conn.execute(query.order_by(chat_sessions.c.id.desc()).limit(limit + 1))).all()
    return [_session(r) for r in rows[:limit]], len(rows) > limit


async def messages(conn: AsyncConnection, session_id: str) -> list[dict[str, Any]]:
    """The session's messages in order, with ids, usage and credits."""
    rows = await conn.execute(
        select(chat_messages)
        .where(chat_messages.c.session_id == session_id)
        .order_by(chat_messages.c.position)
    )
    return [
        {
            "id": r.id,
            "role": r.role,
            "content": r.content,
            "name": r.name,
            "tool_calls": r.tool_calls,
            "tool_call_id": r.tool_call_id,
            "usage": r.usage,
            "credits": r.credits,
            "created_at": r.created_at,
        }
        for r in rows
    ]


def as_wire(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the model takes it (OpenAI's fields, none of ours)."""
    return {k: stored[k] for k in MESSAGE_FIELDS if stored.get(k) is not None}


async def append(
    conn: AsyncConnection,
    session_id: str,
    new: list[dict[str, Any]],
    *,
    usage: dict[str, int] | None,
    credits: int | None,
) -> None:
    """Add the turn's messages after the session's last; the last one (the assistant's) gets
    the usage and credits."""
    last = (
        await conn.execute(
            select(func.max(chat_messages.c.position)).where(
                chat_messages.c.session_id == session_id
            )
        )
    ).scalar()
    now = clock.now()
    start = -1 if last is None else int(last)
    for offset, message in enumerate(new, start=1):
        final = offset == len(new)
        await conn.execute(
            chat_messages.insert().values(
                id=new_id("msg"),
                session_id=session_id,
                position=start + offset,
                created_at=now,
                usage=usage if final else None,
                credits=credits if final else None,
                **{k: message.get(k) for k in MESSAGE_FIELDS},
            )
        )
    await conn.execute(
        update(chat_sessions).where(chat_sessions.c.id == session_id).values(updated_at=now)
    )


def _session(row: Row[Any]) -> Session:
    return Session(row.id, row.account_id, row.model, row.created_at, row.updated_at)
