"""``parley`` entry point: a thin argparse front over the composition root."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from parley import log
from parley.config import Config
from parley.errors import ClientError, ConfigError
from parley.private import private_dir

Command = Callable[[argparse.Namespace, Config], int]


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import dataclasses

    import uvicorn

    from parley.server import Server
    from parley.web.app import create_app

    host = args.host or config.server.host
    port = args.port or config.server.port
    # workers started by the server connect back to where it actually listens
    config = dataclasses.replace(config, server=dataclasses.replace(config.server, host=host, port=port))
    server = Server(config)
    asyncio.run(_ensure_first_admin(server))
    app = create_app(server)
    print(f"Parley is running at http://{host}:{port}  (Ctrl+C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=config.server.log_level.lower(), proxy_headers=False,
                log_config=None)
    return 0


async def _ensure_first_admin(server: object) -> None:
    """On the very first start, create an admin and print its password once."""
    from parley.handlers.accounts import FIRST_ADMIN_EMAIL
    from parley.server import Server
    from parley.storage.stores.accounts import count_users
    from parley.vocabulary import Role

    assert isinstance(server, Server)
    await server.db.migrate()
    async with server.db.session() as s:
        has_admin = await count_users(s, Role.ADMIN) > 0
    if not has_admin:
        password = secrets.token_urlsafe(12)
        await server.accounts.create_user(
            email=FIRST_ADMIN_EMAIL, display_name="Administrator", role=Role.ADMIN, password=password
        )
        print("\n  First start: an administrator account was created.")
        print(f"    email:    {FIRST_ADMIN_EMAIL}")
        print(f"    password: {password}")
        print("  It is shown only this once; change it under My account.\n", flush=True)
    await server.db.close()
    del server.__dict__["db"]


def cmd_admin_create(args: argparse.Namespace, config: Config) -> int:
    from parley.server import Server
    from parley.vocabulary import Role

    password = args.password
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        else:
            password = secrets.token_urlsafe(12)
            print(f"password: {password}")

    async def run() -> None:
        server = Server(config)
        await server.db.migrate()
        try:
            user = await server.accounts.create_user(
                email=args.email, display_name=args.name, role=Role(args.role), password=password
            )
            print(f"created {user.role.value} {user.email} (id {user.id})")
        finally:
            await server.db.close()

    try:
        asyncio.run(run())
    except ClientError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def cmd_admin_reset_password(args: argparse.Namespace, config: Config) -> int:
    """Give an account a new random password (printed once) and log it out everywhere."""
    from parley.server import Server

    async def run() -> str:
        server = Server(config)
        await server.db.migrate()
        try:
            user, password = await server.accounts.reset_password(args.email)
            return f"new password for {user.email} ({user.role.value}, id {user.id}): {password}"
        finally:
            await server.db.close()

    try:
        print(asyncio.run(run()))
    except ClientError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def cmd_admin_list(args: argparse.Namespace, config: Config) -> int:
    """Print the accounts as a table, optionally filtered by role or a search text."""
    from parley.handlers.accounts import Account, contact_email
    from parley.server import Server
    from parley.vocabulary import Role

    async def run() -> list[Account]:
        server = Server(config)
        await server.db.migrate()
        users: list[Account] = []
        try:
            page = 1
            while True:
                result = await server.accounts.list_users(
                    None, search=args.search or "", role=Role(args.role) if args.role else None, page=page,
                    per_page=100,
                )
                users.extend(result.users)
                if page >= result.pages:
                    return users
                page += 1
        finally:
            await server.db.close()

    try:
        users = asyncio.run(run())
    except ClientError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    rows = [("id", "role", "status", "email", "name")]
    rows += [(str(u.id), u.role.value, "disabled" if u.disabled else "active", contact_email(u.email),
              u.display_name) for u in users]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    print(f"({len(users)} account{'s' if len(users) != 1 else ''})")
    return 0


def cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    from parley.storage.database import upgrade

    private_dir(config.data_path)
    upgrade(config.database_url)
    print("database is up to date")
    return 0


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    for section, values in config.redacted().items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"{key} = {value!r}")
        print()
    return 0


def cmd_models(args: argparse.Namespace, config: Config) -> int:
    from parley.cli import models

    if args.models_command == "prepare":
        return models.prepare(config)
    if args.models_command == "catalogue":
        return models.catalogue()
    if args.models_command == "install":
        if not args.names:
            print("parley models install NAME...: names from 'parley models catalogue'")
            return 2
        return models.install(config, args.names)
    if args.models_command == "import":
        if len(args.names) != 1:
            print("parley models import PATH [--as NAME]")
            return 2
        return models.import_models(config, Path(args.names[0]), args.as_name)
    return models.list_models(config)


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    """An interpretation worker: loads the models, connects to Parley, serves its meetings."""
    import os
    import signal

    from parley.clock import SystemClock
    from parley.config import ensure_worker_secret
    from parley.interpretation.factory import EngineOptions
    from parley.interpretation.worker_link import LinkOptions, Unauthorized, run_worker
    from parley.lifeline import watch_lifeline

    cfg = config.interpretation
    secret = os.environ.get("PARLEY_WORKER_SECRET") or ensure_worker_secret(config)
    servers = [u.strip() for arg in args.server or [] for u in arg.split(",") if u.strip()]
    url, *more = servers or [f"ws://127.0.0.1:{config.server.port}/ws/interpretation/worker"]
    models = Path(cfg.models_dir).expanduser() if cfg.models_dir else config.data_path / "models"
    link = LinkOptions(url=url, more_urls=tuple(more), secret=secret, name=args.name or f"worker-{os.getpid()}",
                       rtp_bind=args.rtp_bind or cfg.rtp_bind, rtp_advertise=args.rtp_advertise or cfg.rtp_advertise)
    options = EngineOptions(models_dir=models, asr_threads=args.threads or cfg.asr_threads,
                            asr_workers=cfg.asr_workers, device=cfg.device, mt_engines=cfg.mt_engines,
                            tts_engines=cfg.tts_engines)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watch_lifeline(stop.set)  # started by `parley serve`: stop when it is gone, however it went
        await run_worker(link, options, clock=SystemClock(), stop=stop)

    try:
        asyncio.run(run())
    except Unauthorized:
        return 3
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server (and Janus, and interpretation workers)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run an interpretation worker that connects to Parley")
    worker.add_argument("--server", action="append",
                        help="Parley's worker WebSocket, e.g. ws://host:8000/ws/interpretation/worker; several "
                             "(repeated or comma-separated) are tried in turn when one fails")
    worker.add_argument("--name", help="how organisers see this worker")
    worker.add_argument("--threads", type=int, help="CPU threads for speech recognition")
    worker.add_argument("--rtp-bind", help="address to receive forwarded audio on")
    worker.add_argument("--rtp-advertise", help="address Janus sends the audio to, if not --rtp-bind")
    worker.set_defaults(func=cmd_worker)

    admin = sub.add_parser("admin", help="manage accounts")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create", help="create an account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", default="admin",
                        choices=["admin", "organiser", "facilitator", "interpreter", "participant"])
    create.add_argument("--password", help="prompted for (or generated) when omitted")
    create.set_defaults(func=cmd_admin_create)
    reset = admin_sub.add_parser("reset-password", help="set a new random password and print it")
    reset.add_argument("--email", required=True)
    reset.set_defaults(func=cmd_admin_reset_password)
    listing = admin_sub.add_parser("list", help="list accounts")
    listing.add_argument("--role", choices=["admin", "organiser", "facilitator", "interpreter", "participant"])
    listing.add_argument("--search", help="part of an email or name")
    listing.set_defaults(func=cmd_admin_list)

    models = sub.add_parser("models", help="interpretation models: what is installed, which pairs work")
    models.add_argument("models_command", choices=["list", "prepare", "catalogue", "install", "import"], nargs="?",
                        default="list")
    models.add_argument("names", nargs="*", help="install: catalogue names; import: a folder or archive")
    models.add_argument("--as", dest="as_name", help="import: the catalogue name of a folder without provenance")
    models.set_defaults(func=cmd_models)

    from parley.cli import analysis, bench, nodes, turn

    analysis.add_parser(sub)
    bench.add_parser(sub)
    nodes.add_parsers(sub)
    turn.add_parser(sub)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    sub.add_parser("config", help="print the effective configuration, secrets hidden").set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.load()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log.setup(config.server.log_level)
    func: Command = args.func
    return func(args, config)


if __name__ == "__main__":
    sys.exit(main())
