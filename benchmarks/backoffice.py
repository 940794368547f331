"""The organisers' registrations page of an event with 10,000 registrations, as a ratio to the
public event page of the same event, same app, same run.

For the default SQLite set-up and for PostgreSQL: one app (the service's own, plus the
benchmarks' bare JSON endpoint) is served by uvicorn in its own process and loaded from
another at 50 concurrent clients (wrk where installed), every request carrying the same
signed-in organiser's cookies, the public page's too, so both are served and loaded the
same way. Measured: the registrations page's first page, a filtered page (the waiting
list's status), a search, and the public event page. Target: each back-office rate divided
by the public page's rate >= 0.5. The pages are loaded in turn, round after round (3 rounds
of 5 s each by default), and each page's median round is reported, so that the machine's
other load weighs on every page alike.

The event: two webinar sessions with agendas and speakers, 10,000 registrations (most
confirmed in both sessions, some waiting, pending, cancelled), inserted in bulk through the
models; the organiser signs in through the real login form.

usage: python benchmarks/backoffice.py [--seconds S] [--rounds R]
       [--backends sqlite,postgresql] [--registrations N] [--index]
`--index` creates the index this report recommends before loading (see INDEX_DDL).
Prints its figures and, last, one line of JSON with the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import insert, select, text

from benchmarks.http_load import LoadResult, load, served
from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.db.migrate import upgrade_to_head
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    EventKind,
    OrganisationKind,
    Registration,
    RegistrationStatus,
)
from service.domain import programme
from service.domain.accounts import create_account, default_team_id
from service.operations import consequences
from service.settings import load_settings
from service.web.backoffice.guards import SESSION_COOKIE

CONCURRENCY = 50
SECRET_KEY = "benchmark"  # noqa: S105 (a throwaway installation)
SLUG = "benchmark-registrations"
ORGANISER_EMAIL = "organiser@bench.example.org"
ORGANISER_PASSWORD = "quarry-lantern-velvet-41"  # noqa: S105 (a throwaway account)
# The index the registrations list wants for its default order (arrival) at this size.
INDEX_DDL = ("CREATE INDEX ix_registrations_event_created ON registrations "
             "(event_id, created_at, id)")
STATUSES = ([RegistrationStatus.CONFIRMED] * 16 + [RegistrationStatus.WAITING] * 2
            + [RegistrationStatus.PENDING, RegistrationStatus.CANCELLED])
CITIES = ("Gent", "Lyon", "Porto", "Malmö", "Oslo", "Bonn", "Lisboa", "Barcelona", "Torino",
          "Wien", "Praha", "Kraków", "Aarhus", "Tampere", "Cork", "Utrecht")

consequences.wire()  # programme edits below announce what follows, as in the app


async def _prepare(database_url: str, var_dir: Path, registrations: int, index: bool) -> int:
    """The event with its sessions and agendas, then the registrations in bulk; its id."""
    settings = load_settings(database_url=database_url, var_dir=var_dir, secret_key=SECRET_KEY)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    start = (now + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    rnd = random.Random(12)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            if index:
                await db.execute(text(INDEX_DDL))
            event = await programme.create_event(
                db, programme.EventCreate(kind=EventKind.WEBINAR_SERIES, capacity=registrations,
                                          title="Benchmark webinar series", slug=SLUG,
                                          summary="Two webinars on fair ICT procurement."),
                now=now)
            speakers = [
                await programme.create_person(
                    db, programme.PersonCreate(name=f"Speaker {n}", email=None), now=now)
                for n in range(4)
            ]
            session_ids = []
            for day in (0, 7):
                begins = start + timedelta(days=day)
                session = await programme.add_session(
                    db, event.id,
                    programme.SessionCreate(
                        title=f"Session {day}", starts_at=begins.isoformat(),
                        ends_at=(begins + timedelta(minutes=90)).isoformat(),
                        join_url="https://meet.example.org/bench"),
                    now=now, settings=settings)
                session_ids.append(session.id)
                for slot in range(4):
                    item_start = begins + timedelta(minutes=20 * slot)
                    await programme.add_agenda_item(
                        db, session.id,
                        programme.AgendaItemCreate(
                            starts_at=item_start.isoformat(),
                            ends_at=(item_start + timedelta(minutes=20)).isoformat(),
                            title=f"Talk {slot + 1}",
                            speakers=[programme.SpeakerRef(person_id=speakers[slot].id)]),
                        now=now, settings=settings)
            await programme.publish_event(db, event.id, now=now)
            event_id = event.id
        async with session_scope(make_sessionmaker(engine)) as db:
            rows = []
            for number in range(registrations):
                status = rnd.choice(STATUSES)
                city = CITIES[number % len(CITIES)]
                address = f"person{number}@{city.lower()}.example.org"
                at = now - timedelta(days=20) + timedelta(seconds=number * 60)
                rows.append({
                    "event_id": event_id, "status": status,
                    "name": f"{rnd.choice(('Ana', 'Ben', 'Cleo', 'Dirk', 'Eva', 'Finn'))} "
                            f"Person{number}",
                    "email": address, "email_normalised": address,
                    "organisation_name": f"City of {city}",
                    "organisation_kind": OrganisationKind.PUBLIC_AUTHORITY, "country": "BE",
                    "consent_at": at, "is_whole_event": True,
                    "waiting_since": at if status == RegistrationStatus.WAITING else None,
                    "created_at": at, "updated_at": at,
                })
            await db.execute(insert(Registration), rows)
            ids = list(await db.scalars(select(Registration.id).where(
                Registration.event_id == event_id, Registration.status.in_(
                    (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING))
            ).order_by(Registration.id)))
            await db.execute(insert(Enrolment), [
                {"registration_id": rid, "session_id": sid, "status": EnrolmentStatus.CONFIRMED,
                 "created_at": now, "updated_at": now}
                for rid in ids for sid in session_ids
            ])
            # Fresh statistics, as a database in use has them.
            await db.execute(text("ANALYZE"))
        await _create_organiser(database_url)
        return event_id
    finally:
        await engine.dispose()


async def _create_organiser(database_url: str) -> None:
    """The organiser the load signs in as: a member of the team that owns the event (an
    organiser, not an admin, so the team check runs as it does for most people)."""
    engine = create_engine(database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            team = await default_team_id(db)
            await create_account(db, email=ORGANISER_EMAIL, name="Benchmark Organiser",
                                 role="organiser", password=ORGANISER_PASSWORD,
                                 team_ids=[team] if team is not None else [],
                                 now=datetime.now(UTC))
    finally:
        await engine.dispose()


def _sign_in(base: str) -> str:
    """Sign in through the sign-in form, as a browser does; the Cookie header every
    request then carries."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as browser:
        form = browser.get("/organiser/login")
        token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
        if token is None:
            raise RuntimeError("the sign-in page has no form token")
        answer = browser.post("/organiser/login", data={
            "_csrf": token.group(1), "email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
        session = answer.cookies.get(SESSION_COOKIE)
        if answer.status_code != 303 or not session:
            raise RuntimeError(f"signing in answered {answer.status_code}")
        return f"{SESSION_COOKIE}={session}"


def _measure(name: str, database_url: str, seconds: float, registrations: int,
             index: bool, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="procura-bench-") as tmp:
        var_dir = Path(tmp)
        upgrade_to_head(database_url)
        event_id = asyncio.run(_prepare(database_url, var_dir, registrations, index))
        env = {"PROCURA_DATABASE_URL": database_url, "PROCURA_VAR_DIR": str(var_dir),
               "PROCURA_RUN_SCHEDULER": "false", "PROCURA_SECRET_KEY": SECRET_KEY}
        page = f"/organiser/events/{event_id}/registrations"
        targets = {
            "public event page": f"/events/{SLUG}",
            "registrations, first page": page,
            "registrations, waiting": f"{page}?{urlencode({'status': 'waiting'})}",
            "registrations, search": f"{page}?{urlencode({'q': 'malmö'})}",
        }
        with served("benchmarks.bench_app:make_app", env) as base:
            cookie = _sign_in(base)
            for target in targets.values():  # each answers as it should before it is timed
                response = httpx.get(f"{base}{target}", headers={"Cookie": cookie})
                if response.status_code != 200:
                    raise RuntimeError(f"{target} answered {response.status_code}")
            load(base, "get", requests=200, concurrency=CONCURRENCY, target=targets[
                "public event page"], seconds=2, cookie=cookie)  # warm-up
            # Round after round, each page in turn: the machine's other load, which comes
            # and goes, weighs on every page alike; each page's median round counts.
            runs: dict[str, list[LoadResult]] = {label: [] for label in targets}
            for _ in range(rounds):
                for label, target in targets.items():
                    runs[label].append(load(base, "get", requests=2000, concurrency=CONCURRENCY,
                                            target=target, seconds=seconds, cookie=cookie))
            results = {label: sorted(found, key=lambda r: r.rate)[len(found) // 2]
                       for label, found in runs.items()}
    public = results["public event page"]
    for label, result in results.items():
        print(f"{name:>10} {label:>26}: {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
              f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}")
    figures: dict[str, float] = {"public_per_s": round(public.rate, 1)}
    for label, key in (("registrations, first page", "first_page"),
                       ("registrations, waiting", "filtered"),
                       ("registrations, search", "search")):
        ratio = results[label].rate / public.rate
        print(f"{name:>10} {label} / public event page = {ratio:.2f} (target >= 0.5)")
        figures[f"{key}_per_s"] = round(results[label].rate, 1)
        figures[f"{key}_ratio"] = round(ratio, 3)
    figures["errors"] = sum(r.errors for r in results.values())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--index", action="store_true",
                        help="create the recommended index first: " + INDEX_DDL)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="procura-bench-db-") as tmp:
                figures["sqlite"] = _measure("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db",
                                             args.seconds, args.registrations, args.index,
                                             args.rounds)
        elif backend == "postgresql":
            from tests.databases import start_postgres

            server = start_postgres()
            try:
                figures["postgresql"] = _measure("postgresql", server.admin_url, args.seconds,
                                                 args.registrations, args.index, args.rounds)
            finally:
                server.stop()
    print(json.dumps({"benchmark": "backoffice", "index": args.index, **{
        f"{name}_{key}": values[key] for name, values in figures.items()
        for key in ("first_page_ratio", "filtered_ratio", "search_ratio")},
        "figures": figures}))


if __name__ == "__main__":
    main()
