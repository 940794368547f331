"""Benchmark of the calendar feeds (issue 4): cold render, warm requests, personal feeds.

For each programme size (1,000 and 10,000 sessions by default) it builds a temporary SQLite
database straight through the models (bulk inserts), then measures:

1. Cold render of `/feeds/programme.ics` in-process (plan + load + entries + iCalendar, no
   cache), as a ratio to serialising the very same events directly with icalendar (classic
   `add()` calls, no validation, no VTIMEZONE) in the same run. Target: <= 1.5. Then the
   same in German (`?lang=de`, every event, session and agenda item title translated): the
   translated path keeps the target.
2. Warm request rate: uvicorn (uvloop, httptools, one worker) on 127.0.0.1 in a subprocess,
   loaded by an httpx async client at fixed concurrency for a fixed number of requests:
   conditional GETs of the programme feed (answered 304) as a ratio to a minimal JSON
   endpoint of the same app. Target: >= 0.8. Also the unconditional rate (cached body).
3. A registrant's and a speaker's personal feed: time per request (plan only, as for a 304,
   and plan + render) at each size; the 10,000 / 1,000 ratio shows whether it stays flat.

Prints its figures and, last, one line of JSON with the ratios.

    .venv/bin/python benchmarks/feeds.py [--sizes 1000 10000] [--requests 3000]
                                         [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar, vCalAddress
from icalendar import Event as IcalEvent
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, make_sessionmaker
from service.db.migrate import upgrade_to_head
from service.db.models import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemSpeaker,
    ContentTranslation,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    Organisation,
    OrganisationKind,
    Person,
    Registration,
    RegistrationStatus,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain.calendars import feeds
from service.domain.calendars.ical import CalendarEntry
from service.i18n import use_language
from service.settings import Settings, load_settings

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
SESSIONS_PER_EVENT = 5
ITEMS_PER_SESSION = 3
PERSONS = 500
ORGANISATIONS = 100
KINDS = list(EventKind)
SECRET_KEY = "benchmark-secret-key-not-for-production"  # noqa: S105 (a throwaway database)


def _settings(database_url: str, var_dir: Path, base_url: str = "http://events.bench") -> Settings:
    return load_settings(
        database_url=database_url, public_base_url=base_url, secret_key=SECRET_KEY,
        var_dir=var_dir, maildir_path=var_dir / "maildir", run_scheduler=False,
    )


# --- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    registration_feed: str
    speaker_feed: str


async def populate(settings: Settings, sessions: int) -> Tokens:
    """The programme, bulk-inserted through the models; one registrant and one speaker."""
    engine = create_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    stamp = {"created_at": NOW, "updated_at": NOW}
    events = sessions // SESSIONS_PER_EVENT
    async with maker() as db:
        await db.execute(insert(Organisation), [
            {"id": o + 1, "name": f"Organisation {o + 1}", "kind": OrganisationKind.PUBLIC_AUTHORITY,
             "country": "BE", **stamp}
            for o in range(ORGANISATIONS)
        ])
        await db.execute(insert(Person), [
            {"id": p + 1, "name": f"Speaker {p + 1}", "organisation_id": p % ORGANISATIONS + 1,
             **stamp}
            for p in range(PERSONS + 1)
        ])
        await db.execute(insert(Event), [
            {"id": e + 1, "kind": KINDS[e % len(KINDS)], "title": f"Procurement event {e + 1}",
             "slug": f"event-{e + 1}", "summary": "", "description": "",
             "timezone": "Europe/Brussels", "status": EventStatus.PUBLISHED,
             "contact_email": "events@procura.example.org", "venue_name": "City hall",
             "venue_city": "Brussels", "venue_country": "BE", "is_approval_required": False,
             "allows_session_choice": True, "is_sample_data": False, "published_at": NOW, **stamp}
            for e in range(events)
        ])
        session_rows: list[dict[str, Any]] = []
        item_rows: list[dict[str, Any]] = []
        speaker_rows: list[dict[str, Any]] = []
        for s in range(sessions):
            day = datetime(2026, 1, 5, tzinfo=BRUSSELS) + timedelta(days=s // 4)
            local = day.replace(hour=9 + 2 * (s % 4))
            starts = local.astimezone(UTC)
            cancelled = s % 50 == 49
            session_rows.append({
                "id": s + 1, "event_id": s // SESSIONS_PER_EVENT + 1,
                "title": f"Session {s + 1}: tendering for circular ICT, part {s % 7 + 1}",
                "description": "How public buyers write social and circular criteria.",
                "starts_at": starts, "ends_at": starts + timedelta(minutes=90),
                "mode": SessionMode.ONLINE if s % 2 else SessionMode.IN_PERSON,
                "join_url": f"https://meet.example.org/room-{s + 1}" if s % 2 else None,
                "status": SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED,
                "cancelled_at": NOW if cancelled else None, "sequence": 1 if cancelled else 0,
                **stamp,
            })
            for i in range(ITEMS_PER_SESSION):
                item_id = s * ITEMS_PER_SESSION + i + 1
                item_start = starts + timedelta(minutes=30 * i)
                item_rows.append({
                    "id": item_id, "session_id": s + 1, "starts_at": item_start,
                    "ends_at": item_start + timedelta(minutes=30),
                    "title": f"Case study {i + 1}: what the market answered", "description": "",
                    "kind": AgendaItemKind.TALK, "sequence": 0, **stamp,
                })
                person = (item_id * 7) % PERSONS + 1
                speaker_rows.append({"agenda_item_id": item_id, "person_id": person,
                                     "organisation_id": (person - 1) % ORGANISATIONS + 1,
                                     "position": 0})
        # The benchmarked speaker: three slots, wherever the programme ends.
        speaker_id = PERSONS + 1
        for item_id in (2, 8, 14):
            speaker_rows.append({"agenda_item_id": item_id, "person_id": speaker_id,
                                 "organisation_id": 1, "position": 1})
        await db.execute(insert(Session), session_rows)
        await db.execute(insert(AgendaItem), item_rows)
        await db.execute(insert(AgendaItemSpeaker), speaker_rows)
        # Every title also in German: the translated feed's worst case.
        translation_rows = [
            {"event_id": e + 1, "target": "event", "language": "de", "field": "title",
             "text": f"Beschaffungsveranstaltung {e + 1}", "updated_at": NOW}
            for e in range(events)]
        translation_rows += [
            {"event_id": row["event_id"], "session_id": row["id"], "target": f"session-{row['id']}",
             "language": "de", "field": "title", "updated_at": NOW,
             "text": f"Sitzung {row['id']}: Ausschreibungen für kreislauffähige IKT"}
            for row in session_rows]
        translation_rows += [
            {"event_id": (row["session_id"] - 1) // SESSIONS_PER_EVENT + 1,
             "agenda_item_id": row["id"], "target": f"agenda-item-{row['id']}",
             "language": "de", "field": "title", "updated_at": NOW,
             "text": "Fallstudie: was der Markt antwortete"}
            for row in item_rows]
        await db.execute(insert(ContentTranslation), translation_rows)
        await db.execute(insert(Registration), [{
            "id": 1, "event_id": 1, "status": RegistrationStatus.CONFIRMED, "name": "Anna Buyer",
            "email": "anna@city.example", "email_normalised": "anna@city.example",
            "organisation_name": "City of Example", "consent_at": NOW, "is_whole_event": False,
            **stamp,
        }])
        await db.execute(insert(Enrolment), [
            {"registration_id": 1, "session_id": s, "status": EnrolmentStatus.CONFIRMED, **stamp}
            for s in (1, 2, 4)
        ])
        tokens = Tokens(
            registration_feed=await feeds.issue_registration_feed_token(
                db, 1, now=NOW, settings=settings),
            speaker_feed=await feeds.issue_speaker_feed_token(
                db, speaker_id, now=NOW, settings=settings),
        )
        await db.commit()
    await engine.dispose()
    return tokens


# --- 1. cold render ---------------------------------------------------------------------------


def raw_icalendar(entries: Sequence[CalendarEntry], now: datetime) -> bytes:
    """The same VEVENTs written straight with icalendar: the floor for any feed builder."""
    cal = Calendar()
    cal.add("prodid", "-//Benchmark//EN")
    cal.add("version", "2.0")
    for entry in entries:
        zone = ZoneInfo(entry.timezone)
        event = IcalEvent()
        event.add("uid", entry.uid)
        event.add("sequence", entry.sequence)
        event.add("dtstamp", now)
        event.add("dtstart", entry.starts_at.astimezone(zone))
        event.add("dtend", entry.ends_at.astimezone(zone))
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        if entry.location:
            event.add("location", entry.location)
        if entry.url:
            event.add("url", entry.url)
        event.add("categories", list(entry.categories))
        event.add("status", entry.status)
        if entry.organizer_email:
            organizer = vCalAddress("mailto:" + entry.organizer_email)
            organizer.params["CN"] = entry.organizer_name or ""
            event.add("organizer", organizer)
        if entry.created_at:
            event.add("created", entry.created_at)
        if entry.last_modified_at:
            event.add("last-modified", entry.last_modified_at)
        cal.add_component(event)
    body: bytes = cal.to_ical()
    return body


@dataclass
class ColdFigures:
    plan_s: float
    load_s: float
    build_s: float
    raw_s: float
    body_bytes: int
    events: int

    @property
    def total_s(self) -> float:
        return self.plan_s + self.load_s + self.build_s

    @property
    def ratio(self) -> float:
        return self.total_s / self.raw_s


async def measure_cold(settings: Settings, repeats: int, language: str = "en") -> ColdFigures:
    """Best of `repeats`, ours and icalendar's alternating (the machine may be shared). In
    another `language` than English, the feed asked for with `?lang=`: its words in that
    language, every title from the translations."""
    with use_language(language):
        return await _measure_cold(settings, repeats, None if language == "en" else language)


async def _measure_cold(settings: Settings, repeats: int, language: str | None) -> ColdFigures:
    engine = create_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    runs: list[ColdFigures] = []
    for _ in range(repeats):
        async with maker() as db:
            t0 = time.perf_counter()
            plan = await feeds.programme_feed(db, now=NOW, settings=settings, language=language)
            t1 = time.perf_counter()
            entries = await feeds.feed_entries(db, plan, settings=settings)
            t2 = time.perf_counter()
            body = feeds.build_feed(plan, entries, now=NOW)
            t3 = time.perf_counter()
        raw_start = time.perf_counter()
        raw_icalendar(entries, NOW)
        raw_s = time.perf_counter() - raw_start
        runs.append(ColdFigures(t1 - t0, t2 - t1, t3 - t2, raw_s, len(body), len(entries)))
    await engine.dispose()
    best = min(runs, key=lambda run: run.total_s)
    return ColdFigures(best.plan_s, best.load_s, best.build_s, min(run.raw_s for run in runs),
                       best.body_bytes, best.events)


# --- 3. personal feeds ------------------------------------------------------------------------


@dataclass
class PersonalFigures:
    plan_ms: float
    full_ms: float
    events: int


async def measure_personal(settings: Settings, tokens: Tokens, iterations: int) -> dict[str, PersonalFigures]:
    engine = create_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    results: dict[str, PersonalFigures] = {}
    describe: dict[str, Callable[[AsyncSession], Awaitable[feeds.FeedPlan]]] = {
        "registration": lambda db: feeds.registration_feed(
            db, tokens.registration_feed, now=NOW, settings=settings),
        "speaker": lambda db: feeds.speaker_feed(
            db, tokens.speaker_feed, now=NOW, settings=settings),
    }
    for name, plan_for in describe.items():
        plan_times: list[float] = []
        full_times: list[float] = []
        events = 0
        for _ in range(iterations):
            async with maker() as db:
                t0 = time.perf_counter()
                plan = await plan_for(db)
                t1 = time.perf_counter()
                body = await feeds.render_feed(db, plan, now=NOW, settings=settings)
                t2 = time.perf_counter()
            plan_times.append(t1 - t0)
            full_times.append(t2 - t0)
            events = body.count(b"BEGIN:VEVENT")
        results[name] = PersonalFigures(
            statistics.median(plan_times) * 1000, statistics.median(full_times) * 1000, events
        )
    await engine.dispose()
    return results


# --- 2. warm requests over real HTTP ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(database_url: str, port: int, var_dir: str) -> None:
    """Subprocess: the real app plus one minimal JSON endpoint, under uvicorn."""
    import uvicorn
    from litestar import get

    from service.web.app import create_app
    from service.web.routes import EXTRA_ROUTE_HANDLERS

    @get("/bench/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    EXTRA_ROUTE_HANDLERS.append(ping)
    app = create_app(_settings(database_url, Path(var_dir), f"http://127.0.0.1:{port}"))
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                log_level="warning", access_log=False, workers=1)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadFigures:
    rate: float  # requests per second seen by the client
    server_cpu_us: float  # server CPU per request, independent of the client's speed


async def _load(
    url: str, headers: dict[str, str], total: int, concurrency: int, server_pid: int,
    expect: int,
) -> LoadFigures:
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        todo = iter(range(total))

        async def worker() -> None:
            for _ in todo:
                response = await client.get(url, headers=headers)
                statuses[response.status_code] += 1

        cpu_before = _cpu_seconds(server_pid)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(server_pid) - cpu_before
    assert set(statuses) == {expect}, statuses
    return LoadFigures(total / elapsed, cpu / total * 1e6)


@dataclass
class WarmFigures:
    json: LoadFigures
    feed_304: LoadFigures
    cached_body: LoadFigures
    first_request_s: float

    @property
    def ratio(self) -> float:
        return self.feed_304.rate / self.json.rate

    @property
    def cpu_ratio(self) -> float:
        """JSON's server CPU per request over the feed's: the rate the server alone allows."""
        return self.json.server_cpu_us / self.feed_304.server_cpu_us


async def _drive(base: str, requests: int, concurrency: int, server_pid: int) -> WarmFigures:
    async with httpx.AsyncClient(timeout=300.0) as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/bench/ping")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        start = time.perf_counter()
        first = await client.get(f"{base}/feeds/programme.ics")
        first_s = time.perf_counter() - start
        assert first.status_code == 200, first.status_code
        etag = first.headers["etag"]
    feed_url = f"{base}/feeds/programme.ics"
    ping_url = f"{base}/bench/ping"
    conditional = {"If-None-Match": etag}
    await _load(ping_url, {}, requests // 5, concurrency, server_pid, 200)  # warm both paths
    await _load(feed_url, conditional, requests // 5, concurrency, server_pid, 304)
    json_runs, feed_runs = [], []
    for _ in range(3):  # interleaved, best of three: the machine is shared
        json_runs.append(await _load(ping_url, {}, requests, concurrency, server_pid, 200))
        feed_runs.append(await _load(feed_url, conditional, requests, concurrency, server_pid, 304))
    body = await _load(feed_url, {}, max(20, requests // 100), 4, server_pid, 200)

    def best(runs: list[LoadFigures]) -> LoadFigures:
        return LoadFigures(max(r.rate for r in runs), min(r.server_cpu_us for r in runs))

    return WarmFigures(best(json_runs), best(feed_runs), body, first_s)


def measure_warm(database_url: str, var_dir: Path, requests: int, concurrency: int) -> WarmFigures:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", database_url, "--port", str(port),
         "--var-dir", str(var_dir)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        return asyncio.run(_drive(f"http://127.0.0.1:{port}", requests, concurrency, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Programme:
    size: int
    settings: Settings
    tokens: Tokens
    directory: Path


def run(sizes: Sequence[int], requests: int, concurrency: int) -> dict[str, Any]:
    summary: dict[str, Any] = {"cold_render_ratio": {}, "cold_render_ratio_de": {},
                               "warm_304_rate_ratio": {},
                               "warm_304_server_cpu_ratio": {}, "personal_feed_ms": {}}
    with tempfile.TemporaryDirectory(prefix="procura-feeds-bench-") as tmp:
        programmes: list[Programme] = []
        for size in sizes:
            directory = Path(tmp) / str(size)
            directory.mkdir()
            database_url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
            settings = _settings(database_url, directory)
            started = time.perf_counter()
            upgrade_to_head(database_url)
            tokens = asyncio.run(populate(settings, size))
            programmes.append(Programme(size, settings, tokens, directory))
            print(f"\n== {size:,} sessions ({size // SESSIONS_PER_EVENT:,} events, "
                  f"{size * ITEMS_PER_SESSION:,} agenda items, SQLite): data in "
                  f"{time.perf_counter() - started:.1f} s")

            cold = asyncio.run(measure_cold(settings, repeats=5 if size <= 2000 else 2))
            print(f"cold render: plan (validators) {cold.plan_s * 1000:.0f} ms + load and map "
                  f"{cold.load_s * 1000:.0f} ms + build_calendar {cold.build_s * 1000:.0f} ms "
                  f"= {cold.total_s:.2f} s for {cold.events:,} VEVENTs "
                  f"({cold.body_bytes / 2**20:.1f} MiB)")
            print(f"icalendar directly, same events: {cold.raw_s:.2f} s -> ratio "
                  f"{cold.ratio:.2f} (target <= 1.5); build_calendar alone "
                  f"{cold.build_s / cold.raw_s:.2f}")

            cold_de = asyncio.run(measure_cold(settings, repeats=5 if size <= 2000 else 2,
                                               language="de"))
            print(f"cold render in German (?lang=de, every title translated): "
                  f"{cold_de.total_s:.2f} s; icalendar directly, same events: "
                  f"{cold_de.raw_s:.2f} s -> ratio {cold_de.ratio:.2f} (target <= 1.5)")

            warm = measure_warm(database_url, directory, requests, concurrency)
            print(f"HTTP, uvicorn (uvloop, httptools, 1 worker) <- httpx ({concurrency} "
                  f"connections, {requests:,} requests, best of 3): first feed request "
                  f"{warm.first_request_s:.2f} s")
            print(f"  minimal JSON {warm.json.rate:,.0f}/s ({warm.json.server_cpu_us:.0f} us "
                  f"server CPU each); feed 304 {warm.feed_304.rate:,.0f}/s "
                  f"({warm.feed_304.server_cpu_us:.0f} us) -> ratio {warm.ratio:.2f} "
                  f"(target >= 0.8), server CPU ratio {warm.cpu_ratio:.2f}")
            print(f"  full cached body ({cold.body_bytes / 2**20:.1f} MiB, 4 connections): "
                  f"{warm.cached_body.rate:,.1f}/s ({warm.cached_body.server_cpu_us / 1000:.1f} ms "
                  f"server CPU each)")
            summary["cold_render_ratio"][str(size)] = round(cold.ratio, 3)
            summary["cold_render_ratio_de"][str(size)] = round(cold_de.ratio, 3)
            summary["warm_304_rate_ratio"][str(size)] = round(warm.ratio, 3)
            summary["warm_304_server_cpu_ratio"][str(size)] = round(warm.cpu_ratio, 3)

        # Personal feeds last, alternating between the sizes so that load on a shared
        # machine falls on both alike.
        print("\n== personal feeds (3 sessions each; medians of 3 x 40 requests, in-process)")
        samples: dict[int, dict[str, list[PersonalFigures]]] = {p.size: {} for p in programmes}
        for _ in range(3):
            for programme in programmes:
                measured = asyncio.run(measure_personal(programme.settings, programme.tokens, 40))
                for name, value in measured.items():
                    samples[programme.size].setdefault(name, []).append(value)
        personal = {
            size: {
                name: PersonalFigures(statistics.median(v.plan_ms for v in values),
                                      statistics.median(v.full_ms for v in values),
                                      values[0].events)
                for name, values in by_name.items()
            }
            for size, by_name in samples.items()
        }
        for size, by_name in personal.items():
            for name, figures in by_name.items():
                print(f"{size:>6,} sessions, {name} feed ({figures.events} VEVENTs): "
                      f"validators (a 304) {figures.plan_ms:.2f} ms, with rendering "
                      f"{figures.full_ms:.2f} ms")
            summary["personal_feed_ms"][str(size)] = {
                name: round(figures.full_ms, 2) for name, figures in by_name.items()
            }
    if len(sizes) >= 2:
        small, large = personal[min(sizes)], personal[max(sizes)]
        summary["personal_feed_ratio_large_vs_small"] = {
            name: round(large[name].full_ms / small[name].full_ms, 3) for name in small
        }
        summary["personal_feed_validators_ratio_large_vs_small"] = {
            name: round(large[name].plan_ms / small[name].plan_ms, 3) for name in small
        }
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.var_dir)
        return
    summary = run(args.sizes, args.requests, args.concurrency)
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
