"""A draft's public pages before publishing: the organiser's event page links to the
preview; the preview shows the event as visitors will see it, with a notice, its register
button leading to the form's preview, whose button cannot send it; nothing of it is public
(the public address is still a 404), it is never cached, never indexed; another team's
organiser is refused, a viewer of the team reads it. SQLite only: the pages read what
other tests write on both databases.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from tests.factories import EventSpec, SessionSpec, make_event
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

pytestmark = pytest.mark.one_database


async def test_an_organiser_previews_a_drafts_page_and_form(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, client: AsyncTestClient[Litestar],
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(
        slug="circular-furniture", title="Circular <furniture> webinars", publish=False,
        sessions=(SessionSpec("Buying reused desks", "2035-11-12T10:00", "2035-11-12T11:30",
                              join_url="https://meet.example.org/secret-desks"),)))
    event_id = event.id
    preview_url = f"/organiser/events/{event_id}/preview"

    back_office = await organiser_client.get(f"/organiser/events/{event_id}")
    public = await client.get("/events/circular-furniture")
    page = await organiser_client.get(preview_url)
    form = await organiser_client.get(f"{preview_url}/register")
    as_viewer = await viewer_client.get(preview_url)
    other_team = await other_team_client.get(preview_url)

    assert preview_url in [a.attrs.get("href") for a in parse(back_office.text).find_all("a")]
    assert public.status_code == 404
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = parse(page.text)
    assert "It is a draft: nobody else sees it yet." in shown.one(cls="preview-notice").text
    assert shown.one("h1").text == "Circular <furniture> webinars"
    assert "Circular &lt;furniture&gt; webinars" in page.text
    assert 'content="noindex"' in page.text
    links = [a.attrs.get("href") for a in shown.find_all("a")]
    assert f"{preview_url}/register" in links
    assert "/events/circular-furniture/register" not in links
    assert "/events/circular-furniture/link" not in links
    assert "secret-desks" not in page.text
    assert form.status_code == 200
    sent_with = parse(form.text).one("button", type="submit")
    assert "disabled" in sent_with.attrs
    assert "In the preview the form cannot be sent." in form.text
    assert parse(form.text).one("form", cls="form").attrs["method"] == "get"
    assert preview_url in [a.attrs.get("href") for a in parse(form.text).find_all("a")]
    assert as_viewer.status_code == 200
    assert other_team.status_code == 403
