"""Dates, times and labels in the six languages, across the Brussels clock changes.

The service's words come from its catalogues, but the names of days and months and the
zones' abbreviations come from Babel's data for the language in force: these tests pin that
data for every language, on the days the clocks go forward and back, and show that nothing
depends on the machine's own locale.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.message import EmailMessage
from service import i18n
from service.db.models import EventKind, RegistrationStatus, SessionMode
from service.domain import wording
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import build_invites
from service.i18n import use_language
from tests.calendar_readers import unfolded
from tests.unit.test_calendar_entries import STAMP, make_event, make_session, make_settings

BRUSSELS = "Europe/Brussels"
ZONE = ZoneInfo(BRUSSELS)

# 2026's changes in Brussels: 29 March 02:00 CET -> 03:00 CEST, 25 October 03:00 CEST ->
# 02:00 CET. A session across each change, given as exact instants.
SPRING_START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
SPRING_END = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
AUTUMN_START = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first one
AUTUMN_END = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second one

SUNDAY = {"en": "Sunday", "de": "Sonntag", "fr": "dimanche", "es": "domingo",
          "it": "domenica", "nl": "zondag"}


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Sunday 29 March 2026, 01:30 CET – 03:30 CEST (Europe/Brussels)"),
    ("de", "Sonntag, 29. März 2026, 01:30 MEZ – 03:30 MESZ (Europe/Brussels)"),
    ("fr", "dimanche 29 mars 2026, 01:30 CET – 03:30 CEST (Europe/Brussels)"),
    ("es", "domingo, 29 de marzo de 2026, 01:30 CET – 03:30 CEST (Europe/Brussels)"),
    ("it", "domenica 29 marzo 2026, 01:30 CET – 03:30 CEST (Europe/Brussels)"),
    ("nl", "zondag 29 maart 2026, 01:30 CET – 03:30 CEST (Europe/Brussels)"),
])
def test_a_session_across_the_spring_change_in_each_language(language: str, expected: str) -> None:
    with use_language(language):
        text = wording.period_text(SPRING_START, SPRING_END, BRUSSELS)

    assert text == expected
    assert text.startswith(SUNDAY[language])


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Sunday 25 October 2026, 02:30 CEST – 02:30 CET"),
    ("de", "Sonntag, 25. Oktober 2026, 02:30 MESZ – 02:30 MEZ"),
    ("fr", "dimanche 25 octobre 2026, 02:30 CEST – 02:30 CET"),
    ("es", "domingo, 25 de octubre de 2026, 02:30 CEST – 02:30 CET"),
    ("it", "domenica 25 ottobre 2026, 02:30 CEST – 02:30 CET"),
    ("nl", "zondag 25 oktober 2026, 02:30 CEST – 02:30 CET"),
])
def test_the_hour_repeated_in_autumn_is_told_apart_in_each_language(
    language: str, expected: str
) -> None:
    with use_language(language):
        local, utc = wording.session_when(AUTUMN_START, AUTUMN_END, BRUSSELS)

    assert (local, utc) == (expected, "00:30–01:30 UTC")


@pytest.mark.parametrize(("language", "winter", "summer"), [
    ("en", "CET", "CEST"),
    ("de", "MEZ", "MESZ"),
    ("fr", "CET", "CEST"),  # Babel writes "+0100" in French: the tz database's name instead
    ("es", "CET", "CEST"),
    ("it", "CET", "CEST"),
    ("nl", "CET", "CEST"),
])
def test_the_abbreviation_changes_at_the_exact_instants(
    language: str, winter: str, summer: str
) -> None:
    moments = [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 01:59 CET
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST
        datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # 02:59 CEST
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # 02:00 CET
    ]

    with use_language(language):
        shown = [wording.clock_text(moment.astimezone(ZONE)) for moment in moments]

    assert shown == [f"01:59 {winter}", f"03:00 {summer}", f"02:59 {summer}", f"02:00 {winter}"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Monday 9 November 2020, 10:00–11:45 CET"),
    ("de", "Montag, 9. November 2020, 10:00–11:45 MEZ"),
    ("fr", "lundi 9 novembre 2020, 10:00–11:45 CET"),
    ("es", "lunes, 9 de noviembre de 2020, 10:00–11:45 CET"),
    ("it", "lunedì 9 novembre 2020, 10:00–11:45 CET"),
    ("nl", "maandag 9 november 2020, 10:00–11:45 CET"),
])
def test_a_winter_session_as_the_email_body_gives_it(language: str, expected: str) -> None:
    start = datetime(2020, 11, 9, 9, 0, tzinfo=UTC)
    end = datetime(2020, 11, 9, 10, 45, tzinfo=UTC)

    with use_language(language):
        local, utc = wording.session_when(start, end, BRUSSELS)

    assert (local, utc) == (expected, "09:00–10:45 UTC")


def test_the_days_after_each_change_keep_their_weekday_and_wall_time() -> None:
    """Monday 10:00 the day after each change: CEST after spring, CET after autumn."""
    after_spring = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    after_autumn = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    shown = {}
    for language in i18n.LANGUAGES:
        with use_language(language):
            shown[language] = (wording.date_text(after_spring.astimezone(ZONE).date()),
                               wording.clock_text(after_spring.astimezone(ZONE)),
                               wording.date_text(after_autumn.astimezone(ZONE).date()),
                               wording.clock_text(after_autumn.astimezone(ZONE)))

    assert shown == {
        "en": ("Monday 30 March 2026", "10:00 CEST", "Monday 26 October 2026", "10:00 CET"),
        "de": ("Montag, 30. März 2026", "10:00 MESZ", "Montag, 26. Oktober 2026", "10:00 MEZ"),
        "fr": ("lundi 30 mars 2026", "10:00 CEST", "lundi 26 octobre 2026", "10:00 CET"),
        "es": ("lunes, 30 de marzo de 2026", "10:00 CEST", "lunes, 26 de octubre de 2026",
               "10:00 CET"),
        "it": ("lunedì 30 marzo 2026", "10:00 CEST", "lunedì 26 ottobre 2026", "10:00 CET"),
        "nl": ("maandag 30 maart 2026", "10:00 CEST", "maandag 26 oktober 2026", "10:00 CET"),
    }


def test_short_dates_and_ranges_in_german_and_english() -> None:
    with use_language("de"):
        german = (wording.short_date_text(date(2026, 3, 29)),
                  wording.date_range_text(date(2020, 11, 30), date(2020, 12, 1)),
                  wording.month_name(3))
    english = (wording.short_date_text(date(2026, 3, 29)),
               wording.date_range_text(date(2020, 11, 30), date(2020, 12, 1)),
               wording.month_name(3))

    assert german == ("So., 29. März", "30. November 2020 – 1. Dezember 2020", "März")
    assert english == ("Sun 29 Mar", "30 November – 1 December 2020", "March")


def test_zones_without_a_name_in_the_language_keep_the_tz_database_abbreviation() -> None:
    london = datetime(2026, 7, 1, 9, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/London"))
    casablanca = datetime(2026, 1, 12, 9, 0, tzinfo=UTC).astimezone(ZoneInfo("Africa/Casablanca"))

    with use_language("de"):
        shown = (wording.zone_abbreviation(london), wording.zone_abbreviation(casablanca))

    assert shown == ("BST", casablanca.tzname())


@pytest.fixture
def machine_in_german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The host's locale set to German the ways a server may have it (Babel reads these)."""
    for name in ("LANG", "LC_ALL", "LC_TIME", "LANGUAGE", "LC_MESSAGES"):
        monkeypatch.setenv(name, "de_DE.UTF-8")
    yield


@pytest.mark.usefixtures("machine_in_german")
def test_nothing_depends_on_the_machine_locale() -> None:
    start = datetime(2020, 11, 9, 9, 0, tzinfo=UTC)
    end = datetime(2020, 11, 9, 10, 45, tzinfo=UTC)

    english = wording.period_text(start, end, BRUSSELS)
    with use_language("fr"):
        french = wording.period_text(start, end, BRUSSELS)

    assert english == "Monday 9 November 2020, 10:00–11:45 CET (Europe/Brussels)"
    assert french == "lundi 9 novembre 2020, 10:00–11:45 CET (Europe/Brussels)"


def test_labels_and_places_are_translated_when_read_not_when_imported() -> None:
    def read() -> tuple[object, ...]:
        return (wording.KIND_LABELS[EventKind.WEBINAR_SERIES],
                wording.status_label(RegistrationStatus.PENDING),
                dict(wording.KIND_LABELS.items())[EventKind.WEBINAR_SERIES],
                wording.place_text(SessionMode.HYBRID, "Stadhuis, Haarlem"),
                wording.place_text(SessionMode.IN_PERSON, None),
                wording.zone_label(BRUSSELS),
                wording.starts_phrase(datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                                      datetime(2026, 3, 29, 0, 0, tzinfo=UTC), BRUSSELS))

    with use_language("de"):
        german = read()
    english = read()

    assert german == ("Webinarreihe", "Wartet auf die Freigabe durch das Organisationsteam",
                      "Webinarreihe", "Stadhuis, Haarlem und online",
                      "Vor Ort (das Organisationsteam bestätigt den Veranstaltungsort noch)",
                      "Ortszeit Brüssel",
                      "in 60 Minuten, um 03:00 MESZ")
    assert english == ("Webinar series", "Awaiting the organisers' approval", "Webinar series",
                       "Stadhuis, Haarlem and online",
                       "In person (the organisers will confirm the venue)", "Brussels time",
                       "in 60 minutes, at 03:00 CEST")


def test_an_empty_label_stays_empty_in_every_language() -> None:
    """gettext("") is a catalogue's header: the "other" agenda kind must not read as one."""
    shown = []
    for language in i18n.LANGUAGES:
        with use_language(language):
            shown.append(wording.agenda_kind_label("other"))

    assert shown == [""] * len(i18n.LANGUAGES)


def test_an_email_is_written_in_the_language_in_force_when_it_is_decided() -> None:
    """Its template and the times and places built in Python then agree on one language."""
    def message() -> EmailMessage:
        return EmailMessage(template="reminder_to_registrant", to_address="ada@example.org",
                            to_name="Ada")

    with use_language("nl"):
        dutch = message()
    with use_language("de"):
        chosen = EmailMessage(template="reminder_to_registrant", to_address="ada@example.org",
                              to_name="Ada", language="fr")

    assert (dutch.language, chosen.language, message().language) == ("nl", "fr", "en")


def test_an_invite_in_german_changes_only_its_words() -> None:
    """Agenda across the spring change with MEZ/MESZ per line and the join link's label in
    German; UID, SEQUENCE, METHOD and the instants as in English."""
    session = make_session(
        "Night webinar", datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 0, 50, tzinfo=UTC)),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    )
    event = make_event("Socially responsible ICT", EventKind.WEBINAR_SERIES, session)
    settings = make_settings()

    def invite() -> tuple[str, list[str]]:
        entry = session_entry(session, event, settings, include_join_url=True)
        lines = unfolded(build_invites([entry], now=STAMP, method="REQUEST")[0])
        return entry.description.split("\n\n")[1], [
            line for line in lines if line.startswith(
                ("UID", "SEQUENCE", "METHOD", "DTSTART", "DTEND", "CONFERENCE"))]

    with use_language("de"):
        german_agenda, german_lines = invite()
    english_agenda, english_lines = invite()

    assert german_agenda.splitlines() == [
        "Programm (Uhrzeiten in Europe/Brussels):",
        "01:30 MEZ Item 0",
        "03:00 MESZ Item 1",
        "03:30 MESZ Ende",
    ]
    assert english_agenda.splitlines()[0] == "Agenda (times in Europe/Brussels):"
    assert german_lines == [
        line.replace("LABEL=Join online", "LABEL=Online teilnehmen") for line in english_lines]
    assert [line for line in german_lines if line.startswith("CONFERENCE")] == [
        "CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Online teilnehmen:https://meet.example.org/x"]


def test_a_zone_is_named_after_its_city_as_each_language_writes_it() -> None:
    """CLDR's city names; English keeps the tz database's own, as it always did."""
    named = {}
    for language in i18n.LANGUAGES:
        with use_language(language):
            named[language] = (wording.zone_label("Europe/Brussels"),
                               wording.zone_label("Europe/Copenhagen"))

    assert named == {"en": ("Brussels time", "Copenhagen time"),
                     "de": ("Ortszeit Brüssel", "Ortszeit Kopenhagen"),
                     "fr": ("heure de Bruxelles", "heure de Copenhague"),
                     "es": ("hora de Bruselas", "hora de Copenhague"),
                     "it": ("ora di Bruxelles", "ora di Copenaghen"),
                     "nl": ("tijd in Brussel", "tijd in Kopenhagen")}
