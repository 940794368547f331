"""No overbooking under load: 200 registrations at once for 20 places, on SQLite and PostgreSQL.

All requests go through the HTTP API at the same time. Not through Litestar's AsyncTestClient:
its transport hands each request to a portal thread and blocks until the response, so
`asyncio.gather` over it runs them one after another. Here httpx's ASGITransport calls the
app on the test's own loop, so the requests really interleave at every await.
The clock is frozen, so the waiting list's order cannot come from distinct timestamps: it
must come from the per-event serialisation itself.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import time_machine
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Enrolment, EnrolmentStatus, OutboxEmail, Registration
from service.settings import Settings
from tests.integration.test_registration import TEST_BASE_URL, WINTER, Sessionmaker, form, make_event

PLACES = 20
PEOPLE = 200
FROZEN_AT = datetime(2035, 3, 2, 8, 30, tzinfo=UTC)


@asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests run concurrently in this loop (app lifespan included)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},  # type: ignore[arg-type]
            to_app.get, from_app.put)  # type: ignore[arg-type]
    )
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                     base_url=TEST_BASE_URL) as client:
            yield client
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await from_app.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def test_200_concurrent_registrations_for_20_places_fill_them_exactly_in_arrival_order(
    app: Litestar, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, capacity=PLACES, sessions=(WINTER,))
    url = f"/api/events/{event.slug}/registrations"
    bodies = [form(name=f"Registrant {n:03d}", email_address=f"person{n:03d}@example.org")
              for n in range(PEOPLE)]

    async with concurrent_client(app) as client:
        with time_machine.travel(FROZEN_AT, tick=False):
            responses = await asyncio.gather(*(client.post(url, json=body) for body in bodies))

    assert [r.status_code for r in responses] == [201] * PEOPLE
    async with db_sessionmaker() as check:
        rows = (await check.execute(
            select(Registration.id, Registration.email, Registration.status,
                   Registration.waiting_since)
            .where(Registration.event_id == event.id).order_by(Registration.id)
        )).all()
        confirmed_places = await check.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.status == EnrolmentStatus.CONFIRMED)
        )
        emails = (await check.execute(
            select(OutboxEmail.to_address, OutboxEmail.template).order_by(OutboxEmail.id)
        )).all()
    assert sorted(email for _, email, _, _ in rows) == sorted(b["email"] for b in bodies)
    statuses = [str(status) for _, _, status, _ in rows]
    assert statuses == ["confirmed"] * PLACES + ["waiting"] * (PEOPLE - PLACES)
    assert confirmed_places == PLACES
    waiting_since = [since for _, _, status, since in rows if str(status) == "waiting"]
    assert all(a is not None and b is not None and a < b
               for a, b in itertools.pairwise(waiting_since))
    assert all(since is None for _, _, status, since in rows if str(status) == "confirmed")
    # Each registrant was told their own outcome, and their place in the queue.
    by_email = {b["email"]: r.json() for b, r in zip(bodies, responses, strict=True)}
    told = [(by_email[email]["status"], by_email[email]["waiting_position"])
            for _, email, _, _ in rows]
    assert told == [("confirmed", None)] * PLACES + [
        ("waiting", n) for n in range(1, PEOPLE - PLACES + 1)]
    assert sorted(emails) == sorted(
        [(email, "registration_confirmed_to_registrant") for _, email, _, _ in rows[:PLACES]]
        + [(email, "registration_waiting_to_registrant") for _, email, _, _ in rows[PLACES:]]
    )
