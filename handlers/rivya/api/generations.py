"""`generations` tag: submit, read, list, cancel."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from rivya import idempotency
from rivya.api import answer_response, header, render, runtime
from rivya.generation import tasks
from rivya.web.problems import domain_problem

MAX_WAIT_S = 60
CANCEL_WAIT_S = 5.0
_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)(?:$|[,;\s])", re.IGNORECASE)


def requested_wait(prefer: str | None) -> int:
    """Seconds asked for by `Prefer: wait=N`, capped at 60; 0 without one."""
    match = _WAIT.search(prefer or "")
    return min(int(match.group(1)), MAX_WAIT_S) if match else 0


async def create_generation(user: str, body: dict[str, Any]) -> Response:
    """POST /generations"""
    rt = runtime()

    async def create(conn: AsyncConnection) -> tuple[int, dict[str, Any]]:
        task = await tasks.submit(conn, rt.catalog, user, body["model"], body["input"])
        return 202, await tasks.render(conn, task)

    print_ = idempotency.fingerprint("POST", "/generations", body)
    key = header("Idempotency-Key")
    answer = await idempotency.run_once(rt.db, user, key, print_, create, domain_problem)
    if answer.replayed:
        return answer_response(answer)
    rt.jobs_added.set()
    wait = requested_wait(header("Prefer"))
    if not wait:
        return answer_response(answer)
    ended = await _await_end(answer.body["id"], user, wait)
    response = render(ended, 200 if ended["status"] in tasks.FINAL else 202)
    response.headers["Preference-Applied"] = f"wait={wait}"
    return response


async def _await_end(task_id: str, user: str, wait_s: float) -> dict[str, Any]:
    """The task once it ended, or as it is after `wait_s` seconds. Wakes on this process's
    worker at once, and checks the database every so often for workers elsewhere."""
    rt = runtime()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    pause = 0.05
    while True:
        async with rt.db.read() as conn:
            task = await tasks.get_task(conn, user, task_id)
            if task.final or loop.time() >= deadline:
                return await tasks.render(conn, task)
        await rt.wait_for_task(task_id, min(pause, deadline - loop.time()))
        pause = min(pause * 2, 1.0)


async def list_generations(
    user: str,
    limit: int = 20,
    after: str | None = None,
    status: str | None = None,
    model: str | None = None,
) -> Response:
    """GET /generations"""
    async with runtime().db.read() as conn:
        found, has_more = await tasks.list_tasks(
            conn, user, limit=limit, after=after, status=status, model=model
        )
        data = await tasks.render_many(conn, found)
    return render({"object": "list", "data": data, "has_more": has_more})


async def get_generation(user: str, task_id: str) -> Response:
    """GET /generations/{taskId}"""
    async with runtime().db.read() as conn:
        task = await tasks.get_task(conn, user, task_id)
        return render(await tasks.render(conn, task))


async def cancel_generation(user: str, task_id: str) -> Response:
    """POST /generations/{taskId}/cancel"""
    rt = runtime()
    async with rt.db.write() as conn:
        task = await tasks.request_cancel(conn, user, task_id)
        answer = await tasks.render(conn, task)
    if not task.final:
        answer = await _await_end(task_id, user, CANCEL_WAIT_S)
        tasks.check_cancel_outcome(task_id, answer["status"])
    return render(answer)
