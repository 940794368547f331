"""Reading pasted agendas: the two Make ICT Fair agendas exactly as the programme wrote them,
and the other ways programmes write times, speakers and moderators."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from service.db.models import AgendaItemKind
from service.domain.programme.agenda_text import (
    LineNote,
    ParsedAgenda,
    ParsedItem,
    ParsedSpeaker,
    guess_kind,
    parse_agenda_text,
)
from service.operations.demo import MAKE_ICT_FAIR

AGENDAS = Path(__file__).parent.parent / "data" / "agendas"
ICLEI = "ICLEI Local Governments for Sustainability"
PAULA = ParsedSpeaker("Paula Land", ICLEI)


def _seed(name: str) -> str:
    return (AGENDAS / name).read_text(encoding="utf-8")


def test_make_ict_fair_session_1_as_written() -> None:
    parsed = parse_agenda_text(_seed("make_ict_fair_session_1.txt"))

    assert parsed == ParsedAgenda(
        items=(
            ParsedItem(3, time(10, 0), time(10, 10), "Welcome and introduction",
                       AgendaItemKind.WELCOME, (PAULA,)),
            ParsedItem(4, time(10, 10), time(10, 40),
                       "Facing market challenges: The City of Barcelona on how market "
                       "engagement helps to include social criteria",
                       AgendaItemKind.TALK, (ParsedSpeaker("Carla Canal", "Barcelona City Council"),)),
            ParsedItem(5, time(10, 40), time(11, 10),
                       "Facing internal challenges: The City of Haarlem on how to address "
                       "internal ICT procurement needs while including social criteria",
                       AgendaItemKind.TALK,
                       (ParsedSpeaker("Rudie de Vries", "Municipality of Haarlem"),)),
            ParsedItem(6, time(11, 10), time(11, 30),
                       "Including social criteria: The City of Stavanger on criteria and market "
                       "response",
                       AgendaItemKind.TALK, (ParsedSpeaker("Elin Seveholt", "City of Stavanger"),)),
            ParsedItem(7, time(11, 30), time(11, 45), "Q&A and opportunity for discussion",
                       AgendaItemKind.QA),
        ),
        problems=(),
        left_out=(
            LineNote(1, "Session 1: On the way towards social criteria – steps towards "
                     "integrating social criteria in ICT Procurement tenders",
                     "Left out: before the first time.", is_problem=False),
            LineNote(2, "Monday, 09 November 20, 10 - 11:45 CET",
                     "Left out: before the first time.", is_problem=False),
        ),
        closes_at=time(11, 45),
    )


def test_make_ict_fair_session_2_as_written() -> None:
    parsed = parse_agenda_text(_seed("make_ict_fair_session_2.txt"))

    assert parsed == ParsedAgenda(
        items=(
            ParsedItem(3, time(10, 0), time(10, 10), "Welcome and introduction",
                       AgendaItemKind.WELCOME, (PAULA,)),
            ParsedItem(4, time(10, 10), time(10, 40),
                       "Set up Contract management: APUC Scotland on contract clauses & Key "
                       "Performance Indicators",
                       AgendaItemKind.TALK, (ParsedSpeaker("Michael McLaughlin", "APUC Scotland"),)),
            ParsedItem(5, time(10, 40), time(10, 55),
                       "Outcomes of contract management: Region Stockholm on lessons learnt on "
                       "how to keep social criteria alive",
                       AgendaItemKind.TALK,
                       (ParsedSpeaker("Kathleen McCaughey", "Region Stockholm"),)),
            ParsedItem(6, time(10, 55), time(11, 30), "Q&A and opportunity for Discussion",
                       AgendaItemKind.QA),
        ),
        problems=(),
        left_out=(
            LineNote(1, "Session 2: Keeping social criteria alive- How to follow up through "
                     "contract management", "Left out: before the first time.", is_problem=False),
            LineNote(2, "Thursday, 10 December 2020, 10 - 11:30 CET",
                     "Left out: before the first time.", is_problem=False),
        ),
        closes_at=time(11, 30),
    )


def test_the_seed_agendas_match_the_demo_programme() -> None:
    """The demo holds the series as published; pasting its text gives the same agenda."""
    for name, demo_session in zip(
        ("make_ict_fair_session_1.txt", "make_ict_fair_session_2.txt"),
        MAKE_ICT_FAIR.sessions, strict=True,
    ):
        parsed = parse_agenda_text(_seed(name))
        as_demo = [
            (item.starts_at.strftime("%H:%M"), item.ends_at.strftime("%H:%M") if item.ends_at
             else None, item.title, item.kind,
             tuple((s.name, s.organisation) for s in item.speakers))
            for item in parsed.items
        ]
        assert as_demo == [(i.start, i.end, i.title, i.kind, i.speakers)
                           for i in demo_session.items]


@pytest.mark.parametrize("line", [
    "10:10 Keynote, Carla Canal, Barcelona City Council",
    "10.10 Keynote, Carla Canal, Barcelona City Council",
    "10h10 Keynote, Carla Canal, Barcelona City Council",
    "10:10 - Keynote, Carla Canal, Barcelona City Council",
    "- 10:10 | Keynote, Carla Canal, Barcelona City Council",
    "10:10\tKeynote, Carla Canal,\u00a0Barcelona City Council",
    "10:10 Keynote; Carla Canal, Barcelona City Council",
    "10:10 Keynote, Carla Canal (Barcelona City Council)",
])
def test_ways_of_writing_a_start(line: str) -> None:
    parsed = parse_agenda_text(line)

    assert parsed == ParsedAgenda(items=(
        ParsedItem(1, time(10, 10), None, "Keynote", AgendaItemKind.TALK,
                   (ParsedSpeaker("Carla Canal", "Barcelona City Council"),)),
    ))


@pytest.mark.parametrize("line", [
    "10:10-10:25 Keynote", "10:10 – 10:25 Keynote", "10.10 — 10.25: Keynote",
    "10:10 to 10:25 Keynote", "10:10am - 10:25am Keynote",
])
def test_ways_of_writing_a_time_range(line: str) -> None:
    parsed = parse_agenda_text(line)

    assert parsed == ParsedAgenda(items=(
        ParsedItem(1, time(10, 10), time(10, 25), "Keynote", AgendaItemKind.TALK,
                   is_end_written=True),
    ))


def test_afternoon_times_in_twelve_hour_clock() -> None:
    parsed = parse_agenda_text("1:30 pm Lunch\n2.15 p.m. Site visit\n4:00pm End")

    assert [(i.starts_at, i.ends_at, i.kind) for i in parsed.items] == [
        (time(13, 30), time(14, 15), AgendaItemKind.BREAK),
        (time(14, 15), time(16, 0), AgendaItemKind.SITE_VISIT),
    ]


def test_moderator_speaker_lines_and_several_speakers() -> None:
    text = "\n".join([
        "Agenda",
        "09:30 – 10:15 Panel: buying fair ICT together",
        "Moderator: Paula Land, ICLEI",
        "Speakers: Carla Canal, Barcelona City Council; Rudie de Vries, Municipality of Haarlem",
        "10:15 Coffee break",
        "10:30 Reuse, repair and recycle: what cities do, Anna Berg and Carl Svensson, City of "
        "Malmö and Jean-Luc O'Brien, Ville de Paris",
        "11:00 Lessons learnt",
        "Elin Seveholt, City of Stavanger",
        "11:20 Discussion",
        "Moderated by Dr. Paula Land",
        "11:45 Closing remarks",
    ])

    parsed = parse_agenda_text(text)

    assert parsed == ParsedAgenda(
        items=(
            ParsedItem(2, time(9, 30), time(10, 15), "Panel: buying fair ICT together",
                       AgendaItemKind.PANEL, (
                           ParsedSpeaker("Paula Land", "ICLEI", is_moderator=True),
                           ParsedSpeaker("Carla Canal", "Barcelona City Council"),
                           ParsedSpeaker("Rudie de Vries", "Municipality of Haarlem"),
                       ), is_end_written=True),
            ParsedItem(5, time(10, 15), time(10, 30), "Coffee break", AgendaItemKind.BREAK),
            ParsedItem(6, time(10, 30), time(11, 0), "Reuse, repair and recycle: what cities do",
                       AgendaItemKind.TALK, (
                           ParsedSpeaker("Anna Berg", "City of Malmö"),
                           ParsedSpeaker("Carl Svensson", "City of Malmö"),
                           ParsedSpeaker("Jean-Luc O'Brien", "Ville de Paris"),
                       )),
            ParsedItem(7, time(11, 0), time(11, 20), "Lessons learnt", AgendaItemKind.TALK,
                       (ParsedSpeaker("Elin Seveholt", "City of Stavanger"),)),
            ParsedItem(9, time(11, 20), time(11, 45), "Discussion", AgendaItemKind.DISCUSSION,
                       (ParsedSpeaker("Dr. Paula Land", None, is_moderator=True),)),
            ParsedItem(11, time(11, 45), None, "Closing remarks", AgendaItemKind.CLOSING),
        ),
        left_out=(LineNote(1, "Agenda", "Left out: before the first time.", is_problem=False),),
    )


def test_a_wrapped_line_continues_the_item_above() -> None:
    text = ("11:00 Key findings on contract clauses and\n"
            "Key Performance Indicators, Michael McLaughlin (APUC Scotland)\n"
            "11:30 Set up contract management: the first\n"
            "year of monitoring, Kathleen McCaughey, Region Stockholm\n")

    parsed = parse_agenda_text(text)

    assert parsed.items == (
        ParsedItem(1, time(11, 0), time(11, 30),
                   "Key findings on contract clauses and Key Performance Indicators",
                   AgendaItemKind.TALK, (ParsedSpeaker("Michael McLaughlin", "APUC Scotland"),)),
        ParsedItem(3, time(11, 30), None,
                   "Set up contract management: the first year of monitoring",
                   AgendaItemKind.TALK, (ParsedSpeaker("Kathleen McCaughey", "Region Stockholm"),)),
    )


def test_titles_with_commas_and_words_that_look_like_names_stay_titles() -> None:
    text = ("09:00 Opening Remarks\n09:10 Reuse, Repair And Recycle\n"
            "09:40 Contract clauses, Key Performance Indicators\n10:00 End")

    parsed = parse_agenda_text(text)

    assert [(i.title, i.speakers) for i in parsed.items] == [
        ("Opening Remarks", ()),
        ("Reuse, Repair And Recycle", ()),
        ("Contract clauses, Key Performance Indicators", ()),
    ]


def test_problems_name_their_lines() -> None:
    text = "\n".join([
        "10:00 Welcome",
        "25:10 Keynote",
        "10:20",
        "10:30-10:20 Panel",
        "10:40-11:20 Talk one",
        "11:10 Talk two",
        "11:00 Talk three",
        "11:10 Talk four",
        "11:45 End",
        "12:00 Networking",
    ])

    parsed = parse_agenda_text(text)

    assert parsed.problems == (
        LineNote(2, "25:10 Keynote", "25:10 is not a time of day."),
        LineNote(3, "10:20", "A time without a title."),
        LineNote(4, "10:30-10:20 Panel", "Ends (10:20) before it starts (10:30)."),
        LineNote(5, "10:40 Talk one", "Ends (11:20) after the next item starts (11:10)."),
        LineNote(7, "11:00 Talk three", "Starts (11:00) before the item above it (line 6, "
                 "11:10): times go backwards."),
        LineNote(8, "11:10 Talk four", "Starts (11:10) at the same time as the item above it "
                 "(line 6, 11:10): times go backwards."),
        LineNote(10, "12:00 Networking", "Comes after the End line (line 9): paste one "
                 "session's agenda at a time."),
    )
    assert [i.title for i in parsed.items] == ["Welcome", "Talk one", "Talk two"]


def test_a_date_at_the_start_of_a_line_is_not_a_time() -> None:
    parsed = parse_agenda_text("09.11.2020 Agenda\n10/12/2020, online\n10:00 Welcome")

    assert parsed == ParsedAgenda(
        items=(ParsedItem(3, time(10, 0), None, "Welcome", AgendaItemKind.WELCOME),),
        left_out=(
            LineNote(1, "09.11.2020 Agenda", "Left out: before the first time.", is_problem=False),
            LineNote(2, "10/12/2020, online", "Left out: before the first time.",
                     is_problem=False),
        ),
    )


def test_text_without_any_time() -> None:
    parsed = parse_agenda_text("Welcome and introduction\nQ&A")

    assert parsed.items == ()
    assert parsed.problems == (
        LineNote(0, "", "No agenda item found: start each item's line with its time, e.g. "
                 "\"10:10 Title, Name, Organisation\"."),
    )


@pytest.mark.parametrize(("title", "kind"), [
    ("Welcome and introduction", AgendaItemKind.WELCOME),
    ("Q&A and opportunity for Discussion", AgendaItemKind.QA),
    ("Lunch", AgendaItemKind.BREAK),
    ("Networking drinks", AgendaItemKind.NETWORKING),
    ("Site visit: a building with recycled concrete", AgendaItemKind.SITE_VISIT),
    ("Peer exchange on circular procurement", AgendaItemKind.DISCUSSION),
    ("Wrap-up and next steps", AgendaItemKind.CLOSING),
    ("Procura+ Awards ceremony", AgendaItemKind.OTHER),
])
def test_kind_guessed_from_the_title(title: str, kind: AgendaItemKind) -> None:
    assert guess_kind(title) == kind


def test_an_item_with_a_speaker_is_a_talk_even_when_its_title_names_a_visit() -> None:
    speaker = ParsedSpeaker("Anna Berg", "City of Ghent")

    assert guess_kind("Lessons from our visit to Zurich", (speaker,)) == AgendaItemKind.TALK
