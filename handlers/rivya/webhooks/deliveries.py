"""Webhook deliveries: one per (event, endpoint), each carried out by a queue job of kind
"webhook", so that deliveries outlive restarts and any worker can make the next attempt.

`fan_out` creates the deliveries of a new event in the transaction that emits it. The worker's
`WebhookDeliverer` makes one attempt per claim: it checks the URL again (DNS may have changed
since registration), signs the event and sends it, then in one transaction logs the attempt and
either ends the delivery or puts its job back in the queue for the next step of the retry
schedule (Standard Webhooks: 2xx is success; a 410 disables the endpoint; anything else, a 3xx
included, is retried, no sooner than a Retry-After asks).

The message id (`webhook-id`) is the delivery's id: the same for each attempt, so receivers can
drop duplicates; a resend makes a new delivery, hence a new id, and is processed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.errors import Conflict, InvalidRequest, NotFound
from rivya.ids import new_id
from rivya.jobs import queue
from rivya.store.tables import events, webhook_attempts, webhook_deliveries
from rivya.webhooks import endpoints
from rivya.webhooks.client import SendResult, send
from rivya.webhooks.config import WebhookConfig
from rivya.webhooks.endpoints import Endpoint
from rivya.webhooks.signing import signature_headers
from rivya.webhooks.ssrf import WebhookURLRejected, check_url

if TYPE_CHECKING:
    from rivya.jobs.worker import Lease
    from rivya.runtime import Runtime

log = logging.getLogger(__name__)

JOB_KIND = "webhook"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Claims in a row that end without an outcome (the worker died mid-attempt) before the delivery
# is given up: attempts that do end give their claim back (queue.reschedule).
MAX_CLAIMS = 3
JITTER = 0.1  # each wait is the schedule's, give or take 10%, so retries do not come in herds
GONE_STATUS = 410


async def fan_out(
    conn: AsyncConnection, event_id: str, account_id: str, event_type: str
) -> list[str]:
    """In the caller's transaction (the one that emitted the event): a delivery, and its job, for
    each enabled endpoint of the account subscribed to `event_type`. Returns their ids. After the
    commit, `runtime.jobs_added.set()` wakes this process's worker (others poll)."""
    targets = await endpoints.subscribed(conn, account_id, event_type)
    return [await _new_delivery(conn, event_id, account_id, e.id) for e in targets]


async def resend(
    conn: AsyncConnection, account_id: str, event_id: str, endpoint_id: str | None = None
) -> dict[str, Any]:
    """Deliver the account's event again, as new deliveries: to `endpoint_id`, or to every enabled
    endpoint subscribed to its type. Returns the event with all its deliveries. NotFound for an
    event or endpoint that is not the account's; Conflict when the endpoint is disabled or none
    is subscribed; InvalidRequest when the endpoint does not subscribe to the event's type.
    Wake the worker after the commit, as after fan_out."""
    event = await _event_row(conn, account_id, event_id)
    if endpoint_id is None:
        targets = await endpoints.subscribed(conn, account_id, event.type)
        if not targets:
            raise Conflict(
                f"No enabled webhook endpoint subscribes to {event.type}.",
                code="no_webhook_endpoints",
            )
    else:
        endpoint = await endpoints.get_endpoint(conn, account_id, endpoint_id)
        if not endpoint.enabled:
            raise Conflict(
                f"Webhook endpoint {endpoint_id} is disabled; enable it first.",
                code="webhook_endpoint_disabled",
            )
        if event.type not in endpoint.events:
            raise InvalidRequest(
                f"Webhook endpoint {endpoint_id} does not subscribe to {event.type}.",
                code="webhook_endpoint_not_subscribed",
            )
        targets = [endpoint]
    for target in targets:
        await _new_delivery(conn, event.id, account_id, target.id)
    return (await _render_events(conn, [event]))[0]


async def list_events(
    conn: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    after: str | None = None,
    type_: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of the account's events (of one type, if given), newest first, each with its
    deliveries and their attempts; and whether more follow."""
    query = select(events).where(events.c.account_id == account_id)
    if after:
        query = query.where(events.c.id < after)
    if type_:
        query = query.where(events.c.type == type_)
    rows = (await conn.execute(query.order_by(events.c.id.desc()).limit(limit + 1))).all()
    return await _render_events(conn, rows[:limit]), len(rows) > limit


async def get_event(conn: AsyncConnection, account_id: str, event_id: str) -> dict[str, Any]:
    """The account's event with its deliveries and their attempts, or NotFound."""
    return (await _render_events(conn, [await _event_row(conn, account_id, event_id)]))[0]


def _event_body(event: Row[Any]) -> bytes:
    """The JSON a webhook carries for an event row: its id, type, time and payload."""
    message = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at,
        "data": event.payload,
    }
    return json.dumps(message, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class _Attempt:
    """What one claim of a delivery's job is to send."""

    delivery_id: str
    number: int  # from 1
    endpoint: Endpoint
    body: bytes


class _LeaseLost(Exception):
    """Another worker took the job over while this one worked; its outcome is dropped."""


class WebhookDeliverer:
    """The worker's handler for `webhook` jobs: one attempt at the delivery per claim."""

    def __init__(self, runtime: Runtime) -> None:
        self.db = runtime.db
        self.config = WebhookConfig.from_settings(runtime.settings)

    async def __call__(self, lease: Lease) -> None:
        """Make the delivery's next attempt and record its outcome."""
        async with self.db.write() as conn:
            attempt = await self._prepare(conn, lease)
        if attempt is None:
            return
        try:
            result = await _renewing(lease, self._send(attempt))
            async with self.db.write() as conn:
                await self._record(conn, lease, attempt, result)
        except _LeaseLost:
            log.warning("lost the lease of webhook delivery %s to another worker", lease.job.ref)

    async def _prepare(self, conn: AsyncConnection, lease: Lease) -> _Attempt | None:
        """The attempt to make, or None when there is nothing to send (the job is ended)."""
        delivery = (
            await conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.id == lease.job.ref)
            )
        ).first()
        if delivery is None or delivery.status != PENDING:
            await queue.finish(conn, lease.job.id)
            return None
        endpoint = await endpoints.load_endpoint(conn, delivery.endpoint_id)
        if lease.job.exhausted or not endpoint.enabled:
            if lease.job.exhausted:
                log.error(
                    "webhook delivery %s: %d claims ended without an outcome; giving up",
                    delivery.id,
                    lease.job.max_attempts,
                )
            await _set_status(conn, delivery.id, FAILED, delivery.attempts, None)
            await queue.finish(conn, lease.job.id)
            return None
        event = (await conn.execute(select(events).where(events.c.id == delivery.event_id))).one()
        return _Attempt(delivery.id, delivery.attempts + 1, endpoint, _event_body(event))

    async def _send(self, attempt: _Attempt) -> SendResult:
        try:
            target = await check_url(attempt.endpoint.url, self.config.allow)
        except WebhookURLRejected as exc:
            # Counted as a failed attempt and retried: the host's DNS may be put right.
            return SendResult(None, f"{exc.code}: {exc.message}"[:200], 0)
        now = clock.now()
        secrets = attempt.endpoint.signing_secrets(now)
        headers = signature_headers(attempt.delivery_id, now, attempt.body, secrets)
        return await send(target, attempt.body, headers, timeout_s=self.config.timeout_s)

    async def _record(
        self, conn: AsyncConnection, lease: Lease, attempt: _Attempt, result: SendResult
    ) -> None:
        """Log the attempt and move the delivery, its job and its endpoint on, together."""
        now = clock.now()
        endpoint_id = attempt.endpoint.id
        status, delay = FAILED, None
        if result.succeeded:
            status = DELIVERED
            await endpoints.record_success(conn, endpoint_id)
        elif result.status_code == GONE_STATUS:
            await endpoints.disable(conn, endpoint_id, endpoints.GONE)
        else:
            disabled = await endpoints.record_failure(
                conn, endpoint_id, now, disable_after_s=self.config.failing_disable_s
            )
            if not disabled:
                schedule = self.config.retry_schedule
                delay = retry_delay(schedule, attempt.number, result.retry_after_s)
            if delay is not None:
                status = PENDING
        if delay is None:
            kept = await queue.finish(conn, lease.job.id, lease.owner)
        else:
            why = result.error or f"HTTP {result.status_code}"
            kept = await queue.reschedule(conn, lease.job.id, lease.owner, int(delay * 1000), why)
        if not kept:
            raise _LeaseLost
        next_at = None if delay is None else now + math.ceil(delay)
        await _set_status(conn, attempt.delivery_id, status, attempt.number, next_at)
        await conn.execute(
            webhook_attempts.insert().values(
                delivery_id=attempt.delivery_id,
                attempted_at=now,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
                next_retry_at=next_at,
            )
        )


def retry_delay(
    schedule: Sequence[float], number: int, retry_after_s: float | None
) -> float | None:
    """Seconds to wait after failed attempt `number` (from 1), or None when it was the last: the
    schedule's next step, give or take JITTER, or the receiver's Retry-After when that is later
    (up to the schedule's longest step, so that a header cannot park a delivery)."""
    if number > len(schedule):
        return None
    delay = schedule[number - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(retry_after_s, max(schedule))
    return delay


async def _renewing(lease: Lease, sending: Awaitable[SendResult]) -> SendResult:
    """Await the attempt while renewing the lease, so a slow receiver does not let another
    worker take the job over; _LeaseLost (the attempt abandoned) if one did."""
    task = asyncio.ensure_future(sending)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=lease.heartbeat_s)
            if done:
                return task.result()
            if not await lease.renew():
                raise _LeaseLost
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _new_delivery(
    conn: AsyncConnection, event_id: str, account_id: str, endpoint_id: str
) -> str:
    delivery_id = new_id("msg")
    await conn.execute(
        webhook_deliveries.insert().values(
            id=delivery_id,
            event_id=event_id,
            endpoint_id=endpoint_id,
            account_id=account_id,
            status=PENDING,
            attempts=0,
            created_at=clock.now(),
        )
    )
    await queue.enqueue(conn, JOB_KIND, delivery_id, max_attempts=MAX_CLAIMS, group=account_id)
    return delivery_id


async def _set_status(
    conn: AsyncConnection, delivery_id: str, status: str, attempts: int, next_at: int | None
) -> None:
    await conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(status=status, attempts=attempts, next_attempt_at=next_at)
    )


async def _event_row(conn: AsyncConnection, account_id: str, event_id: str) -> Row[Any]:
    row = (
        await conn.execute(
            select(events).where(events.c.id == event_id, events.c.account_id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No event {event_id} has been found.")
    return row


async def _render_events(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Events as the API shows them, with deliveries and attempts (two more queries in all)."""
    deliveries: dict[str, list[Row[Any]]] = {r.id: [] for r in rows}
    attempts: dict[str, list[dict[str, Any]]] = {}
    if rows:
        found = await conn.execute(
            select(webhook_deliveries)
            .where(webhook_deliveries.c.event_id.in_(list(deliveries)))
            .order_by(webhook_deliveries.c.id)
        )
        for delivery in found:
            deliveries[delivery.event_id].append(delivery)
            attempts[delivery.id] = []
    if attempts:
        found = await conn.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(list(attempts)))
            .order_by(webhook_attempts.c.id)
        )
        for a in found:
            attempts[a.delivery_id].append(
                {
                    "attempted_at": a.attempted_at,
                    "status_code": a.status_code,
                    "error": a.error,
                    "duration_ms": a.duration_ms,
                    "next_retry_at": a.next_retry_at,
                }
            )
    return [
        {
            "id": r.id,
            "object": "event",
            "type": r.type,
            "created_at": r.created_at,
            "data": r.payload,
            "deliveries": [
                {
                    "id": d.id,
                    "object": "webhook_delivery",
                    "endpoint_id": d.endpoint_id,
                    "status": d.status,
                    "next_attempt_at": d.next_attempt_at,
                    "created_at": d.created_at,
                    "attempts": attempts[d.id],
                }
                for d in deliveries[r.id]
            ],
        }
        for r in rows
    ]
