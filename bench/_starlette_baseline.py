"""Bare Starlette baseline for models_rps.py: `GET /api/v1/models` answering fixed JSON bytes.

Usage: python _starlette_baseline.py HOST PORT, with the environment variables
  BASELINE_BODY_FILE     path of the JSON body to serve (copied from the running rivya server)
  BASELINE_AUTHORIZATION the exact Authorization header value to accept (e.g. "Bearer rvya_sk_…")

A request whose Authorization header is not that constant gets an empty 401; any other path 404.
uvicorn runs with the options `rivya serve` uses: one process, default loop and HTTP protocol,
no log config, no access log.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["BASELINE_BODY_FILE"]).read_bytes()
AUTHORIZATION = os.environ["BASELINE_AUTHORIZATION"]


async def list_models(request: Request) -> Response:
    """The stored body, if the Authorization header matches the constant."""
    if request.headers.get("authorization") != AUTHORIZATION:
        return Response(status_code=401)
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/api/v1/models", list_models)])

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(
        app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=30
    )
