"""A draft's public pages before publishing: the organiser's event page links to the
preview; the preview shows the event as visitors will see it, with a notice, its register
button leading to the form's preview. The organiser tries the form: sent empty, every
problem is named beside its field; filled in, it says so; nothing is stored either way. A
viewer of the team reads the preview, whose button cannot send the form (a POST is a 403);
nothing of it is public (the public address is still a 404), it is never cached, never
indexed; another team's organiser is refused. SQLite only: the pages read what other tests
write on both databases.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Registration
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
    viewer_form = await viewer_client.get(f"{preview_url}/register")
    viewer_tries = await viewer_client.post_form(f"{preview_url}/register", {"name": "Vic"})
    other_team = await other_team_client.get(preview_url)
    session_id = event.sessions[0].id
    tried_empty = await organiser_client.post_form(f"{preview_url}/register", {})
    tried = await organiser_client.post_form(f"{preview_url}/register", {
        "name": "Olga <Test>", "email": "olga@procura.example.org",
        "organisation_name": "ICLEI", "organisation_kind": "network", "country": "BE",
        "consent": "yes", "session_ids": str(session_id)})
    stored = list(await db.scalars(select(Registration)))

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
    assert "disabled" not in parse(form.text).one("button", type="submit").attrs
    assert parse(form.text).one("form", cls="form").attrs["method"] == "post"
    assert "nothing is stored and no email is sent" in form.text
    assert preview_url in [a.attrs.get("href") for a in parse(form.text).find_all("a")]
    assert tried_empty.status_code == 422
    assert [a.attrs["href"] for a in parse(tried_empty.text).one(cls="error-summary")
            .find_all("a")][:3] == ["#name", "#email", "#consent"]
    assert tried.status_code == 200, tried.text
    assert "Filled in correctly" in parse(tried.text).one(role="status").text
    assert 'value="Olga &lt;Test&gt;"' in tried.text
    assert stored == []
    assert as_viewer.status_code == 200
    assert "disabled" in parse(viewer_form.text).one("button", type="submit").attrs
    assert "In the preview the form cannot be sent." in viewer_form.text
    assert viewer_tries.status_code == 403
    assert other_team.status_code == 403
