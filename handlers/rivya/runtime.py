"""What a running server holds for its lifetime: settings, the database and the catalog."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rivya.auth.cache import KeyCache
from rivya.catalog.catalog import Catalog
from rivya.settings import Settings
from rivya.store.db import Database
from rivya_models.models import Model

SPEC_PATH = Path(__file__).parent / "openapi.yaml"


@dataclass
class Runtime:
    """Built once per app; handlers reach it through the request scope."""

    settings: Settings
    db: Database
    catalog: Catalog
    spec_json: bytes = field(repr=False)
    key_cache: KeyCache = field(repr=False)
    _background: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings, db: Database | None = None) -> Runtime:
        """Load and check everything that can be checked before the first request."""
        catalog = Catalog.load(settings.catalog)
        for model in catalog.models:
            # The catalog must render as the contract says; fail at start, not per request.
            Model.model_validate(model.public())
        spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
        return cls(
            settings=settings,
            db=db or Database(settings.resolved_database_url),
            catalog=catalog,
            spec_json=json.dumps(spec, separators=(",", ":")).encode("utf-8"),
            key_cache=KeyCache(poll=settings.auth_cache_poll),
        )

    async def start(self) -> None:
        """Start the background work of a serving process."""
        self._background.append(asyncio.create_task(self.key_cache.watch(self.db)))

    async def stop(self) -> None:
        """Stop the background work and close the database."""
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        await self.db.dispose()
