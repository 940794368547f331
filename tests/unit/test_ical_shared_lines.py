"""The VEVENT lines shared by every recipient are serialised once (`ical._event_bytes`),
and so is each invite around its ATTENDEE lines (`ical.build_invites`): what comes out must
be what icalendar writes for the whole event, recipient by recipient."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar.parser import Contentline

from service.domain.calendars.ical import (
    CalendarAttendee,
    CalendarEntry,
    _event,
    _event_bytes,
    _folded,
    _invite_around_attendees,
    _shared_event,
    _zone,
    build_calendar,
    build_invites,
    clear_shared_lines,
)
from tests.calendar_readers import assert_parsers_agree, unfolded

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 3, 2, 8, 15, 30, tzinfo=UTC)
ANNA = CalendarAttendee("anna@example.org", "Anna Müller")
BOB = CalendarAttendee("bob@example.org", "Bob Smith")


def _entry(**fields: object) -> CalendarEntry:
    values: dict[str, object] = {
        "uid": "session-7@events.procura.example",
        "sequence": 2,
        "summary": "Make ICT Fair: 2. Sourcing responsibly — ",
        "description": "Agenda:\n10:00 Welcome; the buyers' questions, answered (Q&A) " * 3,
        "starts_at": datetime(2026, 6, 15, 10, 0, tzinfo=BRUSSELS),
        "ends_at": datetime(2026, 6, 15, 11, 30, tzinfo=BRUSSELS),
        "timezone": "Europe/Brussels",
        "location": "Online",
        "url": "https://events.procura.example/series/make-ict-fair",
        "categories": ("Webinar", "Make ICT Fair"),
        "organizer_email": "events@procura.example",
        "organizer_name": "Procura Events, Brussels",
        "attendees": (ANNA,),
        "conference_url": "https://meet.example.org/j/123?pwd=a&b=c",
        "created_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        "last_modified_at": datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    }
    values.update(fields)
    return CalendarEntry(**values)  # type: ignore[arg-type]


def _fresh(entry: CalendarEntry, method: str | None, stamp: datetime = NOW) -> bytes:
    event, _ = _event(entry, stamp=stamp, method=method, zone=_zone(entry.timezone))
    body: bytes = event.to_ical(sorted=False)
    return body


LONG_NAME = CalendarAttendee("a.very.long.address.for.folding@example.org",
                             "Dr. Zoë Łukasiewicz-Ångström, Head of Procurement; \"City\"")


@pytest.mark.parametrize("entry", [
    _entry(),
    _entry(attendees=()),
    _entry(attendees=(ANNA, CalendarAttendee("speaker@example.org", "Dr. Speaker", "CHAIR"))),
    _entry(attendees=(LONG_NAME,)),
    _entry(conference_url=None, created_at=None, last_modified_at=None),
    _entry(organizer_email=None, organizer_name=None, conference_url=None),
    _entry(status="TENTATIVE", description="", location=None, url=None, categories=()),
    _entry(timezone="UTC"),
], ids=["full", "no-attendee", "two-attendees", "long-folded-name", "no-tail",
        "no-organizer", "bare", "utc"])
@pytest.mark.parametrize("method", [None, "REQUEST", "CANCEL"])
def test_the_shared_lines_give_the_bytes_icalendar_writes(entry: CalendarEntry,
                                                           method: str | None) -> None:
    for _ in range(2):  # built, then from the cache
        body, _ = _event_bytes(entry, stamp=NOW, method=method)
        assert body == _fresh(entry, method)


def test_each_recipient_gets_their_own_attendee_and_stamp_from_one_cached_event() -> None:
    _shared_event.cache_clear()
    later = NOW + timedelta(minutes=5)
    (for_anna,) = build_invites([_entry(attendees=(ANNA,))], now=NOW, method="REQUEST")
    (for_bob,) = build_invites([_entry(attendees=(BOB,))], now=later, method="REQUEST")
    assert _shared_event.cache_info().currsize == 1  # one session, one shared entry

    def people(body: bytes) -> list[str]:
        return [line for line in unfolded(body) if line.startswith(("ATTENDEE", "DTSTAMP"))]

    assert people(for_anna) == [
        "DTSTAMP:20260302T081530Z",
        'ATTENDEE;CN="Anna Müller";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE'
        ":mailto:anna@example.org"]
    assert people(for_bob) == [
        "DTSTAMP:20260302T082030Z",
        'ATTENDEE;CN="Bob Smith";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE'
        ":mailto:bob@example.org"]
    start, end = datetime(2026, 6, 15, 8, 0, tzinfo=UTC), datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
    for body in (for_anna, for_bob):
        assert_parsers_agree(body, {"session-7@events.procura.example": (start, end)})


def test_sequences_statuses_methods_and_times_do_not_share_an_entry() -> None:
    _shared_event.cache_clear()
    variants = {
        "sequence 2": (_entry(), "REQUEST"),
        "sequence 3": (_entry(sequence=3), "REQUEST"),
        "cancel": (_entry(sequence=3), "CANCEL"),
        "tentative": (_entry(status="TENTATIVE"), "REQUEST"),
        "moved": (_entry(starts_at=datetime(2026, 6, 15, 14, 0, tzinfo=BRUSSELS),
                         ends_at=datetime(2026, 6, 15, 15, 0, tzinfo=BRUSSELS)), "REQUEST"),
        "no join link": (_entry(conference_url=None), "REQUEST"),
    }
    seen: dict[bytes, str] = {}
    for label, (entry, method) in variants.items():
        body, _ = _event_bytes(entry, stamp=NOW, method=method)
        assert body == _fresh(entry, method), label
        assert body not in seen, f"{label} came out as {seen.get(body)}"
        seen[body] = label
    assert _shared_event.cache_info().currsize == len(variants)
    lines = {label: [line for line in unfolded(body) if line.startswith(("SEQUENCE", "STATUS"))]
             for body, label in seen.items()}
    assert lines["sequence 3"] == ["SEQUENCE:3", "STATUS:CONFIRMED"]
    assert lines["cancel"] == ["SEQUENCE:3", "STATUS:CANCELLED"]
    assert lines["tentative"] == ["SEQUENCE:2", "STATUS:TENTATIVE"]


def test_the_same_instant_in_another_tzinfo_gives_the_same_event() -> None:
    """The cache key compares instants: the output depends on them and the entry's zone."""
    in_brussels = _entry()
    in_utc = replace(in_brussels, starts_at=in_brussels.starts_at.astimezone(UTC),
                     ends_at=in_brussels.ends_at.astimezone(UTC))
    first, _ = _event_bytes(in_brussels, stamp=NOW, method="REQUEST")
    second, _ = _event_bytes(in_utc, stamp=NOW, method="REQUEST")
    assert first == second == _fresh(in_utc, "REQUEST")


def test_attendee_lines_are_folded_as_icalendar_folds_them() -> None:
    """ASCII lines are folded by `ical._folded` itself: every length around the fold, and
    escapes (backslash, caret) where a fold would split them, give icalendar's bytes."""
    rng = random.Random(11)
    lines = [
        "".join(rng.choice("ab ,;:'\"\\^") for _ in range(length))
        for length in (*range(0, 240), *(rng.randint(240, 600) for _ in range(300)))
    ]
    lines += ["x" * 73 + "\\" + "y" * 80, "x" * 72 + "\\^" + "y" * 148, "Zoë " * 40]
    for text in lines:
        line = Contentline(text)
        assert _folded(line) == line.to_ical()


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_an_invite_is_the_calendar_icalendar_writes_whoever_it_is_for(method: str) -> None:
    """Built around the recipient's ATTENDEE line from bytes shared by the batch, given the
    attendees with the entries or apart from them: the bytes of the whole calendar built
    from nothing, for each recipient, and the shared part built once per entry and stamp."""
    clear_shared_lines()
    people = [ANNA, BOB, LONG_NAME, CalendarAttendee("chair@example.org", "", "CHAIR")]
    sessions = [_entry(), _entry(uid="session-8@events.procura.example", sequence=0,
                                 starts_at=datetime(2026, 6, 22, 10, 0, tzinfo=BRUSSELS),
                                 ends_at=datetime(2026, 6, 22, 11, 30, tzinfo=BRUSSELS))]
    for stamp in (NOW, NOW + timedelta(seconds=1)):
        for person in people:
            expected = []
            for entry in sessions:
                clear_shared_lines()  # from nothing: nothing shared
                expected.append(build_calendar([replace(entry, attendees=(person,))],
                                               now=stamp, method=method))
            with_entries = build_invites([replace(e, attendees=(person,)) for e in sessions],
                                         now=stamp, method=method)
            apart = build_invites([replace(e, attendees=()) for e in reversed(sessions)],
                                  now=stamp, method=method, attendees=(person,))
            assert list(with_entries) == list(apart) == expected
    clear_shared_lines()
    for person in people:
        build_invites(sessions, now=NOW, method=method, attendees=(person,))
    assert _invite_around_attendees.cache_info().currsize == len(sessions)


def test_an_invite_refuses_what_a_calendar_refuses() -> None:
    with pytest.raises(ValueError, match="attendee role"):
        build_invites([_entry(attendees=())], now=NOW, method="REQUEST",
                      attendees=(CalendarAttendee("a@example.org", "A", "BOSS"),))
    with pytest.raises(ValueError, match="line breaks"):
        build_invites([_entry(attendees=())], now=NOW, method="REQUEST",
                      attendees=(CalendarAttendee("a@example.org\r\nX-EVIL:1", "A"),))
    with pytest.raises(ValueError, match="cancelled event cannot be in an iTIP REQUEST"):
        build_invites([_entry(status="CANCELLED")], now=NOW, method="REQUEST")
    with pytest.raises(ValueError, match="method must be one of"):
        build_invites([_entry()], now=NOW, method="REPLY")
