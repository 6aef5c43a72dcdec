"""`models` tag: the public catalog."""

from __future__ import annotations

from starlette.responses import Response

from rivya.api import render, runtime


async def list_models(
    kind: str | None = None, limit: int = 20, after: str | None = None
) -> Response:
    """GET /models"""
    models, has_more = runtime().catalog.page(kind=kind, after=after, limit=limit)
    return render({"object": "list", "data": [m.public() for m in models], "has_more": has_more})
