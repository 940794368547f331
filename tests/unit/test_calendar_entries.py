"""Sessions as calendar entries, without a database: summaries, agendas, SEQUENCE, UIDs.

Events and sessions are plain (unsaved) model objects.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifications.message import make_message_id
from service.db.models import (
    AgendaItem,
    AgendaItemKind,
    Event,
    EventKind,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain.calendars.entries import agenda_text, session_entry, speaker_slot_entry
from service.domain.calendars.ical import session_uid
from service.domain.times import in_zone
from service.domain.wording import clock_range
from service.settings import Settings, derive_uid_domain, load_settings

STAMP = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_settings(base_url: str = "https://events.procura.example.org", **extra: object
                  ) -> Settings:
    return load_settings(public_base_url=base_url, secret_key="test", var_dir=Path("/nonexistent"),
                         **extra)


def make_event(title: str, kind: EventKind, *sessions: Session) -> Event:
    event = Event(id=3, kind=kind, title=title, slug="an-event", timezone="Europe/Brussels",
                  venue_name="Stadhuis", venue_city="Haarlem", venue_country="NL",
                  contact_email=None, sessions=list(sessions))
    return event


def make_session(title: str, start: datetime, end: datetime, *items: tuple[datetime, datetime],
                 sequence: int = 0) -> Session:
    agenda = [AgendaItem(id=10 + n, title=f"Item {n}", kind=AgendaItemKind.TALK,
                         starts_at=item_start, ends_at=item_end, sequence=0, speakers=[],
                         created_at=STAMP, updated_at=STAMP)
              for n, (item_start, item_end) in enumerate(items)]
    return Session(id=7, title=title, description="", starts_at=start, ends_at=end,
                   mode=SessionMode.ONLINE, join_url="https://meet.example.org/x",
                   status=SessionStatus.SCHEDULED, sequence=sequence, agenda_items=agenda,
                   created_at=STAMP, updated_at=STAMP)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- labels across a change of the clocks ----------------------------------------------------


def test_a_range_across_the_spring_change_labels_each_end() -> None:
    start = in_zone(utc(2026, 3, 29, 0, 30), "Europe/Brussels").local  # 01:30 CET
    end = in_zone(utc(2026, 3, 29, 1, 30), "Europe/Brussels").local  # 03:30 CEST
    same = in_zone(utc(2026, 3, 29, 8, 0), "Europe/Brussels").local

    assert clock_range(start, end) == "01:30 CET – 03:30 CEST"
    assert clock_range(start, end, dash="-") == "01:30 CET - 03:30 CEST"
    assert clock_range(same, same + timedelta(hours=1)) == "10:00–11:00 CEST"


def test_an_agenda_on_the_spring_change_gives_each_time_its_label() -> None:
    session = make_session(
        "Night webinar", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30),
        (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 0, 50)),  # 01:30-01:50 CET
        (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30)),  # 03:00-03:30 CEST
    )
    event = make_event("Night owls", EventKind.WEBINAR_SERIES, session)

    assert agenda_text(session, event).splitlines() == [
        "Agenda (times in Europe/Brussels):",
        "01:30 CET Item 0",
        "03:00 CEST Item 1",
        "03:30 CEST End",
    ]


def test_an_agenda_in_the_repeated_autumn_hour_is_unambiguous() -> None:
    session = make_session(
        "Night webinar", utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 1, 45),
        (utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 0, 45)),  # 02:15 CEST
        (utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 1, 45)),  # 02:15 CET, an hour later
    )
    event = make_event("Night owls", EventKind.WEBINAR_SERIES, session)

    assert agenda_text(session, event).splitlines() == [
        "Agenda (times in Europe/Brussels):",
        "02:15 CEST Item 0",
        "02:15 CET Item 1",
        "02:45 CET End",
    ]


def test_an_ordinary_agenda_keeps_one_label_in_its_heading() -> None:
    session = make_session("Webinar", utc(2026, 11, 9, 9, 0), utc(2026, 11, 9, 10, 0),
                           (utc(2026, 11, 9, 9, 0), utc(2026, 11, 9, 9, 30)))
    event = make_event("Make ICT Fair", EventKind.WEBINAR_SERIES, session)

    assert agenda_text(session, event).splitlines() == [
        "Agenda (times in Europe/Brussels, CET):", "10:00 Item 0", "11:00 End"]


# --- summaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "event_title", "session_title", "summary"),
    [
        (EventKind.MEET_YOUR_BUYER, "Meet your Buyer: Haarlem", "Market dialogue",
         "Market dialogue (Meet your Buyer: Haarlem)"),
        (EventKind.CITYMATCH, "CityMatch Zurich", "Study visit day",
         "Study visit day (CityMatch Zurich)"),
        # A title that already names the event is not repeated.
        (EventKind.SEMINAR, "Procura+ Seminar 2027", "Procura+ Seminar 2027: day 1",
         "Procura+ Seminar 2027: day 1"),
    ],
)
def test_a_one_session_event_is_named_in_the_summary(
    kind: EventKind, event_title: str, session_title: str, summary: str
) -> None:
    session = make_session(session_title, utc(2027, 1, 26, 12, 0), utc(2027, 1, 26, 15, 30))
    event = make_event(event_title, kind, session)

    entry = session_entry(session, event, make_settings(), include_join_url=False)

    assert entry.summary == summary


def test_a_speakers_slot_names_its_event() -> None:
    start = utc(2027, 1, 26, 12, 0)
    session = make_session("Market dialogue", start, start + timedelta(hours=2),
                           (start, start + timedelta(minutes=30)))
    event = make_event("Meet your Buyer: Haarlem", EventKind.MEET_YOUR_BUYER, session)

    entry = speaker_slot_entry(session.agenda_items[0], session, event,
                               _Person(5, "Carla Canal", "carla@example.org"), make_settings())

    assert entry.summary == "Speaking: Item 0 (Meet your Buyer: Haarlem)"


class _Person:
    def __init__(self, id_: int, name: str, email: str | None) -> None:
        self.id, self.name, self.email, self.organisation = id_, name, email, None


def test_an_attendees_copy_is_raised_above_the_sessions_sequence() -> None:
    session = make_session("Webinar", utc(2026, 11, 9, 9, 0), utc(2026, 11, 9, 10, 0),
                           sequence=3)
    event = make_event("Make ICT Fair", EventKind.WEBINAR_SERIES, session)

    shared = session_entry(session, event, make_settings(), include_join_url=False)
    own = session_entry(session, event, make_settings(), include_join_url=True,
                        sequence_offset=2)

    assert (shared.sequence, own.sequence) == (3, 5)
    assert replace(own, sequence=3, conference_url=None, location="Online",
                   description=shared.description) == shared


# --- UIDs unique across installations --------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "domain"),
    [
        # An installation on the scheme's own port keeps the UIDs it always had.
        ("https://events.procura.example.org", "events.procura.example.org"),
        ("https://events.procura.example.org:443/", "events.procura.example.org"),
        ("http://Events.Procura.Example.org:80", "events.procura.example.org"),
        # Two installations on one host differ by their port.
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://127.0.0.1:8001", "127.0.0.1:8001"),
        ("https://events.example.org:8443/procura", "events.example.org:8443"),
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_the_uid_domain_comes_from_the_public_address_with_its_port(
    base_url: str, domain: str
) -> None:
    settings = make_settings(base_url)

    assert (derive_uid_domain(base_url), settings.uid_domain) == (domain, domain)
    assert session_uid(7, settings.uid_domain) == f"session-7@{domain}"


def test_two_instances_on_one_host_give_different_uids() -> None:
    first, second = make_settings("http://127.0.0.1:8000"), make_settings("http://127.0.0.1:8001")

    assert session_uid(1, first.uid_domain) != session_uid(1, second.uid_domain)


def test_a_configured_uid_domain_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURA_UID_DOMAIN", "events.procura.eu")
    configured = make_settings("http://127.0.0.1:8000")
    monkeypatch.setenv("PROCURA_UID_DOMAIN", "evil.example\r\nATTENDEE:mailto:x@y")

    with pytest.raises(ValueError, match="PROCURA_UID_DOMAIN"):
        make_settings()
    assert configured.uid_domain == "events.procura.eu"
    assert session_uid(1, configured.uid_domain) == "session-1@events.procura.eu"
    for bad in ("", "a b", "x@y", "host:port", "-leading.example"):
        with pytest.raises(ValueError, match="PROCURA_UID_DOMAIN"):
            replace(configured, configured_uid_domain=bad)


def test_message_ids_use_the_host_alone() -> None:
    """A port is not allowed in a Message-ID's right-hand side (they are random anyway)."""
    settings = make_settings("http://127.0.0.1:8000")

    assert make_message_id(settings).endswith("@127.0.0.1>")
