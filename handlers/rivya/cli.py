"""The `rivya` command: run the server, migrate the database, manage accounts, keys and credits.

Every command takes --json and then prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from rivya import errors
from rivya.accounts.service import create_account, find_dev_account
from rivya.auth import api_keys
from rivya.billing import wallet
from rivya.settings import Settings
from rivya.store.db import Database
from rivya.store.migrate import current_revision, upgrade

DEV_GRANT = 100_000
_DURATION = re.compile(r"(\d+)([smhd]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """'90', '90s', '15m', '24h' or '7d' as seconds."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30m, 24h or 7d)")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def positive_int(text: str) -> int:
    """A whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than zero")
    return value


def _key_json(issued: api_keys.IssuedKey | None, key: api_keys.ApiKey) -> dict[str, Any]:
    out = {"object": "api_key", **asdict(key)}
    if issued is not None:
        out["secret"] = issued.secret
        if issued.previous_secret_expires_at is not None:
            out["previous_secret_expires_at"] = issued.previous_secret_expires_at
    return out


async def _with_db(work: Callable[[Database], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    db = Database(Settings().resolved_database_url)
    try:
        await upgrade(db)
        return await work(db)
    finally:
        await db.dispose()


async def cmd_accounts_create(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.write() as conn:
        account = await create_account(conn, args.name)
    return {"object": "account", **asdict(account)}


async def cmd_keys_create(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.write() as conn:
        issued = await api_keys.create_key(
            conn, args.account, name=args.name, expires_in=args.expires_in
        )
    return _key_json(issued, issued.key)


async def cmd_keys_list(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.read() as conn:
        keys = await api_keys.list_keys(conn, args.account)
    return {"object": "list", "data": [_key_json(None, k) for k in keys], "has_more": False}


async def cmd_keys_rotate(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.write() as conn:
        issued = await api_keys.rotate_key(conn, args.key_id, grace=args.grace)
    return _key_json(issued, issued.key)


async def cmd_keys_revoke(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.write() as conn:
        key = await api_keys.revoke_key(conn, args.key_id)
    return _key_json(None, key)


async def cmd_credits_grant(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.write() as conn:
        balance = await wallet.grant(conn, args.account, args.amount, reason=args.reason)
    return _credits_json(args.account, balance)


async def cmd_credits_show(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    async with db.read() as conn:
        balance = await wallet.get_balance(conn, args.account)
    return _credits_json(args.account, balance)


def _credits_json(account_id: str, balance: wallet.Balance) -> dict[str, Any]:
    return {
        "object": "credits",
        "account_id": account_id,
        "balance": balance.balance,
        "reserved": balance.reserved,
        "available": balance.available,
    }


async def cmd_db_upgrade(_args: argparse.Namespace, db: Database) -> dict[str, Any]:
    return {"object": "database", "revision": await current_revision(db)}


async def ensure_dev_account(db: Database) -> dict[str, Any]:
    """The development account and key of `rivya serve --dev`: made on first start only."""
    async with db.write() as conn:
        existing = await find_dev_account(conn)
        if existing is not None:
            return {"account_id": existing.id, "created": False}
        account = await create_account(conn, "Development", is_dev=True)
        issued = await api_keys.create_key(conn, account.id, name="development")
        await wallet.grant(conn, account.id, DEV_GRANT, reason="development account")
    return {"account_id": account.id, "created": True, "secret": issued.secret}


def cmd_serve(args: argparse.Namespace) -> int:
    import warnings

    import uvicorn

    # connexion imports starlette's test client at start; its deprecation notice is noise here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

    from rivya.app import create_app
    from rivya.logs import configure
    from rivya.web.http_server import server_options

    settings = Settings()
    configure(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.dev:
        dev = asyncio.run(_with_db(ensure_dev_account))
        _print_dev_banner(dev, args.host, args.port)
    app = create_app(settings, run_worker=not args.no_worker)
    # uvicorn drains requests and runs the lifespan shutdown on SIGTERM, then re-raises the signal
    # under the handler it found at start. Finding this one, a requested stop exits with status 0
    # rather than 143, which supervisors would report as a crash.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        **server_options(settings),
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from rivya.logs import configure
    from rivya.runtime import Runtime

    settings = Settings()
    configure(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work() -> None:
        runtime = Runtime.build(settings)
        await upgrade(runtime.db)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGTERM (and Ctrl-C): stop claiming, finish or hand back what runs, exit 0.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await runtime.run_worker(stop, concurrency=args.concurrency)
        finally:
            await runtime.stop()

    asyncio.run(work())
    return 0


def _print_dev_banner(dev: dict[str, Any], host: str, port: int) -> None:
    base = f"http://{host}:{port}/api/v1"
    if dev["created"]:
        print(
            f"Development account {dev['account_id']} with {DEV_GRANT} credits.\n"
            f"API key (shown this once, keep it): {dev['secret']}\n"
            f"Try: curl -H 'Authorization: Bearer {dev['secret']}' {base}/models",
            flush=True,
        )
    else:
        print(
            f"Development account {dev['account_id']} already exists; its key was printed on first "
            f"start. Make another with: rivya keys create --account {dev['account_id']}",
            flush=True,
        )
    print(f"API {base}  docs {base}/ui", flush=True)


def _human(result: dict[str, Any]) -> str:
    if result.get("object") == "list":
        return "\n".join(_human(item) for item in result["data"]) or "(none)"
    return "\n".join(f"{k}: {v}" for k, v in result.items() if k != "object")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="rivya", description="Rivya API server and admin tool.")
    sub = parser.add_subparsers(dest="command", required=True)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON object")

    serve = sub.add_parser("serve", help="run the API server (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--dev", action="store_true", help="create a development account and key on first start"
    )
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run generations in this process"
    )
    serve.set_defaults(run=cmd_serve)

    worker = sub.add_parser(
        "worker", help="run generations and webhook deliveries against the same database"
    )
    worker.add_argument(
        "--concurrency",
        type=positive_int,
        help="generations at once (default RIVYA_WORKER_CONCURRENCY, 8)",
    )
    worker.set_defaults(run=cmd_worker)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", parents=[as_json], help="migrate to the newest schema").set_defaults(
        work=cmd_db_upgrade
    )

    accounts = sub.add_parser("accounts", help="accounts").add_subparsers(
        dest="accounts_cmd", required=True
    )
    create = accounts.add_parser("create", parents=[as_json], help="create an account")
    create.add_argument("--name", required=True)
    create.set_defaults(work=cmd_accounts_create)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_cmd", required=True)
    kc = keys.add_parser("create", parents=[as_json], help="create a key (its secret shows once)")
    kc.add_argument("--account", required=True)
    kc.add_argument("--name", default="default")
    kc.add_argument("--expires-in", type=duration, help="lifetime, e.g. 90d (default: none)")
    kc.set_defaults(work=cmd_keys_create)
    kl = keys.add_parser("list", parents=[as_json], help="list an account's keys (no secrets)")
    kl.add_argument("--account", required=True)
    kl.set_defaults(work=cmd_keys_list)
    kr = keys.add_parser("rotate", parents=[as_json], help="give a key a new secret")
    kr.add_argument("key_id")
    kr.add_argument(
        "--grace", type=duration, default=duration("24h"), help="how long the old secret works"
    )
    kr.set_defaults(work=cmd_keys_rotate)
    kv = keys.add_parser("revoke", parents=[as_json], help="revoke a key at once")
    kv.add_argument("key_id")
    kv.set_defaults(work=cmd_keys_revoke)

    credits = sub.add_parser("credits", help="credit wallets").add_subparsers(
        dest="credits_cmd", required=True
    )
    cg = credits.add_parser("grant", parents=[as_json], help="add credits to an account")
    cg.add_argument("--account", required=True)
    cg.add_argument("--amount", type=positive_int, required=True)
    cg.add_argument("--reason")
    cg.set_defaults(work=cmd_credits_grant)
    cs = credits.add_parser("show", parents=[as_json], help="show an account's wallet")
    cs.add_argument("--account", required=True)
    cs.set_defaults(work=cmd_credits_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rivya` command."""
    args = build_parser().parse_args(argv)
    if hasattr(args, "run"):
        return int(args.run(args))
    Settings().data_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = asyncio.run(_with_db(lambda db: args.work(args, db)))
    except errors.RivyaError as exc:
        error = {"object": "error", "code": exc.code, "message": exc.message}
        if args.json:
            print(json.dumps(error))
        else:
            print(f"rivya: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else _human(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
