"""Project tasks. Sessions run in the current environment (the project's .venv, made by `make`),
so `nox -s NAME` is quick and uses exactly the pinned tools of `pip install -e '.[dev]'`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
# Sessions call the tools installed beside this interpreter, whether or not the venv is active.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
nox.options.sessions = ["codegen_check", "lint", "typecheck", "tests", "conformance"]


@nox.session
def codegen(session: nox.Session) -> None:
    """Regenerate generated/ (pydantic models and the Python client) from spec/openapi.yaml."""
    session.run("python", "codegen/generate.py")


@nox.session
def codegen_check(session: nox.Session) -> None:
    """Fail when generated/ differs from what a fresh codegen run writes, or the spec is invalid."""
    session.run("openapi-spec-validator", "spec/openapi.yaml")
    session.run("python", "codegen/generate.py", "--check")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check of the hand-written code."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on handlers/."""
    session.run("mypy", "handlers")


@nox.session
def tests(session: nox.Session) -> None:
    """pytest: database tests on SQLite, and on PostgreSQL when RIVYA_TEST_POSTGRES_URL is set."""
    session.run("pytest", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Start the real server and fuzz it with schemathesis against the spec (all checks,
    positive and negative data). Extra arguments go to `schemathesis run`."""
    session.run("python", "-m", "tests.conformance.run", *session.posargs)


@nox.session(default=False)
def reliability(session: nox.Session) -> None:
    """Concurrent mixed load, hostile requests and SIGKILLs against `rivya serve` (and a `rivya
    worker` on PostgreSQL), then the money invariant checked in the database, with figures; on
    SQLite, and on PostgreSQL when RIVYA_TEST_POSTGRES_URL is set. `-- --short` is CI's quick
    run; arguments go to tests/reliability/run.py (see its --help)."""
    session.run("python", "-m", "tests.reliability.run", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Requests per second of GET /api/v1/models against a bare Starlette app, in one run."""
    session.run("python", "bench/models_rps.py", *session.posargs)
