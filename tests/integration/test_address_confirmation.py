"""Confirming a registrant's address (double opt-in) over real HTTP, on both databases.

Where an event asks for it, a registration (API or form) only records a request and emails a
link; following it (a button: opening the link changes nothing) files the registration as if
it had just arrived. The clock stands still at START unless a test moves it.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.engine import session_scope
from service.db.models import (
    AccessToken,
    Enrolment,
    Event,
    OutboxEmail,
    Registration,
    Reminder,
)
from service.domain import programme
from service.domain import registration as registrations
from service.domain.registration import confirmation
from service.settings import Settings
from tests.factories import SPRING, WINTER, EventSpec, make_event, registration_form
from tests.integration.test_pages import Element, parse

Client = AsyncTestClient[Litestar]
Sessionmaker = async_sessionmaker[AsyncSession]

START = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
SLUG = "fair-ict-webinars"
TITLE = "Fair ICT procurement webinars"
CONFIRM_TEMPLATE = "address_confirmation_to_registrant"
LINK = re.compile(r"http://events\.test(/events/[a-z0-9-]+/confirm/[A-Za-z0-9_-]+)")
ANA = "ana.silva@lisboa.example.pt"
BEN = "ben.weber@koeln.example.de"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


pytestmark = pytest.mark.usefixtures("clock")


# --- arranging and reading ---------------------------------------------------------------------


async def confirming_event(db: AsyncSession, settings: Settings, **overrides: Any) -> Event:
    return await make_event(db, settings, EventSpec(), is_address_confirmation_required=True,
                            **overrides)


async def register(client: Client, address: str = ANA, name: str = "Ana Silva",
                   **overrides: Any) -> Any:
    return await client.post(f"/api/events/{SLUG}/registrations",
                             json=registration_form(name, address, **overrides))


async def compose(sessionmaker: Sessionmaker, settings: Settings) -> None:
    """What the scheduler's composing job does after a registration commits."""
    while True:
        async with session_scope(sessionmaker) as db:
            report = await registrations.compose_welcome_emails(
                db, now=datetime.now(UTC), settings=settings)
        if not report.claimed:
            return


async def emails(sessionmaker: Sessionmaker, settings: Settings) -> list[tuple[str, str]]:
    """(template, recipient) of every email in the outbox, in order (first emails composed)."""
    await compose(sessionmaker, settings)
    async with sessionmaker() as db:
        rows = (await db.execute(select(OutboxEmail.template, OutboxEmail.to_address)
                                 .order_by(OutboxEmail.id))).all()
    return [(template, to) for template, to in rows]


def mime(row: OutboxEmail) -> MimeMessage:
    assert row.raw_message is not None
    message = email.message_from_bytes(row.raw_message, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def body(message: MimeMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


async def confirm_emails(sessionmaker: Sessionmaker, address: str) -> list[OutboxEmail]:
    async with sessionmaker() as db:
        return list(await db.scalars(
            select(OutboxEmail).where(OutboxEmail.template == CONFIRM_TEMPLATE,
                                      OutboxEmail.to_address == address)
            .order_by(OutboxEmail.id)))


async def link_for(sessionmaker: Sessionmaker, address: str = ANA) -> str:
    """The path of the link in the latest "confirm your address" email to `address`."""
    found = LINK.findall(body(mime((await confirm_emails(sessionmaker, address))[-1]), "plain"))
    assert len(found) == 1
    return str(found[0])


async def press_confirm(client: Client, path: str) -> tuple[int, Element]:
    """Open the link and press its button, as a person does."""
    page = parse((await client.get(path)).text)
    token = page.one("input", name="csrf_token").attrs["value"]
    response = await client.post(path, data={"csrf_token": token})
    return response.status_code, parse(response.text)


async def states(sessionmaker: Sessionmaker) -> list[tuple[str, str, int | None]]:
    """(address, status, position on the waiting list) of every registration, in id order."""
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(Registration).order_by(Registration.id)))
        return [(r.email, str(r.status), await registrations.waiting_position(db, r))
                for r in rows]


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(model)) or 0


def h1(page: Element) -> str:
    return page.one("h1").text


# --- the whole flow ----------------------------------------------------------------------------


async def test_through_the_api_only_a_confirm_email_until_the_link_files_the_registration(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: dict[str, str],
) -> None:
    event = await confirming_event(db, settings, capacity=5)

    response = await register(client, name='Ana <b>"Silva"</b>')

    assert (response.status_code, response.json()) == (202, {
        "is_new": True, "event_slug": SLUG,
        "detail": "Check your inbox: we sent a link to confirm your email address. Your "
                  "registration counts once you have confirmed it, within 48 hours.",
        "status": "unconfirmed", "waiting_position": None, "sessions": [], "manage_url": None,
    })
    assert await emails(db_sessionmaker, settings) == [(CONFIRM_TEMPLATE, ANA)]
    [sent] = await confirm_emails(db_sessionmaker, ANA)
    message = mime(sent)
    path = await link_for(db_sessionmaker)
    assert (str(message["To"]), str(message["Subject"])) == (
        ANA, f"Confirm your email address: {TITLE}")
    assert message.get_content_type() == "multipart/alternative"  # no invite attached
    assert body(message, "plain").startswith('Dear Ana <b>"Silva"</b>,\n')
    assert "Dear Ana &lt;b&gt;&#34;Silva&#34;&lt;/b&gt;," in body(message, "html")
    assert "until Saturday 12 September 2026 at 10:00 CEST" in body(message, "plain")
    # Nothing counts yet: no place, no reminder, not in the organisers' list.
    assert await states(db_sessionmaker) == [(ANA, "unconfirmed", None)]
    assert await count(db_sessionmaker, Reminder) == 0
    listed = await client.get(f"/api/organiser/events/{event.id}/registrations",
                              headers=organiser_headers)
    unconfirmed = await client.get(f"/api/organiser/events/{event.id}/registrations",
                                   params={"status": "unconfirmed"}, headers=organiser_headers)
    assert listed.json() == []
    assert [(r["email"], r["status"], r["address_confirmed_at"], r["confirmation_expires_at"],
             [s["status"] for s in r["sessions"]]) for r in unconfirmed.json()] == [
        (ANA, "unconfirmed", None, "2026-09-12T08:00:00Z", ["waiting", "waiting"])]
    event_page = parse((await client.get(f"/events/{SLUG}")).text)
    assert event_page.one("dl", cls="facts-list").find_all("dd")[-1].text == "5 places left"

    opened = await client.get(path)  # a mail scanner, or the person: nothing changes
    filed_status, filed = await press_confirm(client, path)

    assert opened.status_code == 200
    assert h1(parse(opened.text)) == "Confirm your email address"
    assert (filed_status, h1(filed)) == (200, "You are registered")
    assert await states(db_sessionmaker) == [(ANA, "confirmed", None)]
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), ("registration_confirmed_to_registrant", ANA)]
    assert await count(db_sessionmaker, Reminder) == 4  # two sessions, two reminders each
    listed = await client.get(f"/api/organiser/events/{event.id}/registrations",
                              headers=organiser_headers)
    assert [(r["status"], r["address_confirmed_at"], r["confirmation_expires_at"])
            for r in listed.json()] == [("confirmed", "2026-09-10T08:00:00Z", None)]


async def test_through_the_form_the_page_says_check_your_inbox(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    await confirming_event(db, settings)
    form_page = parse((await client.get(f"/events/{SLUG}/register")).text)
    token = form_page.one("input", name="csrf_token").attrs["value"]

    response = await client.post(f"/events/{SLUG}/register", data={
        "name": "Ana Silva", "email": ANA, "consent": "yes", "website": "",
        "csrf_token": token})

    page = parse(response.text)
    assert (response.status_code, h1(page)) == (200, "Check your inbox")
    assert page.one("div", id="next-steps").one("p").text == (
        f"We sent a link to {ANA} to confirm that the address is yours.")
    assert await states(db_sessionmaker) == [(ANA, "unconfirmed", None)]

    status, filed = await press_confirm(client, await link_for(db_sessionmaker))

    assert (status, h1(filed)) == (200, "You are registered")
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), ("registration_confirmed_to_registrant", ANA)]


async def test_the_place_goes_to_whoever_confirms_first(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates,
) -> None:
    await confirming_event(db, settings, capacity=1)
    await register(client, ANA, "Ana Silva")
    await register(client, BEN, "Ben Weber")
    ana_link, ben_link = await link_for(db_sessionmaker, ANA), await link_for(db_sessionmaker, BEN)

    clock.shift(timedelta(minutes=5))
    _, ben_page = await press_confirm(client, ben_link)
    clock.shift(timedelta(minutes=5))
    _, ana_page = await press_confirm(client, ana_link)

    assert (h1(ben_page), h1(ana_page)) == ("You are registered", "You are on the waiting list")
    assert await states(db_sessionmaker) == [(ANA, "waiting", 1), (BEN, "confirmed", None)]
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), (CONFIRM_TEMPLATE, BEN),
        ("registration_confirmed_to_registrant", BEN),
        ("registration_waiting_to_registrant", ANA)]


async def test_confirming_twice_changes_nothing_the_second_time(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    await confirming_event(db, settings)
    await register(client)
    path = await link_for(db_sessionmaker)
    page = parse((await client.get(path)).text)
    token = page.one("input", name="csrf_token").attrs["value"]

    first = await client.post(path, data={"csrf_token": token})
    second = await client.post(path, data={"csrf_token": token})  # a second tab, a double click
    opened = await client.get(path)

    assert (first.status_code, h1(parse(first.text))) == (200, "You are registered")
    assert (second.status_code, h1(parse(second.text))) == (200, "Your address is confirmed")
    said = parse(second.text).one("div", id="confirm-address").find_all("p")[0]
    assert (said.children[0], said.one("strong").text) == (
        "This link has been used: your registration is filed. Its status: ", "Confirmed")
    assert (opened.status_code, h1(parse(opened.text))) == (200, "Your address is confirmed")
    assert await states(db_sessionmaker) == [(ANA, "confirmed", None)]
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), ("registration_confirmed_to_registrant", ANA)]


async def test_a_confirmation_needs_the_form_token(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    await confirming_event(db, settings)
    await register(client)
    path = await link_for(db_sessionmaker)

    response = await client.post(path, data={"csrf_token": "forged"})

    assert (response.status_code, h1(parse(response.text))) == (
        403, "Please press the button again")
    assert await states(db_sessionmaker) == [(ANA, "unconfirmed", None)]


async def test_an_application_is_received_once_the_address_is_confirmed(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    await confirming_event(db, settings, is_approval_required=True)
    await register(client)

    _, page = await press_confirm(client, await link_for(db_sessionmaker))

    assert h1(page) == "Application received"
    assert await states(db_sessionmaker) == [(ANA, "pending", None)]
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), ("registration_pending_to_registrant", ANA)]


# --- before confirming -------------------------------------------------------------------------


async def test_before_confirming_no_place_no_invite_and_a_session_added_later_is_included(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await confirming_event(db, settings, capacity=1)
    await register(client)
    # A session added meanwhile: the unconfirmed registrant hears nothing of it.
    await programme.add_session(db, event.id, programme.SessionCreate(
        title="Extra session", starts_at="2035-12-01T10:00", ends_at="2035-12-01T11:00"),
        now=START, settings=settings)
    await db.commit()
    other = await client.post(f"/api/events/{SLUG}/registrations",
                              json=registration_form("Ben Weber", BEN))

    assert other.status_code == 202  # the unconfirmed one took no place from him either
    assert await emails(db_sessionmaker, settings) == [
        (CONFIRM_TEMPLATE, ANA), (CONFIRM_TEMPLATE, BEN)]
    assert await count(db_sessionmaker, Reminder) == 0
    async with db_sessionmaker() as check:
        enrolled = (await check.execute(
            select(Registration.email, func.count(Enrolment.id))
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .group_by(Registration.email).order_by(Registration.email))).all()
    assert [tuple(row) for row in enrolled] == [(ANA, 2), (BEN, 3)]

    await press_confirm(client, await link_for(db_sessionmaker))

    async with db_sessionmaker() as check:
        sessions = list(await check.scalars(
            select(Enrolment.status).join(Registration).where(Registration.email == ANA)))
    assert sorted(str(s) for s in sessions) == ["confirmed", "confirmed", "confirmed"]


async def test_registering_again_while_unconfirmed_resends_the_link_at_most_every_ten_minutes(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates,
) -> None:
    await confirming_event(db, settings)
    await register(client)
    first_link = await link_for(db_sessionmaker)

    again = await register(client, name="Ana M. Silva")
    clock.shift(timedelta(minutes=11))
    later = await register(client, name="Ana Maria Silva")

    assert (again.status_code, again.json()["status"]) == (202, "unconfirmed")
    assert (later.status_code, later.json()["status"]) == (202, "unconfirmed")
    assert await states(db_sessionmaker) == [(ANA, "unconfirmed", None)]
    sent = await confirm_emails(db_sessionmaker, ANA)
    assert [body(mime(row), "plain").splitlines()[0] for row in sent] == [
        "Dear Ana Silva,", "Dear Ana Maria Silva,"]
    new_link = await link_for(db_sessionmaker)
    assert new_link != first_link
    replaced = await client.get(first_link)
    assert (replaced.status_code, h1(parse(replaced.text))) == (
        410, "This link has been replaced")
    _, page = await press_confirm(client, new_link)
    assert h1(page) == "You are registered"


async def test_an_address_receives_at_most_five_links_in_48_hours(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates,
) -> None:
    await confirming_event(db, settings)

    for _ in range(7):
        assert (await register(client)).status_code == 202
        clock.shift(timedelta(minutes=11))

    assert len(await confirm_emails(db_sessionmaker, ANA)) == 5


# --- lapsing -----------------------------------------------------------------------------------


async def test_an_expired_link_says_so_and_offers_to_register_again(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates,
) -> None:
    await confirming_event(db, settings)
    await register(client)
    path = await link_for(db_sessionmaker)
    token = parse((await client.get(path)).text).one("input", name="csrf_token").attrs["value"]

    clock.shift(timedelta(hours=48))
    opened = await client.get(path)
    pressed = await client.post(path, data={"csrf_token": token})
    async with session_scope(db_sessionmaker) as job_db:
        report = await registrations.expire_unconfirmed_registrations(
            job_db, now=datetime.now(UTC))
    after_expiry = await client.get(path)

    for response, status in ((opened, 410), (pressed, 410), (after_expiry, 404)):
        page = parse(response.text)
        assert (response.status_code, h1(page)) == (status, "This link has expired")
        assert page.one("a", cls="button").attrs["href"] == f"/events/{SLUG}/register"
    assert report == registrations.ExpiryReport(claimed=1, deleted=1, failed=0)
    assert await states(db_sessionmaker) == []


async def test_the_expiry_job_deletes_lapsed_requests_with_their_data_and_keeps_the_rest(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates,
) -> None:
    await confirming_event(db, settings)
    await register(client, ANA, "Ana Silva")
    await register(client, "carla@barcelona.example.es", "Carla Canal")
    await press_confirm(client, await link_for(db_sessionmaker, "carla@barcelona.example.es"))
    clock.shift(timedelta(hours=47))
    await register(client, BEN, "Ben Weber")
    clock.shift(timedelta(hours=1))

    async with session_scope(db_sessionmaker) as job_db:
        report = await registrations.expire_unconfirmed_registrations(
            job_db, now=datetime.now(UTC))

    assert report == registrations.ExpiryReport(claimed=1, deleted=1, failed=0)
    assert await states(db_sessionmaker) == [
        ("carla@barcelona.example.es", "confirmed", None), (BEN, "unconfirmed", None)]
    assert [to for _, to in await emails(db_sessionmaker, settings)] == [
        "carla@barcelona.example.es", "carla@barcelona.example.es", BEN]
    async with db_sessionmaker() as check:
        owners = set(await check.scalars(select(AccessToken.registration_id)))
        enrolled = set(await check.scalars(select(Enrolment.registration_id)))
        ids = set(await check.scalars(select(Registration.id)))
    assert (owners, enrolled) == (ids, ids)


async def test_one_request_that_cannot_be_deleted_does_not_hold_back_the_others(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    clock: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await confirming_event(db, settings)
    for address in (ANA, BEN, "carla@barcelona.example.es"):
        await register(client, address, "Someone")
    async with db_sessionmaker() as check:
        ben_id = await check.scalar(select(Registration.id).where(Registration.email == BEN))
    delete = confirmation._delete_unconfirmed

    async def failing_for_ben(db: AsyncSession, registration_id: int) -> int:
        if registration_id == ben_id:
            raise RuntimeError("disk on fire")
        return await delete(db, registration_id)

    monkeypatch.setattr(confirmation, "_delete_unconfirmed", failing_for_ben)
    clock.shift(timedelta(hours=48))

    async with session_scope(db_sessionmaker) as job_db:
        report = await registrations.expire_unconfirmed_registrations(
            job_db, now=datetime.now(UTC), batch_size=2)
    async with session_scope(db_sessionmaker) as job_db:
        second = await registrations.expire_unconfirmed_registrations(
            job_db, now=datetime.now(UTC), batch_size=2)

    assert (report, second) == (registrations.ExpiryReport(claimed=2, deleted=1, failed=1),
                                registrations.ExpiryReport(claimed=1, deleted=1, failed=0))
    async with db_sessionmaker() as check:
        left = (await check.execute(select(Registration.email,
                                           Registration.confirmation_expires_at))).all()
    assert [tuple(row) for row in left] == [(BEN, START + timedelta(hours=49))]


# --- events that do not ask --------------------------------------------------------------------


async def test_an_event_without_the_setting_registers_at_once_as_before(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: dict[str, str],
) -> None:
    event = await make_event(db, settings, EventSpec(sessions=(WINTER, SPRING)))
    shown = await client.get(f"/api/organiser/events/{event.id}", headers=organiser_headers)

    response = await register(client)

    assert shown.json()["is_address_confirmation_required"] is False
    assert (response.status_code, response.json()["status"]) == (201, "confirmed")
    assert response.json()["manage_url"].startswith("http://events.test/registrations/")
    assert await states(db_sessionmaker) == [(ANA, "confirmed", None)]
    assert await emails(db_sessionmaker, settings) == [
        ("registration_confirmed_to_registrant", ANA)]
    async with db_sessionmaker() as check:
        registered = await check.scalar(select(Registration))
    assert registered is not None
    assert (registered.address_confirmed_at, registered.confirmation_expires_at) == (None, None)


async def test_organisers_switch_the_setting_on_through_the_api(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: dict[str, str],
) -> None:
    event = await make_event(db, settings, EventSpec())

    updated = await client.patch(f"/api/organiser/events/{event.id}",
                                 json={"is_address_confirmation_required": True},
                                 headers=organiser_headers)
    response = await register(client)

    assert updated.json()["is_address_confirmation_required"] is True
    assert (response.status_code, response.json()["status"]) == (202, "unconfirmed")


async def test_registering_again_after_cancelling_asks_to_confirm_the_address_first(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: dict[str, str],
) -> None:
    event = await make_event(db, settings, EventSpec())
    first = await register(client)
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    await client.post(f"/api/registrations/{token}/cancel")
    await client.patch(f"/api/organiser/events/{event.id}",
                       json={"is_address_confirmation_required": True},
                       headers=organiser_headers)

    again = await register(client, name="Ana M. Silva")
    before = await states(db_sessionmaker)
    _, page = await press_confirm(client, await link_for(db_sessionmaker))

    assert (again.status_code, again.json()["manage_url"]) == (202, None)
    assert before == [(ANA, "unconfirmed", None)]
    assert h1(page) == "You are registered"
    assert await states(db_sessionmaker) == [(ANA, "confirmed", None)]
    assert await emails(db_sessionmaker, settings) == [
        ("registration_confirmed_to_registrant", ANA),
        ("registration_cancelled_to_registrant", ANA),
        (CONFIRM_TEMPLATE, ANA),
        ("registration_confirmed_to_registrant", ANA)]
    async with db_sessionmaker() as check:
        reminder_states = list(await check.scalars(select(Reminder.status)))
    assert sorted(str(state) for state in reminder_states) == ["pending"] * 4
