"""Generation tasks: submit, read, list, cancel, and the one way a task ends (`finish`).

A task is created queued, together with its credit hold and its job, in one transaction: there
is never a task without its reservation or a reservation without its task. It ends exactly once:
`finish` moves it from queued or running to a final status by compare-and-set, and in the same
transaction settles the hold (capture on success, release otherwise), writes the outbox event
and marks its job done. A second `finish` (a retried worker, a racing cancel) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rivya import clock
from rivya.billing import holds
from rivya.billing.pricing import generation_price
from rivya.catalog.catalog import Catalog, CatalogModel
from rivya.errors import Conflict, InvalidRequest, NotFound
from rivya.events.outbox import emit
from rivya.files.service import StoredFile, content_url, get_file, task_outputs
from rivya.ids import new_id
from rivya.jobs import queue
from rivya.store.tables import holds as holds_table
from rivya.store.tables import tasks
from rivya.webhooks.deliveries import fan_out

JOB_KIND = "generation"
QUEUED, RUNNING = "queued", "running"
SUCCEEDED, FAILED, CANCELED = "succeeded", "failed", "canceled"
FINAL = (SUCCEEDED, FAILED, CANCELED)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Task:
    """A task's row."""

    id: str
    account_id: str
    model: str
    kind: str
    status: str
    input: dict[str, Any]
    error_code: str | None
    error_message: str | None
    hold_id: str | None
    price: int
    created_at: int
    started_at: int | None
    finished_at: int | None
    cancel_requested_at: int | None

    @property
    def final(self) -> bool:
        """Whether the task has ended."""
        return self.status in FINAL


def checked_input(
    catalog: Catalog, model_id: str, given: Any
) -> tuple[CatalogModel, dict[str, Any]]:
    """The model and the input with defaults, or InvalidRequest naming what is wrong."""
    model = catalog.get(model_id)
    if model is None:
        raise InvalidRequest(
            f"No model {model_id!r}; GET /api/v1/models lists them.", code="model_not_found"
        )
    if model.kind == "chat":
        raise InvalidRequest(
            f"{model_id} is a chat model: use POST /api/v1/chat/completions.",
            code="wrong_model_kind",
        )
    if not isinstance(given, dict):
        raise InvalidRequest("`input` must be an object.", code="invalid_input")
    full = model.with_defaults(given)
    errors = sorted(catalog.validator(model.id).iter_errors(full), key=_error_order)
    if errors:
        raise InvalidRequest(_describe(errors[0]), code="invalid_input")
    return model, full


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.path), str(list(error.path)))


def _describe(error: ValidationError) -> str:
    where = ".".join(["input", *map(str, error.absolute_path)])
    return f"{where}: {error.message}"


async def submit(
    conn: AsyncConnection,
    catalog: Catalog,
    account_id: str,
    model_id: str,
    given: Any,
) -> Task:
    """Create a queued task: check the input and its file references, reserve its price and
    enqueue its job, all in the caller's transaction."""
    model, full = checked_input(catalog, model_id, given)
    for field, kind in model.file_fields.items():
        if field in full:
            await _check_reference(conn, account_id, field, full[field], kind)
    task_id = new_id("task")
    price = generation_price(model, full)
    hold_id = None
    if price > 0:
        hold_id = (
            await holds.reserve(conn, account_id, price, kind=holds.GENERATION, reference=task_id)
        ).id
    now = clock.now()
    await conn.execute(
        tasks.insert().values(
            id=task_id,
            account_id=account_id,
            model=model.id,
            kind=model.kind,
            status=QUEUED,
            input=full,
            hold_id=hold_id,
            price=price,
            created_at=now,
        )
    )
    await queue.enqueue(conn, JOB_KIND, task_id, max_attempts=MAX_ATTEMPTS, group=account_id)
    return await get_task(conn, account_id, task_id)


async def _check_reference(
    conn: AsyncConnection, account_id: str, field: str, file_id: Any, kind: str
) -> StoredFile:
    try:
        record = await get_file(conn, account_id, str(file_id))
    except NotFound:
        raise InvalidRequest(
            f"input.{field}: no file {file_id} in this account; upload it with POST /api/v1/files.",
            code="invalid_file_reference",
        ) from None
    if record.kind != kind:
        raise InvalidRequest(
            f"input.{field}: {file_id} is {record.content_type}, not an {kind} file.",
            code="invalid_file_reference",
        )
    return record


async def get_task(conn: AsyncConnection, account_id: str | None, task_id: str) -> Task:
    """The task (of this account, when given), or NotFound."""
    query = select(tasks).where(tasks.c.id == task_id)
    if account_id is not None:
        query = query.where(tasks.c.account_id == account_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"No generation {task_id} has been found.")
    return _task(row)


async def list_tasks(
    conn: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    after: str | None = None,
    status: str | None = None,
    model: str | None = None,
) -> tuple[list[Task], bool]:
    """A page of the account's tasks, newest first, and whether more follow."""
    query = select(tasks).where(tasks.c.account_id == account_id)
    if after:
        query = query.where(tasks.c.id < after)
    if status:
        query = query.where(tasks.c.status == status)
    if model:
        query = query.where(tasks.c.model == model)
    rows = (await conn.execute(query.order_by(tasks.c.id.desc()).limit(limit + 1))).all()
    return [_task(r) for r in rows[:limit]], len(rows) > limit


async def request_cancel(conn: AsyncConnection, account_id: str, task_id: str) -> Task:
    """Cancel a task: a queued one ends now (refunded); a running one is flagged for its worker,
    which stops the provider and ends it; a finished one is a Conflict, and so is one that
    finished while this ran (see `check_cancel_outcome`)."""
    task = await get_task(conn, account_id, task_id)
    if task.final:
        raise _already(task_id, task.status)
    if task.status == QUEUED and await finish(conn, task_id, CANCELED):
        return await get_task(conn, account_id, task_id)
    # Guarded by the status: on PostgreSQL a completion may commit between the read above and
    # this statement, which then sees the ended row and changes nothing.
    await conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status.in_((QUEUED, RUNNING)))
        .values(cancel_requested_at=func.coalesce(tasks.c.cancel_requested_at, clock.now()))
    )
    task = await get_task(conn, account_id, task_id)
    check_cancel_outcome(task_id, task.status)
    return task


def check_cancel_outcome(task_id: str, status: str) -> None:
    """A cancel answers for a task that is canceled or still on its way there; Conflict when the
    task ended otherwise, as a completion (or a failure) that won the race with the cancel: the
    cancel did not take effect, whatever the order in which the two arrived."""
    if status in FINAL and status != CANCELED:
        raise _already(task_id, status)


def _already(task_id: str, status: str) -> Conflict:
    return Conflict(f"Generation {task_id} has already {status}.", code="generation_finished")


async def start(conn: AsyncConnection, task_id: str) -> None:
    """queued -> running (a retried job finds it running already and leaves it so)."""
    await conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == QUEUED)
        .values(status=RUNNING, started_at=clock.now())
    )


async def finish(
    conn: AsyncConnection,
    task_id: str,
    status: str,
    *,
    error: tuple[str, str] | None = None,
) -> bool:
    """End the task once: status, settlement, event and job, together. False if it had ended."""
    assert status in FINAL
    values: dict[str, Any] = {"status": status, "finished_at": clock.now()}
    if error is not None:
        values["error_code"], values["error_message"] = error
    ended = await conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status.in_((QUEUED, RUNNING)))
        .values(**values)
    )
    if ended.rowcount != 1:
        return False
    task = await get_task(conn, None, task_id)
    await queue.finish_ref(conn, JOB_KIND, task_id)
    # The event shows the settlement made below; settling comes last, so that the account's
    # wallet row stays locked only until this transaction commits.
    settled = (holds.CAPTURED, task.price) if status == SUCCEEDED else (holds.RELEASED, None)
    payload = (await render_many(conn, [task], holds_override={task.hold_id or "": settled}))[0]
    event_type = f"generation.{status}"
    event_id = await emit(conn, task.account_id, event_type, task_id, payload)
    await fan_out(conn, event_id, task.account_id, event_type)
    if task.hold_id is not None:
        if status == SUCCEEDED:
            await holds.capture(conn, task.hold_id)
        else:
            await holds.release(conn, task.hold_id)
    return True


async def render(conn: AsyncConnection, task: Task) -> dict[str, Any]:
    """The task as the API shows it."""
    return (await render_many(conn, [task]))[0]


async def render_many(
    conn: AsyncConnection,
    found: list[Task],
    *,
    holds_override: dict[str, tuple[str, int | None]] | None = None,
) -> list[dict[str, Any]]:
    """Tasks as the API shows them, with their outputs and credits (two queries in all).
    `holds_override` gives the settlement of holds about to be settled."""
    outputs = await task_outputs(conn, [t.id for t in found if t.status == SUCCEEDED])
    captured: dict[str, tuple[str, int | None]] = dict(holds_override or {})
    hold_ids = [t.hold_id for t in found if t.hold_id and t.hold_id not in captured]
    if hold_ids:
        rows = await conn.execute(
            select(holds_table.c.id, holds_table.c.status, holds_table.c.captured).where(
                holds_table.c.id.in_(hold_ids)
            )
        )
        captured.update({r.id: (r.status, r.captured) for r in rows})
    return [_public(t, outputs.get(t.id, []), captured.get(t.hold_id or "")) for t in found]


def _public(
    task: Task, outputs: list[StoredFile], hold: tuple[str, int | None] | None
) -> dict[str, Any]:
    charged = refunded = 0
    if hold is not None and hold[0] == holds.CAPTURED:
        charged = hold[1] or 0
        refunded = task.price - charged
    elif hold is not None and hold[0] == holds.RELEASED:
        refunded = task.price
    return {
        "id": task.id,
        "object": "generation",
        "model": task.model,
        "status": task.status,
        "input": task.input,
        "outputs": [
            {"file_id": f.id, "content_type": f.content_type, "url": content_url(f.id)}
            for f in outputs
        ],
        "error": (
            {"code": task.error_code, "message": task.error_message}
            if task.status == FAILED
            else None
        ),
        "credits": {"reserved": task.price, "charged": charged, "refunded": refunded},
        "cancel_requested": task.cancel_requested_at is not None,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
    }


def _task(row: Row[Any]) -> Task:
    return Task(
        row.id, row.account_id, row.model, row.kind, row.status, row.input, row.error_code,
        row.error_message, row.hold_id, row.price, row.created_at, row.started_at,
        row.finished_at, row.cancel_requested_at,
    )  # fmt: skip
