"""Calendar feeds over real HTTP, on SQLite and PostgreSQL.

Every feed is read back by icalendar and vobject (and by ical.js, Thunderbird's parser, when
node is available): same UIDs, same UTC instants as the seed agenda. Also: edits and
SEQUENCE, cancellations, escaping and folding, private data never in public feeds, private
links and their replacement, and HTTP caching (ETag, Last-Modified, 304, HEAD), once against
a live uvicorn with httpx.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
import uvicorn
import vobject
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    AccessToken,
    AgendaItem,
    AgendaItemKind,
    AgendaItemSpeaker,
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
from service.domain import access, programme
from service.domain.auth import revoke_api_token
from service.domain.calendars import feeds
from service.operations.demo import MAKE_ICT_FAIR_SLUG, load_demo_programme
from service.settings import Settings
from tests.factories import free_port
from tests.unit.test_ical import (
    blocks,
    read_icalendar,
    read_icaljs,
    read_vobject,
    read_vobject_via_vtimezones,
    unfolded,
)

Client = AsyncTestClient[Litestar]
Instants = dict[str, tuple[datetime, datetime]]

LOAD_AT = datetime(2020, 10, 1, 8, 0, tzinfo=UTC)
CLOCK = datetime(2020, 10, 20, 8, 0, tzinfo=UTC)  # "now" for every request in this module
CALENDAR = "text/calendar; charset=utf-8"
BRUSSELS = ZoneInfo("Europe/Brussels")
UNKNOWN_FEED = {"status_code": 404, "detail": "No such calendar feed.",
                "errors": [{"field": "token", "message": "No such calendar feed."}]}


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Titles of the demo sessions and the instants the seed agenda gives them (UTC).
DEMO_INSTANTS = {
    "On the way towards social criteria": (_utc(2020, 11, 9, 9, 0), _utc(2020, 11, 9, 10, 45)),
    "Keeping social criteria alive": (_utc(2020, 12, 10, 9, 0), _utc(2020, 12, 10, 10, 30)),
    "Day 1: Interest groups and awards": (_utc(2027, 6, 15, 7, 0), _utc(2027, 6, 15, 15, 30)),
    "Day 2: Policy and practice": (_utc(2027, 6, 16, 7, 0), _utc(2027, 6, 16, 11, 0)),
    "Study visit day": (_utc(2027, 3, 18, 8, 0), _utc(2027, 3, 18, 16, 0)),
    "Market dialogue": (_utc(2027, 1, 26, 12, 0), _utc(2027, 1, 26, 15, 30)),
    "Buying refurbished": (_utc(2027, 2, 11, 9, 0), _utc(2027, 2, 11, 10, 30)),  # CET
    "Repairability and take-back": (_utc(2027, 6, 10, 8, 0), _utc(2027, 6, 10, 9, 30)),  # CEST
}


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(CLOCK, tick=False):
        yield


# --- builders and readers -------------------------------------------------------------------


async def _load_demo(db: AsyncSession, settings: Settings) -> dict[str, int]:
    """The demo programme; returns session ids by the start of their title."""
    await load_demo_programme(db, now=LOAD_AT, settings=settings)
    await db.commit()
    rows = (await db.execute(select(Session.id, Session.title))).all()
    return {prefix: id_ for id_, title in rows for prefix in DEMO_INSTANTS
            if title.startswith(prefix)}


ICLEI = "ICLEI Local Governments for Sustainability"
PAULA = ("Paula Land", ICLEI)
# A part of the demo programme, written straight through the models (loading the whole demo
# through the programme rules takes seconds; only the seed test below needs all of it):
# event kind, title, slug, venue, sessions (title, local start, local end, mode, join link,
# agenda items (local start, local end, title, speakers)).
Venue = tuple[str, str, str, str]  # name, address, city, country
SMALL_PROGRAMME: list[tuple[EventKind, str, str, Venue | None, list[tuple[Any, ...]]]] = [
    (EventKind.WEBINAR_SERIES, "Procura+ webinar series on socially responsible ICT procurement",
     MAKE_ICT_FAIR_SLUG, None, [
         ("On the way towards social criteria – steps towards integrating social criteria in "
          "ICT Procurement tenders", "2020-11-09T10:00", "2020-11-09T11:45", SessionMode.ONLINE,
          "https://meet.example.org/procura-make-ict-fair-1", [
              ("10:00", "10:10", "Welcome and introduction", [PAULA]),
              ("10:10", "10:40", "Facing market challenges: The City of Barcelona on how market "
               "engagement helps to include social criteria",
               [("Carla Canal", "Barcelona City Council")]),
          ]),
         ("Keeping social criteria alive – How to follow up through contract management",
          "2020-12-10T10:00", "2020-12-10T11:30", SessionMode.ONLINE,
          "https://meet.example.org/procura-make-ict-fair-2", [
              ("10:00", "10:10", "Welcome and introduction", [PAULA]),
          ]),
     ]),
    (EventKind.SEMINAR, "Procura+ Seminar 2027 (sample)", "procura-plus-seminar-2027",
     ("Conference centre (sample)", "Rue de la Loi 42", "Brussels", "BE"), [
         ("Day 1: Interest groups and awards", "2027-06-15T09:00", "2027-06-15T17:30",
          SessionMode.IN_PERSON, None, [
              ("09:00", "09:30", "Welcome to the Procura+ Seminar", [PAULA]),
          ]),
     ]),
    (EventKind.MEET_YOUR_BUYER, "Meet your Buyer: Haarlem Municipality on fair and circular ICT "
     "(sample)", "meet-your-buyer-haarlem-fair-circular-ict",
     ("Stadhuis Haarlem", "Grote Markt 2", "Haarlem", "NL"), [
         ("Market dialogue", "2027-01-26T13:00", "2027-01-26T16:30", SessionMode.HYBRID,
          "https://meet.example.org/haarlem-meet-your-buyer", []),
     ]),
]


async def _small_programme(db: AsyncSession, settings: Settings) -> dict[str, int]:
    """Returns session ids by the start of their title, like `_load_demo`."""
    stamp = {"created_at": LOAD_AT, "updated_at": LOAD_AT}
    persons: dict[str, Person] = {}

    async def person(name: str, organisation_name: str) -> Person:
        if name not in persons:
            organisation = await db.scalar(
                select(Organisation).where(Organisation.name == organisation_name))
            if organisation is None:
                organisation = Organisation(name=organisation_name, **stamp,
                                            kind=OrganisationKind.PUBLIC_AUTHORITY)
                db.add(organisation)
                await db.flush()
            persons[name] = Person(name=name, organisation_id=organisation.id, **stamp)
            db.add(persons[name])
            await db.flush()
        return persons[name]

    def local(day: str, clock: str | None = None) -> datetime:
        text = f"{day[:10]}T{clock}" if clock else day
        return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS).astimezone(UTC)

    for kind, title, slug, venue, sessions in SMALL_PROGRAMME:
        name, address, city, country = venue or (None, None, None, None)
        event = Event(kind=kind, title=title, slug=slug, status=EventStatus.PUBLISHED,
                      timezone="Europe/Brussels", venue_name=name, venue_address=address,
                      venue_city=city, venue_country=country,
                      contact_email=settings.organiser_email, published_at=LOAD_AT, **stamp)
        db.add(event)
        await db.flush()
        for session_title, starts, ends, mode, join_url, items in sessions:
            session = Session(event_id=event.id, title=session_title, starts_at=local(starts),
                              ends_at=local(ends), mode=mode, join_url=join_url,
                              status=SessionStatus.SCHEDULED, sequence=0, **stamp)
            db.add(session)
            await db.flush()
            for item_start, item_end, item_title, speakers in items:
                item = AgendaItem(session_id=session.id, starts_at=local(starts, item_start),
                                  ends_at=local(starts, item_end), title=item_title,
                                  kind=AgendaItemKind.TALK, sequence=0, **stamp)
                db.add(item)
                await db.flush()
                for index, (name, organisation_name) in enumerate(speakers):
                    speaker = await person(name, organisation_name)
                    db.add(AgendaItemSpeaker(agenda_item_id=item.id, person_id=speaker.id,
                                             organisation_id=speaker.organisation_id,
                                             position=index))
    await db.commit()
    rows = (await db.execute(select(Session.id, Session.title))).all()
    return {prefix: id_ for id_, title in rows for prefix in DEMO_INSTANTS
            if title.startswith(prefix)}


def _uid(settings: Settings, session_id: int) -> str:
    return f"session-{session_id}@{settings.uid_domain}"


def _expected(settings: Settings, ids: dict[str, int], *titles: str) -> Instants:
    return {_uid(settings, ids[title]): DEMO_INSTANTS[title] for title in titles or ids}


def assert_parsers_agree(body: bytes, expected: Instants) -> None:
    assert read_icalendar(body) == expected
    assert read_vobject(body) == expected
    assert read_vobject_via_vtimezones(body) == expected


def _vevents(body: bytes) -> dict[str, dict[str, str]]:
    """Each VEVENT's unfolded content lines by property name (with parameters), by UID."""
    found: dict[str, dict[str, str]] = {}
    for lines in blocks(body, "VEVENT"):
        props: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            props[name] = value
        found[props["UID"]] = props
    return found


def _prop(body: bytes, uid: str, name: str) -> str:
    (event,) = [e for e in Calendar.from_ical(body).walk("VEVENT") if str(e["UID"]) == uid]
    return str(event[name])


async def _register(
    db: AsyncSession, event_id: int, enrolments: dict[int, EnrolmentStatus],
    *, email: str = "anna.mueller@city.example",
) -> Registration:
    """A confirmed registrant, written straight through the models."""
    registration = Registration(
        event_id=event_id, status=RegistrationStatus.CONFIRMED, name="Anna Müller",
        email=email, email_normalised=email, organisation_name="City of Example",
        consent_at=LOAD_AT, is_whole_event=False, created_at=LOAD_AT, updated_at=LOAD_AT,
    )
    db.add(registration)
    await db.flush()
    for session_id, status in enrolments.items():
        db.add(Enrolment(registration_id=registration.id, session_id=session_id, status=status,
                         created_at=LOAD_AT, updated_at=LOAD_AT))
    await db.flush()
    return registration


async def _event_id(db: AsyncSession, session_id: int) -> int:
    event_id = await db.scalar(select(Session.event_id).where(Session.id == session_id))
    assert event_id is not None
    return event_id


async def _registrant_with_feed(
    db: AsyncSession, settings: Settings, ids: dict[str, int]
) -> tuple[str, str]:
    """Anna: confirmed in the first Make ICT Fair webinar, waiting for the second.
    Returns her (feed token, manage token)."""
    first, second = ids["On the way towards social criteria"], ids["Keeping social criteria alive"]
    registration = await _register(
        db, await _event_id(db, first),
        {first: EnrolmentStatus.CONFIRMED, second: EnrolmentStatus.WAITING},
    )
    feed_token = await feeds.issue_registration_feed_token(
        db, registration.id, now=LOAD_AT, settings=settings)
    manage_token = await access.issue_access_token(
        db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key, now=LOAD_AT,
        registration_id=registration.id)
    await db.commit()
    return feed_token, manage_token


async def _draft_event(db: AsyncSession, settings: Settings) -> Session:
    event = await programme.create_event(
        db, programme.EventCreate(kind=EventKind.WEBINAR_SERIES, title="Unannounced webinar",
                                  slug="unannounced-webinar"), now=LOAD_AT)
    session = await programme.add_session(
        db, event.id, programme.SessionCreate(title="Secret draft session",
                                              starts_at="2020-11-20T10:00",
                                              ends_at="2020-11-20T11:00",
                                              join_url="https://meet.example.org/draft"),
        now=LOAD_AT, settings=settings)
    await db.commit()
    return session


# --- the seed agenda in every parser ----------------------------------------------------------


async def test_demo_programme_feed_gives_the_seed_instants_in_icalendar_and_vobject(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _load_demo(db, settings)

    response = await client.get("/feeds/programme.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == CALENDAR
    body = response.content
    assert_parsers_agree(body, _expected(settings, ids))
    lines = unfolded(body)
    # The first webinar in winter (CET) and the seminar in summer (CEST), as wall times.
    first = _vevents(body)[_uid(settings, ids["On the way towards social criteria"])]
    assert (first["DTSTART;TZID=Europe/Brussels"], first["DTEND;TZID=Europe/Brussels"]) == (
        "20201109T100000", "20201109T114500")
    summer = _vevents(body)[_uid(settings, ids["Day 1: Interest groups and awards"])]
    assert (summer["DTSTART;TZID=Europe/Brussels"], summer["DTEND;TZID=Europe/Brussels"]) == (
        "20270615T090000", "20270615T173000")
    assert lines[:9] == [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Procura Events//EN", "CALSCALE:GREGORIAN",
        "NAME:Procura+ Network events", "X-WR-CALNAME:Procura+ Network events",
        "X-WR-TIMEZONE:Europe/Brussels", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    assert [line for line in lines if line.startswith("METHOD")] == []
    assert first["DESCRIPTION"].split("\\n")[2:5] == [
        "Agenda (times in Europe/Brussels\\, CET):",
        "10:00 Welcome and introduction\\, Paula Land\\, ICLEI Local Governments for "
        "Sustainability",
        "10:10 Facing market challenges: The City of Barcelona on how market engagement helps "
        "to include social criteria\\, Carla Canal\\, Barcelona City Council",
    ]
    assert (first["LOCATION"], first["CATEGORIES"], first["STATUS"], first["SEQUENCE"]) == (
        "Online", "Webinar series", "CONFIRMED", "0")
    assert first["URL"] == f"http://events.test/events/{MAKE_ICT_FAIR_SLUG}"
    assert first['ORGANIZER;CN="Procura+ Network"'] == f"mailto:{settings.organiser_email}"


@pytest.mark.skipif(shutil.which("node") is None, reason="optional ical.js check: no `node`")
async def test_demo_and_personal_feeds_give_the_same_instants_in_icaljs(
    client: Client, db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    ids = await _load_demo(db, settings)
    feed_token, _ = await _registrant_with_feed(db, settings, ids)

    public = (await client.get("/feeds/programme.ics")).content
    personal = (await client.get(f"/feeds/registrations/{feed_token}.ics")).content

    for body, expected in (
        (public, _expected(settings, ids)),
        (personal, _expected(settings, ids, "On the way towards social criteria")),
    ):
        events = read_icaljs(body, tmp_path)
        got = {str(e["uid"]): (datetime.fromtimestamp(int(str(e["start"])), UTC),
                               datetime.fromtimestamp(int(str(e["end"])), UTC)) for e in events}
        assert got == expected
        assert_parsers_agree(body, expected)


async def test_every_tzid_has_its_vtimezone(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    helsinki = await programme.create_event(
        db, programme.EventCreate(kind=EventKind.SEMINAR, title="Nordic buyers' day",
                                  timezone="Europe/Helsinki"),
        now=LOAD_AT)
    session = await programme.add_session(
        db, helsinki.id, programme.SessionCreate(title="Morning", starts_at="2021-07-01T09:00",
                                                 ends_at="2021-07-01T12:00",
                                                 mode=SessionMode.IN_PERSON),
        now=LOAD_AT, settings=settings)
    await programme.publish_event(db, helsinki.id, now=LOAD_AT)
    await db.commit()

    body = (await client.get("/feeds/programme.ics")).content

    used = {line.split(";TZID=")[1].split(":")[0] for line in unfolded(body)
            if line.startswith(("DTSTART;TZID=", "DTEND;TZID="))}
    defined = [lines[0] for lines in blocks(body, "VTIMEZONE")]
    assert used == {"Europe/Brussels", "Europe/Helsinki"}
    assert defined == ["TZID:Europe/Brussels", "TZID:Europe/Helsinki"]
    expected = _expected(settings, ids)
    expected[_uid(settings, session.id)] = (_utc(2021, 7, 1, 6, 0), _utc(2021, 7, 1, 9, 0))
    assert_parsers_agree(body, expected)


# --- edits, SEQUENCE and cancellations ------------------------------------------------------


async def test_moving_a_session_bumps_sequence_and_a_typo_fix_does_not(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    session_id = ids["On the way towards social criteria"]
    uid = _uid(settings, session_id)
    before = await client.get("/feeds/programme.ics")

    await programme.update_session(
        db, session_id,
        programme.SessionUpdate(starts_at="2020-11-09T11:00", ends_at="2020-11-09T12:45"),
        now=LOAD_AT + timedelta(days=1), settings=settings)
    await db.commit()
    moved = await client.get("/feeds/programme.ics",
                             headers={"If-None-Match": before.headers["etag"]})

    await programme.update_session(
        db, session_id, programme.SessionUpdate(description="With a typo fixed."),
        now=LOAD_AT + timedelta(days=2), settings=settings)
    await db.commit()
    fixed = await client.get("/feeds/programme.ics",
                             headers={"If-None-Match": moved.headers["etag"]})

    assert [before.status_code, moved.status_code, fixed.status_code] == [200, 200, 200]
    assert len({before.headers["etag"], moved.headers["etag"], fixed.headers["etag"]}) == 3
    assert [_vevents(r.content)[uid]["SEQUENCE"] for r in (before, moved, fixed)] == [
        "0", "1", "1"]
    assert read_icalendar(moved.content)[uid] == (_utc(2020, 11, 9, 10, 0), _utc(2020, 11, 9, 11, 45))
    assert read_vobject(fixed.content)[uid] == (_utc(2020, 11, 9, 10, 0), _utc(2020, 11, 9, 11, 45))
    assert _prop(fixed.content, uid, "DESCRIPTION").split("\n\n")[:2] == [
        "Procura+ webinar series on socially responsible ICT procurement", "With a typo fixed."]
    assert [r.headers["last-modified"] for r in (before, moved, fixed)] == [
        "Thu, 01 Oct 2020 08:00:00 GMT", "Fri, 02 Oct 2020 08:00:00 GMT",
        "Sat, 03 Oct 2020 08:00:00 GMT"]
    again = await client.get("/feeds/programme.ics", headers={"If-None-Match": fixed.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_a_cancelled_session_stays_as_cancelled_then_drops_after_90_days(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    second = ids["Keeping social criteria alive"]
    await programme.cancel_session(db, second, now=CLOCK - timedelta(hours=1), settings=settings)
    await db.commit()

    body = (await client.get(f"/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics")).content

    events = _vevents(body)
    assert [(uid, e["STATUS"], e["SEQUENCE"]) for uid, e in events.items()] == [
        (_uid(settings, ids["On the way towards social criteria"]), "CONFIRMED", "0"),
        (_uid(settings, second), "CANCELLED", "1"),
    ]
    assert _prop(body, _uid(settings, second), "DESCRIPTION").startswith("CANCELLED\n\n")
    # The session was to end on 10 Dec 2020 (10:30 UTC): listed until 90 days after that.
    still = await feeds.programme_feed(db, now=_utc(2021, 3, 10, 10, 0), settings=settings)
    gone = await feeds.programme_feed(db, now=_utc(2021, 3, 10, 11, 0), settings=settings)
    assert second in still.session_ids
    assert second not in gone.session_ids
    assert ids["On the way towards social criteria"] in gone.session_ids


# --- text, escaping and folding ---------------------------------------------------------------


async def test_tricky_titles_are_escaped_and_folded_through_http(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event_title = "Fair ICT; circular furniture, and more 🎉"
    session_title = ("Zürich, São Paulo; 日本 ✓ 👩‍💻 procurement \\ dialogue " * 6)[:200]
    description = "First line, with a comma;\nsecond line 🎉\n\nthird \\ paragraph"
    long_name = ("Dr. Élodie Ångström-Wójcik 🎓 " * 8)[:200]
    organisation = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Ville de Liège, Service; achats",
                                         kind=OrganisationKind.PUBLIC_AUTHORITY),
        now=LOAD_AT)
    speaker = await programme.create_person(
        db, programme.PersonCreate(name=long_name, organisation_id=organisation.id), now=LOAD_AT)
    event = await programme.create_event(
        db, programme.EventCreate(kind=EventKind.WEBINAR_SERIES, title=event_title), now=LOAD_AT)
    session = await programme.add_session(
        db, event.id, programme.SessionCreate(title=session_title, description=description,
                                              starts_at="2021-01-14T10:00",
                                              ends_at="2021-01-14T11:00"),
        now=LOAD_AT, settings=settings)
    await programme.add_agenda_item(
        db, session.id,
        programme.AgendaItemCreate(title="Opening, Q&A; more", starts_at="10:00", ends_at="10:30",
                                   speakers=[programme.SpeakerRef(person_id=speaker.id)]),
        now=LOAD_AT, settings=settings)
    await programme.publish_event(db, event.id, now=LOAD_AT)
    await db.commit()

    response = await client.get(f"/feeds/events/{event.slug}.ics")

    body = response.content
    assert response.status_code == 200
    physical = body.split(b"\r\n")
    assert physical[-1] == b""
    for line in physical[:-1]:
        assert len(line) <= 75 and b"\n" not in line and b"\r" not in line, line
        line.decode("utf-8")  # no UTF-8 character split by a fold
    uid = _uid(settings, session.id)
    expected_description = "\n\n".join([
        event_title, description,
        "Agenda (times in Europe/Brussels, CET):\n"
        f"10:00 Opening, Q&A; more, {long_name}, Ville de Liège, Service; achats\n11:00 End",
        f"Details: http://events.test/events/{event.slug}",
    ])
    calendar = Calendar.from_ical(body)
    (parsed,) = calendar.walk("VEVENT")
    expected_summary = f"{session_title} ({event_title})"
    assert (str(calendar["X-WR-CALNAME"]), str(parsed["SUMMARY"]), str(parsed["DESCRIPTION"])) == (
        event_title, expected_summary, expected_description)
    # (vobject splits unknown X- properties such as X-WR-CALNAME at commas: not checked there.)
    read_back = vobject.readOne(body.decode("utf-8")).vevent
    assert (read_back.summary.value, read_back.description.value, read_back.uid.value) == (
        expected_summary, expected_description, uid)
    assert_parsers_agree(body, {uid: (_utc(2021, 1, 14, 9, 0), _utc(2021, 1, 14, 10, 0))})


# --- private data -------------------------------------------------------------------------


async def test_every_entry_names_its_event_whatever_the_number_of_sessions(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)

    body = (await client.get("/feeds/programme.ics")).content

    summaries = {uid: event["SUMMARY"] for uid, event in _vevents(body).items()}
    assert [summaries[_uid(settings, ids[title])] for title in (
        "Market dialogue", "Day 1: Interest groups and awards", "Keeping social criteria alive",
    )] == [
        "Market dialogue (Meet your Buyer: Haarlem Municipality on fair and circular ICT "
        "(sample))",
        "Day 1: Interest groups and awards (Procura+ Seminar 2027 (sample))",
        "Keeping social criteria alive – How to follow up through contract management "
        "(Procura+ webinar series on socially responsible ICT procurement)",
    ]


async def test_public_feeds_never_carry_join_links_emails_or_drafts(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    await _registrant_with_feed(db, settings, ids)
    draft = await _draft_event(db, settings)
    first = ids["On the way towards social criteria"]

    bodies = [
        (await client.get(path)).content
        for path in ("/feeds/programme.ics", f"/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics",
                     "/feeds/kinds/webinar_series.ics", f"/feeds/sessions/{first}.ics")
    ]

    for body in bodies:
        text = body.decode()
        assert "meet.example.org" not in text
        assert "anna.mueller" not in text
        assert "Secret draft session" not in text
        assert [line for line in unfolded(body) if line.startswith("CONFERENCE")] == []
        assert set(re.findall(r"mailto:([^\r\n]+)", "\r\n".join(unfolded(body)))) == {
            settings.organiser_email}
    assert sorted(_vevents(bodies[2])) == sorted(
        _uid(settings, ids[t]) for t in ("On the way towards social criteria",
                                         "Keeping social criteria alive"))
    draft_responses = [await client.get(f"/feeds/sessions/{draft.id}.ics"),
                       await client.get("/feeds/events/unannounced-webinar.ics")]
    assert [r.status_code for r in draft_responses] == [404, 404]


async def test_a_registrants_feed_has_their_sessions_with_join_links(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    feed_token, _ = await _registrant_with_feed(db, settings, ids)
    first = ids["On the way towards social criteria"]

    response = await client.get(f"/feeds/registrations/{feed_token}.ics")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=300"
    body = response.content
    uid = _uid(settings, first)
    assert list(_vevents(body)) == [uid]  # waiting for the second webinar: not in her calendar
    event = _vevents(body)[uid]
    join = "https://meet.example.org/procura-make-ict-fair-1"
    assert event["CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online"] == join
    assert event["LOCATION"] == join
    assert _prop(body, uid, "DESCRIPTION").split("\n\n")[-2:] == [
        f"Join online: {join}", f"Details: http://events.test/events/{MAKE_ICT_FAIR_SLUG}"]
    assert ("X-WR-CALNAME:Procura+ webinar series on socially responsible ICT procurement "
            "(my sessions)") in unfolded(body)
    assert [line for line in unfolded(body) if line.startswith("METHOD")] == []
    assert_parsers_agree(body, _expected(settings, ids, "On the way towards social criteria"))


async def test_a_registrant_replaces_their_feed_link_and_the_old_one_is_gone(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    old_token, manage_token = await _registrant_with_feed(db, settings, ids)

    replaced = await client.post(f"/api/registrations/{manage_token}/feed-token")

    assert replaced.status_code == 201
    link = replaced.json()
    new_url = link["feed_url"]
    assert new_url.startswith("http://events.test/feeds/registrations/")
    assert link["webcal_url"] == "webcal://" + new_url.split("://")[1]
    new_path = new_url.removeprefix("http://events.test")
    old = await client.get(f"/feeds/registrations/{old_token}.ics")
    unknown = await client.get("/feeds/registrations/not-a-token.ics")
    assert (old.status_code, old.json()) == (404, UNKNOWN_FEED)
    assert (unknown.status_code, unknown.json()) == (404, UNKNOWN_FEED)
    new = await client.get(new_path)
    assert (new.status_code, list(_vevents(new.content))) == (
        200, [_uid(settings, ids["On the way towards social criteria"])])
    wrong = await client.post("/api/registrations/not-a-manage-token/feed-token")
    assert (wrong.status_code, wrong.json()["errors"]) == (
        404, [{"field": "token", "message": "No such registration."}])


async def test_speaker_links_and_the_speakers_own_slots(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    await _small_programme(db, settings)
    paula = await db.scalar(select(Person).where(Person.name == "Paula Land"))
    assert paula is not None
    url = f"/api/organiser/persons/{paula.id}/speaker-links"

    first = await client.post(url, headers=organiser_headers)
    second = await client.post(url, headers=organiser_headers)

    assert (first.status_code, second.status_code) == (201, 201)
    links = second.json()
    assert links["person_id"] == paula.id
    assert links["page_url"].startswith("http://events.test/speakers/")
    old_feed = first.json()["feed_url"].removeprefix("http://events.test")
    new_feed = links["feed_url"].removeprefix("http://events.test")
    assert links["webcal_url"] == "webcal://events.test" + new_feed
    assert (await client.get(old_feed)).status_code == 404
    response = await client.get(new_feed)
    assert response.status_code == 200
    body = response.content
    slots = {uid: (e["SUMMARY"], e["STATUS"]) for uid, e in _vevents(body).items()}
    assert sorted(slots.values()) == [
        ("Speaking: Welcome and introduction (Procura+ webinar series on socially responsible "
         "ICT procurement)", "CONFIRMED"),
        ("Speaking: Welcome and introduction (Procura+ webinar series on socially responsible "
         "ICT procurement)", "CONFIRMED"),
        ("Speaking: Welcome to the Procura+ Seminar (Procura+ Seminar 2027 (sample))",
         "CONFIRMED"),
    ]
    assert all(uid.startswith("agenda-item-") and uid.endswith(f"-speaker-{paula.id}@events.test")
               for uid in slots)
    assert sorted(read_icalendar(body).values()) == [
        (_utc(2020, 11, 9, 9, 0), _utc(2020, 11, 9, 9, 10)),
        (_utc(2020, 12, 10, 9, 0), _utc(2020, 12, 10, 9, 10)),
        (_utc(2027, 6, 15, 7, 0), _utc(2027, 6, 15, 7, 30)),
    ]
    assert read_vobject(body) == read_icalendar(body)
    denied = await client.post(url, headers=viewer_headers)
    missing = await client.post("/api/organiser/persons/999999/speaker-links",
                                headers=organiser_headers)
    assert (denied.status_code, missing.status_code) == (403, 404)
    assert missing.json()["errors"] == [{"field": "person_id", "message": "No person with id 999999."}]


async def test_organiser_feed_shows_drafts_and_join_links_until_the_api_token_is_revoked(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: dict[str, str],
) -> None:
    ids = await _small_programme(db, settings)
    draft = await _draft_event(db, settings)

    issued = await client.post("/api/organiser/feed-token", headers=organiser_headers)
    current = await client.get("/api/organiser/feed-token", headers=organiser_headers)

    assert issued.status_code == 201
    assert current.json() == issued.json()
    path = issued.json()["feed_url"].removeprefix("http://events.test")
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=300"
    events = _vevents(response.content)
    assert (events[_uid(settings, draft.id)]["STATUS"],
            events[_uid(settings, draft.id)]["SUMMARY"]) == (
        "TENTATIVE", "[Draft] Secret draft session (Unannounced webinar)")
    first = events[_uid(settings, ids["On the way towards social criteria"])]
    assert first["CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online"] == (
        "https://meet.example.org/procura-make-ict-fair-1")
    assert len(events) == len(ids) + 1

    token_id = await db.scalar(select(AccessToken.api_token_id).where(
        AccessToken.purpose == AccessPurpose.ORGANISER_FEED))
    assert token_id is not None
    await revoke_api_token(db, token_id, now=CLOCK)
    await db.commit()
    revoked = await client.get(path)
    assert (revoked.status_code, revoked.json()) == (404, UNKNOWN_FEED)


async def test_the_public_event_json_has_subscribe_download_and_add_to_calendar_links(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    first = ids["On the way towards social criteria"]

    event = (await client.get(f"/api/events/{MAKE_ICT_FAIR_SLUG}")).json()

    feed = f"http://events.test/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics"
    assert (event["feed_url"], event["webcal_url"]) == (
        feed, f"webcal://events.test/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics")
    session = next(s for s in event["sessions"] if s["id"] == first)
    assert session["ics_url"] == f"http://events.test/feeds/sessions/{first}.ics"
    google = parse_qs(urlsplit(session["google_calendar_url"]).query)
    outlook = parse_qs(urlsplit(session["outlook_calendar_url"]).query)
    assert (google["dates"], google["ctz"], google["location"]) == (
        ["20201109T090000Z/20201109T104500Z"], ["Europe/Brussels"], ["Online"])
    assert (outlook["startdt"], outlook["enddt"]) == (
        ["2020-11-09T09:00:00Z"], ["2020-11-09T10:45:00Z"])
    assert "meet.example.org" not in session["google_calendar_url"] + session["outlook_calendar_url"]
    assert (await client.get(feed.removeprefix("http://events.test"))).status_code == 200


# --- HTTP caching -----------------------------------------------------------------------------


async def test_etag_last_modified_304_and_head(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await _small_programme(db, settings)
    url = "/feeds/programme.ics"

    full = await client.get(url)

    etag = full.headers["etag"]
    assert (full.status_code, full.headers["content-type"]) == (200, CALENDAR)
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20
    assert full.headers["last-modified"] == "Thu, 01 Oct 2020 08:00:00 GMT"
    assert full.headers["cache-control"] == "public, max-age=300"
    assert "DTSTAMP:20201001T080000Z" in unfolded(full.content)
    statuses = {}
    for name, headers in {
        "etag": {"If-None-Match": etag},
        "weak etag in a list": {"If-None-Match": f'"other", W/{etag}'},
        "star": {"If-None-Match": "*"},
        "other etag": {"If-None-Match": '"other"'},
        "same date": {"If-Modified-Since": "Thu, 01 Oct 2020 08:00:00 GMT"},
        "earlier date": {"If-Modified-Since": "Thu, 01 Oct 2020 07:59:59 GMT"},
        "etag wins over date": {"If-None-Match": '"other"',
                                "If-Modified-Since": "Thu, 01 Oct 2020 08:00:00 GMT"},
        "bad date": {"If-Modified-Since": "yesterday"},
    }.items():
        response = await client.get(url, headers=headers)
        statuses[name] = response.status_code
        if response.status_code == 304:
            assert response.content == b""
            assert (response.headers["etag"], response.headers["cache-control"]) == (
                etag, "public, max-age=300")
        else:
            assert response.content == full.content
    assert statuses == {
        "etag": 304, "weak etag in a list": 304, "star": 304, "other etag": 200,
        "same date": 304, "earlier date": 200, "etag wins over date": 200, "bad date": 200,
    }
    head = await client.head(url)
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["content-type"] == CALENDAR
    head_304 = await client.head(url, headers={"If-None-Match": etag})
    assert (head_304.status_code, head_304.content) == (304, b"")


async def test_a_session_download_is_an_attachment_without_feed_headers(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)
    session_id = ids["Market dialogue"]

    response = await client.get(f"/feeds/sessions/{session_id}.ics")

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="session-{session_id}.ics"')
    lines = unfolded(response.content)
    for prefix in ("METHOD", "NAME", "X-WR-", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        assert [line for line in lines if line.startswith(prefix)] == []
    assert _vevents(response.content)[_uid(settings, session_id)]["LOCATION"] == (
        "Stadhuis Haarlem\\, Grote Markt 2\\, Haarlem\\, NL and online")
    assert_parsers_agree(response.content, _expected(settings, ids, "Market dialogue"))
    again = await client.get(f"/feeds/sessions/{session_id}.ics",
                             headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    missing = [await client.get(path) for path in (
        "/feeds/sessions/999999.ics", "/feeds/sessions/abc.ics", "/feeds/kinds/parties.ics",
        f"/feeds/events/{MAKE_ICT_FAIR_SLUG}", "/feeds/events/no-such-event.ics")]
    assert [r.status_code for r in missing] == [404] * 5


async def test_a_warm_request_is_served_from_the_cache_until_the_programme_changes(
    client: Client, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _small_programme(db, settings)
    renders: list[str] = []
    real_render = feeds.render_feed

    async def counting_render(*args: Any, **kwargs: Any) -> bytes:
        renders.append(args[1].scope)
        return await real_render(*args, **kwargs)

    monkeypatch.setattr(feeds, "render_feed", counting_render)

    cold = await client.get("/feeds/programme.ics")
    warm = await client.get("/feeds/programme.ics")
    await programme.update_session(
        db, ids["Market dialogue"], programme.SessionUpdate(title="Market dialogue (new title)"),
        now=LOAD_AT + timedelta(days=1), settings=settings)
    await db.commit()
    changed = await client.get("/feeds/programme.ics")

    assert renders == ["programme", "programme"]
    assert warm.content == cold.content
    assert warm.headers["etag"] == cold.headers["etag"] != changed.headers["etag"]
    assert b"SUMMARY:Market dialogue (new title)" in changed.content


# --- a live server --------------------------------------------------------------------------




@asynccontextmanager
async def _serve(app: Litestar, port: int) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_caching_with_httpx_against_a_live_uvicorn(
    app: Litestar, db: AsyncSession, settings: Settings
) -> None:
    ids = await _small_programme(db, settings)

    async with _serve(app, free_port()) as base, httpx.AsyncClient(base_url=base) as http:
        full = await http.get("/feeds/programme.ics")
        conditional = await http.get("/feeds/programme.ics",
                                     headers={"If-None-Match": full.headers["etag"]})
        head = await http.head("/feeds/programme.ics")

    assert (full.status_code, full.headers["content-type"]) == (200, CALENDAR)
    assert_parsers_agree(full.content, _expected(settings, ids))
    assert (conditional.status_code, conditional.content) == (304, b"")
    assert conditional.headers["etag"] == full.headers["etag"]
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(full.content))


def _agenda_of(content: bytes, title_start: str) -> list[str]:
    """The agenda lines of the one VEVENT whose SUMMARY starts with `title_start`."""
    calendar = Calendar.from_ical(content)
    found = [str(e["DESCRIPTION"]) for e in calendar.walk("VEVENT")
             if str(e["SUMMARY"]).startswith(title_start)]
    assert len(found) == 1
    paragraphs = found[0].split("\n\n")
    return next(p for p in paragraphs if p.startswith(("Agenda", "Programm"))).splitlines()


async def test_a_feed_is_written_in_the_readers_language_and_each_language_has_its_etag(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    """The calendar's name and the agenda's words follow the request's language (here a
    browser asking for German); the same feed in English keeps its own ETag and body."""
    await _small_programme(db, settings)
    url = "/feeds/programme.ics"

    english = await client.get(url)
    german = await client.get(url, headers={"Accept-Language": "de-DE,de;q=0.9"})
    english_with_the_german_etag = await client.get(
        url, headers={"If-None-Match": german.headers["etag"]})

    names = [str(Calendar.from_ical(r.content)["X-WR-CALNAME"]) for r in (english, german)]
    assert names == [f"{settings.organiser_name} events",
                     f"Veranstaltungen von {settings.organiser_name}"]
    assert _agenda_of(german.content, "On the way") == [
        "Programm (Uhrzeiten in Europe/Brussels, MEZ):",
        "10:00 Welcome and introduction, Paula Land, ICLEI Local Governments for Sustainability",
        "10:10 Facing market challenges: The City of Barcelona on how market engagement helps to "
        "include social criteria, Carla Canal, Barcelona City Council",
        "11:45 Ende",
    ]
    assert _agenda_of(english.content, "On the way")[0] == \
        "Agenda (times in Europe/Brussels, CET):"
    assert german.headers["etag"] != english.headers["etag"]
    assert (english_with_the_german_etag.status_code,
            english_with_the_german_etag.content) == (200, english.content)
