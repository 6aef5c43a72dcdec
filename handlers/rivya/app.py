"""The ASGI application: the spec routed to rivya.api by connexion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from rivya.runtime import Runtime, contract
from rivya.settings import Settings
from rivya.store.migrate import upgrade
from rivya.web import problems
from rivya.web.body_limits import LimitedJSONBodyValidator, StreamingUploadValidator
from rivya.web.request_context import RequestContextMiddleware
from rivya.web.validation import NamingParameterValidator


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, run_worker: bool = False
) -> AsyncApp:
    """A connexion AsyncApp serving the v1 contract under /api/v1 (with a job worker in the same
    process when `run_worker`)."""
    runtime = runtime or Runtime.build(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await upgrade(runtime.db)
        await runtime.start(worker=run_worker)
        try:
            yield
        finally:
            await runtime.stop()

    app = AsyncApp(__name__, lifespan=lifespan)
    app.add_api(
        contract(),
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui=True, swagger_ui_path="/ui", serve_spec=False, spec_path="/openapi.json"
        ),
        strict_validation=True,
        validate_responses=False,
        pythonic_params=True,
        validator_map={
            "parameter": NamingParameterValidator,
            "body": MediaTypeDict(
                {
                    "*/*json": LimitedJSONBodyValidator,
                    "multipart/form-data": StreamingUploadValidator,
                }
            ),
        },
    )
    problems.register(app)
    app.add_middleware(
        RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, runtime=runtime
    )
    return app
