"""The demo programme's words agree with its data: counts, durations, dates, seasons.

Each claim the summary or description makes ("two consecutive webinars", "of 105 and 90
minutes", "90-minute", "five case studies", "two days", "on 9 November and 10 December
2020", "one in winter and one in summer time") is read from the text and computed from
the sessions; the two must be equal.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.db.models import AgendaItemKind
from service.operations.demo import MAKE_ICT_FAIR, SAMPLES, DemoEvent, DemoSession

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10}
MONTHS = {name: number for number, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"), start=1)}

Claims = dict[str, object]


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def _minutes(session: DemoSession) -> int:
    starts, ends = (datetime.fromisoformat(session.starts_at),
                    datetime.fromisoformat(session.ends_at))
    return int((ends - starts).total_seconds() // 60)


def _day(session: DemoSession) -> date:
    return datetime.fromisoformat(session.starts_at).date()


def said(event: DemoEvent) -> Claims:
    """What the summary and description claim, as numbers and dates."""
    text = f"{event.summary} {event.description}"
    claims: Claims = {}
    if match := re.search(r"\b(\w+) (?:consecutive )?(?:\d+-minute )?webinars\b", text):
        claims["sessions"] = _number(match.group(1))
    if match := re.search(r"\b(\d+)-minute webinars\b", text):
        claims["minutes"] = [int(match.group(1))] * len(event.sessions)
    if match := re.search(r"\bof (\d+) and (\d+) minutes\b", text):
        claims["minutes"] = [int(match.group(1)), int(match.group(2))]
    if match := re.search(r"\b(\w+) days\b", text):
        claims["days"] = _number(match.group(1))
    if match := re.search(r"\b(\w+) case studies\b", text):
        claims["case studies"] = _number(match.group(1))
    if match := re.search(r"\bon (\d{1,2}) (\w+) and (\d{1,2}) (\w+) (\d{4})\b", text):
        day1, month1, day2, month2, year = match.groups()
        claims["dates"] = [date(int(year), MONTHS[month1], int(day1)),
                           date(int(year), MONTHS[month2], int(day2))]
    if re.search(r"\bone in winter and one in summer time\b", text):
        claims["seasons"] = ["winter", "summer"]
    return claims


def shown_by_the_data(event: DemoEvent) -> Claims:
    """The same quantities, computed from the sessions and their agendas."""

    def season(session: DemoSession) -> str:
        local = datetime.fromisoformat(session.starts_at).replace(
            tzinfo=ZoneInfo(event.timezone))
        return "summer" if local.dst() else "winter"

    return {
        "sessions": len(event.sessions),
        "minutes": [_minutes(session) for session in event.sessions],
        "days": len({_day(session) for session in event.sessions}),
        "case studies": sum(item.kind == AgendaItemKind.TALK
                            for session in event.sessions for item in session.items),
        "dates": [_day(session) for session in event.sessions],
        "seasons": [season(session) for session in event.sessions],
    }


@pytest.mark.parametrize("event", [MAKE_ICT_FAIR, *SAMPLES], ids=lambda event: event.slug)
def test_what_the_demo_says_matches_its_sessions(event: DemoEvent) -> None:
    claims = said(event)
    facts = shown_by_the_data(event)

    assert claims == {name: facts[name] for name in claims}


def test_the_claims_of_the_make_ict_fair_summary_are_all_read() -> None:
    """Guards the reader above: a reworded summary must not pass by saying nothing we read."""
    assert said(MAKE_ICT_FAIR) == {
        "sessions": 2,
        "minutes": [105, 90],
        "dates": [date(2020, 11, 9), date(2020, 12, 10)],
        "case studies": 5,
    }
