"""Migrations run on both databases, are idempotent, and go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from rivya.store.db import Database
from rivya.store.migrate import alembic_config, current_revision, upgrade
from rivya.store.tables import metadata

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_is_at_head_and_idempotent(database: Database) -> None:
    assert await current_revision(database) == HEAD
    await upgrade(database)
    assert await current_revision(database) == HEAD

    async with database.read() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(metadata.tables) <= tables


async def test_downgrade_to_base_and_back(database: Database) -> None:
    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "base")

    async with database.write() as conn:
        await conn.run_sync(downgrade)
    assert await current_revision(database) is None
    await upgrade(database)
    assert await current_revision(database) == HEAD
