"""Profile the burst's worker in-process: composing, then delivering, N confirmations.

    .venv/bin/python benchmarks/profile_burst.py [--count 1000] [--backend sqlite|postgresql]
        [--language en] [--top 15] [--connections 4] [--no-profile]
        [--compose-batch 200] [--email-batch 100] [--dump PREFIX]

Files `--count` registrations for the burst benchmark's two-session series
(`benchmarks.registration._prepare` builds it) with the domain call the registration desk
uses (timed as `file`: the domain call only, without HTTP), then runs the composing job's
steps (claim, compose, record: `welcome`) over all of them in its batches, and the delivery
job's (`drain_due_emails`, through `SmtpTransport`) against aiosmtpd in a process of its
own, each under cProfile (or timed alone with `--no-profile`), on the worker's event loop
(uvloop where installed). Prints ms per confirmation for each step and the top functions by
cumulative and by own time. Deterministic apart from the machine: no HTTP, no scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.registration import SECRET_KEY, SLUG, _prepare  # noqa: E402
from benchmarks.reminders import SmtpServer, database, run_bare  # noqa: E402
from notifications.delivery import drain_due_emails  # noqa: E402
from notifications.transport import SmtpTransport  # noqa: E402
from service.cli import run_loop as run  # noqa: E402  (the worker's event loop)
from service.db.engine import create_engine, make_sessionmaker, session_scope  # noqa: E402
from service.db.models import OutboxEmail  # noqa: E402
from service.domain.registration import RegistrationForm  # noqa: E402
from service.domain.registration.batch import register_participants  # noqa: E402
from service.domain.registration.welcome import (  # noqa: E402
    claim_welcome_emails,
    compose_claimed,
    record_welcome_emails,
)
from service.settings import Settings, SmtpSettings, load_settings  # noqa: E402
from service.zones import use_pinned_database  # noqa: E402


async def _file(settings: Settings, count: int, language: str) -> int:
    """`count` registrations, in batches as the desk files them."""
    engine = create_engine(settings.database_url)
    try:
        for first in range(0, count, 50):
            entries = [(SLUG, RegistrationForm(
                name=f"Procurer {number}", email=f"burst{number}@bench.example.org",
                consent=True, organisation_name="City of Example", country="BE",
                job_title="Procurement officer", language=language))
                for number in range(first, min(first + 50, count))]
            async with session_scope(make_sessionmaker(engine)) as db:
                await register_participants(db, entries, now=datetime.now(UTC),
                                            settings=settings)
        return count
    finally:
        await engine.dispose()


async def _compose(settings: Settings, batch_size: int) -> int:
    """The composing job's steps, batch after batch as the job runs them."""
    engine = create_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    composed = 0
    try:
        while True:
            now = datetime.now(UTC)
            async with session_scope(sessionmaker) as db:
                batch = await claim_welcome_emails(db, now=now, settings=settings,
                                                   batch_size=batch_size, worker_id="profile")
            if batch.rows:
                await compose_claimed(batch, now=now, settings=settings)
                async with session_scope(sessionmaker) as db:
                    composed += (await record_welcome_emails(db, batch)).composed
            if len(batch.rows) < batch_size:
                return composed
    finally:
        await engine.dispose()


async def _deliver(settings: Settings, batch_size: int) -> int:
    engine = create_engine(settings.database_url)
    transport = SmtpTransport(settings.smtp)
    try:
        report = await drain_due_emails(make_sessionmaker(engine), transport, settings=settings,
                                        clock=lambda: datetime.now(UTC), worker_id="profile",
                                        batch_size=batch_size)
        return report.sent
    finally:
        await transport.close()
        await engine.dispose()


async def _raw_messages(settings: Settings) -> list[tuple[str, bytes]]:
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.raw_message)
                                     .where(OutboxEmail.raw_message.is_not(None))
                                     .order_by(OutboxEmail.id))).all()
        return [(to, raw) for to, raw in rows]
    finally:
        await engine.dispose()


async def _bare(settings: Settings, server: SmtpServer, raws: list[tuple[str, bytes]]) -> int:
    await server.take()
    result = await run_bare(settings, server, raws, settings.smtp.connections)
    return int(result["messages"])


def _run(label: str, step: Callable[[], Awaitable[int]], count: int, *, profile: bool,
         top: int, dump: str = "") -> float:
    profiler = cProfile.Profile() if profile else None

    async def timed() -> tuple[int, float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            done = await step()
        finally:
            if profiler is not None:
                profiler.disable()
        return done, time.perf_counter() - started, time.process_time() - cpu

    done, seconds, cpu = run(timed())
    per = seconds / max(done, 1) * 1000
    print(f"{label}: {done} of {count} in {seconds:.2f} s = {per:.3f} ms per confirmation, "
          f"{cpu / max(done, 1) * 1000:.3f} ms of this process's CPU"
          + (" (under cProfile)" if profile else ""))
    if profiler is not None:
        for order in ("cumulative", "tottime") if top else ():
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(order).print_stats(top)
            text = out.getvalue()
            print(f"--- {label}: top {top} by {order}")
            print(text[text.index("   ncalls"):].rstrip())
        if dump:
            profiler.dump_stats(f"{dump}.{label}.prof")
    return per


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--language", default="en")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--compose-batch", type=int, default=200)
    parser.add_argument("--email-batch", type=int, default=100)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--dump", default="", help="write each step's stats to DUMP.<step>.prof")
    args = parser.parse_args()
    use_pinned_database()
    server = SmtpServer()
    with tempfile.TemporaryDirectory(prefix="procura-profile-") as tmp:
        var_dir = Path(tmp)
        url, dispose = database(args.backend, var_dir)
        try:
            asyncio.run(_prepare(url, var_dir))
            smtp = SmtpSettings(host="127.0.0.1", port=server.port, username=None,
                                password=None, security="none", timeout_seconds=30.0,
                                connections=args.connections)
            settings = replace(load_settings(database_url=url, var_dir=var_dir,
                                             secret_key=SECRET_KEY, run_scheduler=False),
                               smtp=smtp)
            profile = not args.no_profile
            _run("file", lambda: _file(settings, args.count, args.language), args.count,
                 profile=profile, top=args.top, dump=args.dump)
            compose = _run("compose", lambda: _compose(settings, args.compose_batch),
                           args.count, profile=profile, top=args.top, dump=args.dump)
            deliver = _run("deliver", lambda: _deliver(settings, args.email_batch),
                           args.count, profile=profile, top=args.top, dump=args.dump)
            print(f"worker total: {compose + deliver:.3f} ms per confirmation")
            raws = asyncio.run(_raw_messages(settings))
            _run("bare aiosmtplib loop, the same messages",
                 lambda: _bare(settings, server, raws), args.count, profile=False, top=0)
        finally:
            dispose()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
