"""Helpers of the tests and runs that start Rivya as a process: a free port and the `rivya`
command's JSON."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rivya(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run a `rivya … --json` command and return its JSON."""
    out = subprocess.run(
        [sys.executable, "-m", "rivya.cli", *args, "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result
