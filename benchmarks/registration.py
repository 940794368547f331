"""Registrations per second through the HTTP API, as a ratio to a one-row insert endpoint.

For the default SQLite set-up and for PostgreSQL: the same app (plus a bare JSON endpoint and
a minimal one-row-insert endpoint) is served by uvicorn and loaded from another process at
50 concurrent clients. A whole registration (event lock, capacity check, enrolments, private
links, confirmation email with its invite written to the outbox) should cost at most two bare
inserts: target ratio >= 0.5 on both.

usage: python benchmarks/registration.py [--requests N] [--backends sqlite,postgresql]
Prints its figures and, last, one line of JSON with the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.http_load import load, served
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.migrate import upgrade_to_head
from service.db.models import EventKind
from service.domain import programme
from service.settings import load_settings

CONCURRENCY = 50
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
                db, {"kind": EventKind.WEBINAR_SERIES, "title": "Benchmark webinar series",
                     "slug": SLUG}, now=now)
            for day in (0, 7):
                begins = start + timedelta(days=day)
                await programme.add_session(
                    db, event.id,
                    {"title": f"Session {day}", "starts_at": begins.isoformat(),
                     "ends_at": (begins + timedelta(minutes=90)).isoformat(),
                     "join_url": "https://meet.example.org/bench"},
                    now=now, settings=settings)
            await programme.publish_event(db, event.id, now=now)
    finally:
        await engine.dispose()


def _measure(name: str, database_url: str, requests: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="procura-bench-") as tmp:
        var_dir = Path(tmp)
        upgrade_to_head(database_url)
        asyncio.run(_prepare(database_url, var_dir))
        env = {"PROCURA_DATABASE_URL": database_url, "PROCURA_VAR_DIR": str(var_dir),
               "PROCURA_RUN_SCHEDULER": "false", "PROCURA_SECRET_KEY": "benchmark"}
        with served("benchmarks.bench_app:make_app", env) as base:
            load(base, "ping", requests=500, concurrency=CONCURRENCY, seconds=2)  # warm-up
            load(base, "register", requests=100, concurrency=CONCURRENCY, target=SLUG, seconds=2)
            ping = load(base, "ping", requests=requests * 2, concurrency=CONCURRENCY)
            insert = load(base, "insert", requests=requests, concurrency=CONCURRENCY)
            register = load(base, "register", requests=requests, concurrency=CONCURRENCY,
                            target=SLUG)
    for label, result in (("bare JSON", ping), ("one-row insert", insert),
                          ("registration", register)):
        print(f"{name:>10} {label:>15}: {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
              f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}")
    ratio = register.rate / insert.rate
    print(f"{name:>10} registration / one-row insert = {ratio:.2f} (target >= 0.5)")
    return {"registrations_per_s": round(register.rate, 1), "inserts_per_s": round(insert.rate, 1),
            "bare_json_per_s": round(ping.rate, 1), "ratio": round(ratio, 3),
            "p50_ms": round(register.p50_ms, 1), "p99_ms": round(register.p99_ms, 1),
            "errors": register.errors + insert.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="procura-bench-db-") as tmp:
                figures["sqlite"] = _measure(
                    "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.requests)
        elif backend == "postgresql":
            from tests.databases import start_postgres

            server = start_postgres()
            try:
                figures["postgresql"] = _measure("postgresql", server.admin_url, args.requests)
            finally:
                server.stop()
    print(json.dumps({"benchmark": "registration", **{
        f"{name}_ratio": values["ratio"] for name, values in figures.items()}, "figures": figures}))


if __name__ == "__main__":
    main()
