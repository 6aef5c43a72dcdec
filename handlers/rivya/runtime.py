"""What a running process holds for its lifetime: settings, the database, the catalog, file
storage, model providers and background work (the key-cache watcher, the in-process worker)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rivya.auth.cache import KeyCache
from rivya.auth.rate_limits import RateLimiter
from rivya.catalog.catalog import Catalog, CatalogModel
from rivya.files.storage import Storage, storage_from_settings
from rivya.net.ssrf import AllowList
from rivya.providers.base import Provider
from rivya.providers.chat import chat_provider
from rivya.providers.chat_base import ChatProvider
from rivya.providers.http import UpstreamLimits
from rivya.providers.local import local_provider
from rivya.providers.upstream import upstream_provider
from rivya.settings import Settings
from rivya.store.db import Database
from rivya.web.routes import AllowIndex
from rivya_models.models import Model

SPEC_PATH = Path(__file__).parent / "openapi.yaml"
# libyaml's loader where PyYAML was built with it: 40 times faster on the contract.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
log = logging.getLogger(__name__)


@functools.cache
def _parsed_contract() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.load(SPEC_PATH.read_bytes(), Loader=YAML_LOADER)
    return parsed


def contract() -> dict[str, Any]:
    """The contract (spec/openapi.yaml) as data: parsed once per process, and a copy of its own
    for each caller, since connexion changes the specification it is given."""
    return copy.deepcopy(_parsed_contract())


def _is_local(provider_type: str) -> bool:
    """Whether a binding names a built-in local model (no upstream, no connections)."""
    return provider_type.startswith("local-")


@dataclass
class Runtime:
    """Built once per process; handlers reach it through the request scope."""

    settings: Settings
    db: Database
    catalog: Catalog
    storage: Storage
    spec_json: bytes = field(repr=False)
    key_cache: KeyCache = field(repr=False)
    rate_limiter: RateLimiter = field(repr=False)
    allow_index: AllowIndex = field(repr=False)
    upstream_limits: UpstreamLimits = field(repr=False)
    jobs_added: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _providers: dict[str, Provider] = field(default_factory=dict, repr=False)
    _chat_providers: dict[str, ChatProvider] = field(default_factory=dict, repr=False)
    _finish_waiters: dict[str, set[asyncio.Event]] = field(default_factory=dict, repr=False)
    _background: list[asyncio.Task[None]] = field(default_factory=list, repr=False)
    _stop_worker: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _in_flight: dict[asyncio.Task[Any], Callable[[], None]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def build(cls, settings: Settings, db: Database | None = None) -> Runtime:
        """Load and check everything that can be checked before the first request."""
        catalog = Catalog.load(settings.catalog)
        for model in catalog.models:
            # The catalog must render as the contract says; fail at start, not per request.
            Model.model_validate(model.public())
        spec = contract()
        return cls(
            settings=settings,
            db=db or Database(settings.resolved_database_url),
            catalog=catalog,
            storage=storage_from_settings(settings.data_dir, settings.storage_url),
            spec_json=json.dumps(spec, separators=(",", ":")).encode("utf-8"),
            key_cache=KeyCache(poll=settings.auth_cache_poll),
            rate_limiter=RateLimiter(settings),
            allow_index=AllowIndex(spec, spec["servers"][0]["url"]),
            upstream_limits=UpstreamLimits(
                max_bytes=settings.max_output_bytes,
                allow=AllowList.parse(settings.upstream_allow_hosts),
            ),
        )

    def provider_for(self, model: CatalogModel) -> Provider:
        """The provider serving `model`, built on first use and kept for the process."""
        provider = self._providers.get(model.id)
        if provider is None:
            binding = model.provider
            if _is_local(binding.type):
                provider = local_provider(binding.type, binding.options)
            else:
                provider = upstream_provider(
                    binding.type, self._options(binding.type, binding.options), self.upstream_limits
                )
            self._providers[model.id] = provider
        return provider

    def chat_provider_for(self, model: CatalogModel) -> ChatProvider:
        """The chat provider serving `model`, built on first use and kept for the process."""
        provider = self._chat_providers.get(model.id)
        if provider is None:
            binding = model.provider
            provider = chat_provider(binding.type, self._options(binding.type, binding.options))
            self._chat_providers[model.id] = provider
        return provider

    def _options(self, type: str, options: dict[str, Any]) -> dict[str, Any]:
        """A binding's options; an upstream's with the process's connection pool size, unless
        the binding sets its own."""
        if _is_local(type):
            return options
        return {"max_connections": self.settings.upstream_max_connections, **options}

    def task_finished(self, task_id: str) -> None:
        """Wake requests of this process that wait for the task (Prefer: wait)."""
        for event in self._finish_waiters.pop(task_id, ()):
            event.set()

    async def wait_for_task(self, task_id: str, seconds: float) -> None:
        """Return when this process's worker finishes the task, or after `seconds`
        (callers re-read the task either way; a standalone worker does not wake us)."""
        event = asyncio.Event()
        self._finish_waiters.setdefault(task_id, set()).add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            waiters = self._finish_waiters.get(task_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._finish_waiters[task_id]

    def track(self, task: asyncio.Task[Any], stop: Callable[[], None]) -> None:
        """Work that must end properly before the process does (a chat turn's settlement):
        `stop()` asks it to wind down, and Runtime.stop waits for it. Its failure is logged,
        since nobody else may be left to see it."""
        self._in_flight[task] = stop
        task.add_done_callback(self._tracked_done)

    def _tracked_done(self, task: asyncio.Task[Any]) -> None:
        self._in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.debug("in-flight work ended with %r", task.exception())

    async def _wind_down(self) -> None:
        """Stop the tracked work and wait for it (bounded: a stuck settlement is left to the
        maintenance sweep rather than holding up the shutdown)."""
        if not self._in_flight:
            return
        for stop in list(self._in_flight.values()):
            stop()
        _done, stuck = await asyncio.wait(
            set(self._in_flight), timeout=self.settings.shutdown_settle_seconds
        )
        if stuck:
            log.warning("%d settlements did not finish before shutdown", len(stuck))

    async def start(self, *, worker: bool = False) -> None:
        """Start the background work of a serving process."""
        self._background.append(asyncio.create_task(self.key_cache.watch(self.db)))
        if worker:
            self._background.append(asyncio.create_task(self.run_worker(self._stop_worker)))

    async def run_worker(self, stop: asyncio.Event, concurrency: int | None = None) -> None:
        """Run a job worker until `stop` is set: generations (`concurrency` at once, default the
        setting) and webhook deliveries in lanes of their own, so that slow receivers never
        hold a generation back, each lane capping one account's jobs across workers."""
        from rivya.generation.runner import GenerationRunner
        from rivya.generation.tasks import JOB_KIND
        from rivya.jobs.worker import Lane, Worker
        from rivya.webhooks import deliveries

        settings = self.settings
        lanes = [
            Lane(
                "generations",
                {JOB_KIND: GenerationRunner(self)},
                slots=concurrency or settings.worker_concurrency,
                per_group=settings.generation_max_running_per_account or None,
            ),
            Lane(
                "webhooks",
                {deliveries.JOB_KIND: deliveries.WebhookDeliverer(self)},
                slots=settings.worker_webhook_concurrency,
                per_group=settings.webhook_max_in_flight_per_account,
            ),
        ]
        await Worker(
            self,
            lanes,
            lease_s=settings.lease_seconds,
            drain_s=settings.worker_drain_seconds,
        ).run(stop)

    async def stop(self) -> None:
        """Settle what is in flight, stop the background work (the worker drains first) and
        close everything."""
        await self._wind_down()
        self._stop_worker.set()
        for task in self._background[1:]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        for provider in self._providers.values():
            await provider.aclose()
        for chat in self._chat_providers.values():
            await chat.aclose()
        self._providers.clear()
        self._chat_providers.clear()
        await self.db.dispose()
