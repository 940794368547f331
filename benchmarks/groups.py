"""A member's personal group feed with 20 meeting series of two years each, against the same
feed with those occurrences written out as single events: same app, same run.

The group (Europe/Brussels) has 20 monthly series ("the nth weekday of every month, at a
set hour"), each two years long (24 occurrences), each with two occurrences moved and one
cancelled, made through the domain functions (`create_series`, `move_occurrence`,
`cancel_occurrence`) on a SQLite file. One app serves both feeds: the real
`/groups/feed/{token}.ics` (one VEVENT with RRULE per series, EXDATEs, a RECURRENCE-ID
VEVENT per moved occurrence), and `/bench/groups/written-out/{token}.ics`, which reads the
very same rows through the same `member_feed` and writes every occurrence still taking
place as a VEVENT of its own (the calendar the issue says a series replaces).

Measured, round after round so the machine's other load weighs on both alike:
1. in-process time to read and build each body (median of many builds, no HTTP): cold,
   with the caches of serialised events and expanded rules emptied before each build (the
   first request after a change), and warm (the same feed polled again);
2. over HTTP (uvicorn in its own process; personal feeds are never cached, so each request
   reads and builds): the median time of one request, the two feeds asked in turn, one
   request at a time (the fairest measure on a shared machine: load that comes and goes
   weighs on both alike), and requests per second under wrk (or the Python client) at a
   fixed concurrency, in rounds.
Target: the series feed costs at most 0.5 of the written-out one (time per request), and
its body is smaller. Prints its figures and, last, one line of JSON.

usage: .venv/bin/python benchmarks/groups.py [--series 20] [--seconds 2] [--rounds 7]
                                            [--builds 30] [--pairs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from litestar import Litestar, Response, get

from benchmarks.bench_app import make_app as make_bench_app
from benchmarks.http_load import LoadResult, load, served
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.migrate import upgrade_to_head
from service.db.models import (
    AccessPurpose,
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    SessionMode,
)
from service.domain import access
from service.domain.calendars import group_series, ical
from service.domain.calendars.feeds import REFRESH_INTERVAL
from service.domain.calendars.group_series import SeriesEntry
from service.domain.calendars.ical import CalendarEntry, build_calendar
from service.domain.groups import (
    RecurrenceRule,
    cancel_occurrence,
    create_series,
    move_occurrence,
    recurrence,
)
from service.domain.groups.recurrence import recurrence_starts
from service.domain.groups.series_calendars import GroupFeed, member_feed
from service.settings import Settings, load_settings
from service.web.params import DbSession, PathText, SettingsDep

CONCURRENCY = 16
SECRET_KEY = "benchmark"  # noqa: S105 (a throwaway installation)
ZONE = "Europe/Brussels"


# --- the baseline: the same rows, every occurrence written out ----------------------------------


def written_out(entries: tuple[SeriesEntry, ...]) -> list[CalendarEntry]:
    """Every occurrence still taking place as an event of its own (its own UID)."""
    found: list[CalendarEntry] = []
    for series in entries:
        master = series.master
        length = master.ends_at - master.starts_at
        moved = {o.recurrence_id: o.entry for o in series.overrides}
        cancelled = set(series.exdates)
        for start in recurrence_starts(series.rrule, master.starts_at, master.timezone):
            if start in cancelled:
                continue
            own = moved.get(start)
            uid = master.uid.replace("@", f"-{start:%Y%m%dT%H%M%SZ}@")
            found.append(CalendarEntry(
                uid=uid, sequence=(own or master).sequence, summary=master.summary,
                description=(own or master).description,
                starts_at=own.starts_at if own else start,
                ends_at=own.ends_at if own else start + length, timezone=master.timezone,
                location=master.location, url=master.url, categories=master.categories,
                organizer_email=master.organizer_email, organizer_name=master.organizer_name,
                conference_url=(own or master).conference_url))
    return found


def written_out_body(feed: GroupFeed) -> bytes:
    stamp = feed.plan.last_modified or datetime.now(UTC)
    return build_calendar(written_out(feed.entries), now=stamp, name=feed.plan.name,
                          refresh_interval=REFRESH_INTERVAL,
                          default_timezone=feed.plan.default_timezone)


@get("/bench/groups/written-out/{name:str}")
async def written_out_feed(db_session: DbSession, settings: SettingsDep, name: PathText
                           ) -> Response[bytes]:
    feed = await member_feed(db_session, name.removesuffix(".ics"), settings=settings)
    return Response(content=written_out_body(feed), media_type="text/calendar")


def make_app() -> Litestar:
    app = make_bench_app()
    app.register(written_out_feed)
    return app


# --- the data -------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


async def _prepare(database_url: str, settings: Settings, count: int) -> str:
    """The group, one member and `count` series with their changes; the member's feed token."""
    engine = create_engine(database_url)
    now = datetime(2026, 1, 1, 8, tzinfo=UTC)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            group = InterestGroup(slug="bench-group", topic="Socially responsible ICT",
                                  visibility=GroupVisibility.MEMBERS, timezone=ZONE,
                                  starts_on=date(2026, 1, 1), created_at=now, updated_at=now)
            db.add(group)
            await db.flush()
            member = GroupMember(group_id=group.id, name="Ana Silva", email="ana@bench.example.org",
                                 email_normalised="ana@bench.example.org",
                                 organisation_name="Lisboa", status=GroupMemberStatus.MEMBER,
                                 created_at=now, updated_at=now)
            db.add(member)
            await db.flush()
            for number in range(count):
                weekday, nth, hour = number % 5, number % 4 + 1, 9 + number % 7
                first = _nth_weekday(2026, 2, weekday, nth)
                rule = RecurrenceRule("monthly", weekday=weekday, ordinal=nth, count=24)
                series = await create_series(
                    db, group, title=f"Working group call {number + 1}",
                    starts_at_local=f"{first.isoformat()}T{hour:02d}:00", duration_minutes=90,
                    rule=rule, mode=SessionMode.ONLINE,
                    join_url=f"https://meet.example.org/bench-{number}",
                    agenda="Round of news; the procurement plan; next steps.", now=now,
                    settings=settings)
                starts = recurrence_starts(series.recurrence, series.starts_at, ZONE)
                for moved in (starts[3], starts[15]):
                    later = (moved + timedelta(days=2)).astimezone(UTC)
                    await move_occurrence(db, series, moved, starts_at_local=later, now=now,
                                          settings=settings)
                await cancel_occurrence(db, series, starts[9], now=now, settings=settings)
            return await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_FEED,
                                                   secret_key=settings.secret_key, now=now)
    finally:
        await engine.dispose()


def _forget() -> None:
    """A cold build: no serialised event or expanded rule kept from an earlier one."""
    group_series._feed_events.cache_clear()
    ical._shared_event.cache_clear()
    recurrence._starts.cache_clear()


async def _build_times(database_url: str, settings: Settings, token: str, builds: int, *,
                       cold: bool) -> tuple[float, float, int, int, int]:
    """Median ms to read + build each body in-process (`cold`: the caches of serialised
    events emptied first, as after a change); both sizes; occurrences written out."""
    engine = create_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            series_ms: list[float] = []
            written_ms: list[float] = []
            for _ in range(builds):
                if cold:
                    _forget()
                started = time.perf_counter()
                feed = await member_feed(db, token, settings=settings)
                series_body = feed.body()
                series_ms.append((time.perf_counter() - started) * 1000)
                if cold:
                    _forget()
                started = time.perf_counter()
                feed = await member_feed(db, token, settings=settings)
                written_body = written_out_body(feed)
                written_ms.append((time.perf_counter() - started) * 1000)
            events = len(written_out(feed.entries))
    finally:
        await engine.dispose()
    return (statistics.median(series_ms), statistics.median(written_ms), len(series_body),
            len(written_body), events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2.0, help="per feed and round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--builds", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=200, help="requests of each, in turn")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="procura-bench-groups-") as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        var_dir = Path(tmp)
        settings = load_settings(database_url=database_url, var_dir=var_dir,
                                 secret_key=SECRET_KEY)
        upgrade_to_head(database_url)
        token = asyncio.run(_prepare(database_url, settings, args.series))
        cold_series, cold_written, _, _, _ = asyncio.run(
            _build_times(database_url, settings, token, args.builds, cold=True))
        series_ms, written_ms, series_bytes, written_bytes, events = asyncio.run(
            _build_times(database_url, settings, token, args.builds, cold=False))
        print(f"{args.series} series, {events} occurrences taking place")
        print(f"in-process read + build, cold: series feed {cold_series:.1f} ms, written out "
              f"{cold_written:.1f} ms, ratio {cold_series / cold_written:.3f} (target <= 0.5)")
        print(f"in-process read + build, warm: series feed {series_ms:.1f} ms, written out "
              f"{written_ms:.1f} ms, ratio {series_ms / written_ms:.3f} (target <= 0.5)")
        print(f"bodies: series feed {series_bytes} bytes, written out {written_bytes} bytes, "
              f"ratio {series_bytes / written_bytes:.3f} (target < 1)")
        env = {"PROCURA_DATABASE_URL": database_url, "PROCURA_VAR_DIR": str(var_dir),
               "PROCURA_RUN_SCHEDULER": "false", "PROCURA_SECRET_KEY": SECRET_KEY}
        targets = {"series feed": f"/groups/feed/{token}.ics",
                   "written out": f"/bench/groups/written-out/{token}.ics"}
        with served("benchmarks.groups:make_app", env) as base:
            for target in targets.values():  # each answers as it should before it is timed
                answer = httpx.get(f"{base}{target}")
                if answer.status_code != 200 or b"BEGIN:VEVENT" not in answer.content:
                    raise RuntimeError(f"{target} answered {answer.status_code}")
            times: dict[str, list[float]] = {label: [] for label in targets}
            with httpx.Client(base_url=base, timeout=30) as client:
                for _ in range(args.pairs):
                    for label, target in targets.items():
                        started = time.perf_counter()
                        client.get(target).raise_for_status()
                        times[label].append((time.perf_counter() - started) * 1000)
            runs: dict[str, list[LoadResult]] = {label: [] for label in targets}
            for _ in range(args.rounds):
                for label, target in targets.items():
                    runs[label].append(load(base, "get", requests=1000, concurrency=CONCURRENCY,
                                            target=target, seconds=args.seconds))
            results = {label: sorted(found, key=lambda r: r.rate)[len(found) // 2]
                       for label, found in runs.items()}
    for label, found in runs.items():
        print(f"HTTP {label:>12}, each round: "
              + ", ".join(f"{r.rate:.1f}" for r in found) + " req/s")
    for label, result in results.items():
        print(f"HTTP {label:>12}: {result.rate:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
              f"p99 {result.p99_ms:7.1f} ms  errors {result.errors}")
    one = {label: statistics.median(found) for label, found in times.items()}
    one_ratio = one["series feed"] / one["written out"]
    print(f"HTTP one request at a time, median: series feed {one['series feed']:.1f} ms, "
          f"written out {one['written out']:.1f} ms, ratio {one_ratio:.3f} (target <= 0.5)")
    http_ratio = results["written out"].rate / results["series feed"].rate
    print(f"HTTP under load, cost per request (inverse rates), series feed / written out = "
          f"{http_ratio:.3f} (target <= 0.5)")
    print(json.dumps({
        "benchmark": "groups", "series": args.series, "occurrences": events,
        "cold_build_ms_series": round(cold_series, 2),
        "cold_build_ms_written_out": round(cold_written, 2),
        "cold_build_cost_ratio": round(cold_series / cold_written, 3),
        "build_ms_series": round(series_ms, 2), "build_ms_written_out": round(written_ms, 2),
        "build_cost_ratio": round(series_ms / written_ms, 3),
        "http_ms_series": round(one["series feed"], 2),
        "http_ms_written_out": round(one["written out"], 2),
        "http_one_at_a_time_cost_ratio": round(one_ratio, 3),
        "http_per_s_series": round(results["series feed"].rate, 1),
        "http_per_s_written_out": round(results["written out"].rate, 1),
        "http_cost_ratio": round(http_ratio, 3),
        "body_bytes_series": series_bytes, "body_bytes_written_out": written_bytes,
        "body_ratio": round(series_bytes / written_bytes, 3),
        "errors": sum(r.errors for r in results.values()),
    }))


if __name__ == "__main__":
    main()
