"""Runs one generation job: calls the model's provider, watches for cancellation and for a lost
lease while it works, checks and stores the outputs, and ends the task
(rivya.generation.tasks.finish).

Outputs are inspected as uploads are (`rivya.files.service.inspect_output`): typed from their
bytes, of the model's kind, within the size and pixel limits. One that fails is the model's
fault: the task fails, refunded, with a message that says nothing of the upstream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from rivya.files.service import (
    OUTPUT_PURPOSE,
    get_file,
    insert_file,
    inspect_output,
    new_record,
    save_bytes,
)
from rivya.files.sniff import FileRejected, Sniffed
from rivya.files.storage import Storage
from rivya.generation import tasks
from rivya.generation.tasks import CANCELED, FAILED, SUCCEEDED, Task
from rivya.jobs import queue
from rivya.providers.base import GenerationRequest, Output, ProviderError, Reference
from rivya.providers.http import unusable

if TYPE_CHECKING:
    from rivya.jobs.worker import Lease
    from rivya.runtime import Runtime

log = logging.getLogger(__name__)
CANCEL_CHECK_S = 0.5
GENERIC_FAILURE = ("generation_failed", "The model could not complete this generation.")


class _Superseded(Exception):
    """The task ended elsewhere (a cancel, another worker) while this one worked."""


class GenerationRunner:
    """The worker's handler for `generation` jobs."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, lease: Lease) -> None:
        """Run the job's task to its end."""
        db = self.runtime.db
        async with db.write() as conn:
            task = await tasks.get_task(conn, None, lease.job.ref)
            if task.final:
                await queue.finish(conn, lease.job.id)
                return
            if lease.job.exhausted:
                attempts = lease.job.max_attempts
                message = f"The generation did not complete in {attempts} attempts."
                await tasks.finish(conn, task.id, FAILED, error=("generation_failed", message))
            elif task.cancel_requested_at is not None:
                await tasks.finish(conn, task.id, CANCELED)
            else:
                await tasks.start(conn, task.id)
        if lease.job.exhausted or task.cancel_requested_at is not None:
            self.runtime.task_finished(task.id)
            return
        try:
            outputs = await self._generate(task, lease)
            checked = None if outputs is None else await self._inspect(task, outputs)
        except ProviderError as exc:
            log.warning("generation %s failed: %s", task.id, exc)
            await self._end(task.id, FAILED, (exc.code, exc.public_message))
            return
        except _Superseded:
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("generation %s failed unexpectedly", task.id)
            await self._end(task.id, FAILED, GENERIC_FAILURE)
            return
        if checked is None:
            await self._end(task.id, CANCELED, None)
            return
        await self._succeed(task, checked)

    async def _generate(self, task: Task, lease: Lease) -> list[Output] | None:
        """The provider's outputs, or None when the user canceled meanwhile."""
        model = self.runtime.catalog.get(task.model)
        if model is None:
            raise ProviderError(f"model {task.model} left the catalog", retryable=False)
        request = GenerationRequest(
            task_id=task.id,
            model_id=model.id,
            kind=model.kind,
            input=task.input,
            options=model.provider.options,
            references=await self._references(task),
        )
        provider = self.runtime.provider_for(model)
        work = asyncio.create_task(provider.generate(request))
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + lease.heartbeat_s
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=CANCEL_CHECK_S)
                if done:
                    return work.result()
                if await self._cancel_requested(task.id):
                    await _stop(work)
                    return None
                if loop.time() >= next_heartbeat:
                    if not await lease.renew():
                        log.warning("lost the lease of %s; another worker has it", task.id)
                        await _stop(work)
                        raise _Superseded
                    next_heartbeat = loop.time() + lease.heartbeat_s
        finally:
            if not work.done():
                await _stop(work)

    async def _references(self, task: Task) -> dict[str, Reference]:
        model = self.runtime.catalog.get(task.model)
        found: dict[str, Reference] = {}
        if model is None:
            return found
        for field in model.file_fields:
            file_id = task.input.get(field)
            if not file_id:
                continue
            async with self.runtime.db.read() as conn:
                record = await get_file(conn, task.account_id, file_id)
            try:
                data = await self.runtime.storage.read(record.storage_key)
            except KeyError:
                raise ProviderError(
                    f"reference {file_id} of {task.id} is gone from storage",
                    retryable=False,
                    code="invalid_reference",
                    public_message=f"The file {file_id} referenced by input.{field} is gone.",
                ) from None
            found[field] = Reference(record.id, record.content_type, data)
        return found

    async def _inspect(self, task: Task, outputs: list[Output]) -> list[tuple[bytes, Sniffed]]:
        """Each output with its sniffed type; an `unusable` ProviderError for the first that
        fails inspection."""
        settings = self.runtime.settings
        checked = []
        for index, output in enumerate(outputs):
            try:
                sniffed = await inspect_output(
                    output.data,
                    task.kind,
                    max_bytes=settings.max_output_bytes,
                    max_pixels=settings.max_image_pixels,
                )
            except FileRejected as exc:
                raise unusable(
                    f"output {index} of {task.id} ({task.model}) refused: {exc.code}: {exc}"
                ) from None
            checked.append((output.data, sniffed))
        return checked

    async def _cancel_requested(self, task_id: str) -> bool:
        async with self.runtime.db.read() as conn:
            task = await tasks.get_task(conn, None, task_id)
        return task.cancel_requested_at is not None or task.final

    async def _succeed(self, task: Task, outputs: list[tuple[bytes, Sniffed]]) -> None:
        storage = self.runtime.storage
        stored = []
        try:
            for data, sniffed in outputs:
                file_id, key, sha256 = await save_bytes(storage, data, sniffed)
                stored.append((file_id, key, sha256, data, sniffed))
            async with self.runtime.db.write() as conn:
                for position, (file_id, key, sha256, data, sniffed) in enumerate(stored):
                    record = new_record(
                        file_id=file_id,
                        account_id=task.account_id,
                        filename=f"{task.id}-{position}.{sniffed.extension}",
                        content_type=sniffed.content_type,
                        size=len(data),
                        sha256=sha256,
                        purpose=OUTPUT_PURPOSE,
                        storage_key=key,
                        task_id=task.id,
                    )
                    await insert_file(conn, record, position)
                if not await tasks.finish(conn, task.id, SUCCEEDED):
                    raise _Superseded
        except _Superseded:
            await _discard(storage, [key for _, key, _, _, _ in stored])
            return
        except BaseException:
            await _discard(storage, [key for _, key, _, _, _ in stored])
            raise
        self.runtime.task_finished(task.id)

    async def _end(self, task_id: str, status: str, error: tuple[str, str] | None) -> None:
        async with self.runtime.db.write() as conn:
            await tasks.finish(conn, task_id, status, error=error)
        self.runtime.task_finished(task_id)


async def _discard(storage: Storage, keys: list[str]) -> None:
    """Delete outputs that no task row will point at."""
    for key in keys:
        with contextlib.suppress(Exception):
            await storage.delete(key)


async def _stop(work: asyncio.Task[list[Output]]) -> None:
    """Cancel the provider call and wait for it to clean up (cancel upstream work)."""
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await work
