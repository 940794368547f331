"""A text box takes what the service takes: a browser stops typing and cuts a paste at a box's
`maxlength` without a word, so each long box in the back office says the limit its field
has (an event's or a session's description, an agenda item's, a group's minutes and their
documents, a meeting grid's tables), not one figure for every box. Both databases.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import EventKind
from service.domain.consultation import meetings
from service.domain.programme.translations import EVENT_FIELDS, SESSION_FIELDS
from service.settings import Settings
from service.web.backoffice.groups import DOCUMENTS_TEXT
from tests.factories import EventSpec, make_event
from tests.integration.backoffice import SignedInClient
from tests.integration.test_backoffice_groups import _web_meeting
from tests.integration.test_pages import parse


def _limits(html: str) -> dict[str, int]:
    return {box.attrs["id"]: int(box.attrs["maxlength"]) for box in parse(html).find_all("textarea")}


async def test_each_long_box_says_its_own_limit(organiser_client: SignedInClient,
                                                 db: AsyncSession, settings: Settings) -> None:
    event = await make_event(db, settings, EventSpec(commit=False))
    buyer = await make_event(db, settings, EventSpec(
        slug="dialogue", title="Dialogue", kind=EventKind.MEET_YOUR_BUYER, commit=False))
    _group, series = await _web_meeting(db, "series-limits@events.test")
    ids = (event.id, event.sessions[0].id, buyer.id, series.id)

    new_event = _limits((await organiser_client.get("/organiser/events/new")).text)
    new_session = _limits((await organiser_client.get(
        f"/organiser/events/{ids[0]}/sessions/new")).text)
    agenda = _limits((await organiser_client.get(f"/organiser/sessions/{ids[1]}/agenda")).text)
    # A new Meet-your-Buyer event has no grid yet: its form comes with the usual lengths.
    grid_page = await organiser_client.get(f"/organiser/events/{ids[2]}/meetings/grid")
    grid = _limits(grid_page.text)
    minutes = _limits((await organiser_client.get(
        f"/organiser/meeting-series/{ids[3]}/minutes")).text)

    assert (new_event["summary"], new_event["description"]) == (
        EVENT_FIELDS["summary"], EVENT_FIELDS["description"])
    assert new_session["description"] == SESSION_FIELDS["description"] == 20_000
    assert agenda["description"] == 20_000
    assert grid_page.status_code == 200
    assert grid["tables"] == grid["days"] == meetings.MAX_LIST_TEXT
    assert (minutes["minutes"], minutes["documents"]) == (50_000, DOCUMENTS_TEXT)
