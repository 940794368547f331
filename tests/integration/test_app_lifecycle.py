"""The web app while it serves: what it built at startup stays out of the collector's way,
and what belongs to one run is made afresh when it starts again."""

from __future__ import annotations

import gc
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.clock import utc_now
from service.db.models import Event
from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.factories import make_event


async def test_the_started_app_is_frozen_while_it_serves_and_given_back_when_it_stops(
    settings: Settings,
) -> None:
    before = gc.get_freeze_count()
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        assert (await client.get("/api/events")).status_code == 200
        serving = gc.get_freeze_count()
    assert serving > before
    assert gc.get_freeze_count() == before
    assert gc.isenabled()  # building the app paused collection only while it built


async def test_an_app_started_again_answers_from_its_new_run(
    app: Litestar, db: AsyncSession, engine: AsyncEngine, settings: Settings,
) -> None:
    """Each start makes the run's own parts afresh: a feed memoised in an earlier run is not
    served after another instance changed the programme (nothing in this process saw it)."""
    event = await make_event(db, settings)
    async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as client:
        first = await client.get("/feeds/programme.ics")
        first_desk = app.state.registration_desk
    assert "Fair ICT procurement webinars" in first.text
    async with engine.begin() as connection:  # not through an ORM session: nothing here sees it
        await connection.execute(update(Event).where(Event.id == event.id).values(
            title="Fair ICT buying webinars", updated_at=utc_now() + timedelta(seconds=1)))

    async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as client:
        again = await client.get("/feeds/programme.ics")
        registered = await client.post("/api/events/fair-ict-webinars/registrations", json={
            "name": "Ana Keller", "email": "ana.keller@example.org", "consent": True})
        second_desk = app.state.registration_desk
    assert "Fair ICT buying webinars" in again.text
    assert "Fair ICT procurement webinars" not in again.text
    assert again.headers["etag"] != first.headers["etag"]
    assert registered.status_code == 201, registered.text
    assert second_desk is not first_desk
