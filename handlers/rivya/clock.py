"""Wall-clock time as the API shows it: whole Unix seconds."""

from __future__ import annotations

import time


def now() -> int:
    """The current Unix time in whole seconds."""
    return int(time.time())
