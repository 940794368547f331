"""The heart of Interest Group calendars: what calendar apps expand from our feed and our
invites is exactly the service's own list of occurrences.

Two years of a bi-monthly "second Tuesday, 10:00 Brussels time" series and a quarterly one,
across four changes of the clocks, with occurrences moved (one across a change of the
clocks) and cancelled, and the bi-monthly one changed "from May 2027 on" (it ends with an
UNTIL and a new series carries on). Three readers expand them: icalendar with `recurring-ical-events`,
vobject (dateutil's rruleset), and Thunderbird's ical.js. Three sources: the group's public
feed over HTTP, the invite a member approved after the changes receives (one iTIP REQUEST
per series, with EXDATEs and RECURRENCE-ID VEVENTs), and the calendar of a member who was
there from the start, as a calendar app builds it from every message received (the series
REQUESTs, then each occurrence's REQUEST or CANCEL with its RECURRENCE-ID).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import recurring_ical_events
from icalendar import Calendar, Component, Event
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    AccessPurpose,
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    MeetingSeries,
    SessionMode,
)
from service.domain import access
from service.domain.groups import (
    RecurrenceRule,
    cancel_occurrence,
    change_following,
    create_series,
    invite_member_to_group_meetings,
    move_occurrence,
    occurrences,
)
from service.domain.groups.invites import overrides_of
from service.settings import Settings
from tests.calendar_readers import (
    Occurrences,
    blocks,
    calendar_parts,
    expand_icaljs_many,
    expand_vobject,
    read_libical_many,
)
from tests.factories import JOIN_URL, make_group_member, make_interest_group
from tests.integration.mail_readers import outbox_messages

NOW = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
ANA = "ana.silva@lisboa.example.pt"
BEN = "ben.late@gent.example.be"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def _two_years_of_meetings(db: AsyncSession, settings: Settings
                                 ) -> tuple[list[MeetingSeries], GroupMember]:
    """The two series with their changes, Ana a member from the start, Ben approved after."""
    group = await make_interest_group(db)
    await make_group_member(db, group, email=ANA)
    ben = await make_group_member(db, group, name="Ben Late", email=BEN,
                                  status=GroupMemberStatus.INTERESTED)
    bimonthly = await create_series(
        db, group, title="Social ICT: bi-monthly call", starts_at_local="2026-01-13T10:00",
        duration_minutes=90, mode=SessionMode.ONLINE, join_url=JOIN_URL, now=NOW,
        settings=settings, rule=RecurrenceRule("monthly", interval=2, weekday=1, ordinal=2,
                                               until=date(2027, 12, 31)))
    quarterly = await create_series(
        db, group, title="Social ICT: quarterly review", starts_at_local="2026-01-15T14:00",
        duration_minutes=120, mode=SessionMode.HYBRID, venue="Stadhuis, Gent",
        join_url=JOIN_URL, now=NOW, settings=settings,
        rule=RecurrenceRule.quarterly(count=8))
    # Moved within winter time; moved from summer into winter time (26 October 2026 is after
    # the clocks go back); cancelled in summer time.
    await move_occurrence(db, bimonthly, _utc(2026, 3, 10, 9), starts_at_local="2026-03-12T14:00",
                          now=NOW, settings=settings)
    await move_occurrence(db, bimonthly, _utc(2026, 11, 10, 9),
                          starts_at_local="2026-10-27T10:00", duration_minutes=60, now=NOW,
                          settings=settings)
    await cancel_occurrence(db, bimonthly, _utc(2026, 5, 12, 8), now=NOW, settings=settings)
    # The quarterly one: cancelled in summer, moved from summer (15 April 2027) back into
    # winter time (25 March 2027, before the clocks go forward on the 28th).
    await cancel_occurrence(db, quarterly, _utc(2026, 7, 15, 12), now=NOW, settings=settings)
    await move_occurrence(db, quarterly, _utc(2027, 4, 15, 12), starts_at_local="2027-03-25T14:00",
                          now=NOW, settings=settings)
    # This and all following: from May 2027 the bi-monthly call is at 11:00.
    later = await change_following(db, bimonthly, _utc(2027, 5, 11, 8),
                                   starts_at_local="2027-05-11T11:00", now=NOW, settings=settings)
    ben.status = GroupMemberStatus.MEMBER
    await invite_member_to_group_meetings(db, ben, now=NOW, settings=settings)
    await db.commit()
    return [bimonthly, quarterly, later], ben


async def _service_list(db: AsyncSession, series: Sequence[MeetingSeries]) -> Occurrences:
    overrides = await overrides_of(db, [s.id for s in series])
    return sorted((o.starts_at, o.ends_at) for s in series
                  for o in occurrences(s, overrides[s.id]) if not o.is_cancelled)


def _expand_icalendar(body: bytes) -> Occurrences:
    calendar = Calendar.from_ical(body)
    return sorted((e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC))
                  for e in recurring_ical_events.of(calendar).between((2025, 1, 1), (2029, 1, 1)))


def _as_calendar_app(messages: Sequence[bytes]) -> bytes:
    """What a calendar app holds after these iTIP messages, in order: a series REQUEST
    (re)places the series; a REQUEST with a RECURRENCE-ID (re)places that occurrence; a
    CANCEL with one removes it (an EXDATE on the series); a CANCEL without, the series."""
    series: dict[str, list[Event]] = {}
    zones: dict[str, Component] = {}
    for message in messages:
        calendar = Calendar.from_ical(message)
        method = str(calendar["METHOD"])
        for zone in calendar.walk("VTIMEZONE"):
            zones[str(zone["TZID"])] = zone
        for event in calendar.walk("VEVENT"):
            uid = str(event["UID"])
            if "RECURRENCE-ID" not in event:
                if method == "CANCEL":
                    series.pop(uid, None)
                else:
                    series[uid] = [event]
                continue
            rid = event.decoded("RECURRENCE-ID")
            held = [e for e in series[uid]
                    if "RECURRENCE-ID" not in e or e.decoded("RECURRENCE-ID") != rid]
            if method == "CANCEL":
                held[0].add("exdate", event["RECURRENCE-ID"].dt)
            else:
                held.append(event)
            series[uid] = held
    app = Calendar()
    app.add("version", "2.0")
    app.add("prodid", "-//a calendar app//EN")
    for zone in zones.values():
        app.add_component(zone)
    for events in series.values():
        for event in events:
            app.add_component(event)
    body: bytes = app.to_ical()
    return body


async def test_feed_and_invites_expand_to_the_service_list_in_three_readers(
    db: AsyncSession, db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
    client: AsyncTestClient[Litestar], tmp_path: Path,
) -> None:
    series, _ = await _two_years_of_meetings(db, settings)
    expected = await _service_list(db, series)
    await db.rollback()  # one connection for SQLite: the app's request needs it
    feed = await client.get("/groups/social-ict/calendar.ics")
    sent = await outbox_messages(db_sessionmaker)
    late_invites = [p.body for row, mail in sent if row.to_address == BEN
                    for p in calendar_parts(mail.as_bytes()) if p.filename]
    early_messages = [p.body for row, mail in sent if row.to_address == ANA
                      for p in calendar_parts(mail.as_bytes()) if p.filename]

    sources = {"feed": [feed.content], "late member's invites": late_invites,
               "early member's calendar": [_as_calendar_app(early_messages)]}
    icaljs = expand_icaljs_many([body for bodies in sources.values() for body in bodies],
                                tmp_path)

    assert (feed.status_code, len(expected), len(late_invites), len(early_messages)) == (
        200, 18, 3, 9)
    assert JOIN_URL.encode() not in feed.content  # a public feed: times without join links
    assert expected[:4] == [
        (_utc(2026, 1, 13, 9), _utc(2026, 1, 13, 10, 30)),
        (_utc(2026, 1, 15, 13), _utc(2026, 1, 15, 15)),
        (_utc(2026, 3, 12, 13), _utc(2026, 3, 12, 14, 30)),  # moved
        (_utc(2026, 4, 15, 12), _utc(2026, 4, 15, 14)),  # 14:00 CEST
    ]
    by_source: dict[str, dict[str, Occurrences]] = {}
    position = 0
    for name, bodies in sources.items():
        by_source[name] = {
            "icalendar + recurring-ical-events": sorted(
                o for body in bodies for o in _expand_icalendar(body)),
            "vobject": sorted(o for body in bodies for o in expand_vobject(body)),
            "ical.js": sorted(o for calendar in icaljs[position:position + len(bodies)]
                              for o in calendar),
        }
        position += len(bodies)
    assert by_source == {name: {reader: expected for reader in readers}
                         for name, readers in by_source.items()}
    # Every invite keeps the iTIP rules libical (Evolution) checks for its METHOD.
    itip = read_libical_many([*early_messages, *late_invites], tmp_path)
    assert [(c["method"], c["errors"]) for c in itip] == [
        (method, []) for method in ["REQUEST", "REQUEST", "REQUEST", "REQUEST", "CANCEL",
                                    "CANCEL", "REQUEST", "REQUEST", "REQUEST",
                                    "REQUEST", "REQUEST", "REQUEST"]]


async def test_group_feeds_follow_the_page_visibility_and_answer_304(
    db: AsyncSession, settings: Settings, client: AsyncTestClient[Litestar],
) -> None:
    group = await make_interest_group(db, slug="circular", topic="Circular procurement",
                                      visibility=GroupVisibility.MEMBERS)
    ana = await make_group_member(db, group, email=ANA)
    await create_series(db, group, title="Circular call", starts_at_local="2026-02-03T10:00",
                        duration_minutes=60, rule=RecurrenceRule("monthly", weekday=1, ordinal=1,
                                                                 count=6),
                        join_url=JOIN_URL, now=NOW, settings=settings)
    token = await access.group_member_token(db, ana.id, AccessPurpose.GROUP_MEMBER_FEED,
                                            secret_key=settings.secret_key, now=NOW)
    await db.commit()

    anonymous = await client.get("/groups/circular/calendar.ics")
    wrong = await client.get("/groups/circular/calendar.ics", params={"token": "nope"})
    member = await client.get("/groups/circular/calendar.ics", params={"token": token})
    personal = await client.get(f"/groups/feed/{token}.ics")
    again = await client.get(f"/groups/feed/{token}.ics",
                             headers={"If-None-Match": personal.headers["etag"]})

    assert (anonymous.status_code, wrong.status_code) == (404, 404)
    assert "Circular call" not in anonymous.text
    assert (member.status_code, member.headers["content-type"]) == (200, "text/calendar; charset=utf-8")
    assert [line for event in blocks(member.content, "VEVENT") for line in event
            if line.startswith(("RRULE", "CONFERENCE"))] == [
        f"CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online:{JOIN_URL}",
        "RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=1TU"]
    assert (personal.status_code, again.status_code, again.content) == (200, 304, b"")
