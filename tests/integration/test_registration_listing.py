"""The organisers' registration list and their actions on it, in the domain, on both
databases: filter, search, sort, pages, waiting lists, manual promotion, decisions on many
registrations with a message, and the export of a filter.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    EnrolmentStatus,
    Event,
    OutboxEmail,
    Registration,
    RegistrationStatus,
)
from service.domain import programme
from service.domain import registration as registrations
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.registration import (
    Decision,
    RegistrationQuery,
    RegistrationSort,
    WaitingRow,
)
from service.settings import Settings
from tests.factories import BUILT_AT, EventSpec, SessionSpec, make_event, make_registration
from tests.integration.mail_readers import parse, text_of

NOW = BUILT_AT + timedelta(days=1)
Status = RegistrationStatus
Sort = RegistrationSort


async def _event(db: AsyncSession, settings: Settings, **overrides: object) -> Event:
    return await make_event(db, settings, EventSpec(now=BUILT_AT), **overrides)


async def _people(db: AsyncSession, event: Event) -> dict[str, int]:
    """Six registrants, one per status, arriving a minute apart; their ids by first name."""
    people = [
        ("Zoë Adams", "zoe@gent.example.be", "Stad Gent", Status.CONFIRMED),
        ("Hélène Martin", "helene@lyon.example.fr", "Métropole de Lyon", Status.PENDING),
        ("bruno Costa", "bruno@porto.example.pt", "Câmara do Porto", Status.WAITING),
        ("Anna Berg", "anna@malmo.example.se", "MALMÖ STAD", Status.CANCELLED),
        ("Carl Dahl", "carl@oslo.example.no", "Oslo kommune", Status.DECLINED),
        ("Uwe Unbestätigt", "uwe@bonn.example.de", "Stadt Bonn", Status.UNCONFIRMED),
    ]
    ids = {}
    for minute, (name, address, organisation, status) in enumerate(people):
        registration = await make_registration(
            db, event, None, name, email_address=address, status=status,
            organisation=organisation, now=BUILT_AT + timedelta(minutes=minute))
        ids[name.split()[0]] = registration.id
    await db.commit()
    return ids


def _names(page: registrations.RegistrationPage) -> list[str]:
    return [row.name for row in page.rows]


async def test_the_list_filters_by_status_and_leaves_unconfirmed_addresses_out_unless_asked(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _event(db, settings)
    await _people(db, event)

    everyone = await registrations.list_registration_page(db, RegistrationQuery(event.id))
    waiting_or_pending = await registrations.list_registration_page(
        db, RegistrationQuery(event.id, statuses=(Status.WAITING, Status.PENDING)))
    unconfirmed = await registrations.list_registration_page(
        db, RegistrationQuery(event.id, statuses=(Status.UNCONFIRMED,)))

    counts = await registrations.count_registrations_by_status(db, event.id)
    for query in (RegistrationQuery(event.id),
                  RegistrationQuery(event.id, statuses=(Status.WAITING, Status.PENDING))):
        # Counted once for the filter's figures, the counts give the total too.
        assert await registrations.list_registration_page(db, query, counts=counts) == (
            await registrations.list_registration_page(db, query))
    assert _names(everyone) == ["Zoë Adams", "Hélène Martin", "bruno Costa", "Anna Berg",
                                "Carl Dahl"]
    assert everyone.total == 5
    assert _names(waiting_or_pending) == ["Hélène Martin", "bruno Costa"]
    assert _names(unconfirmed) == ["Uwe Unbestätigt"]
    first = everyone.rows[0]
    assert (first.email, first.organisation_name, first.status, first.registered_at,
            first.session_status) == ("zoe@gent.example.be", "Stad Gent", Status.CONFIRMED,
                                      BUILT_AT, None)
    assert counts == {Status.PENDING: 1, Status.CONFIRMED: 1, Status.WAITING: 1,
                      Status.DECLINED: 1, Status.CANCELLED: 1, Status.UNCONFIRMED: 1}


@pytest.mark.parametrize(("search", "expected"), [
    ("BRUNO", ["bruno Costa"]),  # name, any case
    ("oslo.example", ["Carl Dahl"]),  # email
    ("malmö stad", ["Anna Berg"]),  # organisation; Ö stored, ö searched
    ("HÉLÈNE", ["Hélène Martin"]),  # an upper-case accented letter finds a lower-case one
    ("zoË", ["Zoë Adams"]),
    ("  stad   gent ", ["Zoë Adams"]),  # spaces as typed are folded
    ("%", []),  # LIKE wildcards are searched for as they are
    ("_", []),
    ("example", ["Zoë Adams", "Hélène Martin", "bruno Costa", "Anna Berg", "Carl Dahl"]),
])
async def test_search_finds_name_email_or_organisation_whatever_the_case(
    db: AsyncSession, settings: Settings, search: str, expected: list[str],
) -> None:
    event = await _event(db, settings)
    await _people(db, event)

    page = await registrations.list_registration_page(
        db, RegistrationQuery(event.id, search=registrations.listing.clean_search(search)))

    assert (_names(page), page.total) == (expected, len(expected))


@pytest.mark.parametrize(("sort", "descending", "expected"), [
    (Sort.NAME, False, ["Anna Berg", "bruno Costa", "Carl Dahl", "Hélène Martin",
                        "Zoë Adams"]),  # whatever the case of the initial
    (Sort.NAME, True, ["Zoë Adams", "Hélène Martin", "Carl Dahl", "bruno Costa",
                       "Anna Berg"]),
    (Sort.ORGANISATION, False, ["bruno Costa", "Anna Berg", "Hélène Martin", "Carl Dahl",
                                "Zoë Adams"]),
    (Sort.STATUS, False, ["Hélène Martin", "Zoë Adams", "bruno Costa", "Carl Dahl",
                          "Anna Berg"]),
    (Sort.REGISTERED_AT, True, ["Carl Dahl", "Anna Berg", "bruno Costa", "Hélène Martin",
                                "Zoë Adams"]),
])
async def test_the_list_sorts_by_each_column_both_ways(
    db: AsyncSession, settings: Settings, sort: Sort, descending: bool, expected: list[str],
) -> None:
    event = await _event(db, settings)
    await _people(db, event)

    page = await registrations.list_registration_page(
        db, RegistrationQuery(event.id, sort=sort, descending=descending))

    assert _names(page) == expected


async def test_pages_never_overlap_when_the_sort_key_is_the_same_for_everyone(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _event(db, settings)
    ids = []
    for number in range(7):  # same name, same organisation, same instant: only ids differ
        registration = await make_registration(
            db, event, None, "Sam Same", email_address=f"sam{number}@example.org",
            organisation="Same city")
        ids.append(registration.id)
    await db.commit()

    seen = []
    for sort in Sort:
        query = RegistrationQuery(event.id, sort=sort, descending=True)
        pages = [await registrations.list_registration_page(db, query, page=n, page_size=3)
                 for n in (1, 2, 3)]
        seen.append(([[row.id for row in p.rows] for p in pages],
                     [(p.total, p.pages, p.first_number, p.last_number) for p in pages]))

    expected = ([ids[6:3:-1], ids[3:0:-1], ids[:1]], [(7, 3, 1, 3), (7, 3, 4, 6), (7, 3, 7, 7)])
    assert seen == [expected] * len(Sort)


async def test_a_page_past_the_last_shows_the_last_and_bad_paging_names_its_field(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _event(db, settings)
    await _people(db, event)
    query = RegistrationQuery(event.id)

    past = await registrations.list_registration_page(db, query, page=99, page_size=2)
    with pytest.raises(InvalidInputError) as bad_page:
        await registrations.list_registration_page(db, query, page=0)
    with pytest.raises(InvalidInputError) as bad_size:
        await registrations.list_registration_page(db, query, page_size=1000)
    with pytest.raises(InvalidInputError) as long_search:
        registrations.listing.clean_search("x" * 201)

    assert (past.page, _names(past)) == (3, ["Carl Dahl"])
    assert [bad_page.value.field, bad_size.value.field, long_search.value.field] == [
        "page", "page_size", "q"]


async def test_one_sessions_list_shows_each_persons_place_in_that_session(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _event(db, settings)
    winter, spring = event.sessions
    ana = await make_registration(db, event, winter, "Ana Silva", organisation="Lisboa")
    await make_registration(db, event, spring, "Ben Brown")
    cleo = await make_registration(db, event, winter, "Cleo Wait",
                                   enrolment=EnrolmentStatus.WAITING)
    await db.commit()

    page = await registrations.list_registration_page(
        db, RegistrationQuery(event.id, session_id=winter.id))
    with pytest.raises(NotFoundError) as other:
        await registrations.list_registration_page(
            db, RegistrationQuery(event.id, session_id=winter.id + 100))

    assert [(r.id, r.name, r.session_status) for r in page.rows] == [
        (ana.id, "Ana Silva", EnrolmentStatus.CONFIRMED),
        (cleo.id, "Cleo Wait", EnrolmentStatus.WAITING)]
    assert await registrations.count_registrations_by_status(db, event.id,
                                                              session_id=winter.id) == {
        **dict.fromkeys(Status, 0), Status.CONFIRMED: 2}
    assert other.value.field == "session"


# --- waiting lists and manual promotion ----------------------------------------------------


async def _full_event(db: AsyncSession, settings: Settings) -> tuple[Event, dict[str, int]]:
    """Two places, both taken; three people waiting, in the order Wim, Xia, Yan."""
    event = await _event(db, settings, capacity=2, sessions=(
        SessionSpec("Site visit", "2035-09-18T09:00", "2035-09-18T17:00"),))
    [visit] = event.sessions
    ids = {}
    for minute, (name, status) in enumerate([
        ("Ana Silva", Status.CONFIRMED), ("Ben Brown", Status.CONFIRMED),
        ("Wim Wouters", Status.WAITING), ("Xia Xu", Status.WAITING), ("Yan Yilmaz", Status.WAITING),
    ]):
        registration = await make_registration(
            db, event, visit, name, status=status, now=BUILT_AT + timedelta(minutes=minute),
            enrolment=EnrolmentStatus.CONFIRMED if status == Status.CONFIRMED
            else EnrolmentStatus.WAITING)
        ids[name.split()[0]] = registration.id
    await db.commit()
    return event, ids


def _queue(rows: list[WaitingRow]) -> list[tuple[int, str]]:
    return [(row.position, row.name) for row in rows]


async def _emails(db: AsyncSession) -> list[tuple[str, str]]:
    rows = await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
    return [(row.template, row.to_address) for row in rows]


async def test_the_waiting_list_is_in_line_order_and_a_full_event_refuses_a_silent_promotion(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _full_event(db, settings)
    event_id = event.id

    queue = await registrations.list_waiting(db, event_id)
    with pytest.raises(ConflictError) as refused:
        await registrations.promote_from_waiting_list(db, ids["Xia"], now=NOW,
                                                      settings=settings)
    await db.rollback()

    assert _queue(queue) == [(1, "Wim Wouters"), (2, "Xia Xu"), (3, "Yan Yilmaz")]
    assert (refused.value.field, refused.value.message) == (
        "add_place", "All 2 places are taken: promoting Xia Xu needs one more place. Add a "
        "place to raise the limit to 3.")
    assert _queue(await registrations.list_waiting(db, event_id)) == _queue(queue)
    assert await _emails(db) == []


async def test_promoting_a_chosen_person_with_an_added_place_moves_them_ahead_of_the_queue(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _full_event(db, settings)

    promotion = await registrations.promote_from_waiting_list(
        db, ids["Xia"], now=NOW, settings=settings, add_place=True)
    await db.commit()

    event_id, slug = event.id, event.slug
    db.expire_all()
    refreshed = await programme.get_event(db, event_id)
    xia = await db.get(Registration, ids["Xia"])
    assert xia is not None
    enrolments = await registrations.list_enrolments(db, ids["Xia"])
    assert (promotion.places_raised_to, refreshed.capacity) == (3, 3)
    assert (xia.status, xia.waiting_since, [e.status for e in enrolments]) == (
        Status.CONFIRMED, None, [EnrolmentStatus.CONFIRMED])
    assert _queue(await registrations.list_waiting(db, event_id)) == [
        (1, "Wim Wouters"), (2, "Yan Yilmaz")]
    assert await _emails(db) == [("registration_promoted_to_registrant",
                                  f"xia@{slug}.example.org")]


async def test_promoting_someone_who_is_not_waiting_names_the_registration(
    db: AsyncSession, settings: Settings,
) -> None:
    _, ids = await _full_event(db, settings)

    with pytest.raises(ConflictError) as refused:
        await registrations.promote_from_waiting_list(db, ids["Ana"], now=NOW,
                                                      settings=settings, add_place=True)

    assert (refused.value.field, refused.value.message) == (
        "registration", "Ana Silva is not on the event's waiting list (the registration is "
        "confirmed).")


async def test_a_sessions_waiting_list_and_promotion_into_a_full_session(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _event(db, settings, sessions=(
        SessionSpec("Workshop", "2035-09-18T09:00", "2035-09-18T12:00", capacity=1),))
    [workshop] = event.sessions
    event_id, workshop_id, slug = event.id, workshop.id, event.slug
    await make_registration(db, event, workshop, "Ana Silva")
    first = await make_registration(db, event, workshop, "Wim Wouters",
                                    enrolment=EnrolmentStatus.WAITING,
                                    now=BUILT_AT + timedelta(minutes=1))
    second = await make_registration(db, event, workshop, "Xia Xu",
                                     enrolment=EnrolmentStatus.WAITING,
                                     now=BUILT_AT + timedelta(minutes=2))
    await db.commit()
    first_id, second_id = first.id, second.id

    queue = await registrations.list_waiting(db, event_id, session_id=workshop_id)
    with pytest.raises(ConflictError) as refused:
        await registrations.promote_from_waiting_list(db, second_id, now=NOW,
                                                      settings=settings, session_id=workshop_id)
    await db.rollback()
    promotion = await registrations.promote_from_waiting_list(
        db, second_id, now=NOW, settings=settings, session_id=workshop_id, add_place=True)
    await db.commit()

    assert [(row.position, row.id) for row in queue] == [(1, first_id), (2, second_id)]
    assert refused.value.field == "add_place"
    assert promotion.places_raised_to == 2
    assert [row.id for row in await registrations.list_waiting(
        db, event_id, session_id=workshop_id)] == [first_id]
    assert [e.status for e in await registrations.list_enrolments(db, second_id)] == [
        EnrolmentStatus.CONFIRMED]
    assert await _emails(db) == [("registration_promoted_to_registrant",
                                  "xia@" + slug + ".example.org")]


# --- decisions on many registrations --------------------------------------------------------


async def _applications(db: AsyncSession, settings: Settings) -> tuple[Event, dict[str, int]]:
    event = await _event(db, settings, is_approval_required=True, capacity=1)
    ids = {}
    for minute, (name, status) in enumerate([
        ("Ana Silva", Status.PENDING), ("Ben Brown", Status.PENDING),
        ("Cleo Cancel", Status.CANCELLED), ("Dora Done", Status.DECLINED),
    ]):
        registration = await make_registration(
            db, event, None, name, status=status, now=BUILT_AT + timedelta(minutes=minute))
        ids[name.split()[0]] = registration.id
    await db.commit()
    return event, ids


async def test_approving_many_at_once_sends_each_one_the_organisers_message(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _applications(db, settings)

    report = await registrations.decide_registrations(
        db, event.id, [ids["Ana"], ids["Ben"], ids["Cleo"], ids["Ana"]], Decision.APPROVE,
        message="  Lunch is at 12:30.\nBring your badge.  ", now=NOW, settings=settings)
    await db.commit()

    assert [(row.name) for row in report.changed] == ["Ana Silva", "Ben Brown"]
    assert [(row.name, why) for row, why in report.skipped] == [
        ("Cleo Cancel", "the registration is cancelled")]
    statuses = dict((await db.execute(
        select(Registration.name, Registration.status).where(Registration.event_id == event.id)
    )).all())
    assert statuses == {"Ana Silva": Status.CONFIRMED, "Ben Brown": Status.WAITING,
                        "Cleo Cancel": Status.CANCELLED, "Dora Done": Status.DECLINED}
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert [row.template for row in rows] == ["registration_approved_to_registrant",
                                              "registration_waiting_to_registrant"]
    for row in rows:
        assert row.raw_message is not None
        text = text_of(parse(row.raw_message))
        assert text.count("A note from the organisers:\nLunch is at 12:30.\nBring your badge.") == 1


async def test_declining_many_at_once_puts_the_message_in_the_decline_email(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _applications(db, settings)

    report = await registrations.decide_registrations(
        db, event.id, [ids["Ben"], ids["Dora"]], Decision.DECLINE, message="The room is small.",
        now=NOW, settings=settings)
    await db.commit()

    assert [row.name for row in report.changed] == ["Ben Brown"]
    assert [(row.name, why) for row, why in report.skipped] == [("Dora Done", "already declined")]
    [row] = list(await db.scalars(select(OutboxEmail)))
    assert row.raw_message is not None
    assert (row.template, row.to_address) == ("registration_declined_to_registrant",
                                              "ben@" + event.slug + ".example.org")
    assert "A note from the organisers:\nThe room is small." in text_of(parse(row.raw_message))


async def test_a_decision_on_another_events_registration_or_none_changes_nothing(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _applications(db, settings)
    event_id = event.id
    other = await _event(db, settings, slug="other-event")
    stranger = await make_registration(db, other, None, "Sam Stranger", status=Status.PENDING)
    await db.commit()

    with pytest.raises(NotFoundError) as foreign:
        await registrations.decide_registrations(
            db, event_id, [ids["Ana"], stranger.id], Decision.APPROVE, now=NOW,
            settings=settings)
    await db.rollback()
    with pytest.raises(InvalidInputError) as empty:
        await registrations.decide_registrations(db, event_id, [], Decision.DECLINE, now=NOW,
                                                 settings=settings)
    with pytest.raises(InvalidInputError) as long_message:
        await registrations.decide_registrations(db, event_id, [ids["Ana"]], Decision.DECLINE,
                                                 message="x" * 5000, now=NOW,
                                                 settings=settings)
    await db.rollback()

    assert [foreign.value.field, empty.value.field, long_message.value.field] == [
        "registration_ids", "registration_ids", "message"]
    pending = list(await db.scalars(select(Registration.name).where(
        Registration.status == Status.PENDING).order_by(Registration.id)))
    assert pending == ["Ana Silva", "Ben Brown", "Sam Stranger"]
    assert await _emails(db) == []


# --- the export of a filter -----------------------------------------------------------------


async def test_the_export_holds_the_whole_filter_in_its_order_with_waiting_positions(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _full_event(db, settings)

    rows, positions = await registrations.list_registrations_to_export(
        db, RegistrationQuery(event.id, statuses=(Status.WAITING,), sort=Sort.NAME,
                              descending=True))

    assert [(r.name, [e.session.title for e in r.enrolments]) for r in rows] == [
        ("Yan Yilmaz", ["Site visit"]), ("Xia Xu", ["Site visit"]),
        ("Wim Wouters", ["Site visit"])]
    assert positions == {ids["Wim"]: 1, ids["Xia"]: 2, ids["Yan"]: 3}
