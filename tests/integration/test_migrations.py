"""Migrations run on both databases, are idempotent, and go down and up again."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from rivya.events.outbox import emit
from rivya.store.db import Database
from rivya.store.migrate import alembic_config, current_revision, upgrade
from rivya.store.tables import holds, jobs, metadata
from rivya.webhooks import endpoints
from rivya.webhooks.deliveries import fan_out
from rivya.webhooks.ssrf import AllowList, check_url
from tests.conftest import make_tenant

SUCCEEDED = "generation.succeeded"
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


async def test_webhook_jobs_queued_before_job_groups_get_their_account(
    database: Database,
) -> None:
    """Deliveries waiting in the queue when 0005 runs are capped per account like new ones."""
    tenant = await make_tenant(database)
    target = await check_url("http://127.0.0.1:9/hooks", AllowList.parse("127.0.0.1"))
    async with database.write() as conn:
        await endpoints.create_endpoint(
            conn, tenant.account_id, target=target, events=[SUCCEEDED], max_endpoints=20
        )
        event_id = await emit(conn, tenant.account_id, SUCCEEDED, "task_1", {})
        await fan_out(conn, event_id, tenant.account_id, SUCCEEDED)

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0004")

    async with database.write() as conn:
        await conn.run_sync(downgrade)
    await upgrade(database)
    async with database.read() as conn:
        groups = (await conn.execute(select(jobs.c.group_key))).scalars().all()
    assert groups == [tenant.account_id]


async def test_holds_made_before_hold_kinds_are_told_apart_by_their_reference(
    database: Database,
) -> None:
    """0006 gives the holds it finds their kind: a chat turn's by its completion id."""

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0005")

    tenant = await make_tenant(database)
    async with database.write() as conn:
        await conn.run_sync(downgrade)
    async with database.write() as conn:
        for hold_id, reference in (("hold_a", "chatcmpl-x"), ("hold_b", "task_y")):
            await conn.execute(
                text(
                    "INSERT INTO holds (id, account_id, amount, status, reference, created_at)"
                    " VALUES (:id, :account, 5, 'pending', :reference, 0)"
                ),
                {"id": hold_id, "account": tenant.account_id, "reference": reference},
            )
    await upgrade(database)
    async with database.read() as conn:
        kinds = dict((await conn.execute(select(holds.c.id, holds.c.kind))).all())
    assert kinds == {"hold_a": "chat", "hold_b": "generation"}


async def test_the_migrations_make_the_tables_the_code_declares(database: Database) -> None:
    """What the migrations built is what rivya.store.tables declares: columns, types,
    nullability, indexes, keys (Alembic's autogenerate comparison finds nothing to change)."""

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        found: list[Any] = compare_metadata(context, metadata)
        return found

    async with database.read() as conn:
        found = await conn.run_sync(differences)
    assert found == []
