"""Retention dates: months after the event's end (the month's last day where it is shorter),
the event's own period over the installation's, and a Meet-your-Buyer record's 36 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.db.models import Event, EventKind
from service.domain.privacy.erasure import address_hash, erased_address, scrubber
from service.domain.privacy.retention import add_months, retention_dates
from service.settings import load_settings

ENDS = datetime(2026, 1, 31, 17, 0, tzinfo=UTC)
POLICY = load_settings(secret_key="k", retention_months=12, access_note_days=30)


def event(kind: EventKind = EventKind.SEMINAR, months: int | None = None) -> Event:
    return Event(kind=kind, retention_months=months)


def test_months_are_added_on_the_calendar() -> None:
    assert [add_months(ENDS, n) for n in (1, 13, 36)] == [
        datetime(2026, 2, 28, 17, tzinfo=UTC), datetime(2027, 2, 28, 17, tzinfo=UTC),
        datetime(2029, 1, 31, 17, tzinfo=UTC)]


def test_an_event_uses_its_own_period_or_the_installation_default() -> None:
    default = retention_dates(event(), ENDS, POLICY)
    own = retention_dates(event(months=3), ENDS, POLICY)
    assert (default.months, default.is_installation_default, default.erased_at) == (
        12, True, datetime(2027, 1, 31, 17, tzinfo=UTC))
    assert (own.months, own.is_installation_default, own.contact_erased_at, own.erased_at) == (
        3, False, datetime(2026, 4, 30, 17, tzinfo=UTC), datetime(2026, 4, 30, 17, tzinfo=UTC))
    assert default.access_notes_deleted_at == ENDS + timedelta(days=30)


def test_a_meet_your_buyer_record_is_kept_the_longer_of_36_months_and_its_period() -> None:
    short = retention_dates(event(EventKind.MEET_YOUR_BUYER), ENDS, POLICY)
    long = retention_dates(event(EventKind.MEET_YOUR_BUYER, months=48), ENDS, POLICY)
    assert (short.contact_erased_at, short.erased_at) == (
        datetime(2027, 1, 31, 17, tzinfo=UTC), datetime(2029, 1, 31, 17, tzinfo=UTC))
    assert (long.contact_erased_at, long.erased_at) == (
        datetime(2030, 1, 31, 17, tzinfo=UTC), datetime(2030, 1, 31, 17, tzinfo=UTC))


def test_an_event_without_sessions_never_expires() -> None:
    dates = retention_dates(event(), None, POLICY)
    assert (dates.access_notes_deleted_at, dates.contact_erased_at, dates.erased_at) == (
        None, None, None)


def test_the_marks_erased_data_leaves() -> None:
    assert address_hash("k", " Ana@Example.org ") == address_hash("k", "ana@example.org")
    assert address_hash("k", "ana@example.org") != address_hash("other", "ana@example.org")
    assert address_hash("k", "ana@example.org").startswith("hmac-sha256:")
    first, second = erased_address(), erased_address()
    assert first != second and first.endswith("@invalid") and first.startswith("erased-")
    assert scrubber(["Ana Ferreira", "ana@example.org"])(
        "To ANA@example.org: ana ferreira asked") == "To [erased]: [erased] asked"
