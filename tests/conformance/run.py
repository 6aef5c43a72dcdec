"""Fuzz the running server against its own contract with schemathesis.

Starts `rivya serve` on a free port with a fresh data directory (and the database of
RIVYA_DATABASE_URL when set), creates an account with credits and a key through the CLI, runs
`schemathesis run` with every check and both positive and negative data, then stops the server.
Exits with schemathesis' status. Extra arguments are passed on to `schemathesis run`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.processes import free_port, rivya

MAX_EXAMPLES = os.environ.get("RIVYA_CONFORMANCE_EXAMPLES", "100")


def wait_until_up(url: str, deadline_s: float = 30.0) -> None:
    """Poll the spec URL until the server answers."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rivya-conformance-") as data_dir:
        env = {**os.environ, "RIVYA_DATA_DIR": data_dir}
        account = rivya(env, "accounts", "create", "--name", "Conformance")
        rivya(env, "credits", "grant", "--account", str(account["id"]), "--amount", "1000000")
        secret = str(rivya(env, "keys", "create", "--account", str(account["id"]))["secret"])
        port = free_port()
        log_path = Path(data_dir) / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rivya.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                # Thousands of requests in a minute from one account, many with bad keys on
                # purpose, from one address: lift the request and failed-authentication limits.
                env={
                    **env,
                    "RIVYA_LOG_LEVEL": "WARNING",
                    "RIVYA_RATE_LIMIT": "1000000/minute",
                    "RIVYA_AUTH_FAILURE_LIMIT": "1000000/minute",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                spec_url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
                wait_until_up(spec_url)
                command = [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
                    "run", spec_url,
                    "--checks", "all",
                    # Off in schemathesis.toml too (see there), which its stateful phase
                    # ignores under --checks all; the command line holds.
                    "--exclude-checks", "ensure_resource_availability",
                    "--mode", "all",
                    "--max-examples", MAX_EXAMPLES,
                    "--header", f"Authorization: Bearer {secret}",
                    "--seed", os.environ.get("RIVYA_CONFORMANCE_SEED", "20261125"),
                    "--no-color",
                    *sys.argv[1:],
                ]  # fmt: skip
                hooks = {"SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("hooks.py"))}
                status = subprocess.run(command, env={**env, **hooks}).returncode
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
        server_log = log_path.read_text()
        if "Traceback" in server_log:
            print("the server logged a traceback:\n" + server_log, file=sys.stderr)
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
