"""The `rivya` command, run as a user runs it: every command with --json prints one object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def rivya(tmp_path: Path) -> Any:
    env = {**os.environ, "RIVYA_DATA_DIR": str(tmp_path / "data")}
    env.pop("RIVYA_DATABASE_URL", None)

    def run(*args: str, ok: bool = True) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "rivya.cli", *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode == 0) == ok, done.stderr
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1, done.stdout
        result: dict[str, Any] = json.loads(lines[0])
        return result

    return run


def test_account_key_and_credit_lifecycle(rivya: Any) -> None:
    account = rivya("accounts", "create", "--name", "Acme")
    assert account["id"].startswith("acct_") and account["name"] == "Acme"

    key = rivya("keys", "create", "--account", account["id"], "--name", "ci")
    assert key["id"].startswith("key_") and key["secret"].startswith("rvya_sk_")
    assert key["hint"] == key["secret"][-4:]

    listed = rivya("keys", "list", "--account", account["id"])
    assert [k["id"] for k in listed["data"]] == [key["id"]]
    assert key["secret"] not in json.dumps(listed)

    rotated = rivya("keys", "rotate", key["id"], "--grace", "2h")
    assert rotated["secret"] != key["secret"]
    assert rotated["previous_secret_expires_at"] - rotated["created_at"] >= 7200 - 5

    revoked = rivya("keys", "revoke", key["id"])
    assert revoked["revoked_at"] is not None

    wallet = rivya("credits", "grant", "--account", account["id"], "--amount", "250")
    assert (wallet["balance"], wallet["reserved"], wallet["available"]) == (250, 0, 250)
    assert rivya("credits", "show", "--account", account["id"])["balance"] == 250


def test_errors_are_one_json_object_and_exit_non_zero(rivya: Any) -> None:
    missing = rivya("keys", "create", "--account", "acct_nope", ok=False)
    assert missing == {
        "object": "error",
        "code": "not_found",
        "message": "No account acct_nope has been found.",
    }
    assert rivya("accounts", "create", "--name", "   ", ok=False)["code"] == "invalid_request"


def test_db_upgrade_reports_the_revision(rivya: Any) -> None:
    from tests.integration.test_migrations import HEAD

    assert rivya("db", "upgrade")["revision"] == HEAD
