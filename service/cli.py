"""The `procura-events` command: serve, migrate, load the demo, manage organiser tokens, read
the demo's mail.

The web app (uvicorn, Litestar: a third of a second) and the scheduler (APScheduler) are
imported by the commands that run them, so that a quick command such as `migrate` or
`show-mail` does not load them; this is the top of the house, so no cycle is dodged."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.maildir_reader import format_email, latest_emails
from service.clock import utc_now
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.migrate import upgrade_to_head
from service.domain.accounts import create_account, find_or_create_team
from service.domain.auth import create_api_token, list_api_tokens, revoke_api_token
from service.domain.errors import DomainError
from service.operations import consequences
from service.operations.demo import (
    DEMO_ADMIN_EMAIL,
    ensure_demo_administrator,
    load_demo_meetings,
    load_demo_programme,
)
from service.operations.demo_groups import load_demo_groups
from service.settings import (
    Settings,
    base_url_for,
    configured_public_base_url,
    load_settings,
    serving_host,
    serving_port,
)

if TYPE_CHECKING:
    import uvicorn
    from litestar import Litestar

T = TypeVar("T")

# The worker's loop: its sends and database round trips cost less on uvloop (a dependency
# everywhere but Windows, where it does not exist).
if sys.platform == "win32":
    from asyncio import run as run_loop
else:
    from uvloop import run as run_loop


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with session_scope(make_sessionmaker(engine)) as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    upgrade_to_head(settings.database_url)
    print("Database schema is up to date.")
    return 0


def cmd_load_demo(settings: Settings, _: argparse.Namespace) -> int:
    added = _in_transaction(
        settings, lambda db: load_demo_programme(db, now=utc_now(), settings=settings)
    )
    print(f"Demo programme loaded ({len(added)} new event(s): {', '.join(added) or 'none'}).")
    if _in_transaction(settings, lambda db: load_demo_meetings(db, now=utc_now(), settings=settings)):
        print("Demo one-to-one meetings loaded (Haarlem Meet-your-Buyer, sample suppliers).")
    added_groups = _in_transaction(
        settings, lambda db: load_demo_groups(db, now=utc_now(), settings=settings))
    print(f"Demo Interest Groups loaded ({len(added_groups)} new: "
          f"{', '.join(added_groups) or 'none'}).")
    password = _in_transaction(settings, lambda db: ensure_demo_administrator(db, now=utc_now()))
    if password is not None:
        # Shown once, like an API token; kept beside the database for the demo's later runs.
        note = settings.var_dir / "demo-administrator.txt"
        note.write_text(f"{DEMO_ADMIN_EMAIL}\n{password}\n")
        note.chmod(0o600)
    if (settings.var_dir / "demo-administrator.txt").exists():
        print(f"Back office: {settings.public_base_url}/organiser/ (sign in with the address and "
              f"password in {settings.var_dir / 'demo-administrator.txt'}).")
    return 0


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: AsyncSession) -> str:
        now = utc_now()
        team_id = (await find_or_create_team(db, args.team, now=now)).id if args.team else None
        issued = await create_api_token(db, name=args.name, role=args.role, now=now,
                                        team_id=team_id)
        return f"{issued.api_token.id}\t{issued.secret}"

    token_id, secret = _in_transaction(settings, work).split("\t")
    print(f"Created {args.role} token #{token_id} ({args.name}). It is shown only once:")
    print(secret)
    return 0


def cmd_list_tokens(settings: Settings, _: argparse.Namespace) -> int:
    async def work(db: AsyncSession) -> list[str]:
        return [
            f"#{t.id}\t{t.role}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}"
            + ("\trevoked" if t.revoked_at else "")
            for t in await list_api_tokens(db)
        ]

    for line in _in_transaction(settings, work):
        print(line)
    return 0


def cmd_revoke_token(settings: Settings, args: argparse.Namespace) -> int:
    revoked = _in_transaction(
        settings, lambda db: revoke_api_token(db, args.token_id, now=utc_now())
    )
    print(f"Token #{args.token_id} revoked." if revoked else f"No live token #{args.token_id}.")
    return 0 if revoked else 1


def _read_new_password() -> str | None:
    """PROCURA_ORGANISER_PASSWORD when set (scripts), else asked twice on the terminal."""
    from_env = os.environ.get("PROCURA_ORGANISER_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("The same password again: ") != first:
        print("The two passwords differ; nothing was created.", file=sys.stderr)
        return None
    return first


def cmd_create_organiser(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_new_password()
    if password is None:
        return 1

    async def work(db: AsyncSession) -> str:
        now = utc_now()
        team_ids = [(await find_or_create_team(db, args.team, now=now)).id] if args.team else []
        account = await create_account(db, email=args.email, name=args.name, role=args.role,
                                       password=password, team_ids=team_ids, now=now)
        return f"Created {account.role.value} account #{account.id} for {account.email}" + (
            f" in {args.team!r}." if args.team else ".")

    try:
        print(_in_transaction(settings, work))
    except DomainError as error:
        for problem in error.errors:
            print(f"{problem.field or 'error'}: {problem.message}", file=sys.stderr)
        return 1
    return 0


def server_config(app: Litestar, *, host: str, port: int) -> uvicorn.Config:
    """How `serve` runs uvicorn.

    No access log: private links carry their token in the path, and tokens never reach logs.
    No `server` header: which server and version answers is nobody's business.
    """
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                          server_header=False)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from service.web.app import create_app

    if configured_public_base_url() is None:
        # Links in pages, emails and feeds point where this server actually listens.
        settings = replace(settings, public_base_url=base_url_for(args.host, args.port))
    if args.migrate:
        cmd_migrate(settings, args)
    if args.demo:
        cmd_load_demo(settings, args)
    listening = base_url_for(args.host, args.port)
    print(f"Procura Events serving on {listening} (API docs at {listening}/api/docs)"
          + ("" if settings.public_base_url == listening
             else f"; links point to {settings.public_base_url}"), flush=True)
    uvicorn.Server(server_config(create_app(settings), host=args.host, port=args.port)).run()
    return 0


def cmd_show_mail(settings: Settings, args: argparse.Namespace) -> int:
    maildir = args.maildir or settings.maildir_path
    if settings.smtp.is_configured and args.maildir is None:
        print(f"Note: mail is sent through {settings.smtp.host}, not written to {maildir}.")
    shown = latest_emails(maildir, args.last)
    if not shown:
        print(f"No emails in {maildir}.")
        return 0
    print("\n\n".join(format_email(email, position=number, total=len(shown))
                      for number, email in enumerate(shown, start=1)))
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _job_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from scheduling.jobs import choose_jobs
    from scheduling.scheduler import run_worker

    try:
        jobs = choose_jobs(only=_job_names(args.only), skip=_job_names(args.skip))
    except ValueError as error:
        print(f"procura-events worker: {error}", file=sys.stderr)
        return 2
    if not jobs:
        print("procura-events worker: that leaves no job to run", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print("Procura Events worker: sending reminders, change notices and queued emails "
          "(run the web service with PROCURA_RUN_SCHEDULER=false). Ctrl-C to stop.")
    if args.only or args.skip:
        print(f"Jobs run here: {', '.join(name for name, _, _ in jobs)}")
    run_loop(run_worker(settings, jobs=jobs))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="procura-events", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service (and its scheduler)")
    serve.add_argument("--host", default=serving_host(), help="interface (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=serving_port(),
                       help="port (default: PORT or 8000)")
    serve.add_argument("--migrate", action="store_true", help="migrate the database first")
    serve.add_argument("--demo", action="store_true", help="load the demo programme first")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser("load-demo", help="load the demo programme").set_defaults(
        handler=cmd_load_demo
    )

    create = commands.add_parser("create-token", help="create an organiser API token")
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--role", choices=("admin", "organiser", "viewer"), default="organiser")
    create.add_argument("--team", default=None,
                        help="only this team's events (default: every team's)")
    create.set_defaults(handler=cmd_create_token)

    organiser = commands.add_parser(
        "create-organiser",
        help="create a back-office account (the password is asked on the terminal, or read "
        "from PROCURA_ORGANISER_PASSWORD)")
    organiser.add_argument("--email", required=True)
    organiser.add_argument("--name", required=True)
    organiser.add_argument("--role", choices=("admin", "organiser", "viewer"), default="organiser")
    organiser.add_argument("--team", default=None,
                           help='the team whose events they work on, e.g. "Programme team" '
                           "(made if missing)")
    organiser.set_defaults(handler=cmd_create_organiser)

    commands.add_parser("list-tokens", help="list organiser API tokens").set_defaults(
        handler=cmd_list_tokens
    )
    revoke = commands.add_parser("revoke-token", help="revoke an organiser API token")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(handler=cmd_revoke_token)
    show_mail = commands.add_parser(
        "show-mail", help="print the latest emails of the Maildir, decoded (links whole)")
    show_mail.add_argument("--last", type=_positive, default=1, metavar="N",
                           help="how many of the latest emails (default 1)")
    show_mail.add_argument("--maildir", type=Path, default=None,
                           help="another Maildir (default: PROCURA_MAILDIR or var/maildir)")
    show_mail.set_defaults(handler=cmd_show_mail)
    worker = commands.add_parser(
        "worker", help="run the scheduler (reminders, notices, email delivery) on its own")
    chosen = worker.add_mutually_exclusive_group()
    chosen.add_argument("--only", default="", metavar="JOB[,JOB]",
                        help="run only these jobs (with another worker for the rest: on two "
                        "cores or more, --only compose_welcome_emails beside --skip "
                        "compose_welcome_emails)")
    chosen.add_argument("--skip", default="", metavar="JOB[,JOB]",
                        help="run every job but these")
    worker.set_defaults(handler=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    consequences.wire()
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    return handler(load_settings(), args)


if __name__ == "__main__":
    sys.exit(main())
