"""The audit log: changes made through the API and the back office, with who and what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, post
from litestar.response import Redirect
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ApiToken, AuditEntry
from service.domain import programme
from service.domain.accounts import Actor, set_actor
from service.settings import Settings
from service.web.backoffice.guards import require_editor
from service.web.params import DbSession, IdParam, SettingsDep
from tests.factories import make_event
from tests.integration.backoffice import SignedInClient

Client = AsyncTestClient[Litestar]


async def _entries(db: AsyncSession) -> list[AuditEntry]:
    db.expire_all()
    return list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_changes_through_the_api_are_recorded_with_the_token_and_before_and_after(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession,
) -> None:
    token_id = await db.scalar(select(ApiToken.id))
    created = await client.post("/api/organiser/events", headers=organiser_headers,
                                json={"kind": "webinar_series", "title": "Circular furniture"})
    event_id = created.json()["id"]
    session = await client.post(f"/api/organiser/events/{event_id}/sessions",
                                headers=organiser_headers,
                                json={"title": "Session 1", "starts_at": "2036-06-15T10:00",
                                      "ends_at": "2036-06-15T11:30",
                                      "join_url": "https://meet.example.org/room"})
    session_id = session.json()["id"]
    moved = await client.patch(f"/api/organiser/sessions/{session_id}", headers=organiser_headers,
                               json={"starts_at": "2036-06-15T10:30", "ends_at": "2036-06-15T12:00"})

    assert moved.status_code == 200, moved.text
    entries = await _entries(db)
    summary = [(e.action, e.subject_type, e.subject_id, e.event_id, e.actor_label, e.api_token_id,
                e.account_id) for e in entries]
    label = f"API token #{token_id} (test organiser)"
    assert summary == [
        ("created", "event", event_id, event_id, label, token_id, None),
        ("created", "session", session_id, event_id, label, token_id, None),
        ("changed", "session", session_id, event_id, label, token_id, None),
    ]
    change = entries[-1]
    assert (change.before, change.after) == (
        {"starts_at": "2036-06-15T08:00:00+00:00", "ends_at": "2036-06-15T09:30:00+00:00",
         "sequence": 0},
        {"starts_at": "2036-06-15T08:30:00+00:00", "ends_at": "2036-06-15T10:00:00+00:00",
         "sequence": 1},
    )
    assert entries[0].after is not None and entries[0].after["title"] == "Circular furniture"


async def test_reading_and_changes_without_an_actor_record_nothing(
    client: Client, viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)  # the factories act as nobody
    await db.commit()

    listed = await client.get("/api/organiser/events", headers=viewer_headers)

    assert [e["id"] for e in listed.json()] == [event.id]
    assert await _entries(db) == []


async def test_a_refused_change_leaves_no_entry(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession,
) -> None:
    refused = await client.post("/api/organiser/events", headers=organiser_headers,
                                json={"kind": "webinar_series", "title": ""})

    assert refused.status_code in (400, 422)
    assert await _entries(db) == []





@post("/organiser/events/{event_id:int}/test-rename", guards=[require_editor], status_code=303)
async def _rename(request: Request[Any, Any, Any], db_session: DbSession, settings: SettingsDep,
                  event_id: IdParam) -> Redirect:
    """A back-office form handler as the event editor's will be: parse, call the domain."""
    title = str((await request.form()).get("title"))
    await programme.update_event(db_session, event_id, programme.EventUpdate(title=title),
                                 now=datetime.now(UTC), settings=settings)
    return Redirect(f"/organiser/events/{event_id}/audit", status_code=303)


async def test_changes_through_the_back_office_name_the_account_and_show_on_the_audit_pages(
    organiser_client: SignedInClient, admin_client: SignedInClient, db: AsyncSession,
    settings: Settings,
) -> None:
    event_id = (await make_event(db, settings, title="Fair ICT webinars")).id
    await db.commit()
    organiser_client.app.register(_rename)

    renamed = await organiser_client.post_form(f"/organiser/events/{event_id}/test-rename",
                                               {"title": "Fair & <open> ICT webinars"})
    event_log = await organiser_client.get(f"/organiser/events/{event_id}/audit")
    account_log = await admin_client.get(f"/organiser/accounts/{organiser_client.account_id}/audit")
    refused = await organiser_client.get(f"/organiser/accounts/{admin_client.account_id}/audit")

    assert renamed.status_code == 303
    entries = await _entries(db)
    assert [(e.action, e.subject_type, e.subject_id, e.event_id, e.account_id, e.actor_label,
             e.before, e.after) for e in entries] == [
        ("changed", "event", event_id, event_id, organiser_client.account_id,
         "Olga Organiser <olga@procura.example.org>", {"title": "Fair ICT webinars"},
         {"title": "Fair & <open> ICT webinars"})]
    for page in (event_log, account_log):
        assert page.status_code == 200
        assert "Olga Organiser &lt;olga@procura.example.org&gt;" in page.text
        assert "<del>Fair ICT webinars</del> → <ins>Fair &amp; &lt;open&gt; ICT webinars</ins>" in page.text
    assert refused.status_code == 403


async def test_the_audit_pages_are_paginated_newest_first(
    admin_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    set_actor(db, Actor(label="Script", account_id=admin_client.account_id))
    for number in range(55):
        event.title = f"Title {number}"
        await db.flush()
        db.info.pop("audit_written", None)  # as if each were a request of its own
    await db.commit()

    first = await admin_client.get(f"/organiser/events/{event.id}/audit")
    second = await admin_client.get(f"/organiser/events/{event.id}/audit?page=2")

    assert first.text.count('<tr id="entry-') == 50
    assert "<ins>Title 54</ins>" in first.text and "Page 1 of 2" in first.text
    assert second.text.count('<tr id="entry-') == 5
    assert "<ins>Title 0</ins>" in second.text
