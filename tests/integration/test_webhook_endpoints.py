"""Webhook endpoint services on SQLite and PostgreSQL: create (secret shown once), list, get,
update, delete, rotate; validation; and one account never reaching another's endpoints."""

from __future__ import annotations

import asyncio
import base64

import pytest
from sqlalchemy import update

from rivya import clock
from rivya.errors import Conflict, InvalidRequest, NotFound
from rivya.net.ssrf import AllowList, Target
from rivya.store.db import Database
from rivya.store.tables import webhook_endpoints
from rivya.webhooks import endpoints
from rivya.webhooks.endpoints import Endpoint
from rivya.webhooks.ssrf import check_url
from tests.conftest import FrozenClock, make_tenant

ALLOW = AllowList.parse("127.0.0.1")
URL = "http://127.0.0.1:9/hooks"
ALL = ["generation.succeeded", "generation.failed", "generation.canceled"]
MAX_ENDPOINTS = 20


async def target(url: str = URL) -> Target:
    return await check_url(url, ALLOW)


async def create(db: Database, account_id: str) -> Endpoint:
    checked = await target()
    async with db.write() as conn:
        return await endpoints.create_endpoint(
            conn, account_id, target=checked, events=ALL, max_endpoints=MAX_ENDPOINTS
        )


async def get(db: Database, account_id: str, endpoint_id: str) -> Endpoint:
    async with db.read() as conn:
        return await endpoints.get_endpoint(conn, account_id, endpoint_id)


async def test_create_shows_the_secret_once(database: Database) -> None:
    tenant = await make_tenant(database)
    checked = await target()
    async with database.write() as conn:
        created = await endpoints.create_endpoint(
            conn,
            tenant.account_id,
            target=checked,
            events=["generation.failed", "generation.succeeded", "generation.failed"],
            max_endpoints=MAX_ENDPOINTS,
            description="production receiver",
        )
    assert created.secret.startswith("whsec_")
    assert len(base64.b64decode(created.secret.removeprefix("whsec_"))) == 24
    shown = endpoints.render(created, with_secret=True)
    assert shown["secret"] == created.secret
    assert shown["object"] == "webhook_endpoint" and shown["id"].startswith("whep_")
    # Known types, once each, in a fixed order.
    assert shown["events"] == ["generation.succeeded", "generation.failed"]
    assert shown["enabled"] is True and shown["disabled_reason"] is None
    assert shown["description"] == "production receiver"
    later = endpoints.render(await get(database, tenant.account_id, created.id))
    assert "secret" not in later and created.secret not in str(later)
    assert later == {k: v for k, v in shown.items() if k != "secret"}


@pytest.mark.parametrize(
    ("events", "description", "code"),
    [
        ([], None, "invalid_event_type"),
        (["generation.started"], None, "invalid_event_type"),
        (["generation.succeeded"], "x" * 501, "invalid_description"),
    ],
)
async def test_create_checks_events_and_description(
    database: Database, events: list[str], description: str | None, code: str
) -> None:
    tenant = await make_tenant(database)
    checked = await target()
    with pytest.raises(InvalidRequest) as caught:
        async with database.write() as conn:
            await endpoints.create_endpoint(
                conn,
                tenant.account_id,
                target=checked,
                events=events,
                max_endpoints=MAX_ENDPOINTS,
                description=description,
            )
    assert caught.value.code == code


async def test_the_url_stored_is_the_checked_one(database: Database) -> None:
    """What check_url normalised is stored, at creation and when the URL changes."""
    tenant = await make_tenant(database)
    checked = await target("HTTP://127.0.0.1:9/hooks?source=rivya")
    async with database.write() as conn:
        created = await endpoints.create_endpoint(
            conn, tenant.account_id, target=checked, events=ALL, max_endpoints=MAX_ENDPOINTS
        )
    assert created.url == "http://127.0.0.1:9/hooks?source=rivya"
    moved = await target("http://127.0.0.1:10/new")
    async with database.write() as conn:
        changed = await endpoints.update_endpoint(conn, tenant.account_id, created.id, target=moved)
    assert changed.url == "http://127.0.0.1:10/new" and changed.events == ALL


async def test_list_pages_newest_first(database: Database) -> None:
    tenant = await make_tenant(database)
    other = await make_tenant(database, name="Other")
    made = [await create(database, tenant.account_id) for _ in range(3)]
    await create(database, other.account_id)
    async with database.read() as conn:
        first, more = await endpoints.list_endpoints(conn, tenant.account_id, limit=2)
        assert [e.id for e in first] == [made[2].id, made[1].id] and more
        rest, more = await endpoints.list_endpoints(
            conn, tenant.account_id, limit=2, after=first[-1].id
        )
        assert [e.id for e in rest] == [made[0].id] and not more


async def test_update_changes_what_is_given(database: Database, frozen_clock: FrozenClock) -> None:
    tenant = await make_tenant(database)
    endpoint = await create(database, tenant.account_id)
    frozen_clock.advance(10)
    async with database.write() as conn:
        changed = await endpoints.update_endpoint(
            conn,
            tenant.account_id,
            endpoint.id,
            events=["generation.canceled"],
            description="new",
        )
    assert changed.url == URL
    assert changed.events == ["generation.canceled"] and changed.description == "new"
    assert changed.updated_at == endpoint.updated_at + 10 and changed.secret == endpoint.secret
    async with database.write() as conn:
        kept = await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id)
        assert kept.description == "new" and kept.events == ["generation.canceled"]
        cleared = await endpoints.update_endpoint(
            conn, tenant.account_id, endpoint.id, description=None
        )
        assert cleared.description is None
        with pytest.raises(InvalidRequest):
            await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id, events=[])


async def test_disabling_and_enabling_again(database: Database) -> None:
    """Enabling an endpoint that the system disabled clears the reason and the failure streak."""
    tenant = await make_tenant(database)
    endpoint = await create(database, tenant.account_id)
    async with database.write() as conn:
        off = await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id, enabled=False)
        assert not off.enabled and off.disabled_reason == endpoints.MANUAL
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(disabled_reason=endpoints.FAILING, failing_since=clock.now() - 86400 * 6)
        )
        on = await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id, enabled=True)
    assert on.enabled and on.disabled_reason is None and on.failing_since is None


async def test_delete_hides_the_endpoint_and_forgets_its_secrets(database: Database) -> None:
    tenant = await make_tenant(database)
    endpoint = await create(database, tenant.account_id)
    async with database.write() as conn:
        await endpoints.delete_endpoint(conn, tenant.account_id, endpoint.id)
    with pytest.raises(NotFound):
        await get(database, tenant.account_id, endpoint.id)
    async with database.write() as conn:
        with pytest.raises(NotFound):
            await endpoints.delete_endpoint(conn, tenant.account_id, endpoint.id)
        with pytest.raises(NotFound):
            await endpoints.update_endpoint(conn, tenant.account_id, endpoint.id, enabled=True)
        listed, _ = await endpoints.list_endpoints(conn, tenant.account_id, limit=10)
        assert listed == []
        tombstone = await endpoints.load_endpoint(conn, endpoint.id)
    assert not tombstone.enabled and tombstone.disabled_reason == endpoints.DELETED
    assert tombstone.secret == "" and tombstone.previous_secret is None


async def test_rotation_keeps_the_previous_secret_for_the_grace_period(
    database: Database, frozen_clock: FrozenClock
) -> None:
    tenant = await make_tenant(database)
    endpoint = await create(database, tenant.account_id)
    async with database.write() as conn:
        rotated = await endpoints.rotate_secret(conn, tenant.account_id, endpoint.id)
    assert rotated.secret != endpoint.secret and rotated.previous_secret == endpoint.secret
    assert rotated.previous_secret_expires_at == frozen_clock.now + 24 * 3600
    assert endpoints.render(rotated)["previous_secret_expires_at"] == frozen_clock.now + 86400
    assert rotated.signing_secrets(frozen_clock.now) == [rotated.secret, endpoint.secret]
    assert rotated.signing_secrets(frozen_clock.now + 86400) == [rotated.secret]

    async with database.write() as conn:
        again = await endpoints.rotate_secret(conn, tenant.account_id, endpoint.id, grace_seconds=0)
        assert again.previous_secret is None
        assert again.signing_secrets(frozen_clock.now) == [again.secret]
        with pytest.raises(InvalidRequest):
            await endpoints.rotate_secret(
                conn, tenant.account_id, endpoint.id, grace_seconds=8 * 86400
            )


async def test_another_account_cannot_reach_an_endpoint(database: Database) -> None:
    owner = await make_tenant(database)
    intruder = await make_tenant(database, name="Intruder")
    endpoint = await create(database, owner.account_id)
    async with database.write() as conn:
        with pytest.raises(NotFound):
            await endpoints.get_endpoint(conn, intruder.account_id, endpoint.id)
        with pytest.raises(NotFound):
            await endpoints.update_endpoint(conn, intruder.account_id, endpoint.id, enabled=False)
        with pytest.raises(NotFound):
            await endpoints.delete_endpoint(conn, intruder.account_id, endpoint.id)
        with pytest.raises(NotFound):
            await endpoints.rotate_secret(conn, intruder.account_id, endpoint.id)
        listed, _ = await endpoints.list_endpoints(conn, intruder.account_id, limit=10)
        assert listed == []
    untouched = await get(database, owner.account_id, endpoint.id)
    assert untouched.enabled and untouched.secret == endpoint.secret


async def test_an_account_has_at_most_max_endpoints(database: Database) -> None:
    """Disabled endpoints count (they can be enabled again), deleted ones do not; another
    account has its own allowance."""
    tenant, other = await make_tenant(database), await make_tenant(database)
    made = [await create(database, tenant.account_id) for _ in range(MAX_ENDPOINTS)]
    async with database.write() as conn:
        await endpoints.update_endpoint(conn, tenant.account_id, made[0].id, enabled=False)
    with pytest.raises(Conflict) as caught:
        await create(database, tenant.account_id)
    assert caught.value.code == "webhook_endpoint_limit_reached"
    assert str(MAX_ENDPOINTS) in caught.value.message
    await create(database, other.account_id)
    async with database.write() as conn:
        await endpoints.delete_endpoint(conn, tenant.account_id, made[1].id)
    await create(database, tenant.account_id)
    async with database.read() as conn:
        listed, _ = await endpoints.list_endpoints(conn, tenant.account_id, limit=100)
    assert len(listed) == MAX_ENDPOINTS


async def test_concurrent_creations_do_not_pass_the_cap_together(database: Database) -> None:
    """Ten creations at once with room for three: three succeed, the others are refused (the
    count and the insert of one creation are not interleaved with another's)."""
    tenant = await make_tenant(database)
    for _ in range(MAX_ENDPOINTS - 3):
        await create(database, tenant.account_id)
    checked = await target()

    async def one() -> Endpoint:
        async with database.write() as conn:
            made = await endpoints.create_endpoint(
                conn, tenant.account_id, target=checked, events=ALL, max_endpoints=MAX_ENDPOINTS
            )
            # Hold the transaction open a moment, so that the others run beside it.
            await asyncio.sleep(0.05)
            return made

    outcomes = await asyncio.gather(*(one() for _ in range(10)), return_exceptions=True)
    assert sum(isinstance(o, Endpoint) for o in outcomes) == 3
    assert all(isinstance(o, (Endpoint, Conflict)) for o in outcomes), outcomes
    async with database.read() as conn:
        listed, _ = await endpoints.list_endpoints(conn, tenant.account_id, limit=100)
    assert len(listed) == MAX_ENDPOINTS
