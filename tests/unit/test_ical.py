"""Tests for service.domain.calendars.ical: every calendar is read back by icalendar and vobject
(and, where they can run, by ical.js, Thunderbird's parser, and libical, Evolution's; see
tests/calendar_readers.py) and must give the same UIDs and UTC instants as the seed data
says. Invites must keep the iTIP rules: one UID per object, no cancelled event in a REQUEST.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from service.domain.calendars.ical import (
    CalendarAttendee,
    CalendarEntry,
    build_calendar,
    build_invites,
    calendar_entry_digest,
    google_calendar_link,
    outlook_calendar_link,
    session_uid,
    speaker_slot_uid,
)
from tests.calendar_readers import (
    Instants,
    assert_parsers_agree,
    blocks,
    read_icalendar,
    read_icaljs,
    read_icaljs_many,
    read_libical_many,
    read_vobject,
    read_vobject_via_vtimezones,
    unfolded,
)

__all__ = [  # re-exported for the feed tests
    "Instants", "assert_parsers_agree", "blocks", "read_icalendar", "read_icaljs",
    "read_vobject", "read_vobject_via_vtimezones", "unfolded",
]

DOMAIN = "events.procura.example"
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2020, 10, 1, 12, 0, tzinfo=UTC)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _entry(
    uid: str,
    start: datetime,
    minutes: int,
    *,
    zone: str = "Europe/Brussels",
    **fields: object,
) -> CalendarEntry:
    return CalendarEntry(
        uid=uid,
        sequence=0,
        summary=f"Session {uid}",
        description="Public procurement webinar",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        timezone=zone,
        **fields,  # type: ignore[arg-type]
    )


# The Make ICT Fair webinar series and later sessions: (entry, expected UTC instants).
SEED: list[tuple[CalendarEntry, tuple[datetime, datetime]]] = [
    (
        _entry(
            session_uid(1, DOMAIN),
            datetime(2020, 11, 9, 10, 0, tzinfo=BRUSSELS),
            105,
            location="Online",
            url="https://events.procura.example/series/make-ict-fair/1",
            categories=("Webinar", "Make ICT Fair"),
        ),
        (_utc(2020, 11, 9, 9, 0), _utc(2020, 11, 9, 10, 45)),
    ),
    (
        # Given in UTC on purpose: the entry's zone decides how it is written.
        _entry(session_uid(2, DOMAIN), _utc(2020, 12, 10, 9, 0), 90),
        (_utc(2020, 12, 10, 9, 0), _utc(2020, 12, 10, 10, 30)),
    ),
    (
        _entry(session_uid(3, DOMAIN), datetime(2021, 6, 14, 10, 0, tzinfo=BRUSSELS), 60),
        (_utc(2021, 6, 14, 8, 0), _utc(2021, 6, 14, 9, 0)),
    ),
    (
        _entry(session_uid(4, DOMAIN), datetime(2026, 10, 26, 10, 0, tzinfo=BRUSSELS), 60),
        (_utc(2026, 10, 26, 9, 0), _utc(2026, 10, 26, 10, 0)),
    ),
    (
        _entry(session_uid(5, DOMAIN), datetime(2026, 3, 30, 10, 0, tzinfo=BRUSSELS), 60),
        (_utc(2026, 3, 30, 8, 0), _utc(2026, 3, 30, 9, 0)),
    ),
]
SEED_ENTRIES = [entry for entry, _ in SEED]
SEED_EXPECTED: Instants = {entry.uid: instants for entry, instants in SEED}


# ------------------------------------------------------------------ readers


def vtimezone(body: bytes, tzid: str) -> list[str]:
    matches = [b for b in blocks(body, "VTIMEZONE") if b[0] == f"TZID:{tzid}"]
    assert len(matches) == 1
    return matches[0]


def observances(vtz_lines: list[str]) -> list[dict[str, str]]:
    result: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in vtz_lines:
        if line in ("BEGIN:STANDARD", "BEGIN:DAYLIGHT"):
            current = {"KIND": line.split(":")[1]}
        elif line in ("END:STANDARD", "END:DAYLIGHT") and current is not None:
            result.append(current)
            current = None
        elif current is not None:
            key, _, value = line.partition(":")
            current[key] = value
    return result


# -------------------------------------------------------------------- UIDs


def test_uids_are_stable_and_distinct() -> None:
    assert session_uid(42, DOMAIN) == "session-42@events.procura.example"
    assert session_uid(42, DOMAIN) == session_uid(42, DOMAIN)
    assert speaker_slot_uid(7, 42, DOMAIN) == "agenda-item-7-speaker-42@events.procura.example"
    assert speaker_slot_uid(7, 42, DOMAIN) == speaker_slot_uid(7, 42, DOMAIN)
    assert speaker_slot_uid(7, 42, DOMAIN) != speaker_slot_uid(42, 7, DOMAIN)
    assert session_uid(7, DOMAIN) != speaker_slot_uid(7, 7, DOMAIN)


# ------------------------------------------------------------ seed instants


def test_seed_feed_reads_the_same_in_icalendar_and_vobject() -> None:
    body = build_calendar(
        SEED_ENTRIES,
        now=NOW,
        name="Make ICT Fair",
        refresh_interval=timedelta(hours=1),
        default_timezone="Europe/Brussels",
    )
    assert_parsers_agree(body, SEED_EXPECTED)
    lines = unfolded(body)
    assert "DTSTART;TZID=Europe/Brussels:20201109T100000" in lines
    assert "DTEND;TZID=Europe/Brussels:20201109T114500" in lines
    assert "DTSTART;TZID=Europe/Brussels:20201210T100000" in lines
    assert "DTSTART;TZID=Europe/Brussels:20210614T100000" in lines
    assert "DTSTART;TZID=Europe/Brussels:20261026T100000" in lines
    assert "DTSTART;TZID=Europe/Brussels:20260330T100000" in lines


def test_summer_session_alone_resolves_through_vtimezone() -> None:
    """The ical.js/vobject RDATE bug: a summer session years after the VTIMEZONE's
    DTSTART must still come out at 08:00Z, not 09:00Z."""
    summer = [e for e in SEED_ENTRIES if e.uid == session_uid(3, DOMAIN)]
    body = build_calendar(summer, now=NOW)
    expected = {summer[0].uid: SEED_EXPECTED[summer[0].uid]}
    assert_parsers_agree(body, expected)
    (vtz,) = blocks(body, "VTIMEZONE")
    assert "RDATE" not in "".join(vtz)
    dtstarts = [line for line in vtz if line.startswith("DTSTART:")]
    assert all(int(line[8:12]) < 2021 for line in dtstarts)


def test_entries_are_sorted_and_output_deterministic() -> None:
    forward = build_calendar(SEED_ENTRIES, now=NOW)
    backward = build_calendar(list(reversed(SEED_ENTRIES)), now=NOW)
    assert forward == backward
    uids = [line[4:] for line in unfolded(forward) if line.startswith("UID:")]
    assert uids == [session_uid(n, DOMAIN) for n in (1, 2, 3, 5, 4)]
    later = build_calendar(SEED_ENTRIES, now=NOW + timedelta(hours=3))
    strip = re.compile(rb"DTSTAMP:[0-9TZ]+")
    assert strip.sub(b"", forward) == strip.sub(b"", later)


def test_dtstamp_is_now_in_utc() -> None:
    now = datetime(2020, 10, 1, 14, 30, tzinfo=BRUSSELS)
    body = build_calendar(SEED_ENTRIES[:1], now=now)
    assert "DTSTAMP:20201001T123000Z" in unfolded(body)


# ------------------------------------------------------ text and folding


def test_text_escaping_round_trips() -> None:
    tricky = "Q&A, panel; part 1\nsecond line \\ backslash"
    entry = replace(
        SEED_ENTRIES[0],
        summary=tricky,
        description=tricky + "\n\nMore: a,b;c",
        location="Rue de la Loi 200, Brussels; room 3",
    )
    body = build_calendar([entry], now=NOW)
    assert "SUMMARY:Q&A\\, panel\\; part 1\\nsecond line \\\\ backslash" in unfolded(body)

    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == tricky
    assert str(event["DESCRIPTION"]) == entry.description
    assert str(event["LOCATION"]) == entry.location

    vevent = vobject.readOne(body.decode("utf-8")).vevent
    assert vevent.summary.value == tricky
    assert vevent.description.value == entry.description
    assert vevent.location.value == entry.location


def test_long_unicode_title_is_folded_safely() -> None:
    unit = "Réunion 🎉 São Paulo ✓ Zürich 👩‍💻 ÉÈÀ 日本 "
    title = (unit * 10)[:200]
    assert len(title) == 200
    entry = replace(SEED_ENTRIES[0], summary=title, description=title[::-1])
    body = build_calendar([entry], now=NOW)

    body.decode("utf-8", errors="strict")
    assert body.endswith(b"\r\n")
    physical = body.split(b"\r\n")
    assert physical[-1] == b""
    for line in physical[:-1]:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 75, line
        line.decode("utf-8", errors="strict")  # no UTF-8 sequence split at a fold
    assert sum(1 for line in physical if line.startswith(b" ")) > 5

    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == title
    vevent = vobject.readOne(body.decode("utf-8")).vevent
    assert vevent.summary.value == title
    assert vevent.description.value == title[::-1]


# ------------------------------------------------------- calendar headers


def test_feed_has_refresh_interval_and_no_method() -> None:
    body = build_calendar(
        SEED_ENTRIES,
        now=NOW,
        name="Procura Events",
        refresh_interval=timedelta(hours=1),
        default_timezone="Europe/Brussels",
    )
    lines = unfolded(body)
    assert lines[:4] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Procura Events//EN",
        "CALSCALE:GREGORIAN",
    ]
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    assert "NAME:Procura Events" in lines
    assert "X-WR-CALNAME:Procura Events" in lines
    assert "X-WR-TIMEZONE:Europe/Brussels" in lines
    assert not any(line.startswith("METHOD") for line in lines)


def test_plain_download_has_no_optional_headers() -> None:
    lines = unfolded(build_calendar(SEED_ENTRIES[:1], now=NOW))
    for prefix in ("METHOD", "NAME", "X-WR-", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        assert not any(line.startswith(prefix) for line in lines), prefix


def _invite_entry() -> CalendarEntry:
    return replace(
        SEED_ENTRIES[0],
        sequence=3,
        organizer_email="events@procura.example",
        organizer_name="Procura Events, Brussels",
        attendees=(
            CalendarAttendee("anna@example.org", "Anna Müller"),
            CalendarAttendee("speaker@example.org", "Dr. Speaker", role="CHAIR"),
        ),
        conference_url="https://meet.example.org/j/123?pwd=a&b=c",
        created_at=datetime(2020, 9, 1, 10, 0, tzinfo=BRUSSELS),
        last_modified_at=_utc(2020, 9, 15, 7, 30),
    )


def test_request_invite_has_method_and_people() -> None:
    body = build_calendar([_invite_entry()], now=NOW, method="REQUEST")
    lines = unfolded(body)
    assert "METHOD:REQUEST" in lines
    assert "SEQUENCE:3" in lines
    assert "STATUS:CONFIRMED" in lines
    assert 'ORGANIZER;CN="Procura Events, Brussels":mailto:events@procura.example' in lines
    assert (
        'ATTENDEE;CN="Anna Müller";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE'
        ":mailto:anna@example.org"
    ) in lines
    assert (
        'ATTENDEE;CN="Dr. Speaker";ROLE=CHAIR;PARTSTAT=NEEDS-ACTION;RSVP=FALSE'
        ":mailto:speaker@example.org"
    ) in lines
    assert (
        "CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online:"
        "https://meet.example.org/j/123?pwd=a&b=c"
    ) in lines
    assert "CREATED:20200901T080000Z" in lines
    assert "LAST-MODIFIED:20200915T073000Z" in lines
    assert "URL:https://events.procura.example/series/make-ict-fair/1" in lines
    assert "CATEGORIES:Webinar,Make ICT Fair" in lines

    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert event["ORGANIZER"].params["CN"] == "Procura Events, Brussels"
    attendees: Any = event["ATTENDEE"]
    assert [str(a) for a in attendees] == [
        "mailto:anna@example.org",
        "mailto:speaker@example.org",
    ]
    vevent = vobject.readOne(body.decode("utf-8")).vevent
    assert vevent.conference.value == "https://meet.example.org/j/123?pwd=a&b=c"
    assert vevent.organizer.params["CN"] == ["Procura Events, Brussels"]
    assert_parsers_agree(body, {SEED_ENTRIES[0].uid: SEED_EXPECTED[SEED_ENTRIES[0].uid]})


def test_no_conference_line_without_url() -> None:
    lines = unfolded(build_calendar(SEED_ENTRIES, now=NOW))
    assert not any(line.startswith("CONFERENCE") for line in lines)


def test_cancel_invite_forces_cancelled_status() -> None:
    body = build_calendar([_invite_entry()], now=NOW, method="cancel")
    lines = unfolded(body)
    assert "METHOD:CANCEL" in lines
    assert "STATUS:CANCELLED" in lines
    assert "STATUS:CONFIRMED" not in lines


def test_cancelled_entry_in_feed() -> None:
    cancelled = replace(SEED_ENTRIES[1], status="CANCELLED", sequence=2)
    body = build_calendar([SEED_ENTRIES[0], cancelled], now=NOW)
    statuses = [line for line in unfolded(body) if line.startswith("STATUS:")]
    assert statuses == ["STATUS:CONFIRMED", "STATUS:CANCELLED"]
    assert not any(line.startswith("METHOD") for line in unfolded(body))
    (_, event) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


# ------------------------------------------------------------ iTIP objects


def _series_invite(number: int, start: datetime, **fields: object) -> CalendarEntry:
    return replace(_invite_entry(), uid=session_uid(number, DOMAIN), starts_at=start,
                   ends_at=start + timedelta(minutes=90), **fields)  # type: ignore[arg-type]


SERIES = [
    _series_invite(1, datetime(2026, 3, 10, 10, 0, tzinfo=BRUSSELS), sequence=0),
    # After the change to summer time: the second invite is in CEST.
    _series_invite(2, datetime(2026, 4, 14, 10, 0, tzinfo=BRUSSELS), sequence=0),
]


def test_an_itip_object_carries_one_event_so_a_series_is_one_object_per_session() -> None:
    with pytest.raises(ValueError, match="one event"):
        build_calendar(SERIES, now=NOW, method="REQUEST")
    with pytest.raises(ValueError, match="one event"):
        build_calendar(SERIES, now=NOW, method="CANCEL")

    invites = build_invites(list(reversed(SERIES)), now=NOW, method="REQUEST")

    assert [[line for line in unfolded(body) if line.startswith(("METHOD:", "UID:"))]
            for body in invites] == [
        ["METHOD:REQUEST", f"UID:{session_uid(1, DOMAIN)}"],
        ["METHOD:REQUEST", f"UID:{session_uid(2, DOMAIN)}"],
    ]
    assert [read_icalendar(body) for body in invites] == [
        {session_uid(1, DOMAIN): (_utc(2026, 3, 10, 9, 0), _utc(2026, 3, 10, 10, 30))},
        {session_uid(2, DOMAIN): (_utc(2026, 4, 14, 8, 0), _utc(2026, 4, 14, 9, 30))},
    ]
    # Each object is complete on its own: its VTIMEZONE, its organizer and attendees.
    assert [len(blocks(body, "VTIMEZONE")) for body in invites] == [1, 1]


def test_a_request_never_carries_a_cancelled_event() -> None:
    cancelled = replace(_invite_entry(), status="CANCELLED")

    with pytest.raises(ValueError, match="cancelled event cannot be in an iTIP REQUEST"):
        build_calendar([cancelled], now=NOW, method="REQUEST")
    cancel = build_calendar([cancelled], now=NOW, method="CANCEL")
    published = build_calendar([cancelled], now=NOW)

    assert [line for line in unfolded(cancel) if line.startswith(("METHOD", "STATUS"))] == [
        "METHOD:CANCEL", "STATUS:CANCELLED"]
    assert [line for line in unfolded(published) if line.startswith(("METHOD", "STATUS"))] == [
        "STATUS:CANCELLED"]


def test_invites_of_a_series_read_alike_in_four_parsers_without_itip_errors(
    tmp_path: Path,
) -> None:
    """Confirmation, update, cancellation and a new invitation of a two-session series, as
    icalendar, vobject, ical.js and libical read them (libical also checks the iTIP rules)."""
    moved = replace(SERIES[0], sequence=1, starts_at=SERIES[0].starts_at + timedelta(hours=4),
                    ends_at=SERIES[0].ends_at + timedelta(hours=4))
    steps = [
        ("REQUEST", SERIES),
        ("REQUEST", [moved]),
        ("CANCEL", [replace(moved, sequence=2), replace(SERIES[1], sequence=1)]),
        ("REQUEST", [replace(moved, sequence=3), replace(SERIES[1], sequence=2)]),
    ]
    bodies: list[bytes] = []
    expected: list[tuple[str, str, int, datetime, datetime]] = []
    for method, entries in steps:
        bodies += build_invites(entries, now=NOW, method=method)
        expected += [(method, e.uid, e.sequence, e.starts_at.astimezone(UTC),
                      e.ends_at.astimezone(UTC)) for e in sorted(entries, key=lambda e: e.uid)]

    def flat(readings: list[dict[str, Any]]) -> list[tuple[str, str, int, datetime, datetime]]:
        return [(str(r["method"]), str(e["uid"]), int(e["sequence"]),
                 datetime.fromtimestamp(int(e["start"]), UTC),
                 datetime.fromtimestamp(int(e["end"]), UTC))
                for r in readings for e in r["events"]]

    for body, (_, uid, _, start, end) in zip(bodies, expected, strict=True):
        assert_parsers_agree(body, {uid: (start, end)})
    assert flat(read_icaljs_many(bodies, tmp_path)) == expected
    libical = read_libical_many(bodies, tmp_path)
    assert flat(libical) == expected
    assert [reading["errors"] for reading in libical] == [[]] * len(bodies)


def test_libical_flags_what_the_builder_refuses(tmp_path: Path) -> None:
    """The checker itself: a cancelled event inside a REQUEST, as invites once carried."""
    body = build_calendar([_invite_entry()], now=NOW, method="REQUEST").replace(
        b"STATUS:CONFIRMED", b"STATUS:CANCELLED")

    [reading] = read_libical_many([body], tmp_path)

    assert set(reading["errors"]) == {
        "Failed iTIP restrictions for STATUS property. Value must be one of TENTATIVE or "
        "CONFIRMED"}


# -------------------------------------------------------------- time zones


def test_brussels_vtimezone_is_classic_and_unique() -> None:
    body = build_calendar(SEED_ENTRIES, now=NOW)
    assert len(blocks(body, "VTIMEZONE")) == 1
    vtz = vtimezone(body, "Europe/Brussels")
    assert observances(vtz) == [
        {
            "KIND": "DAYLIGHT",
            "DTSTART": "19810329T020000",
            "TZOFFSETFROM": "+0100",
            "TZOFFSETTO": "+0200",
            "TZNAME": "CEST",
            "RRULE": "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        },
        {
            "KIND": "STANDARD",
            "DTSTART": "19961027T030000",
            "TZOFFSETFROM": "+0200",
            "TZOFFSETTO": "+0100",
            "TZNAME": "CET",
            "RRULE": "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        },
    ]
    # The VTIMEZONEs come before the events.
    text = body.decode()
    assert text.index("END:VTIMEZONE") < text.index("BEGIN:VEVENT")


def test_one_vtimezone_per_tzid_across_zones() -> None:
    entries = [
        *SEED_ENTRIES,
        _entry(
            "london",
            datetime(2021, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")),
            60,
            zone="Europe/London",
        ),
        _entry("helsinki", _utc(2021, 1, 20, 8, 0), 60, zone="Europe/Helsinki"),
        _entry("helsinki-summer", _utc(2025, 8, 20, 7, 0), 60, zone="Europe/Helsinki"),
        _entry("tokyo", _utc(2021, 6, 1, 1, 0), 60, zone="Asia/Tokyo"),
    ]
    body = build_calendar(entries, now=NOW)
    tzids = [b[0] for b in blocks(body, "VTIMEZONE")]
    assert tzids == [
        "TZID:Asia/Tokyo",
        "TZID:Europe/Brussels",
        "TZID:Europe/Helsinki",
        "TZID:Europe/London",
    ]
    expected = dict(SEED_EXPECTED)
    expected.update(
        {
            "london": (_utc(2021, 7, 1, 8, 0), _utc(2021, 7, 1, 9, 0)),
            "helsinki": (_utc(2021, 1, 20, 8, 0), _utc(2021, 1, 20, 9, 0)),
            "helsinki-summer": (_utc(2025, 8, 20, 7, 0), _utc(2025, 8, 20, 8, 0)),
            "tokyo": (_utc(2021, 6, 1, 1, 0), _utc(2021, 6, 1, 2, 0)),
        }
    )
    assert_parsers_agree(body, expected)
    lines = unfolded(body)
    assert "DTSTART;TZID=Europe/Helsinki:20250820T100000" in lines
    assert "DTSTART;TZID=Asia/Tokyo:20210601T100000" in lines
    helsinki = observances(vtimezone(body, "Europe/Helsinki"))
    assert {o["TZNAME"]: o["RRULE"] for o in helsinki} == {
        "EEST": "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "EET": "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    }


def test_new_york_rules_second_sunday_march_first_sunday_november() -> None:
    ny = ZoneInfo("America/New_York")
    entries = [
        _entry("ny-winter", datetime(2021, 1, 12, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        _entry("ny-march", datetime(2021, 3, 15, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        _entry("ny-nov", datetime(2021, 11, 5, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
    ]
    body = build_calendar(entries, now=NOW)
    rules = {
        o["KIND"]: (o["RRULE"], o["TZOFFSETFROM"], o["TZOFFSETTO"], o["TZNAME"])
        for o in observances(vtimezone(body, "America/New_York"))
    }
    assert rules == {
        "DAYLIGHT": ("FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "-0500", "-0400", "EDT"),
        "STANDARD": ("FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "-0400", "-0500", "EST"),
    }
    assert_parsers_agree(
        body,
        {
            "ny-winter": (_utc(2021, 1, 12, 15, 0), _utc(2021, 1, 12, 16, 0)),
            "ny-march": (_utc(2021, 3, 15, 14, 0), _utc(2021, 3, 15, 15, 0)),
            "ny-nov": (_utc(2021, 11, 5, 14, 0), _utc(2021, 11, 5, 15, 0)),
        },
    )


def test_rule_change_inside_covered_years_uses_until() -> None:
    """US rules changed in 2007: the old periods end with UNTIL, the new ones start."""
    ny = ZoneInfo("America/New_York")
    entries = [
        # 30 Oct 2006: already EST under the old rule (would be EDT under the new one).
        _entry("old", datetime(2006, 10, 30, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        # 20 Mar 2007: already EDT under the new rule (would be EST under the old one).
        _entry("new", datetime(2007, 3, 20, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        _entry("new-nov", datetime(2007, 11, 2, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
    ]
    body = build_calendar(entries, now=NOW)
    obs = observances(vtimezone(body, "America/New_York"))
    assert any("UNTIL=" in o.get("RRULE", "") for o in obs)
    assert {o["RRULE"] for o in obs if "UNTIL" not in o.get("RRULE", "UNTIL")} == {
        "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
        "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
    }
    assert_parsers_agree(
        body,
        {
            "old": (_utc(2006, 10, 30, 15, 0), _utc(2006, 10, 30, 16, 0)),
            "new": (_utc(2007, 3, 20, 14, 0), _utc(2007, 3, 20, 15, 0)),
            "new-nov": (_utc(2007, 11, 2, 14, 0), _utc(2007, 11, 2, 15, 0)),
        },
    )


def test_weekday_on_or_after_rule_for_jerusalem() -> None:
    """Israel starts DST on the Friday on or after 23 March: not an nth weekday."""
    entries = [
        _entry(f"jlm-{year}", _utc(year, 3, 28, 9, 0), 60, zone="Asia/Jerusalem")
        for year in range(2019, 2025)
    ]
    body = build_calendar(entries, now=NOW)
    rrules = {o["RRULE"] for o in observances(vtimezone(body, "Asia/Jerusalem"))}
    assert "FREQ=YEARLY;BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29;BYMONTH=3" in rrules
    assert_parsers_agree(body, {e.uid: (e.starts_at, e.ends_at) for e in entries})


def test_zone_without_dst_has_single_standard_block() -> None:
    body = build_calendar([_entry("tokyo", _utc(2024, 7, 1, 1, 0), 30, zone="Asia/Tokyo")], now=NOW)
    obs = observances(vtimezone(body, "Asia/Tokyo"))
    assert len(obs) == 1
    (block,) = obs
    assert block["KIND"] == "STANDARD"
    assert block["TZOFFSETFROM"] == block["TZOFFSETTO"] == "+0900"
    assert "RRULE" not in block
    assert_parsers_agree(body, {"tokyo": (_utc(2024, 7, 1, 1, 0), _utc(2024, 7, 1, 1, 30))})


def test_utc_zone_is_written_as_utc_without_vtimezone() -> None:
    body = build_calendar([_entry("utc", _utc(2024, 7, 1, 9, 0), 30, zone="UTC")], now=NOW)
    assert "DTSTART:20240701T090000Z" in unfolded(body)
    assert blocks(body, "VTIMEZONE") == []
    assert_parsers_agree(body, {"utc": (_utc(2024, 7, 1, 9, 0), _utc(2024, 7, 1, 9, 30))})


def test_repeated_wall_time_is_written_in_utc() -> None:
    """02:30 on 25 Oct 2026 happens twice in Brussels; no zone-relative time is emitted."""
    first_0230 = _utc(2026, 10, 25, 0, 30)
    body = build_calendar([_entry("ambiguous", first_0230, 60)], now=NOW)
    assert "DTSTART:20261025T003000Z" in unfolded(body)
    assert_parsers_agree(body, {"ambiguous": (first_0230, first_0230 + timedelta(hours=1))})


# ---------------------------------------------------------------- ical.js


@pytest.mark.skipif(shutil.which("node") is None, reason="optional ical.js check: no `node`")
def test_optional_icaljs_reads_the_same_instants(tmp_path: Path) -> None:
    ny = ZoneInfo("America/New_York")
    entries: Sequence[CalendarEntry] = [
        *SEED_ENTRIES,
        _entry("old", datetime(2006, 10, 30, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        _entry("new", datetime(2007, 3, 20, 10, 0, tzinfo=ny), 60, zone="America/New_York"),
        _entry("tokyo", _utc(2024, 7, 1, 1, 0), 30, zone="Asia/Tokyo"),
        _entry("helsinki-summer", _utc(2025, 8, 20, 7, 0), 60, zone="Europe/Helsinki"),
        replace(SEED_ENTRIES[0], uid="tricky", summary="Q&A, panel; part 1\nsecond 🎉 \\ x"),
    ]
    expected = dict(SEED_EXPECTED)
    expected.update(
        {
            "old": (_utc(2006, 10, 30, 15, 0), _utc(2006, 10, 30, 16, 0)),
            "new": (_utc(2007, 3, 20, 14, 0), _utc(2007, 3, 20, 15, 0)),
            "tokyo": (_utc(2024, 7, 1, 1, 0), _utc(2024, 7, 1, 1, 30)),
            "helsinki-summer": (_utc(2025, 8, 20, 7, 0), _utc(2025, 8, 20, 8, 0)),
            "tricky": SEED_EXPECTED[SEED_ENTRIES[0].uid],
        }
    )
    body = build_calendar(entries, now=NOW, refresh_interval=timedelta(hours=1))
    assert_parsers_agree(body, expected)

    events = read_icaljs(body, tmp_path)
    got = {
        str(e["uid"]): (
            datetime.fromtimestamp(int(str(e["start"])), UTC),
            datetime.fromtimestamp(int(str(e["end"])), UTC),
        )
        for e in events
    }
    assert got == expected
    by_uid = {str(e["uid"]): e for e in events}
    assert by_uid["tricky"]["summary"] == "Q&A, panel; part 1\nsecond 🎉 \\ x"
    assert by_uid[SEED_ENTRIES[2].uid]["tzid"] == "Europe/Brussels"


# --------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("entries", "kwargs", "message"),
    [
        ([replace(SEED_ENTRIES[0], starts_at=datetime(2020, 11, 9, 10))], {}, "aware"),  # noqa: DTZ001
        ([replace(SEED_ENTRIES[0], timezone="Mars/Olympus")], {}, "time zone"),
        ([SEED_ENTRIES[0], SEED_ENTRIES[0]], {}, "duplicate UID"),
        ([SEED_ENTRIES[0]], {"method": "REQUEST"}, "organizer"),
        ([SEED_ENTRIES[0]], {"method": "REPLY"}, "method"),
        ([replace(SEED_ENTRIES[0], status="DONE")], {}, "status"),
        (
            [replace(SEED_ENTRIES[0], ends_at=SEED_ENTRIES[0].starts_at - timedelta(1))],
            {},
            "before",
        ),
        ([replace(SEED_ENTRIES[0], url="https://x\r\nATTENDEE:mailto:evil@x")], {}, "line breaks"),
    ],
)
def test_rejects_invalid_input(
    entries: list[CalendarEntry], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_calendar(entries, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_calendar(SEED_ENTRIES, now=datetime(2020, 1, 1))  # noqa: DTZ001


def test_digest_is_order_independent_and_content_sensitive() -> None:
    digest = calendar_entry_digest(SEED_ENTRIES)
    assert digest == calendar_entry_digest(list(reversed(SEED_ENTRIES)))
    bumped = [replace(SEED_ENTRIES[0], sequence=1), *SEED_ENTRIES[1:]]
    assert calendar_entry_digest(bumped) != digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


# ------------------------------------------------------ add-to-calendar links


def _link_entry() -> CalendarEntry:
    return replace(
        SEED_ENTRIES[0],
        summary="Make ICT Fair: Q&A, session 1 #1 ✓ café",
        description="Agenda & speakers\nSecond line",
        location="Online / Brussels",
    )


def test_google_calendar_link() -> None:
    link = google_calendar_link(_link_entry())
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    assert " " not in link and "\n" not in link
    query = parse_qs(parts.query, strict_parsing=True)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Make ICT Fair: Q&A, session 1 #1 ✓ café"]
    assert query["dates"] == ["20201109T090000Z/20201109T104500Z"]
    assert query["details"] == [
        "Agenda & speakers\nSecond line\n\nhttps://events.procura.example/series/make-ict-fair/1"
    ]
    assert query["location"] == ["Online / Brussels"]
    assert query["ctz"] == ["Europe/Brussels"]


def test_outlook_calendar_link() -> None:
    link = outlook_calendar_link(_link_entry())
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("outlook.live.com", "/calendar/0/deeplink/compose")
    assert " " not in link and "+" not in link
    query = parse_qs(parts.query, strict_parsing=True)
    assert query["subject"] == ["Make ICT Fair: Q&A, session 1 #1 ✓ café"]
    assert query["startdt"] == ["2020-11-09T09:00:00Z"]
    assert query["enddt"] == ["2020-11-09T10:45:00Z"]
    assert query["body"][0].startswith("Agenda & speakers\nSecond line")
    assert query["location"] == ["Online / Brussels"]
    assert query["path"] == ["/calendar/action/compose"]
    assert query["rru"] == ["addevent"]
