"""The agenda editor and "Paste an agenda" through HTTP, signed in: the
whole paste flow with the Make ICT Fair text, editing one item, and refusals that name the
field and change nothing."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, AgendaItemKind, Organisation, Person
from service.domain import programme
from service.settings import Settings
from tests.factories import DEMO_LOADED_AT, EventSpec, SessionSpec, make_agenda_item, make_event
from tests.integration.backoffice import SignedInClient

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

AGENDAS = Path(__file__).parent.parent / "data" / "agendas"
SESSION_1 = (AGENDAS / "make_ict_fair_session_1.txt").read_text(encoding="utf-8")
ICLEI = "ICLEI Local Governments for Sustainability"
SERIES = EventSpec(
    slug="make-ict-fair-again", title="Make ICT Fair, once more",
    sessions=(SessionSpec("Social criteria in ICT tenders", "2020-11-09T10:00",
                          "2020-11-09T11:45"),),
    publish=False, now=DEMO_LOADED_AT,
)


async def _session_id(db: AsyncSession, settings: Settings) -> int:
    event = await make_event(db, settings, SERIES)
    return event.sessions[0].id


async def _agenda(db: AsyncSession, session_id: int) -> list[tuple[Any, ...]]:
    db.expire_all()
    session = await programme.get_session(db, session_id)
    zone = ZoneInfo(session.event.timezone)
    return [
        (f"{i.starts_at.astimezone(zone):%H:%M}", f"{i.ends_at.astimezone(zone):%H:%M}", i.title,
         i.kind, [(s.person.name, s.organisation.name if s.organisation else None)
                  for s in i.speakers])
        for i in sorted(session.agenda_items, key=lambda i: i.starts_at)
    ]


async def _counts(db: AsyncSession) -> tuple[int | None, ...]:
    db.expire_all()
    return tuple([await db.scalar(select(func.count()).select_from(model))
                  for model in (Organisation, Person, AgendaItem)])


def _form_fields(html: str) -> dict[str, str]:
    """What a browser would send from the preview's form as shown: hidden and text inputs,
    textareas, and the selected option of each select."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = unescape(body)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        first = re.search(r'<option value="([^"]*)"', body)
        fields[name] = (selected or first).group(1) if (selected or first) else ""  # type: ignore[union-attr]
    return fields


def _summary(page: httpx.Response) -> list[str]:
    block = re.search(r'<div class="error-summary".*?</ul>', page.text, re.S)
    return [unescape(m) for m in re.findall(r'<a href="[^"]+">(.*?)</a>', block.group(0))] if block else []


def _summary_links(page: httpx.Response) -> list[str]:
    block = re.search(r'<div class="error-summary".*?</ul>', page.text, re.S)
    return re.findall(r'<a href="([^"]+)">', block.group(0)) if block else []


async def test_paste_the_seed_agenda_then_confirm_creates_it_in_one_step(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    base = f"/organiser/sessions/{session_id}/agenda"

    form_page = await organiser_client.get(f"{base}/paste")
    preview = await organiser_client.post_form(f"{base}/paste", {"text": SESSION_1})

    assert form_page.status_code == 200
    assert preview.status_code == 200
    rows = re.findall(r'<tr id="item-\d+">.*?<th scope="row">(.*?)\s*</th>', preview.text, re.S)
    assert [unescape(r) for r in rows] == [
        "Welcome and introduction",
        "Facing market challenges: The City of Barcelona on how market engagement helps to "
        "include social criteria",
        "Facing internal challenges: The City of Haarlem on how to address internal ICT "
        "procurement needs while including social criteria",
        "Including social criteria: The City of Stavanger on criteria and market response",
        "Q&A and opportunity for discussion",
    ]
    fields = _form_fields(preview.text)
    assert {k: v for k, v in fields.items() if k.endswith(("-written", "-choice", "-count"))} == {
        "org-count": "4", "person-count": "4",
        "org-0-written": ICLEI, "org-0-choice": "new",
        "org-1-written": "Barcelona City Council", "org-1-choice": "new",
        "org-2-written": "Municipality of Haarlem", "org-2-choice": "new",
        "org-3-written": "City of Stavanger", "org-3-choice": "new",
        "person-0-written": "Paula Land", "person-0-choice": "new",
        "person-1-written": "Carla Canal", "person-1-choice": "new",
        "person-2-written": "Rudie de Vries", "person-2-choice": "new",
        "person-3-written": "Elin Seveholt", "person-3-choice": "new",
    }

    fields["org-0-kind"] = "network"
    created = await organiser_client.post_form(f"{base}/paste/confirm", fields)
    assert _summary(created) == []
    agenda_page = await organiser_client.get(f"{base}?done=pasted")

    assert (created.status_code, created.headers["location"]) == (303, f"{base}?done=pasted")
    assert "Agenda created from the pasted text." in agenda_page.text
    assert await _agenda(db, session_id) == [
        ("10:00", "10:10", "Welcome and introduction", AgendaItemKind.WELCOME,
         [("Paula Land", ICLEI)]),
        ("10:10", "10:40", "Facing market challenges: The City of Barcelona on how market "
         "engagement helps to include social criteria", AgendaItemKind.TALK,
         [("Carla Canal", "Barcelona City Council")]),
        ("10:40", "11:10", "Facing internal challenges: The City of Haarlem on how to address "
         "internal ICT procurement needs while including social criteria", AgendaItemKind.TALK,
         [("Rudie de Vries", "Municipality of Haarlem")]),
        ("11:10", "11:30", "Including social criteria: The City of Stavanger on criteria and "
         "market response", AgendaItemKind.TALK, [("Elin Seveholt", "City of Stavanger")]),
        ("11:30", "11:45", "Q&A and opportunity for discussion", AgendaItemKind.QA, []),
    ]
    assert await _counts(db) == (4, 4, 5)


async def test_a_second_paste_matches_the_people_the_first_created(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SERIES, sessions=(
        SessionSpec("First", "2020-11-09T10:00", "2020-11-09T11:45"),
        SessionSpec("Second", "2020-12-10T10:00", "2020-12-10T11:30")))
    first, second = (s.id for s in event.sessions)
    text = "10:00 Welcome and introduction, Paula Land, ICLEI Local Governments for Sustainability"
    preview = await organiser_client.post_form(f"/organiser/sessions/{first}/agenda/paste",
                                               {"text": text + "\n10:10 End"})
    await organiser_client.post_form(f"/organiser/sessions/{first}/agenda/paste/confirm",
                                     _form_fields(preview.text))
    paula = await db.scalar(select(Person.id).where(Person.name == "Paula Land"))
    iclei = await db.scalar(select(Organisation.id).where(Organisation.name == ICLEI))

    again = await organiser_client.post_form(f"/organiser/sessions/{second}/agenda/paste",
                                             {"text": "10:00 Welcome, PAULA LAND, Iclei - Local "
                                              "Governments for Sustainability\n10:05 End"})
    fields = _form_fields(again.text)
    created = await organiser_client.post_form(f"/organiser/sessions/{second}/agenda/paste/confirm",
                                               fields)

    assert (fields["org-0-choice"], fields["person-0-choice"]) == (str(iclei), str(paula))
    assert created.status_code == 303
    assert await _counts(db) == (1, 1, 2)
    assert await _agenda(db, second) == [
        ("10:00", "10:05", "Welcome", AgendaItemKind.WELCOME, [("Paula Land", ICLEI)])]


async def test_a_refused_paste_names_each_field_keeps_the_text_and_stores_nothing(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    base = f"/organiser/sessions/{session_id}/agenda"
    text = ("10:00 Welcome, Paula Land, ICLEI\n"
            "11:40-11:55 Late keynote, Carla Canal, Barcelona City Council\n")
    preview = await organiser_client.post_form(f"{base}/paste", {"text": text})
    fields = _form_fields(preview.text)
    fields["person-1-choice"] = "99999"
    fields["org-1-name"] = ""  # cleared: the name as written is used
    before = await _counts(db)

    refused = await organiser_client.post_form(f"{base}/paste/confirm", fields)

    assert refused.status_code == 422
    assert _summary(refused) == [
        "Line 2 (Late keynote): Ends after the session does (11:45).",
        "No person with id 99999.",
    ]
    assert _summary_links(refused) == ["#item-1", "#person-1-choice"]
    assert unescape(re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', refused.text,
                              re.S).group(1)) == text.strip()  # type: ignore[union-attr]
    assert _form_fields(refused.text)["person-1-choice"] == "new"  # unknown id: not offered
    assert await _counts(db) == before


async def test_empty_or_changed_text_is_refused_naming_the_text(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    base = f"/organiser/sessions/{session_id}/agenda"

    empty = await organiser_client.post_form(f"{base}/paste", {"text": "  "})
    preview = await organiser_client.post_form(f"{base}/paste", {"text": "10:00 Welcome"})
    changed = await organiser_client.post_form(f"{base}/paste/confirm", {
        **_form_fields(preview.text), "text": "10:00 Welcome\n10:30 Talk"})

    assert (empty.status_code, _summary(empty)) == (
        422, ["Paste the agenda: one item per line, starting with its time."])
    assert (changed.status_code, _summary(changed)) == (
        422, ["The text changed since it was read: check what was read from it now, then "
              "create the agenda."])
    assert await _counts(db) == (0, 0, 0)


async def test_add_edit_move_and_delete_items_on_the_agenda_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    base = f"/organiser/sessions/{session_id}/agenda"

    added = await organiser_client.post_form(f"{base}/items", {
        "starts_at": "10.00", "ends_at": "10:10", "title": "Welcome", "kind": "welcome"})
    await organiser_client.post_form(f"{base}/items", {
        "starts_at": "10:10", "ends_at": "10:40", "title": "Keynote", "kind": "talk"})
    items = {title: item_id for item_id, title in
             (await db.execute(select(AgendaItem.id, AgendaItem.title))).all()}
    edited = await organiser_client.post_form(f"/organiser/agenda-items/{items['Keynote']}/edit", {
        "starts_at": "10:15", "ends_at": "10:45", "title": "Keynote: fair ICT", "kind": "talk"})
    moved = await organiser_client.post_form(f"/organiser/agenda-items/{items['Keynote']}/move",
                                             {"direction": "up"})
    page = await organiser_client.get(base)

    assert [a.status_code for a in (added, edited, moved)] == [303, 303, 303]
    assert await _agenda(db, session_id) == [
        ("10:00", "10:30", "Keynote: fair ICT", AgendaItemKind.TALK, []),
        ("10:35", "10:45", "Welcome", AgendaItemKind.WELCOME, []),
    ]
    problems = [unescape(re.sub(r"<[^>]+>", "", p)).strip()
                for p in re.findall(r'<li class="agenda-(?:warning|problem)">(.*?)</li>',
                                    page.text, re.S)]
    assert problems == ["Start: A gap of 5 min after 'Keynote: fair ICT'.",
                        "End: The agenda ends 1 h before the session (11:45)."]

    deleted = await organiser_client.post_form(f"/organiser/agenda-items/{items['Welcome']}/delete")
    assert deleted.status_code == 303
    assert [row[2] for row in await _agenda(db, session_id)] == ["Keynote: fair ICT"]


async def test_a_refused_item_lists_every_error_beside_its_field_and_keeps_what_was_typed(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    session = await programme.get_session(db, session_id)
    await make_agenda_item(db, settings, session, "10:00", "10:30", "Welcome")
    await db.commit()
    base = f"/organiser/sessions/{session_id}/agenda"

    missing = await organiser_client.post_form(f"{base}/items", {
        "starts_at": "25:00", "ends_at": "", "title": "", "kind": "lecture"})
    overlap = await organiser_client.post_form(f"{base}/items", {
        "starts_at": "10:20", "ends_at": "10:50", "title": "Keynote <b>", "kind": "talk"})

    assert (missing.status_code, _summary(missing)) == (422, [
        "Enter the start time as hours and minutes, for example 10:10.",
        "Enter the end time, for example 10:10.",
        "Enter a title.",
        "Choose a kind from the list.",
    ])
    assert _summary_links(missing) == ["#starts_at", "#ends_at", "#title", "#kind"]
    assert (overlap.status_code, _summary(overlap)) == (
        422, ["Overlaps the agenda item 'Welcome' in the same session."])
    assert 'value="Keynote &lt;b&gt;"' in overlap.text
    assert [row[2] for row in await _agenda(db, session_id)] == ["Welcome"]


async def test_viewers_other_teams_and_forms_without_token_change_nothing(
    viewer_client: SignedInClient, other_team_client: SignedInClient,
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    session_id = await _session_id(db, settings)
    base = f"/organiser/sessions/{session_id}/agenda"
    item = {"starts_at": "10:00", "ends_at": "10:10", "title": "Welcome", "kind": "welcome"}

    answers = [
        await viewer_client.get(base),
        await viewer_client.post_form(f"{base}/items", item),
        await other_team_client.get(base),
        await other_team_client.post_form(f"{base}/items", item),
        await other_team_client.post_form(f"{base}/paste", {"text": SESSION_1}),
        await organiser_client.post(f"{base}/items", data=item, follow_redirects=False),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403, 403, 403]
    assert "another team" in answers[2].text
    assert await _counts(db) == (0, 0, 0)
