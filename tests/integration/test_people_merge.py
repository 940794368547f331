"""Merging two records of one person or organisation, and finding people and organisations.

Every reference moves to the kept record, empty fields are filled from the duplicate, the
duplicate is gone, and a merge that would need a human's choice is refused. SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    AccessToken,
    AgendaItemSpeaker,
    ChangeNoticeStatus,
    Event,
    Organisation,
    OrganisationKind,
    OutboxEmail,
    Person,
    SpeakerNotice,
)
from service.domain import access, programme
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.settings import Settings
from tests.factories import (
    SOCIAL_ICT,
    make_agenda_item,
    make_email_message,
    make_event,
    make_person,
    make_session,
)

EDIT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
MERGE = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


async def _speakers_of(db: AsyncSession, item_id: int) -> list[tuple[int, int | None, int]]:
    rows = await db.execute(
        select(AgendaItemSpeaker.person_id, AgendaItemSpeaker.organisation_id,
               AgendaItemSpeaker.position)
        .where(AgendaItemSpeaker.agenda_item_id == item_id).order_by(AgendaItemSpeaker.position))
    return [(person_id, organisation_id, position) for person_id, organisation_id, position in rows]


async def test_merging_a_person_moves_every_reference_and_fills_empty_fields(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    kept = await make_person(db, "Carla Canal", None, organisation="Barcelona City Council")
    duplicate = await make_person(db, "Carla Canal Ruiz", "carla@barcelona.example.org")
    duplicate.job_title = "Head of procurement"
    other = await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl")
    shared = await make_agenda_item(db, settings, session, "10:10", "10:40", "Market challenges",
                                    [other, duplicate, kept], now=EDIT)
    alone = await make_agenda_item(db, settings, session, "11:00", "11:20", "Questions",
                                   [duplicate], now=EDIT)
    page_token = await access.current_access_token(
        db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=EDIT,
        person_id=duplicate.id)
    await queue_emails(db, [OutboxEntry(make_email_message(), person_id=duplicate.id)],
                       settings=settings, now=EDIT)
    kept_id, duplicate_id, barcelona_id = kept.id, duplicate.id, kept.organisation_id
    shared_id, alone_id, other_id = shared.id, alone.id, other.id
    await db.commit()

    plan = await programme.plan_person_merge(db, kept_id, duplicate_id)
    assert ([(f.name, f.kept_value, f.duplicate_value) for f in plan.filled],
            plan.left_behind, plan.agenda_items_moved, plan.agenda_items_shared,
            plan.links_moved, plan.notices_moved, plan.emails_moved) == (
        [("email", None, "carla@barcelona.example.org"),
         ("job_title", None, "Head of procurement")],
        (), ("Questions",), ("Market challenges",), 1, 2, 1)
    await programme.merge_persons(db, kept_id, duplicate_id, now=MERGE, settings=settings)
    await db.commit()

    merged = await programme.get_person(db, kept_id)
    assert (merged.name, merged.email, merged.job_title,
            merged.organisation.name if merged.organisation else None) == (
        "Carla Canal", "carla@barcelona.example.org", "Head of procurement",
        "Barcelona City Council")
    assert await db.get(Person, duplicate_id) is None
    # Both spoke in the shared item: one place remains, the earlier of the two.
    assert await _speakers_of(db, shared_id) == [(other_id, None, 0),
                                                 (kept_id, barcelona_id, 1)]
    assert await _speakers_of(db, alone_id) == [(kept_id, None, 0)]
    found = await access.find_access(db, AccessPurpose.SPEAKER_PAGE, page_token)
    assert found is not None and found.person_id == kept_id
    assert list(await db.scalars(select(OutboxEmail.person_id))) == [kept_id]
    notices = await db.execute(select(SpeakerNotice.agenda_item_id, SpeakerNotice.person_id,
                                      SpeakerNotice.status).order_by(SpeakerNotice.id))
    # Carla had notices for both items from both records; the pending ones are joined.
    assert sorted((item, person) for item, person, status in notices
                  if status == ChangeNoticeStatus.PENDING) == sorted([
        (shared_id, other_id), (shared_id, kept_id), (alone_id, kept_id)])


async def test_a_merge_is_refused_when_it_needs_a_choice_and_changes_nothing(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SOCIAL_ICT)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    kept = await make_person(db, "Carla Canal", None)
    duplicate = await make_person(db, "C. Canal", None)
    barcelona = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Barcelona City Council",
                                         kind=OrganisationKind.PUBLIC_AUTHORITY), now=EDIT)
    catalonia = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Generalitat de Catalunya",
                                         kind=OrganisationKind.PUBLIC_AUTHORITY), now=EDIT)
    item = await programme.add_agenda_item(
        db, session.id, programme.AgendaItemCreate(
            starts_at="10:10", ends_at="10:40", title="Market challenges",
            speakers=[programme.SpeakerRef(person_id=kept.id, organisation_id=barcelona.id),
                      programme.SpeakerRef(person_id=duplicate.id,
                                           organisation_id=catalonia.id)]),
        now=EDIT, settings=settings)
    kept_id, duplicate_id, item_id = kept.id, duplicate.id, item.id
    barcelona_id, catalonia_id = barcelona.id, catalonia.id
    await db.commit()

    with pytest.raises(ConflictError) as clash:
        await programme.merge_persons(db, kept_id, duplicate_id, now=MERGE, settings=settings)
    await db.rollback()
    with pytest.raises(InvalidInputError) as itself:
        await programme.plan_person_merge(db, kept_id, kept_id)
    with pytest.raises(NotFoundError) as missing:
        await programme.plan_person_merge(db, kept_id, 999_999)

    assert (clash.value.field, clash.value.message) == (
        "duplicate_id",
        "Both records speak in 'Market challenges', for different organisations "
        "(Barcelona City Council and Generalitat de Catalunya): change one of them in the "
        "agenda first.")
    assert (itself.value.field, missing.value.field) == ("duplicate_id", "duplicate_id")
    assert await _speakers_of(db, item_id) == [(kept_id, barcelona_id, 0),
                                               (duplicate_id, catalonia_id, 1)]
    assert await db.scalar(select(func.count(Person.id))) == 2


async def test_merging_an_organisation_moves_people_hosts_and_speakers(
    db: AsyncSession, settings: Settings,
) -> None:
    kept = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Barcelona City Council",
                                         kind=OrganisationKind.PUBLIC_AUTHORITY), now=EDIT)
    duplicate = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Ajuntament de Barcelona",
                                         kind=OrganisationKind.OTHER, country="es",
                                         website="https://ajuntament.barcelona.cat"), now=EDIT)
    event = await make_event(db, settings, SOCIAL_ICT, host_organisation_id=duplicate.id)
    session = await make_session(db, settings, event, starts_at="2026-10-26T10:00",
                                 ends_at="2026-10-26T11:30")
    carla = await make_person(db, "Carla Canal", None, organisation="Ajuntament de Barcelona")
    rudie = await make_person(db, "Rudie de Vries", None)
    item = await programme.add_agenda_item(
        db, session.id, programme.AgendaItemCreate(
            starts_at="10:10", ends_at="10:40", title="Market challenges",
            speakers=[programme.SpeakerRef(person_id=rudie.id, organisation_id=duplicate.id)]),
        now=EDIT, settings=settings)
    kept_id, duplicate_id = kept.id, duplicate.id
    await db.commit()

    plan = await programme.plan_organisation_merge(db, kept_id, duplicate_id)
    assert ([(f.name, f.kept_value, f.duplicate_value) for f in plan.filled],
            plan.people_moved, plan.events_moved, plan.speaker_places_moved,
            plan.kind_left_behind) == (
        [("country", None, "ES"), ("website", None, "https://ajuntament.barcelona.cat")],
        ("Carla Canal",), ("Socially responsible ICT procurement",), 1, "other")
    await programme.merge_organisations(db, kept_id, duplicate_id, now=MERGE,
                                        settings=settings)
    await db.commit()

    merged = await db.get(Organisation, kept_id)
    assert merged is not None
    assert (merged.name, merged.kind, merged.country, merged.website) == (
        "Barcelona City Council", OrganisationKind.PUBLIC_AUTHORITY, "ES",
        "https://ajuntament.barcelona.cat")
    assert await db.get(Organisation, duplicate_id) is None
    assert await db.scalar(select(Person.organisation_id).where(Person.id == carla.id)) == kept_id
    assert await db.scalar(select(Event.host_organisation_id)) == kept_id
    assert await _speakers_of(db, item.id) == [(rudie.id, kept_id, 0)]


async def test_search_finds_people_by_any_word_in_any_case_a_page_at_a_time(
    db: AsyncSession, settings: Settings,
) -> None:
    await make_person(db, "Carla Canal", "Carla.Canal@BCN.example.org",
                      organisation="Barcelona City Council")
    await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl",
                      organisation="Municipality of Haarlem")
    await make_person(db, "Anna Lucia Barcelo", None)
    await make_person(db, "100% Sure", None)
    await db.commit()

    by_organisation = await programme.search_persons(db, "BARCELONA")
    by_email = await programme.search_persons(db, "bcn.EXAMPLE")
    two_words = await programme.search_persons(db, "carla council")
    barcel = await programme.search_persons(db, "barcel", page_size=1)
    second = await programme.search_persons(db, "barcel", page=2, page_size=1)
    wildcard = await programme.search_persons(db, "%")
    everyone = await programme.search_persons(db, "")

    def names(page: programme.directory.DirectoryPage[programme.directory.PersonRow]
              ) -> list[str]:
        return [row.person.name for row in page.rows]

    assert names(by_organisation) == ["Carla Canal"]
    assert names(by_email) == ["Carla Canal"]
    assert names(two_words) == ["Carla Canal"]
    assert (names(barcel), barcel.total, barcel.pages) == (["Anna Lucia Barcelo"], 2, 2)
    assert names(second) == ["Carla Canal"]
    assert names(wildcard) == ["100% Sure"]
    assert names(everyone) == ["100% Sure", "Anna Lucia Barcelo", "Carla Canal",
                               "Rudie de Vries"]
    with pytest.raises(InvalidInputError) as bad_page:
        await programme.search_persons(db, "", page=0)
    with pytest.raises(InvalidInputError) as bad_size:
        await programme.search_persons(db, "", page_size=1000)
    assert (bad_page.value.field, bad_size.value.field) == ("page", "page_size")


async def test_search_finds_organisations_with_their_people_and_events(
    db: AsyncSession, settings: Settings,
) -> None:
    barcelona = await programme.create_organisation(
        db, programme.OrganisationCreate(name="Barcelona City Council",
                                         kind=OrganisationKind.PUBLIC_AUTHORITY), now=EDIT)
    await programme.create_organisation(
        db, programme.OrganisationCreate(name="ICLEI Europe", kind=OrganisationKind.NETWORK,
                                         website="https://iclei-europe.example.org"),
        now=EDIT)
    await make_event(db, settings, SOCIAL_ICT, host_organisation_id=barcelona.id)
    await make_person(db, "Carla Canal", None, organisation="Barcelona City Council")
    await db.commit()

    council = await programme.search_organisations(db, "city COUNCIL")
    by_site = await programme.search_organisations(db, "iclei-europe")

    assert [(r.organisation.name, r.people, r.hosted_events) for r in council.rows] == [
        ("Barcelona City Council", 1, 1)]
    assert [r.organisation.name for r in by_site.rows] == ["ICLEI Europe"]
    assert await db.scalar(select(func.count(AccessToken.id))) == 0
