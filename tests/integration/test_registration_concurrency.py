"""No overbooking under load: 200 registrations at once for 20 places, on SQLite and PostgreSQL.

All requests go through the HTTP API at the same time. Not through Litestar's AsyncTestClient:
its transport hands each request to a portal thread and blocks until the response, so
`asyncio.gather` over it runs them one after another. Here httpx's ASGITransport calls the
app on the test's own loop, so the requests really interleave at every await.
The clock is frozen, so the waiting list's order cannot come from distinct timestamps: it
must come from the per-event serialisation itself.

Within one process the registration desk files the requests in batches, one after another;
two web instances on one PostgreSQL database each have their own desk, and only the event's
row lock keeps their batches apart (that test fails when the lock is removed).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import time_machine
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Enrolment, EnrolmentStatus, OutboxEmail, Registration
from service.domain.registration import RegistrationForm
from service.settings import Settings
from service.web import registration_desk
from service.web.app import create_app
from tests.factories import (
    WINTER,
    make_event,
    registration_form,
)
from tests.integration.test_registration import (
    TEST_BASE_URL,
    Sessionmaker,
)

PLACES = 20
PEOPLE = 200
FROZEN_AT = datetime(2035, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """All registrations come from one test client: lift its per-address limit (counted all
    the same, so the limiter's batches run in front of the desk's here too)."""
    return replace(settings, registration_rate_limit=1_000_000)


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
    bodies = [registration_form(name=f"Registrant {n:03d}", email_address=f"person{n:03d}@example.org")
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


@pytest.mark.postgres_only
async def test_two_web_instances_share_the_places_without_overbooking(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    """Each instance's registration desk files its own batches; only the event's row lock
    keeps two batches on two instances from taking the same places."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several web instances need PostgreSQL (SQLite serves one process)")
    event = await make_event(db, settings, capacity=PLACES, sessions=(WINTER,))
    url = f"/api/events/{event.slug}/registrations"
    bodies = [registration_form(name=f"Registrant {n:03d}", email_address=f"person{n:03d}@example.org")
              for n in range(PEOPLE)]

    async with concurrent_client(create_app(settings)) as one, \
            concurrent_client(create_app(settings)) as other:
        with time_machine.travel(FROZEN_AT, tick=False):
            responses = await asyncio.gather(*(
                (one if n % 2 else other).post(url, json=body) for n, body in enumerate(bodies)))

    assert [r.status_code for r in responses] == [201] * PEOPLE
    async with db_sessionmaker() as check:
        statuses = [str(status) for status in await check.scalars(
            select(Registration.status).where(Registration.event_id == event.id)
            .order_by(Registration.id))]
        confirmed_places = await check.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.status == EnrolmentStatus.CONFIRMED))
    assert statuses == ["confirmed"] * PLACES + ["waiting"] * (PEOPLE - PLACES)
    assert confirmed_places == PLACES
    told = sorted(r.json()["waiting_position"] for r in responses
                  if r.json()["status"] == "waiting")
    assert told == list(range(1, PEOPLE - PLACES + 1))


async def test_the_same_address_twice_at_once_registers_once(
    app: Litestar, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    """A double click: both requests land in one batch of the desk."""
    event = await make_event(db, settings, capacity=PLACES, sessions=(WINTER,))
    url = f"/api/events/{event.slug}/registrations"

    async with concurrent_client(app) as client:
        first, second, other = await asyncio.gather(
            client.post(url, json=registration_form()), client.post(url, json=registration_form()),
            client.post(url, json=registration_form(name="Ben Okafor", email_address="ben@example.org")))

    assert sorted([first.status_code, second.status_code, other.status_code]) == [200, 201, 201]
    repeat = first if first.status_code == 200 else second
    assert (repeat.json()["is_new"], repeat.json()["manage_url"]) == (False, None)
    async with db_sessionmaker() as check:
        rows = (await check.execute(select(Registration.email, Registration.status)
                                    .order_by(Registration.id))).all()
        templates = list(await check.scalars(select(OutboxEmail.template)))
    assert [(email, str(status)) for email, status in rows] == [
        ("ana.silva@lisboa.example.pt", "confirmed"), ("ben@example.org", "confirmed")]
    assert templates == ["registration_confirmed_to_registrant"] * 2


async def test_a_batch_that_fails_as_a_whole_is_filed_again_one_by_one(
    app: Litestar, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One request that breaks the batch's transaction fails alone: the others are filed."""
    event = await make_event(db, settings, capacity=PLACES, sessions=(WINTER,))
    url = f"/api/events/{event.slug}/registrations"
    real = registration_desk.register_participants
    batches: list[int] = []

    async def fragile(db: AsyncSession, entries: Any, **kwargs: Any) -> Any:
        batches.append(len(entries))
        if any(entry.name == "Breaks Everything" for _, entry in entries):
            raise RuntimeError("the database went away for this one")
        return await real(db, entries, **kwargs)

    monkeypatch.setattr(registration_desk, "register_participants", fragile)
    bodies = [registration_form(name=f"Registrant {n}", email_address=f"person{n}@example.org")
              for n in range(5)]
    bodies.insert(2, registration_form(name="Breaks Everything", email_address="breaks@example.org"))

    async with concurrent_client(app) as client:
        responses = await asyncio.gather(*(client.post(url, json=body) for body in bodies))

    assert [r.status_code for r in responses] == [201, 201, 500, 201, 201, 201]
    assert max(batches) > 1  # they did arrive together
    async with db_sessionmaker() as check:
        emails = set(await check.scalars(select(Registration.email)))
    assert emails == {f"person{n}@example.org" for n in range(5)}


async def test_requests_that_come_while_the_desk_pauses_are_filed_in_one_batch(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between two batches the desk pauses, so that the clients a batch answered can send
    their next requests in time for the next one; a request to an idle desk is answered
    without waiting for the pause."""
    event = await make_event(db, settings, capacity=PLACES, sessions=(WINTER,))
    real = registration_desk.register_participants
    batches: list[list[str]] = []

    async def counted(db: AsyncSession, entries: Any, **kwargs: Any) -> Any:
        batches.append([form.name for _, form in entries])
        return await real(db, entries, **kwargs)

    monkeypatch.setattr(registration_desk, "register_participants", counted)
    paused, resume = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        paused.set()
        await resume.wait()

    desk = registration_desk.RegistrationDesk(db_sessionmaker, settings, pause=pause)

    def form(name: str) -> RegistrationForm:
        return RegistrationForm(name=name, email=f"{name.lower()}@example.org", consent=True)

    async with asyncio.timeout(30):
        first = await desk.register(event.slug, form("Ana"))
    assert first.is_new and paused.is_set()  # answered before the pause, not after it
    later = []
    for name in ("Ben", "Cleo", "Dara"):  # one after another, each with a turn of the loop
        later.append(asyncio.create_task(desk.register(event.slug, form(name))))
        await asyncio.sleep(0)
    assert batches == [["Ana"]]
    resume.set()
    async with asyncio.timeout(30):
        outcomes = await asyncio.gather(*later)
    assert batches == [["Ana"], ["Ben", "Cleo", "Dara"]]
    assert all(outcome.is_new for outcome in outcomes)
