"""`meta` tag: the contract itself."""

from __future__ import annotations

from starlette.responses import Response

from rivya.api import runtime


async def get_openapi() -> Response:
    """GET /openapi.json"""
    return Response(runtime().spec_json, media_type="application/json")
