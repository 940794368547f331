"""Paste an agenda, in the domain: matching pasted names to existing people and organisations,
and creating a whole pasted agenda in one step (or nothing), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, AgendaItemKind, Event, Organisation, OrganisationKind, Person
from service.domain import programme
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme.agenda_paste import (
    AgendaMatches,
    OrganisationChoice,
    OrganisationMatch,
    PastedAgenda,
    PersonCandidate,
    PersonChoice,
    PersonMatch,
    create_pasted_agenda,
    default_choices,
    find_agenda_matches,
)
from service.domain.programme.agenda_text import parse_agenda_text
from service.operations.demo import MAKE_ICT_FAIR_SLUG, load_demo_programme
from service.settings import Settings
from tests.factories import DEMO_LOADED_AT, EventSpec, SessionSpec, make_event, make_person

AGENDAS = Path(__file__).parent.parent / "data" / "agendas"
SESSION_1 = (AGENDAS / "make_ict_fair_session_1.txt").read_text(encoding="utf-8")
SESSION_2 = (AGENDAS / "make_ict_fair_session_2.txt").read_text(encoding="utf-8")
ICLEI = "ICLEI Local Governments for Sustainability"
RERUN = EventSpec(
    slug="make-ict-fair-rerun", title="Make ICT Fair, once more",
    sessions=(SessionSpec("Social criteria in ICT tenders", "2020-11-09T10:00", "2020-11-09T11:45"),
              SessionSpec("Contract management", "2020-12-10T10:00", "2020-12-10T11:30")),
    publish=False, now=DEMO_LOADED_AT,
)
NOW = DEMO_LOADED_AT


async def _agenda(db: AsyncSession, session_id: int) -> list[tuple[Any, ...]]:
    """A session's agenda as organisers read it: Brussels wall times, title, kind, speakers."""
    db.expire_all()
    session = await programme.get_session(db, session_id)
    zone = ZoneInfo(session.event.timezone)
    return [
        (item.starts_at.astimezone(zone).strftime("%H:%M"),
         item.ends_at.astimezone(zone).strftime("%H:%M"), item.title, item.kind,
         [(s.person.name, s.organisation.name if s.organisation else None)
          for s in item.speakers])
        for item in sorted(session.agenda_items, key=lambda i: i.starts_at)
    ]


async def _counts(db: AsyncSession) -> tuple[int | None, ...]:
    return tuple([
        await db.scalar(select(func.count()).select_from(model))
        for model in (Organisation, Person, AgendaItem)
    ])


async def _people(db: AsyncSession) -> list[tuple[str, str | None]]:
    rows = await db.execute(
        select(Person.name, Organisation.name).outerjoin(Organisation).order_by(Person.name))
    return [(person, organisation) for person, organisation in rows.all()]


SESSION_1_AGENDA = [
    ("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
     [("Paula Land", ICLEI)]),
    ("10:10", "10:40", "Facing market challenges: The City of Barcelona on how market engagement "
     "helps to include social criteria", AgendaItemKind.TALK,
     [("Carla Canal", "Barcelona City Council")]),
    ("10:40", "11:10", "Facing internal challenges: The City of Haarlem on how to address internal "
     "ICT procurement needs while including social criteria", AgendaItemKind.TALK,
     [("Rudie de Vries", "Municipality of Haarlem")]),
    ("11:10", "11:30", "Including social criteria: The City of Stavanger on criteria and market "
     "response", AgendaItemKind.TALK, [("Elin Seveholt", "City of Stavanger")]),
    ("11:30", "11:45", "Q&A and opportunity for discussion", AgendaItemKind.QA, []),
]


async def test_pasting_into_an_empty_programme_creates_organisations_people_and_items(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, RERUN)
    session_id = event.sessions[0].id
    agenda = parse_agenda_text(SESSION_1)

    matches = await find_agenda_matches(db, agenda)
    assert matches == AgendaMatches(
        organisations=tuple(OrganisationMatch(name) for name in (
            ICLEI, "Barcelona City Council", "Municipality of Haarlem", "City of Stavanger")),
        people=(PersonMatch("Paula Land", ICLEI),
                PersonMatch("Carla Canal", "Barcelona City Council"),
                PersonMatch("Rudie de Vries", "Municipality of Haarlem"),
                PersonMatch("Elin Seveholt", "City of Stavanger")),
    )

    choices = default_choices(SESSION_1, matches)
    choices.organisations[0].kind = OrganisationKind.NETWORK
    created = await create_pasted_agenda(db, session_id, choices, now=NOW, settings=settings)
    await db.commit()

    assert len(created) == 5
    assert await _agenda(db, session_id) == SESSION_1_AGENDA
    assert await _people(db) == [
        ("Carla Canal", "Barcelona City Council"), ("Elin Seveholt", "City of Stavanger"),
        ("Paula Land", ICLEI), ("Rudie de Vries", "Municipality of Haarlem")]
    kinds = await db.execute(select(Organisation.name, Organisation.kind).order_by(Organisation.name))
    assert kinds.all() == [
        ("Barcelona City Council", OrganisationKind.OTHER),
        ("City of Stavanger", OrganisationKind.OTHER),
        (ICLEI, OrganisationKind.NETWORK),
        ("Municipality of Haarlem", OrganisationKind.OTHER)]


async def test_the_demo_people_are_matched_and_reused(db: AsyncSession, settings: Settings) -> None:
    await load_demo_programme(db, now=NOW, settings=settings)
    event = await make_event(db, settings, RERUN)
    session_id = event.sessions[1].id
    ids = {name: pid for pid, name in (await db.execute(select(Person.id, Person.name))).all()}
    org_ids = {name: oid for oid, name in
               (await db.execute(select(Organisation.id, Organisation.name))).all()}
    before = await _counts(db)

    matches = await find_agenda_matches(db, parse_agenda_text(SESSION_2))
    assert matches == AgendaMatches(
        organisations=tuple(OrganisationMatch(name, org_ids[name], name) for name in (
            ICLEI, "APUC Scotland", "Region Stockholm")),
        people=tuple(PersonMatch(name, org, ids[name], name) for name, org in (
            ("Paula Land", ICLEI), ("Michael McLaughlin", "APUC Scotland"),
            ("Kathleen McCaughey", "Region Stockholm"))),
    )
    await create_pasted_agenda(db, session_id, default_choices(SESSION_2, matches), now=NOW,
                               settings=settings)
    await db.commit()

    organisations, people, items = before
    assert await _counts(db) == (organisations, people, (items or 0) + 4)
    assert await _agenda(db, session_id) == [
        ("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
         [("Paula Land", ICLEI)]),
        ("10:10", "10:40", "Set up Contract management: APUC Scotland on contract clauses & Key "
         "Performance Indicators", AgendaItemKind.TALK, [("Michael McLaughlin", "APUC Scotland")]),
        ("10:40", "10:55", "Outcomes of contract management: Region Stockholm on lessons learnt "
         "on how to keep social criteria alive", AgendaItemKind.TALK,
         [("Kathleen McCaughey", "Region Stockholm")]),
        ("10:55", "11:30", "Q&A and opportunity for Discussion", AgendaItemKind.QA, []),
    ]


async def test_matching_ignores_case_accents_and_punctuation_but_not_the_organisation(
    db: AsyncSession, settings: Settings,
) -> None:
    ana = await make_person(db, "Ana Silva", None, organisation="Câmara Municipal de Lisboa")
    other_ana = await make_person(db, "Ana Silva", None, organisation="Porto Digital")
    lisboa = await db.scalar(select(Organisation.id).where(
        Organisation.name == "Câmara Municipal de Lisboa"))
    text = ("10:00 Buying fair ICT, ANA SILVA, Camara Municipal de  Lisboa\n"
            "10:30 Fair ICT in Braga, Ana Silva, Municipio de Braga\n11:00 End")

    matches = await find_agenda_matches(db, parse_agenda_text(text))

    assert matches == AgendaMatches(
        organisations=(
            OrganisationMatch("Camara Municipal de Lisboa", lisboa, "Câmara Municipal de Lisboa"),
            OrganisationMatch("Municipio de Braga"),
        ),
        people=(
            PersonMatch("ANA SILVA", "Camara Municipal de Lisboa", ana.id, "Ana Silva",
                        (PersonCandidate(other_ana.id, "Ana Silva", "Porto Digital"),)),
            PersonMatch("Ana Silva", "Municipio de Braga", None, None, (
                PersonCandidate(ana.id, "Ana Silva", "Câmara Municipal de Lisboa"),
                PersonCandidate(other_ana.id, "Ana Silva", "Porto Digital"))),
        ),
    )


async def test_corrected_matches_are_what_gets_created(db: AsyncSession, settings: Settings) -> None:
    """The organiser picks an existing person for one name, renames a new organisation."""
    event = await make_event(db, settings, RERUN)
    session_id = event.sessions[0].id
    paula = await make_person(db, "Paula Land", None, organisation="ICLEI Europe")
    iclei_europe = paula.organisation_id
    text = ("10:00 Welcome, P. Land, ICLEI\n"
            "10:10 Keynote, Carla Canal, Barcelona city council\n10:40 End")

    await create_pasted_agenda(db, session_id, PastedAgenda(
        text=text,
        organisations=[
            OrganisationChoice(written="ICLEI", existing_id=iclei_europe),
            OrganisationChoice(written="Barcelona city council", name="Barcelona City Council",
                               kind=OrganisationKind.PUBLIC_AUTHORITY),
        ],
        people=[
            PersonChoice(written="P. Land", organisation="ICLEI", existing_id=paula.id),
            PersonChoice(written="Carla Canal", organisation="Barcelona city council"),
        ],
    ), now=NOW, settings=settings)
    await db.commit()

    assert await _agenda(db, session_id) == [
        ("10:00", "10:10", "Welcome", AgendaItemKind.WELCOME, [("Paula Land", "ICLEI Europe")]),
        ("10:10", "10:40", "Keynote", AgendaItemKind.TALK,
         [("Carla Canal", "Barcelona City Council")]),
    ]
    assert await _people(db) == [("Carla Canal", "Barcelona City Council"),
                                 ("Paula Land", "ICLEI Europe")]


async def _refused(db: AsyncSession, session_id: int, data: PastedAgenda,
                   settings: Settings) -> tuple[FieldError, ...]:
    before = await _counts(db)
    with pytest.raises(InvalidInputError) as refused:
        await create_pasted_agenda(db, session_id, data, now=NOW, settings=settings)
    await db.rollback()
    assert await _counts(db) == before
    return refused.value.errors


async def test_every_problem_is_reported_at_once_and_nothing_is_stored(
    db: AsyncSession, settings: Settings,
) -> None:
    await load_demo_programme(db, now=NOW, settings=settings)
    await db.commit()
    demo = await db.scalar(select(Event.id).where(Event.slug == MAKE_ICT_FAIR_SLUG))
    event = await programme.get_event(db, demo or 0)
    text = ("10:00 Welcome, Paula Land, ICLEI Local Governments for Sustainability\n"
            "11:40-11:50 Late talk, Carla Canal, Barcelona City Council\n25:00 Nothing")

    errors = await _refused(db, event.sessions[0].id, PastedAgenda(
        text=text,
        organisations=[OrganisationChoice(written=ICLEI, existing_id=99999),
                       OrganisationChoice(written="Barcelona City Council", name=ICLEI.upper())],
        people=[PersonChoice(written="Paula Land", organisation=ICLEI, existing_id=99998)],
    ), settings)

    assert errors == (
        FieldError("text", "Line 3: 25:00 is not a time of day."),
        FieldError("items[0].starts_at", "Line 1 (Welcome): Overlaps 'Welcome and introduction' "
                   "(10:00–10:10)."),
        FieldError("items[1].starts_at", "Line 2 (Late talk): Overlaps 'Q&A and opportunity for "
                   "discussion' (11:30–11:45)."),
        FieldError("items[1].ends_at", "Line 2 (Late talk): Ends after the session does (11:45)."),
        FieldError("organisations[0].existing_id", "No organisation with id 99999."),
        FieldError("organisations[1].name", f"{ICLEI!r} exists already: choose it instead of "
                   "creating it again."),
        FieldError("people[0].existing_id", "No person with id 99998."),
        FieldError("people", "Say who 'Carla Canal' is."),
    )


GAP = "does not exist in Europe/Brussels (clocks go forward then); choose another time."
FOLD = "happens twice in Europe/Brussels (clocks go back then); give the time with its UTC offset."


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-03-29", (FieldError("items[0].ends_at", f"Line 1: 2026-03-29T02:30 {GAP}"),
                    FieldError("items[1].starts_at", f"Line 2: 2026-03-29T02:30 {GAP}"))),
    ("2026-10-25", (FieldError("items[0].ends_at", f"Line 1: 2026-10-25T02:30 {FOLD}"),
                    FieldError("items[1].starts_at", f"Line 2: 2026-10-25T02:30 {FOLD}"))),
])
async def test_wall_times_in_a_clock_change_are_refused_naming_the_item(
    db: AsyncSession, settings: Settings, day: str, expected: tuple[FieldError, ...],
) -> None:
    event = await make_event(db, settings, RERUN, slug="night-webinar", sessions=(
        SessionSpec("Night owls", f"{day}T01:00", f"{day}T05:00"),))

    errors = await _refused(db, event.sessions[0].id,
                            PastedAgenda(text="01:30 Welcome\n02:30 Talk\n03:30 End"), settings)

    assert errors == expected


async def test_the_last_item_without_an_end_ends_with_its_session(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, RERUN)

    items = await create_pasted_agenda(db, event.sessions[0].id, PastedAgenda(
        text="10:00 Welcome\n11:00 Closing words"), now=NOW, settings=settings)

    assert [(i.starts_at.astimezone(UTC), i.ends_at.astimezone(UTC)) for i in items] == [
        (datetime(2020, 11, 9, 9, tzinfo=UTC), datetime(2020, 11, 9, 10, tzinfo=UTC)),
        (datetime(2020, 11, 9, 10, tzinfo=UTC), datetime(2020, 11, 9, 10, 45, tzinfo=UTC)),
    ]
