"""Group meetings through the domain: series, one occurrence, this and following, members,
guests; what members' calendars are sent (iTIP through the outbox) and the service's list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage as MimeMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    AccessToken,
    GroupMember,
    GroupMemberStatus,
    MeetingDecline,
    MeetingOccurrence,
    MeetingSeries,
    MeetingStatus,
    OutboxEmail,
    SessionMode,
)
from service.domain.access import revoke_group_member_tokens
from service.domain.errors import InvalidInputError
from service.domain.groups import (
    RecurrenceRule,
    cancel_following,
    cancel_occurrence,
    change_following,
    create_series,
    decline_occurrence,
    edit_occurrence,
    invite_guest,
    invite_member_to_group_meetings,
    move_occurrence,
    occurrences,
    withdraw_member_from_group_meetings,
)
from service.domain.groups.invites import overrides_of
from service.settings import Settings
from tests.calendar_readers import blocks, calendar_parts, itip_violations, unfolded
from tests.factories import JOIN_URL, make_group_member, make_interest_group
from tests.integration.mail_readers import outbox_messages, subject_of, text_of

NOW = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
BIMONTHLY = RecurrenceRule("monthly", interval=2, weekday=1, ordinal=2, until=date(2027, 12, 31))
FIRST = "2026-01-13T10:00"  # second Tuesday of January 2026, Brussels wall time
MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 12, 8, 0, tzinfo=UTC)


def _lines(body: bytes, *names: str) -> list[list[str]]:
    """Per VEVENT, its lines whose property is one of `names` (unfolded)."""
    return [[line for line in event if line.split(":", 1)[0].split(";", 1)[0] in names]
            for event in blocks(body, "VEVENT")]


async def _live_tokens(db: AsyncSession, member_id: int) -> int:
    return int(await db.scalar(select(func.count()).select_from(AccessToken).where(
        AccessToken.group_member_id == member_id, AccessToken.revoked_at.is_(None))) or 0)


async def _arranged(db: AsyncSession, settings: Settings) -> tuple[MeetingSeries, int]:
    group = await make_interest_group(db)
    ana = await make_group_member(db, group)
    await make_group_member(db, group, name="Ben Interested", email="ben@example.org",
                            status=GroupMemberStatus.INTERESTED)
    series = await create_series(
        db, group, title="Social ICT group meeting", starts_at_local=FIRST,
        timezone="Europe/Brussels", duration_minutes=90, rule=BIMONTHLY,
        mode=SessionMode.ONLINE, join_url=JOIN_URL, venue=None, agenda="Round of news",
        now=NOW, settings=settings)
    await db.commit()
    return series, ana.id


async def test_a_new_series_is_one_request_with_rrule_to_each_member_only(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)

    sent = await outbox_messages(db_sessionmaker)

    assert [(row.to_address, subject_of(mail)) for row, mail in sent] == [
        ("ana.silva@lisboa.example.pt", "Invitation: Socially responsible ICT meetings")]
    parts = calendar_parts(sent[0][0].raw_message or b"")
    assert [(p.mime_method, p.filename) for p in parts] == [("REQUEST", None),
                                                            ("REQUEST", "invite.ics")]
    assert _lines(parts[0].body, "UID", "SEQUENCE", "DTSTART", "DTEND", "RRULE", "ATTENDEE",
                  "CONFERENCE") == [[
        f"UID:group-meeting-{series.id}@{settings.uid_domain}",
        "SEQUENCE:0",
        "DTSTART;TZID=Europe/Brussels:20260113T100000",
        "DTEND;TZID=Europe/Brussels:20260113T113000",
        'ATTENDEE;CN="Ana Silva";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:'
        "ana.silva@lisboa.example.pt",
        f"CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online:{JOIN_URL}",
        "RRULE:FREQ=MONTHLY;UNTIL=20271231T225959Z;INTERVAL=2;BYDAY=2TU",
    ]]
    assert [line for line in unfolded(parts[0].body) if line.startswith("TZID")] == [
        "TZID:Europe/Brussels"]
    assert "Every second Tuesday of every other month, 10:00 Brussels time, until 31 " \
           "December 2027" in text_of(sent[0][1])


async def test_moving_then_cancelling_one_occurrence_sends_that_recurrence_id_only(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)

    moved = await move_occurrence(db, series, MARCH, starts_at_local="2026-03-12T14:00",
                                  now=NOW, settings=settings)
    cancelled = await cancel_occurrence(db, series, MAY, now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    moved_part = calendar_parts(sent[1][0].raw_message or b"")[0]
    cancelled_part = calendar_parts(sent[2][0].raw_message or b"")[0]
    assert (moved.starts_at, moved.is_moved, cancelled.status) == (
        datetime(2026, 3, 12, 13, 0, tzinfo=UTC), True, MeetingStatus.CANCELLED)
    assert moved_part.mime_method == "REQUEST"
    assert _lines(moved_part.body, "SEQUENCE", "DTSTART", "RECURRENCE-ID", "RRULE") == [[
        "SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260312T140000",
        "RECURRENCE-ID;TZID=Europe/Brussels:20260310T100000"]]
    assert cancelled_part.mime_method == "CANCEL"
    assert _lines(cancelled_part.body, "SEQUENCE", "STATUS", "RECURRENCE-ID") == [[
        "SEQUENCE:1", "STATUS:CANCELLED", "RECURRENCE-ID;TZID=Europe/Brussels:20260512T100000"]]
    listed = occurrences(series, (await overrides_of(db, [series.id]))[series.id],
                         end=datetime(2026, 6, 1, tzinfo=UTC))
    assert [(o.recurrence_id, o.starts_at, o.status, o.is_moved) for o in listed] == [
        (datetime(2026, 1, 13, 9, tzinfo=UTC), datetime(2026, 1, 13, 9, tzinfo=UTC),
         MeetingStatus.SCHEDULED, False),
        (MARCH, datetime(2026, 3, 12, 13, tzinfo=UTC), MeetingStatus.SCHEDULED, True),
        (MAY, MAY, MeetingStatus.CANCELLED, False),
    ]


async def test_this_and_following_ends_the_series_with_until_and_starts_another(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)

    new = await change_following(db, series, MAY, starts_at_local="2026-05-12T14:00",
                                 now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    parts = [p for p in calendar_parts(sent[1][0].raw_message or b"") if p.filename]
    assert subject_of(sent[1][1]) == "Updated: Social ICT group meeting (Socially responsible ICT)"
    assert [_lines(p.body, "UID", "SEQUENCE", "DTSTART", "RRULE") for p in parts] == [
        [[f"UID:{series.uid}", "SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260113T100000",
          "RRULE:FREQ=MONTHLY;UNTIL=20260511T215959Z;INTERVAL=2;BYDAY=2TU"]],
        [[f"UID:{new.uid}", "SEQUENCE:0", "DTSTART;TZID=Europe/Brussels:20260512T140000",
          "RRULE:FREQ=MONTHLY;UNTIL=20271231T225959Z;INTERVAL=2;BYDAY=2TU"]],
    ]
    assert new.previous_series_id == series.id
    assert [o.starts_at for o in occurrences(series, [])] == [
        datetime(2026, 1, 13, 9, tzinfo=UTC), MARCH]


async def test_a_member_leaving_and_coming_back_gets_cancel_then_a_higher_request(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, ana_id = await _arranged(db, settings)
    ana = await db.get(GroupMember, ana_id)
    assert ana is not None

    await revoke_group_member_tokens(db, ana.id, now=NOW)  # as leaving the group does
    await withdraw_member_from_group_meetings(db, ana, now=NOW, settings=settings)
    live_after_leaving = await _live_tokens(db, ana.id)
    await invite_member_to_group_meetings(db, ana, now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    seen = [(p.mime_method, _lines(p.body, "SEQUENCE", "STATUS")[0])
            for _, mail in sent for p in calendar_parts(mail.as_bytes()) if p.filename]
    assert seen == [("REQUEST", ["SEQUENCE:0", "STATUS:CONFIRMED"]),
                    ("CANCEL", ["SEQUENCE:1", "STATUS:CANCELLED"]),
                    ("REQUEST", ["SEQUENCE:2", "STATUS:CONFIRMED"])]
    assert (subject_of(sent[1][1]), "/groups/feed/" in text_of(sent[1][1]),
            "/groups/feed/" in text_of(sent[2][1])) == (
        "Removed from your calendar: Socially responsible ICT meetings", False, True)
    # No private link is issued again for someone leaving; coming back gives new ones.
    assert (live_after_leaving, await _live_tokens(db, ana.id)) == (0, 2)


async def test_a_guest_gets_one_occurrence_of_their_own_and_a_decline_is_kept_once(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, ana_id = await _arranged(db, settings)
    ana = await db.get(GroupMember, ana_id)
    assert ana is not None

    await invite_guest(db, series, MARCH, name="Carla Canal", email="carla@bcn.example.es",
                       now=NOW, settings=settings)
    await decline_occurrence(db, ana, series, MARCH, now=NOW)
    await decline_occurrence(db, ana, series, MARCH, now=NOW)
    await cancel_occurrence(db, series, MARCH, now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    to_guest = [calendar_parts(row.raw_message or b"")[0] for row, _ in sent
                if row.to_address == "carla@bcn.example.es"]
    guest_uid = f"UID:group-meeting-{series.id}-20260310T090000Z-guest@{settings.uid_domain}"
    assert [(part.mime_method, _lines(part.body, "UID", "SEQUENCE", "DTSTART", "RRULE",
                                      "RECURRENCE-ID")) for part in to_guest] == [
        ("REQUEST", [[guest_uid, "SEQUENCE:0", "DTSTART;TZID=Europe/Brussels:20260310T100000"]]),
        ("CANCEL", [[guest_uid, "SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260310T100000"]]),
    ]
    assert await db.scalar(select(func.count()).select_from(MeetingDecline)) == 1


async def test_a_guest_is_written_to_in_their_own_language_and_an_unknown_one_is_refused(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ana = await _arranged(db, settings)

    with pytest.raises(InvalidInputError) as refused:
        await invite_guest(db, series, MARCH, name="Gus", email="gus@guest.example.org",
                           language="xx", now=NOW, settings=settings)
    await invite_guest(db, series, MARCH, name="Greta Gast", email="greta@gast.example.de",
                       language="de", now=NOW, settings=settings)
    await cancel_occurrence(db, series, MARCH, now=NOW, settings=settings)
    await db.commit()

    assert [e.field for e in refused.value.errors] == ["language"]
    sent = [(message, row) for row, message in await outbox_messages(db_sessionmaker)
            if row.to_address == "greta@gast.example.de"]
    assert [subject_of(message).split(":")[0] for message, _row in sent] == [
        "Einladung", "Abgesagt"]
    invite = calendar_parts(sent[0][1].raw_message or b"")[0]
    assert [line.split("\\n\\n")[-1].split(" ")[0] for line in unfolded(invite.body)
            if line.startswith("DESCRIPTION")] == ["Gruppenseite:"]


JULY = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)


def _guest_parts(sent: list[tuple[OutboxEmail, MimeMessage]], address: str
                 ) -> list[tuple[str | None, list[list[str]]]]:
    parts = [calendar_parts(row.raw_message or b"")[0] for row, _ in sent
             if row.to_address == address]
    return [(part.mime_method, _lines(part.body, "UID", "SEQUENCE", "DTSTART")) for part in parts]


async def test_cancelling_from_a_later_meeting_ends_the_series_and_tells_the_dropped_guests(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)
    await invite_guest(db, series, MARCH, name="Carla Canal", email="carla@bcn.example.es",
                       now=NOW, settings=settings)
    await invite_guest(db, series, JULY, name="Gus Guest", email="gus@guest.example.org",
                       now=NOW, settings=settings)

    await cancel_following(db, series, MAY, now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    to_member = [calendar_parts(row.raw_message or b"")[0] for row, _ in sent
                 if row.to_address == "ana.silva@lisboa.example.pt"]
    assert [(p.mime_method, _lines(p.body, "SEQUENCE", "RRULE")) for p in to_member][-1] == (
        "REQUEST", [["SEQUENCE:1", "RRULE:FREQ=MONTHLY;UNTIL=20260511T215959Z;INTERVAL=2;"
                                   "BYDAY=2TU"]])
    july_uid = f"UID:group-meeting-{series.id}-20260714T080000Z-guest@{settings.uid_domain}"
    assert _guest_parts(sent, "gus@guest.example.org") == [
        ("REQUEST", [[july_uid, "SEQUENCE:0", "DTSTART;TZID=Europe/Brussels:20260714T100000"]]),
        ("CANCEL", [[july_uid, "SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260714T100000"]])]
    assert [method for method, _ in _guest_parts(sent, "carla@bcn.example.es")] == ["REQUEST"]
    assert [o.recurrence_id for o in occurrences(series, [])] == [
        datetime(2026, 1, 13, 9, 0, tzinfo=UTC), MARCH]
    for address in ("ana.silva@lisboa.example.pt", "gus@guest.example.org"):
        assert itip_violations([row.raw_message or b"" for row, _ in sent
                                if row.to_address == address]) == []


async def test_cancelling_from_the_first_meeting_cancels_the_whole_series(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)
    await invite_guest(db, series, MARCH, name="Carla Canal", email="carla@bcn.example.es",
                       now=NOW, settings=settings)

    await cancel_following(db, series, datetime(2026, 1, 13, 9, 0, tzinfo=UTC), now=NOW,
                           settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    last = calendar_parts(sent[-2][0].raw_message or b"")[0]
    assert (sent[-2][0].to_address, last.mime_method,
            _lines(last.body, "UID", "SEQUENCE", "RECURRENCE-ID")) == (
        "ana.silva@lisboa.example.pt", "CANCEL",
        [[f"UID:group-meeting-{series.id}@{settings.uid_domain}", "SEQUENCE:1"]])
    assert [method for method, _ in _guest_parts(sent, "carla@bcn.example.es")] == [
        "REQUEST", "CANCEL"]
    assert (series.status, {o.status for o in occurrences(series, [])}) == (
        MeetingStatus.CANCELLED, {MeetingStatus.CANCELLED})
    for address in ("ana.silva@lisboa.example.pt", "carla@bcn.example.es"):
        assert itip_violations([row.raw_message or b"" for row, _ in sent
                                if row.to_address == address]) == []


async def test_a_split_sends_a_moved_guest_their_new_copy_and_cancels_the_old_one(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)
    await invite_guest(db, series, JULY, name="Gus Guest", email="gus@guest.example.org",
                       now=NOW, settings=settings)

    new = await change_following(db, series, MAY, title="Social ICT (new format)", now=NOW,
                                 settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    old_uid = f"UID:group-meeting-{series.id}-20260714T080000Z-guest@{settings.uid_domain}"
    new_uid = f"UID:group-meeting-{new.id}-20260714T080000Z-guest@{settings.uid_domain}"
    july = "DTSTART;TZID=Europe/Brussels:20260714T100000"
    assert _guest_parts(sent, "gus@guest.example.org") == [
        ("REQUEST", [[old_uid, "SEQUENCE:0", july]]),
        ("CANCEL", [[old_uid, "SEQUENCE:1", july]]),
        ("REQUEST", [[new_uid, "SEQUENCE:0", july]])]
    assert itip_violations([row.raw_message or b"" for row, _ in sent
                            if row.to_address == "gus@guest.example.org"]) == []


async def test_a_one_off_meeting_changes_as_a_whole_without_recurrence_id(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    group = await make_interest_group(db)
    await make_group_member(db, group)
    visit = await create_series(db, group, title="Study visit", starts_at_local="2026-06-18T09:30",
                                duration_minutes=240, rule=None, mode=SessionMode.IN_PERSON,
                                venue="Stadhuis, Gent", now=NOW, settings=settings)
    first = datetime(2026, 6, 18, 7, 30, tzinfo=UTC)

    await move_occurrence(db, visit, first, starts_at_local="2026-06-19T09:30", now=NOW,
                          settings=settings)
    await cancel_occurrence(db, visit, datetime(2026, 6, 19, 7, 30, tzinfo=UTC), now=NOW,
                            settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    assert [(p.mime_method, _lines(p.body, "SEQUENCE", "DTSTART", "STATUS", "RRULE",
                                   "RECURRENCE-ID", "LOCATION"))
            for _, mail in sent for p in calendar_parts(mail.as_bytes()) if p.filename] == [
        ("REQUEST", [["SEQUENCE:0", "DTSTART;TZID=Europe/Brussels:20260618T093000",
                      "LOCATION:Stadhuis\\, Gent", "STATUS:CONFIRMED"]]),
        ("REQUEST", [["SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260619T093000",
                      "LOCATION:Stadhuis\\, Gent", "STATUS:CONFIRMED"]]),
        ("CANCEL", [["SEQUENCE:2", "DTSTART;TZID=Europe/Brussels:20260619T093000",
                     "LOCATION:Stadhuis\\, Gent", "STATUS:CANCELLED"]]),
    ]


async def test_a_first_meeting_off_its_rule_is_refused_naming_the_field_and_nothing_stored(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    group = await make_interest_group(db)

    with pytest.raises(InvalidInputError) as refused:
        await create_series(db, group, title="Meeting", starts_at_local="2026-01-20T10:00",
                            timezone="Europe/Brussels", duration_minutes=60, rule=BIMONTHLY,
                            mode="online", join_url=None, venue=None, agenda="", now=NOW,
                            settings=settings)

    assert [e.field for e in refused.value.errors] == ["starts_at_local"]
    assert await db.scalar(select(func.count()).select_from(MeetingSeries)) == 0


async def test_an_occurrence_of_its_own_agenda_reaches_calendars_with_its_recurrence_id(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    series, _ = await _arranged(db, settings)

    edited = await edit_occurrence(db, series, MARCH, agenda="Guest talk: Carla Canal",
                                   now=NOW, settings=settings)
    unchanged = await edit_occurrence(db, series, MARCH, agenda="Guest talk: Carla Canal",
                                      now=NOW, settings=settings)
    await db.commit()

    sent = await outbox_messages(db_sessionmaker)
    part = calendar_parts(sent[-1][0].raw_message or b"")[0]
    assert (len(sent), edited.agenda, unchanged.sequence) == (2, "Guest talk: Carla Canal", 1)
    assert _lines(part.body, "SEQUENCE", "DTSTART", "DESCRIPTION", "RECURRENCE-ID") == [[
        "SEQUENCE:1", "DTSTART;TZID=Europe/Brussels:20260310T100000",
        "DESCRIPTION:Guest talk: Carla Canal\\n\\nGroup page: "
        f"{settings.public_base_url}/groups/social-ict",
        "RECURRENCE-ID;TZID=Europe/Brussels:20260310T100000"]]


async def test_the_series_agenda_or_link_given_back_leaves_a_meeting_following_the_series(
    db: AsyncSession, settings: Settings
) -> None:
    """The back office's form of one meeting shows its agenda and join link, so it sends
    the series' own back when only the other one changed: that is not the meeting's own."""
    series, _ = await _arranged(db, settings)
    own_link = "https://meet.example.org/march-only"

    new_link = await edit_occurrence(db, series, MARCH, agenda="Round of news",
                                     join_url=own_link, now=NOW, settings=settings)
    new_agenda = await edit_occurrence(db, series, MARCH, agenda="Guest talk",
                                       join_url=own_link, now=NOW, settings=settings)
    back = await edit_occurrence(db, series, MARCH, agenda="Round of news",
                                 join_url=JOIN_URL, now=NOW, settings=settings)
    await db.commit()

    assert (new_link.has_own_agenda, new_link.agenda, new_link.join_url) == (
        False, "Round of news", own_link)
    assert (new_agenda.has_own_agenda, new_agenda.agenda) == (True, "Guest talk")
    row = await db.scalar(select(MeetingOccurrence).where(
        MeetingOccurrence.series_id == series.id))
    assert row is not None and (row.agenda, row.join_url) == (None, None)
    assert (back.has_own_agenda, back.agenda, back.join_url) == (False, "Round of news",
                                                                 JOIN_URL)


async def test_every_rule_broken_by_a_new_series_is_named_at_once(
    db: AsyncSession, settings: Settings
) -> None:
    group = await make_interest_group(db)

    with pytest.raises(InvalidInputError) as refused:
        await create_series(db, group, title=" ", starts_at_local="2026-03-29T02:30",
                            duration_minutes=2, rule=RecurrenceRule("weekly", weekday=6),
                            mode="webinar", join_url="ftp://meet", now=NOW, settings=settings)

    assert [e.field for e in refused.value.errors] == [
        "title", "duration_minutes", "mode", "join_url", "starts_at_local"]
    assert await db.scalar(select(func.count()).select_from(MeetingSeries)) == 0


async def test_a_weekly_meeting_that_would_fall_in_the_spring_gap_is_refused(
    db: AsyncSession, settings: Settings
) -> None:
    group = await make_interest_group(db)

    with pytest.raises(InvalidInputError) as refused:
        await create_series(db, group, title="Night shift", starts_at_local="2026-03-22T02:30",
                            duration_minutes=30, rule=RecurrenceRule("weekly", weekday=6, count=3),
                            now=NOW, settings=settings)

    assert (refused.value.field, refused.value.message) == (
        "starts_at_local", "The meeting of Sunday 29 March 2026 would fall when the clocks "
        "change at 02:30: choose another time of day.")
