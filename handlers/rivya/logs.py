"""Logging: one line per record, each with the id of the request it belongs to."""

from __future__ import annotations

import logging
import sys

from rivya.web.request_context import RequestIdLogFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure(level: str = "INFO") -> None:
    """Send every logger (uvicorn's included) through one stderr handler with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Requests are logged once, with their id, by rivya.access.
    logging.getLogger("uvicorn.access").disabled = True
