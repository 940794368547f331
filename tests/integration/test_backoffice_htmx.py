"""htmx's requests against the back office: a request that says it comes
from htmx (`HX-Request: true`) gets the part of the page it swaps in, any other request the
whole page or the redirect it always got, and both say that they differ by that header.
A history restore (the back button after an address htmx pushed) gets the whole page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItemKind, RegistrationStatus
from service.domain import programme
from service.settings import Settings
from tests.factories import (
    EventSpec,
    SessionSpec,
    make_agenda_item,
    make_event,
    make_person,
    make_registration,
)
from tests.integration.backoffice import SignedInClient

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

HTMX = {"HX-Request": "true"}
# Pages also vary with the reader's language (Accept-Language, or the `lang` cookie).
PAGE_VARY = "HX-Request, Accept-Language, Cookie"
AGENDA_EVENT = EventSpec(
    slug="fair-ict-in-place", title="Fair ICT, in place",
    sessions=(SessionSpec("Reordered live", "2035-11-12T10:00", "2035-11-12T11:00"),),
    publish=False)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _row_titles(html: str) -> list[str]:
    return [_text(m).split(" Start:")[0].split(" End:")[0]
            for m in re.findall(r'<th scope="row">(.*?)</th>', html, re.S)]


def _is_whole_page(answer: httpx.Response) -> bool:
    return answer.text.lstrip().lower().startswith("<!doctype html>")


def _region(html: str, region_id: str) -> str:
    """The markup of `<div id=region_id>` up to its own closing tag."""
    start = html.index(f'<div id="{region_id}"')
    depth, at = 0, start
    for tag in re.finditer(r"<(/?)div\b", html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            at = start + tag.end()
            break
    return html[start:html.index(">", at) + 1]


async def _agenda(db: AsyncSession, settings: Settings) -> dict[str, Any]:
    """A session with three items, by title."""
    event = await make_event(db, settings, AGENDA_EVENT)
    session = event.sessions[0]
    items = {title: await make_agenda_item(db, settings, session, start, end, title)
             for start, end, title in [("10:00", "10:10", "Welcome"),
                                       ("10:10", "10:40", "Keynote"),
                                       ("10:40", "11:00", "Questions")]}
    await db.commit()
    return {"session": session.id, **{title: item.id for title, item in items.items()}}


async def _titles_in_order(db: AsyncSession, session_id: int) -> list[str]:
    db.expire_all()
    session = await programme.get_session(db, session_id)
    return [i.title for i in sorted(session.agenda_items, key=lambda i: i.starts_at)]


# --- moving an agenda item -------------------------------------------------------------------


async def test_a_move_sent_by_htmx_gets_the_list_with_the_focus_and_the_announcement(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Questions']}/move", {"direction": "up"},
        headers=HTMX)

    assert (answer.status_code, answer.headers["vary"]) == (200, PAGE_VARY)
    assert not _is_whole_page(answer)
    assert answer.text.lstrip().startswith('<div id="agenda-items">')
    assert _row_titles(answer.text) == ["Welcome", "Questions", "Keynote"]
    # The item's own "Move up" takes the focus in place of the one pressed.
    focused = re.findall(r'<button[^>]*autofocus>(.*?)</button>', answer.text)
    assert [_text(f) for f in focused] == ["Move up Questions"]
    status = re.search(r'<div id="agenda-status" role="status" hx-swap-oob="innerHTML">(.*?)'
                       r'</div>\s*$', answer.text, re.S)
    assert status is not None
    assert _text(status.group(1)) == "Moved up: “Questions” is now item 2 of 3, 10:10–10:30."
    assert await _titles_in_order(db, agenda["session"]) == ["Welcome", "Questions", "Keynote"]


async def test_moving_to_the_top_gives_the_focus_to_the_items_other_button(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Keynote']}/move", {"direction": "up"}, headers=HTMX)

    focused = re.findall(r'<button[^>]*autofocus>(.*?)</button>', answer.text)
    assert [_text(f) for f in focused] == ["Move down Keynote"]
    assert _row_titles(answer.text) == ["Keynote", "Welcome", "Questions"]


async def test_a_move_without_htmx_still_redirects_to_the_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    base = f"/organiser/sessions/{agenda['session']}/agenda"

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Questions']}/move", {"direction": "up"})
    page = await organiser_client.get(answer.headers["location"])

    assert (answer.status_code, answer.headers["location"], answer.headers["vary"]) == (
        303, f"{base}?done=moved#item-{agenda['Questions']}", "HX-Request")
    assert _is_whole_page(page)
    assert "autofocus>Move" not in page.text
    assert _row_titles(page.text) == ["Welcome", "Questions", "Keynote"]


async def test_a_refused_move_sent_by_htmx_names_the_item_in_its_row_and_changes_nothing(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Welcome']}/move", {"direction": "up"}, headers=HTMX)

    message = "'Welcome' is the first item already."
    assert (answer.status_code, answer.headers["vary"]) == (422, PAGE_VARY)
    assert not _is_whole_page(answer)
    row = re.search(rf'<tr id="item-{agenda["Welcome"]}">(.*?)</tr>', answer.text, re.S)
    assert row is not None
    assert re.findall(r'<span class="error-message">(.*?)</span>', unescape(row.group(1))) == [
        message]
    assert _text(answer.text.split('<div id="agenda-status"')[1]).endswith(message)
    assert await _titles_in_order(db, agenda["session"]) == ["Welcome", "Keynote", "Questions"]


async def test_a_refused_move_without_htmx_is_the_whole_page_naming_the_item(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    """The first item moved up: the page again with the reason, not a server error (the
    session was read after the rollback had expired it)."""
    agenda = await _agenda(db, settings)

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Welcome']}/move", {"direction": "up"})

    assert (answer.status_code, _is_whole_page(answer)) == (422, True)
    summary = re.search(r'<div class="error-summary".*?</ul>', answer.text, re.S)
    assert summary is not None
    assert _text(summary.group(0)) == (
        "There is a problem 'Welcome' is the first item already.")
    assert await _titles_in_order(db, agenda["session"]) == ["Welcome", "Keynote", "Questions"]



# --- an item's title and kind, edited in its row ----------------------------------------------


async def _item(db: AsyncSession, item_id: int) -> tuple[str, AgendaItemKind, str, str]:
    db.expire_all()
    item = await programme.get_agenda_item(db, item_id)
    return (item.title, item.kind, f"{item.starts_at:%H:%M}", f"{item.ends_at:%H:%M}")


async def test_the_edit_link_asked_by_htmx_gets_the_row_to_edit_and_otherwise_the_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    url = f"/organiser/agenda-items/{agenda['Keynote']}/edit"

    part = await organiser_client.get(url, headers=HTMX)
    page = await organiser_client.get(url)

    assert (part.status_code, part.headers["vary"], _is_whole_page(part)) == (
        200, PAGE_VARY, False)
    assert part.text.lstrip().startswith(f'<tr id="item-{agenda["Keynote"]}" class="agenda-editing"')
    prefix = f"item-{agenda['Keynote']}"
    assert re.findall(r'<(input|select)[^>]*? id="([^"]+)" name="(\w+)" form="([^"]+)"',
                      part.text) == [
        ("input", f"{prefix}-title", "title", f"{prefix}-form"),
        ("select", f"{prefix}-kind", "kind", f"{prefix}-form")]
    assert re.search(rf'<input[^>]*id="{prefix}-title"[^>]*value="Keynote"[^>]*autofocus>',
                     part.text) is not None
    assert re.findall(r'<option value="(\w+)" selected>', part.text) == ["talk"]
    assert (page.status_code, page.headers["vary"], _is_whole_page(page)) == (
        200, PAGE_VARY, True)
    assert "<h1>Edit an agenda item</h1>" in page.text


async def test_a_title_and_kind_saved_in_the_row_come_back_as_the_row_with_the_focus(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    before = await _item(db, agenda["Keynote"])

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Keynote']}/title-and-kind",
        {"title": "Keynote: fair <ICT>", "kind": "panel"}, headers=HTMX)

    assert (answer.status_code, answer.headers["vary"], _is_whole_page(answer)) == (
        200, PAGE_VARY, False)
    assert answer.text.lstrip().startswith(f'<tr id="item-{agenda["Keynote"]}">')
    assert _row_titles(answer.text) == ["Keynote: fair <ICT>"]
    assert "Keynote: fair &lt;ICT&gt;" in answer.text
    edit = re.findall(r'<a [^>]*autofocus>(.*?)</a>', answer.text)
    assert [_text(e) for e in edit] == ["Edit Keynote: fair <ICT>"]
    status = answer.text.split('<div id="agenda-status" role="status" hx-swap-oob="innerHTML">')
    assert _text(status[1]) == "Saved: “Keynote: fair <ICT>”."
    # Only the title and kind changed: the times stay.
    assert await _item(db, agenda["Keynote"]) == (
        "Keynote: fair <ICT>", AgendaItemKind.PANEL, before[2], before[3])


async def test_a_refused_title_and_kind_come_back_in_the_row_each_beside_its_field(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    before = await _item(db, agenda["Keynote"])
    prefix = f"item-{agenda['Keynote']}"

    answer = await organiser_client.post_form(
        f"/organiser/agenda-items/{agenda['Keynote']}/title-and-kind",
        {"title": "   ", "kind": "lecture"}, headers=HTMX)

    assert (answer.status_code, _is_whole_page(answer)) == (422, False)
    errors = [(ident, _text(message)) for ident, message in re.findall(
        r'<span class="error-message" id="([^"]+)">(.*?)</span>\s*<', answer.text, re.S)]
    assert errors == [(f"{prefix}-title-error", "Error: Enter a title."),
                      (f"{prefix}-kind-error", "Error: Choose a kind from the list.")]
    assert re.search(rf'<input[^>]*aria-invalid="true" aria-describedby="{prefix}-title-error"'
                     r'[^>]*autofocus>', answer.text) is not None
    status = answer.text.split('<div id="agenda-status" role="status" hx-swap-oob="innerHTML">')
    assert _text(status[1]) == "Not saved: Enter a title. Choose a kind from the list."
    assert await _item(db, agenda["Keynote"]) == before


async def test_without_htmx_the_title_and_kind_go_back_to_the_agenda_or_the_items_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    """What a script falling back to the plain form gets."""
    agenda = await _agenda(db, settings)
    url = f"/organiser/agenda-items/{agenda['Keynote']}/title-and-kind"

    refused = await organiser_client.post_form(url, {"title": "", "kind": "talk"})
    saved = await organiser_client.post_form(url, {"title": "Opening talk", "kind": "talk"})

    assert (refused.status_code, _is_whole_page(refused)) == (422, True)
    summary = re.search(r'<div class="error-summary".*?</ul>', refused.text, re.S)
    assert summary is not None
    assert _text(summary.group(0)) == "There is a problem Enter a title."
    assert 'id="starts_at" name="starts_at" value="10:10"' in refused.text
    assert (saved.status_code, saved.headers["location"]) == (
        303, f"/organiser/sessions/{agenda['session']}/agenda?done=saved#item-{agenda['Keynote']}")
    assert (await _item(db, agenda["Keynote"]))[:2] == ("Opening talk", AgendaItemKind.TALK)


async def test_cancel_gets_the_row_as_it_stands_or_the_agenda_at_that_item(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    url = f"/organiser/agenda-items/{agenda['Questions']}/row"

    part = await organiser_client.get(url, headers=HTMX)
    plain = await organiser_client.get(url, follow_redirects=False)

    assert (part.status_code, part.headers["vary"]) == (200, PAGE_VARY)
    assert part.text.lstrip().startswith(f'<tr id="item-{agenda["Questions"]}">')
    assert _row_titles(part.text) == ["Questions"]
    assert "agenda-status" not in part.text  # nothing happened: nothing to announce
    assert (plain.status_code, plain.headers["location"]) == (
        303, f"/organiser/sessions/{agenda['session']}/agenda#item-{agenda['Questions']}")


async def test_viewers_and_other_teams_cannot_edit_in_the_row(
    viewer_client: SignedInClient, other_team_client: SignedInClient,
    db: AsyncSession, settings: Settings,
) -> None:
    agenda = await _agenda(db, settings)
    item = agenda["Keynote"]
    form = {"title": "Taken over", "kind": "talk"}

    answers = [
        await viewer_client.get(f"/organiser/agenda-items/{item}/edit", headers=HTMX),
        await viewer_client.post_form(f"/organiser/agenda-items/{item}/title-and-kind", form,
                                      headers=HTMX),
        await other_team_client.get(f"/organiser/agenda-items/{item}/row", headers=HTMX),
        await other_team_client.post_form(f"/organiser/agenda-items/{item}/title-and-kind",
                                          form, headers=HTMX),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert (await _item(db, item))[0] == "Keynote"


# --- live searches -------------------------------------------------------------------------


async def test_a_live_search_of_people_gets_the_results_and_the_count_alone(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    await make_person(db, "Carla Canal", "carla@bcn.example.org", organisation="Barcelona")
    await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl")
    await db.commit()

    part = await organiser_client.get("/organiser/people", params={"q": "carla"}, headers=HTMX)
    page = await organiser_client.get("/organiser/people", params={"q": "carla"})

    assert (part.status_code, part.headers["vary"], _is_whole_page(part)) == (
        200, PAGE_VARY, False)
    assert (page.status_code, page.headers["vary"], _is_whole_page(page)) == (
        200, PAGE_VARY, True)
    # One template: the page's results are the part's, to the character.
    assert _region(part.text, "people-results") == _region(page.text, "people-results")
    assert re.findall(r'<th scope="row"><a href="/organiser/people/\d+">([^<]+)</a>',
                      part.text) == ["Carla Canal"]
    count = re.search(r'<p role="status" id="people-count" hx-swap-oob="innerHTML">(.*?)</p>',
                      part.text)
    assert count is not None
    assert unescape(count.group(1)) == "1 person matching “carla”."
    assert '<p role="status" id="people-count">' in page.text
    assert "hx-swap-oob" not in page.text


async def test_a_live_search_of_organisations_gets_the_results_alone(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    await make_person(db, "Carla Canal", None, organisation="Barcelona City Council")
    await make_person(db, "Rudie de Vries", None, organisation="Gemeente Haarlem")
    await db.commit()

    part = await organiser_client.get("/organiser/organisations", params={"q": "haarlem"},
                                      headers=HTMX)
    page = await organiser_client.get("/organiser/organisations", params={"q": "haarlem"})

    assert (part.headers["vary"], _is_whole_page(part), _is_whole_page(page)) == (
        PAGE_VARY, False, True)
    assert _region(part.text, "organisations-results") == _region(
        page.text, "organisations-results")
    assert re.findall(r'<th scope="row"><a href="/organiser/organisations/\d+">([^<]+)</a>',
                      part.text) == ["Gemeente Haarlem"]


async def test_a_history_restore_gets_the_whole_page(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    """After the back button, htmx asks again for an address it pushed: the whole page."""
    await make_person(db, "Carla Canal", None)
    await db.commit()

    restored = await organiser_client.get(
        "/organiser/people", params={"q": "carla"},
        headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert (restored.status_code, _is_whole_page(restored)) == (200, True)


async def _registrations(db: AsyncSession, settings: Settings) -> int:
    """An event with two sessions and registrations in several states."""
    event = await make_event(db, settings, slug="fair-ict-filtered", title="Fair ICT, filtered")
    first, second = event.sessions
    for name, city, status, session in [
            ("Ana Silva", "Lisboa", RegistrationStatus.CONFIRMED, first),
            ("Björn Åberg", "Malmö", RegistrationStatus.CONFIRMED, second),
            ("Carla Canal", "Barcelona", RegistrationStatus.WAITING, first)]:
        await make_registration(db, event, session, name, status=status,
                                organisation=f"City of {city}")
    await db.commit()
    return event.id


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/organiser/events/\d+/registrations/\d+">([^<]+)</a></td>',
                      html)


async def test_a_live_filter_of_registrations_gets_the_results_and_what_depends_on_them(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event_id = await _registrations(db, settings)
    url = f"/organiser/events/{event_id}/registrations"
    query = {"status": "", "session": "", "q": "MALMÖ"}  # as the form sends it

    part = await organiser_client.get(url, params=query, headers=HTMX)
    page = await organiser_client.get(url, params=query)

    assert (part.status_code, part.headers["vary"], _is_whole_page(part)) == (
        200, PAGE_VARY, False)
    assert (page.status_code, page.headers["vary"], _is_whole_page(page)) == (
        200, PAGE_VARY, True)
    assert _region(part.text, "registrations-results") == _region(
        page.text, "registrations-results")
    assert _names(part.text) == ["Björn Åberg"]
    # Out of band: the summary's words, the status choices, the link that clears the filter.
    swapped = re.findall(r'<(\w+)[^>]*? id="([\w-]+)"[^>]*hx-swap-oob="innerHTML"', part.text)
    assert swapped == [("select", "filter-status"), ("span", "filter-clear"),
                       ("p", "list-summary")]
    summary = re.search(r'<p class="list-summary"[^>]*>(.*?)</p>', part.text, re.S)
    assert summary is not None
    assert _text(summary.group(1)) == "Showing 1–1 of 1. Download all 1 as CSV"
    assert "hx-swap-oob" not in page.text


async def test_a_live_filter_by_session_counts_the_statuses_of_that_session(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event_id = await _registrations(db, settings)
    event = await programme.get_event(db, event_id)
    first = min(event.sessions, key=lambda s: s.starts_at)

    part = await organiser_client.get(f"/organiser/events/{event_id}/registrations",
                                      params={"session": str(first.id)}, headers=HTMX)

    options = re.search(r'<select id="filter-status" hx-swap-oob="innerHTML">(.*?)</select>',
                        part.text, re.S)
    assert options is not None
    labels = [_text(o) for o in re.findall(r"<option[^>]*>(.*?)</option>", options.group(1))]
    assert labels[:4] == ["All but unconfirmed addresses (2)", "Pending approval (0)",
                          "Confirmed (1)", "Waiting list (1)"]
    assert sorted(_names(part.text)) == ["Ana Silva", "Carla Canal"]
    assert _text(part.text.split('id="filter-clear"')[1].split("</span>")[0]) == (
        'hx-swap-oob="innerHTML"> Clear the filter')


async def test_a_list_query_it_cannot_read_is_still_a_400_page_for_htmx(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    """htmx swaps no 400: the page's script loads the address whole, which names the
    parameter, as without scripts."""
    event_id = await _registrations(db, settings)

    answer = await organiser_client.get(f"/organiser/events/{event_id}/registrations",
                                        params={"sort": "shoe size"}, headers=HTMX)

    assert (answer.status_code, _is_whole_page(answer)) == (400, True)
    assert "sort" in _text(answer.text)
