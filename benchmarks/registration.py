"""Registrations per second through the HTTP API, as a ratio to a one-row insert endpoint.

For the default SQLite set-up and for PostgreSQL: the same app (plus a bare JSON endpoint and
a minimal one-row-insert endpoint) is served by uvicorn and loaded from another process at
50 concurrent clients. A whole registration (event lock, capacity check, enrolments, private
links, reminders, and its confirmation email recorded in the outbox) should cost at most two
bare inserts: target ratio >= 0.5 on both. Registrations arriving together are filed in one
transaction by the registration desk (service/web/registration_desk.py).

The scheduler does not run in the served process (as with a separate `procura-events
worker`): the confirmation emails and their invites, which the outbox records for the
composing job, are composed afterwards by that job, timed and reported separately, with the
rate one process could sustain doing both.

The same load is then sent in German (`"language": "de"` and Accept-Language: de: the
registrant's stored language, their confirmation worded in German by the composing job), as
a ratio to the same one-insert endpoint: the translated path keeps the target.

usage: python benchmarks/registration.py [--requests N] [--backends sqlite,postgresql]
                                         [--language de]
Prints its figures and, last, one line of JSON with the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.http_load import load, served
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.migrate import upgrade_to_head
from service.db.models import EventKind
from service.domain import programme
from service.domain.registration import compose_welcome_emails
from service.operations import consequences
from service.settings import load_settings

CONCURRENCY = 50

consequences.wire()  # programme edits below announce what follows, as in the app
# The served app and the composing job afterwards derive private links from the same key.
SECRET_KEY = "benchmark"  # noqa: S105 (a throwaway installation)
SLUG = "benchmark-webinar-series"


async def _prepare(database_url: str, var_dir: Path) -> None:
    settings = load_settings(database_url=database_url, var_dir=var_dir)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    start = (now + timedelta(days=30)).astimezone(UTC).replace(hour=9, minute=0, second=0,
                                                               microsecond=0)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            event = await programme.create_event(
                db, programme.EventCreate(kind=EventKind.WEBINAR_SERIES,
                                          title="Benchmark webinar series", slug=SLUG),
                now=now)
            for day in (0, 7):
                begins = start + timedelta(days=day)
                await programme.add_session(
                    db, event.id,
                    programme.SessionCreate(
                        title=f"Session {day}", starts_at=begins.isoformat(),
                        ends_at=(begins + timedelta(minutes=90)).isoformat(),
                        join_url="https://meet.example.org/bench",
                    ),
                    now=now, settings=settings)
            await programme.publish_event(db, event.id, now=now)
    finally:
        await engine.dispose()


async def _compose_all(database_url: str, var_dir: Path) -> tuple[int, float]:
    """Run the composing job over every welcome email the load recorded: (emails, seconds)."""
    settings = load_settings(database_url=database_url, var_dir=var_dir, secret_key=SECRET_KEY)
    engine = create_engine(database_url)
    composed = 0
    started = time.perf_counter()
    try:
        while True:
            async with session_scope(make_sessionmaker(engine)) as db:
                report = await compose_welcome_emails(db, now=datetime.now(UTC),
                                                      settings=settings)
            composed += report.composed
            if not report.claimed:
                return composed, time.perf_counter() - started
    finally:
        await engine.dispose()


def _measure(name: str, database_url: str, requests: int, language: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="procura-bench-") as tmp:
        var_dir = Path(tmp)
        upgrade_to_head(database_url)
        asyncio.run(_prepare(database_url, var_dir))
        # Every request comes from one address: the per-address limit is lifted, not turned
        # off, so each registration still pays for being counted.
        env = {"PROCURA_DATABASE_URL": database_url, "PROCURA_VAR_DIR": str(var_dir),
               "PROCURA_RUN_SCHEDULER": "false", "PROCURA_SECRET_KEY": SECRET_KEY,
               "PROCURA_REGISTRATION_RATE_LIMIT": "1000000000"}
        with served("benchmarks.bench_app:make_app", env) as base:
            load(base, "ping", requests=500, concurrency=CONCURRENCY, seconds=2)  # warm-up
            load(base, "register", requests=100, concurrency=CONCURRENCY, target=SLUG, seconds=2)
            ping = load(base, "ping", requests=requests * 2, concurrency=CONCURRENCY)
            insert = load(base, "insert", requests=requests, concurrency=CONCURRENCY)
            register = load(base, "register", requests=requests, concurrency=CONCURRENCY,
                            target=SLUG)
            translated = load(base, "register", requests=requests, concurrency=CONCURRENCY,
                              target=SLUG, language=language)
        composed, compose_seconds = asyncio.run(_compose_all(database_url, var_dir))
    for label, result in (("bare JSON", ping), ("one-row insert", insert),
                          ("registration", register), (f"registration {language}", translated)):
        print(f"{name:>10} {label:>15}: {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
              f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}")
    ratio = register.rate / insert.rate
    translated_ratio = translated.rate / insert.rate
    compose_rate = composed / compose_seconds
    print(f"{name:>10} registration / one-row insert = {ratio:.2f} (target >= 0.5)")
    print(f"{name:>10} registration in {language} / one-row insert = {translated_ratio:.2f} "
          "(target >= 0.5)")
    # Not part of the ratio: the confirmation emails (and invites) are composed by the
    # scheduler's job after the commit. Its rate, and the rate at which one process could
    # sustain both stages, say what that deferral costs.
    sustained = 1 / (1 / register.rate + 1 / compose_rate)
    print(f"{name:>10} composing job afterwards: {composed} welcome emails (half of them in "
          f"{language}) in "
          f"{compose_seconds:.1f} s = {compose_rate:.0f}/s; both stages in one process: "
          f"{sustained:.0f} registrations/s")
    return {"registrations_per_s": round(register.rate, 1), "inserts_per_s": round(insert.rate, 1),
            "bare_json_per_s": round(ping.rate, 1), "ratio": round(ratio, 3),
            "translated_registrations_per_s": round(translated.rate, 1),
            "translated_ratio": round(translated_ratio, 3),
            "p50_ms": round(register.p50_ms, 1), "p99_ms": round(register.p99_ms, 1),
            "composed_per_s": round(compose_rate, 1),
            "sustained_with_composing_per_s": round(sustained, 1),
            "errors": register.errors + insert.errors + translated.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--language", default="de", help="the translated run's language")
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="procura-bench-db-") as tmp:
                figures["sqlite"] = _measure(
                    "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.requests, args.language)
        elif backend == "postgresql":
            from tests.databases import start_postgres

            server = start_postgres()
            try:
                figures["postgresql"] = _measure("postgresql", server.admin_url, args.requests,
                                                 args.language)
            finally:
                server.stop()
    print(json.dumps({"benchmark": "registration", **{
        f"{name}_ratio": values["ratio"] for name, values in figures.items()}, **{
        f"{name}_{args.language}_ratio": values["translated_ratio"]
        for name, values in figures.items()}, "figures": figures}))


if __name__ == "__main__":
    main()
