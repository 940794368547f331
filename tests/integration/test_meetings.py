"""One-to-one meetings of a Meet-your-Buyer event: grid, availability, requests, Schedule
all, invites through the outbox, moves, locks, cancellations and the report's list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Event,
    HostAvailability,
    MeetingGridDay,
    MeetingRequestStatus,
    MeetingSlot,
    OneToOneMeeting,
    OneToOneStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
)
from service.domain import programme
from service.domain import registration as registration_domain
from service.domain.calendars import feeds
from service.domain.consultation import meetings
from service.domain.errors import InvalidInputError
from service.operations.demo import HAARLEM_SLUG, load_demo_meetings, load_demo_programme
from service.settings import Settings
from tests.calendar_readers import assert_parsers_agree, itip_violations
from tests.factories import BUILT_AT, DEMO_LOADED_AT, make_person
from tests.integration.mail_readers import calendar_of, ical_lines, parse
from tests.integration.meeting_fixtures import grid_input, make_consultation

P = meetings.Period


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_the_grid_gives_slots_in_the_event_zone_around_pauses_and_breaks(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings)
    slots = await meetings.grid_slots(db, c.event.id)
    # Brussels/Amsterdam time is UTC+1 in November.
    assert [(s.starts_at, s.ends_at) for s in slots] == [
        (_utc("2035-11-12T08:00"), _utc("2035-11-12T08:20")),
        (_utc("2035-11-12T08:30"), _utc("2035-11-12T08:50")),
        (_utc("2035-11-12T09:00"), _utc("2035-11-12T09:20")),
        (_utc("2035-11-12T11:30"), _utc("2035-11-12T11:50")),
    ]


@pytest.mark.parametrize(("change", "field"), [
    ({"days": [P("2035-11-12", "09:00", "11:00"), P("2035-11-12", "10:30", "12:00")], "breaks": []}, "days"),
    ({"days": [P("2035-11-13", "09:00", "11:00")], "breaks": []}, "days"),
    ({"breaks": [meetings.NamedBreak("Lunch", P("2035-11-12", "14:00", "15:00"))]}, "breaks"),
    ({"breaks": [meetings.NamedBreak("Lunch", P("2035-11-12", "12:00", "12:30")),
                 meetings.NamedBreak("Coffee", P("2035-11-12", "12:15", "12:45"))]}, "breaks"),
    ({"meeting_minutes": 0}, "meeting_minutes"),
    ({"tables": []}, "tables"),
])
async def test_a_bad_grid_is_refused_naming_the_field_and_nothing_is_stored(
    db: AsyncSession, settings: Settings, change: dict[str, object], field: str
) -> None:
    c = await make_consultation(db, settings)
    before = (await db.execute(select(MeetingGridDay.starts_at).order_by(MeetingGridDay.id))).all()
    with pytest.raises(InvalidInputError) as refused:
        await meetings.save_grid(db, c.event.id, grid_input(**change), now=BUILT_AT)
    assert [e.field for e in refused.value.errors] == [field]
    after = (await db.execute(select(MeetingGridDay.starts_at).order_by(MeetingGridDay.id))).all()
    assert after == before
    assert await db.scalar(select(func.count()).select_from(MeetingSlot)) == 4


async def test_availability_outside_the_meeting_days_is_refused_and_nothing_stored(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings)
    host = c.hosts[0]
    with pytest.raises(InvalidInputError) as refused:
        await meetings.set_availability(
            db, c.event.id, host.id, [P("2035-11-12", "09:00", "10:00"), P("2035-11-12", "15:00", "16:00")],
            now=BUILT_AT)
    assert [e.field for e in refused.value.errors] == ["availability"]
    assert await db.scalar(select(func.count()).select_from(HostAvailability)) == 0


async def test_schedule_all_places_accepted_requests_invites_both_and_keeps_locks(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=3, hosts=2)
    first, second = c.hosts
    # Host 1 only before 10:00 (slots 09:00 and 09:30 local).
    await meetings.set_availability(db, c.event.id, first.id, [P("2035-11-12", "09:00", "10:00")],
                                    now=BUILT_AT)
    requests = []
    for supplier in c.suppliers:
        requests += await meetings.request_meetings(
            db, supplier.id, [first.id, second.id], "Refurbished laptops", now=BUILT_AT, settings=settings)
    assert [r.status for r in requests] == [MeetingRequestStatus.PENDING] * 6
    assert [r.rank for r in requests] == [1, 2] * 3
    for request in requests:
        # The third supplier's request to the first host is declined.
        accept = request.registration_id != c.suppliers[2].id or request.host_id == second.id
        await meetings.decide_request(db, c.event.id, request.id, accept=accept, now=BUILT_AT,
                                      settings=settings)

    outcome = await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    assert (outcome.requested, outcome.placed, outcome.new) == (5, 5, 5)
    views = await meetings.meeting_views(db, c.event.id)
    slots = {s.id: s for s in await meetings.grid_slots(db, c.event.id)}
    for v in views:
        if v.host_id == first.id:
            assert slots[v.slot_id].starts_at < _utc("2035-11-12T09:00")
    assert len({(v.slot_id, v.host_id) for v in views}) == 5
    assert len({(v.slot_id, v.registration_id) for v in views}) == 5
    assert len({(v.slot_id, v.table_id) for v in views}) == 5
    emails = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.raw_message)
                               .where(OutboxEmail.dedupe_key.is_(None)).order_by(OutboxEmail.id))).all()
    assert len(emails) == 10
    assert sorted(a for a, _ in emails) == sorted(
        [v.supplier_email for v in views] + [v.host_email or "" for v in views])
    first_invite = calendar_of(parse(emails[0][1] or b""))
    assert first_invite[0] == "REQUEST"
    assert ical_lines(first_invite[1] or "", "METHOD", "UID", "SEQUENCE", "STATUS") == [
        "METHOD:REQUEST", f"UID:{ical_lines(first_invite[1] or '', 'UID')[0][4:]}",
        "SEQUENCE:0", "STATUS:CONFIRMED"]
    assert ical_lines(first_invite[1] or "", "UID")[0][4:] in {v.uid for v in views}
    assert {calendar_of(parse(raw or b""))[0] for _, raw in emails} == {"REQUEST"}

    # Lock one, cancel another; the re-run leaves the lock where it was and re-places.
    locked = views[0]
    await meetings.set_locked(db, c.event.id, locked.id, True, now=BUILT_AT)
    await meetings.cancel_meeting(db, c.event.id, views[1].id, now=BUILT_AT, settings=settings)
    cancels = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.raw_message)
                                .where(OutboxEmail.dedupe_key.is_(None))
                                .order_by(OutboxEmail.id.desc()).limit(2))).all()
    assert sorted(a for a, _ in cancels) == sorted([views[1].supplier_email, views[1].host_email or ""])
    method, cancel = calendar_of(parse(cancels[0][1] or b""))
    assert ical_lines(cancel or "", "METHOD", "UID", "SEQUENCE", "STATUS") == [
        "METHOD:CANCEL", f"UID:{views[1].uid}", "SEQUENCE:1", "STATUS:CANCELLED"]
    assert method == "CANCEL"
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    after = {v.id: v for v in await meetings.meeting_views(db, c.event.id)}
    assert (after[locked.id].slot_id, after[locked.id].table_id) == (locked.slot_id, locked.table_id)
    assert after[views[1].id].status == OneToOneStatus.SCHEDULED

    report = await meetings.meetings_for_report(db, c.event)
    assert [(r.table, r.status) for r in report][:1] == [(locked.table_name, "scheduled")]
    assert len(report) == 5


async def test_a_meeting_moved_outside_the_grid_or_the_hosts_time_is_refused(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1)
    [request] = await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Monitors",
                                                now=BUILT_AT, settings=settings)
    await meetings.decide_request(db, c.event.id, request.id, accept=True, now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    [view] = await meetings.meeting_views(db, c.event.id)
    with pytest.raises(InvalidInputError) as refused:
        await meetings.move_meeting(db, c.event.id, view.id, 10_000, None, now=BUILT_AT, settings=settings)
    assert refused.value.field == "slot_id"
    await meetings.set_availability(db, c.event.id, c.hosts[0].id, [P("2035-11-12", "12:00", "13:00")],
                                    now=BUILT_AT)
    first_slot = (await meetings.grid_slots(db, c.event.id))[0]
    with pytest.raises(InvalidInputError) as refused:
        await meetings.move_meeting(db, c.event.id, view.id, first_slot.id, None, now=BUILT_AT,
                                    settings=settings)
    assert refused.value.field == "slot_id"
    meeting = await db.get(OneToOneMeeting, view.id)
    assert meeting is not None
    assert (meeting.slot_id, meeting.sequence) == (view.slot_id, 0)


async def test_a_meeting_is_in_the_suppliers_and_the_hosts_personal_feeds(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Circular monitors",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    [view] = await meetings.meeting_views(db, c.event.id)
    supplier_token = await feeds.issue_registration_feed_token(db, c.suppliers[0].id, now=BUILT_AT,
                                                               settings=settings)
    host_token = await feeds.issue_speaker_feed_token(db, c.hosts[0].person_id, now=BUILT_AT,
                                                      settings=settings)
    supplier_plan = await feeds.registration_feed(db, supplier_token, now=BUILT_AT, settings=settings)
    host_plan = await feeds.speaker_feed(db, host_token, now=BUILT_AT, settings=settings)
    for plan in (supplier_plan, host_plan):
        body = (await feeds.render_feed(db, plan, now=BUILT_AT, settings=settings)).decode()
        assert sorted(ical_lines(body, "UID", "SEQUENCE", "STATUS", "LOCATION")) == sorted([
            f"UID:{view.uid}", "SEQUENCE:0", "STATUS:CONFIRMED", "LOCATION:Table 1"])
    # Cancelling changes the feed's version and marks the meeting cancelled there.
    await meetings.cancel_meeting(db, c.event.id, view.id, now=BUILT_AT, settings=settings)
    again = await feeds.registration_feed(db, supplier_token, now=BUILT_AT, settings=settings)
    assert again.etag != supplier_plan.etag
    body = (await feeds.render_feed(db, again, now=BUILT_AT, settings=settings)).decode()
    assert sorted(ical_lines(body, "UID", "SEQUENCE", "STATUS")) == sorted(
        [f"UID:{view.uid}", "SEQUENCE:1", "STATUS:CANCELLED"])


async def test_the_haarlem_demo_has_a_grid_hosts_sample_suppliers_and_their_meetings(
    db: AsyncSession, settings: Settings
) -> None:
    await load_demo_programme(db, now=DEMO_LOADED_AT, settings=settings)
    assert await load_demo_meetings(db, now=DEMO_LOADED_AT, settings=settings)
    assert not await load_demo_meetings(db, now=DEMO_LOADED_AT, settings=settings)  # once
    event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
    assert event_id is not None
    views = await meetings.meeting_views(db, event_id)
    assert sorted((v.supplier_company, v.host_name) for v in views) == [
        ("Circular Devices BV (sample)", "Marieke Jansen (sample)"),
        ("Circular Devices BV (sample)", "Rudie de Vries"),
        ("Dockworks (sample)", "Rudie de Vries"),
        ("FairLaptop Co (sample)", "Marieke Jansen (sample)"),
        ("FairLaptop Co (sample)", "Rudie de Vries"),
    ]
    assert {str(v.status) for v in views} == {"scheduled"}
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == 0


async def test_merging_a_host_into_another_record_keeps_their_meetings(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Monitors",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    kept = await make_person(db, "Host One", "host.one@haarlem.example.nl")
    duplicate_id = c.hosts[0].person_id
    await programme.merge_persons(db, kept.id, duplicate_id, now=BUILT_AT, settings=settings)
    [view] = await meetings.meeting_views(db, c.event.id)
    assert (view.host_name, str(view.status)) == ("Host One", "scheduled")


async def test_reminders_follow_the_events_policy_and_a_move_or_cancellation_replans_them(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    c.event.reminder_offsets_minutes = [60]
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Monitors",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    [view] = await meetings.meeting_views(db, c.event.id)

    async def reminders() -> list[tuple[str, str, datetime | None]]:
        rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.status,
                                        OutboxEmail.next_attempt_at)
                                 .where(OutboxEmail.dedupe_key.like("meeting-reminder:%"))
                                 .order_by(OutboxEmail.id))).all()
        return [(a, str(s), n) for a, s, n in rows]

    assert await reminders() == [
        ("sales1@vendor1.example.com", "queued", _utc("2035-11-12T07:00")),
        ("host1@haarlem.example.nl", "queued", _utc("2035-11-12T07:00")),
    ]
    later = (await meetings.grid_slots(db, c.event.id))[3]
    await meetings.move_meeting(db, c.event.id, view.id, later.id, None, now=BUILT_AT, settings=settings)
    assert [(a, s) for a, s, _ in await reminders()] == [
        ("sales1@vendor1.example.com", "withdrawn"), ("host1@haarlem.example.nl", "withdrawn"),
        ("sales1@vendor1.example.com", "queued"), ("host1@haarlem.example.nl", "queued")]
    assert (await reminders())[2][2] == _utc("2035-11-12T10:30")
    await meetings.cancel_meeting(db, c.event.id, view.id, now=BUILT_AT, settings=settings)
    assert {s for _, s, _ in await reminders()} == {"withdrawn"}


async def test_a_new_reminder_policy_replans_meeting_reminders_without_a_new_invite(
    db: AsyncSession, settings: Settings
) -> None:
    """A policy saved for the event reaches its one-to-one meetings too: an offset dropped
    is taken back, one added is planned, one dropped and chosen again is planned anew; the
    Reminders page's counts follow."""
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    c.event.reminder_offsets_minutes = [60]
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Monitors",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    invites = await db.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.dedupe_key.is_(None)))

    async def planned() -> list[tuple[str, datetime | None]]:
        rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.next_attempt_at)
                                 .where(OutboxEmail.dedupe_key.like("meeting-reminder:%"),
                                        OutboxEmail.status == "queued")
                                 .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id))).all()
        return [(address, due) for address, due in rows]

    async def policy(offsets: list[int]) -> None:
        await programme.update_event(db, c.event.id,
                                     programme.EventUpdate(reminder_offsets_minutes=offsets),
                                     now=BUILT_AT, settings=settings)

    await policy([1440])
    assert await planned() == [("sales1@vendor1.example.com", _utc("2035-11-11T08:00")),
                               ("host1@haarlem.example.nl", _utc("2035-11-11T08:00"))]
    await policy([1440, 60])
    await policy([60])
    assert await planned() == [("sales1@vendor1.example.com", _utc("2035-11-12T07:00")),
                               ("host1@haarlem.example.nl", _utc("2035-11-12T07:00"))]
    assert await db.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.dedupe_key.is_(None))) == invites
    lines, failed = await meetings.meeting_reminder_schedule(db, c.event.id)
    assert ([(line.offset_minutes, line.counts) for line in lines], failed) == (
        [(1440, {"cancelled": 4}), (60, {"cancelled": 4, "scheduled": 2})], [])


async def test_a_rerun_keeps_held_meetings_and_drops_a_cancelled_registrations_meeting(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=2, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    for supplier in c.suppliers:
        await meetings.request_meetings(db, supplier.id, [c.hosts[0].id], "Laptops", now=BUILT_AT,
                                        settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    first, second = await meetings.meeting_views(db, c.event.id)
    on_the_day = _utc("2035-11-12T12:00")
    await meetings.mark_held(db, c.event.id, first.id, now=on_the_day)
    registration = await db.get(Registration, second.registration_id)
    assert registration is not None
    registration.status = RegistrationStatus.CANCELLED
    await db.flush()
    outcome = await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    assert (outcome.placed, outcome.cancelled) == (1, 1)
    after = {v.id: (v.slot_id, str(v.status)) for v in await meetings.meeting_views(db, c.event.id)}
    assert after == {first.id: (first.slot_id, "held"), second.id: (second.slot_id, "cancelled")}


async def test_a_suppliers_invites_keep_rfc_5546_and_parsers_agree_on_the_times(
    db: AsyncSession, settings: Settings
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Monitors",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    [view] = await meetings.meeting_views(db, c.event.id)
    slots = await meetings.grid_slots(db, c.event.id)
    await meetings.move_meeting(db, c.event.id, view.id, slots[3].id, None, now=BUILT_AT, settings=settings)
    await meetings.cancel_meeting(db, c.event.id, view.id, now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    emails = list((await db.scalars(
        select(OutboxEmail.raw_message).where(OutboxEmail.dedupe_key.is_(None),
                                              OutboxEmail.to_address == view.supplier_email)
        .order_by(OutboxEmail.id))).all())
    bodies = [e or b"" for e in emails]
    assert [calendar_of(parse(b))[0] for b in bodies] == ["REQUEST", "REQUEST", "CANCEL", "REQUEST"]
    assert itip_violations(bodies) == []
    moved = (calendar_of(parse(bodies[1]))[1] or "").encode()
    assert_parsers_agree(moved, {view.uid: (_utc("2035-11-12T11:30"), _utc("2035-11-12T11:50"))})


@pytest.mark.parametrize("leaves", ["cancels", "is declined"])
async def test_a_supplier_who_leaves_the_dialogue_leaves_its_meetings_and_requests(
    db: AsyncSession, settings: Settings, leaves: str
) -> None:
    c = await make_consultation(db, settings, suppliers=2, hosts=2,
                                grid=grid_input(accepts_automatically=True))
    leaving, staying = c.suppliers
    await meetings.request_meetings(db, leaving.id, [c.hosts[0].id], "Laptops", now=BUILT_AT,
                                    settings=settings)
    await meetings.request_meetings(db, staying.id, [c.hosts[0].id], "Screens", now=BUILT_AT,
                                    settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    # A second request, asked after the scheduling: accepted, not placed yet.
    [open_request] = await meetings.request_meetings(db, leaving.id, [c.hosts[1].id], "Docks",
                                                     now=BUILT_AT, settings=settings)
    [meeting] = await db.scalars(select(OneToOneMeeting).where(
        OneToOneMeeting.registration_id == leaving.id))
    sequence = meeting.sequence

    if leaves == "cancels":
        await registration_domain.cancel_registration(db, leaving.id, now=BUILT_AT,
                                                      settings=settings)
    else:
        await registration_domain.decline_registration(db, leaving.id, now=BUILT_AT,
                                                       settings=settings)

    await db.refresh(meeting)
    assert (meeting.status, meeting.sequence) == (OneToOneStatus.CANCELLED, sequence + 1)
    await db.refresh(open_request)
    assert open_request.status == MeetingRequestStatus.WITHDRAWN
    cancels = (await db.execute(
        select(OutboxEmail.to_address).where(OutboxEmail.subject.like("%ancelled%"),
                                             OutboxEmail.template == meetings.TEMPLATE)
        .order_by(OutboxEmail.to_address))).scalars().all()
    assert cancels == ["host1@haarlem.example.nl", "sales1@vendor1.example.com"]
    # The other supplier's meeting stays, and a new "Schedule all" places nothing for the
    # one who left.
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    live = (await db.execute(
        select(OneToOneMeeting.registration_id).where(
            OneToOneMeeting.status == OneToOneStatus.SCHEDULED))).scalars().all()
    assert live == [staying.id]
