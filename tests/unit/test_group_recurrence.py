"""Recurrence rules of group meetings: RRULE both ways, words, and wall time across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from service.domain.errors import InvalidInputError
from service.domain.groups.recurrence import RecurrenceRule, matches_rule, recurrence_starts
from service.i18n import use_language

BRUSSELS = "Europe/Brussels"
SECOND_TUESDAY_BIMONTHLY = RecurrenceRule("monthly", interval=2, weekday=1, ordinal=2,
                                          until=date(2027, 6, 30))


def test_second_tuesday_of_every_other_month_round_trips_through_its_rrule() -> None:
    rrule = SECOND_TUESDAY_BIMONTHLY.to_rrule(BRUSSELS)

    assert rrule == "FREQ=MONTHLY;UNTIL=20270630T215959Z;INTERVAL=2;BYDAY=2TU"
    assert RecurrenceRule.from_rrule(rrule, BRUSSELS) == SECOND_TUESDAY_BIMONTHLY


def test_describe_says_the_rule_as_people_do() -> None:
    words = SECOND_TUESDAY_BIMONTHLY.describe(at=time(10, 0), timezone=BRUSSELS)
    others = [RecurrenceRule.quarterly(count=8).describe(),
              RecurrenceRule.quarterly(weekday=3, ordinal=1, count=8).describe(),
              RecurrenceRule("weekly", interval=2, weekday=0, count=4).describe(),
              RecurrenceRule("yearly", weekday=4, ordinal=-1, month=11, count=2).describe()]

    assert words == ("Every second Tuesday of every other month, 10:00 Brussels time, "
                     "until 30 June 2027")
    assert others == ["Quarterly, 8 times",
                      "Every first Thursday of every third month (quarterly), 8 times",
                      "Every other week on Monday, 4 times",
                      "Every last Friday of November, 2 times"]


@pytest.mark.parametrize(("language", "expected"), [
    ("de", ["Jeden zweiten Dienstag, jeden zweiten Monat, 10:00 Ortszeit Brüssel, "
            "bis 30. Juni 2027",
            "Vierteljährlich, 8 Mal", "Jede zweite Woche am Montag, 4 Mal",
            "Jeden letzten Freitag im November, 2 Mal"]),
    ("fr", ["Chaque deuxième mardi, un mois sur deux, 10:00 heure de Bruxelles, "
            "jusqu'au 30 juin 2027",
            "Chaque trimestre, 8 fois", "Une semaine sur deux, le lundi, 4 fois",
            "Chaque dernier vendredi de novembre, 2 fois"]),
])
def test_describe_says_the_rule_in_the_readers_language(language: str,
                                                        expected: list[str]) -> None:
    with use_language(language):
        words = [SECOND_TUESDAY_BIMONTHLY.describe(at=time(10, 0), timezone=BRUSSELS),
                 RecurrenceRule.quarterly(count=8).describe(),
                 RecurrenceRule("weekly", interval=2, weekday=0, count=4).describe(),
                 RecurrenceRule("yearly", weekday=4, ordinal=-1, month=11, count=2).describe()]

    assert words == expected


def test_the_wall_time_is_kept_across_changes_of_the_clocks() -> None:
    first = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)  # Tuesday 13 January 2026, 10:00 CET

    starts = recurrence_starts(SECOND_TUESDAY_BIMONTHLY.to_rrule(BRUSSELS), first, BRUSSELS)

    assert starts == [
        datetime(2026, 1, 13, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC),  # before the clocks go forward (29 March)
        datetime(2026, 5, 12, 8, 0, tzinfo=UTC),  # 10:00 CEST
        datetime(2026, 7, 14, 8, 0, tzinfo=UTC),
        datetime(2026, 9, 8, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 12, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 9, 9, 0, tzinfo=UTC),
        datetime(2027, 5, 11, 8, 0, tzinfo=UTC),
    ]


def test_a_first_start_off_the_rule_is_told_apart() -> None:
    rrule = SECOND_TUESDAY_BIMONTHLY.to_rrule(BRUSSELS)

    assert matches_rule(rrule, datetime(2026, 1, 13, 9, tzinfo=UTC), BRUSSELS) is True
    assert matches_rule(rrule, datetime(2026, 1, 20, 9, tzinfo=UTC), BRUSSELS) is False


@pytest.mark.parametrize(("rule", "field"), [
    (RecurrenceRule("monthly", interval=0), "rule.interval"),
    (RecurrenceRule("weekly", weekday=1, ordinal=2), "rule.ordinal"),
    (RecurrenceRule("monthly", until=date(2027, 1, 1), count=3), "rule.count"),
    (RecurrenceRule("yearly", weekday=1, ordinal=2), "rule.month"),
])
def test_a_rule_calendars_would_read_differently_is_refused_naming_its_part(
    rule: RecurrenceRule, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        rule.check()

    assert refused.value.field == field


def test_an_rrule_the_product_does_not_write_is_refused() -> None:
    with pytest.raises(InvalidInputError) as refused:
        RecurrenceRule.from_rrule("FREQ=DAILY;BYHOUR=10")

    assert refused.value.field == "recurrence"
