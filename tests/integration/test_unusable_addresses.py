"""An address no mail server would take never blocks anyone else: it is refused at the door,
and one stored before that rule existed only fails its own emails (issue: one bad address
stopped every welcome email and froze the waiting list)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import OutboxEmail, OutboxStatus, Registration
from service.settings import Settings
from tests.factories import (
    make_event,
)
from tests.integration.test_registration import (
    Client,
    Headers,
    Sessionmaker,
    outbox,
    register,
    statuses,
    token_of,
)

UNUSABLE = "x>,<victim@evil.example"


async def waiting_with_an_unusable_address(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> tuple[int, str]:
    """An event with one place: Ana holds it, Ben waits with an address stored before the
    door refused such addresses. The event's id and Ana's private token."""
    event = await make_event(db, settings, capacity=1)
    ana = await register(client, event.slug)
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")
    assert ben.json()["status"] == "waiting"
    await outbox(db_sessionmaker, settings)  # the first emails are composed
    async with db_sessionmaker() as work:
        await work.execute(update(Registration).where(Registration.email == "ben@example.org")
                           .values(email=UNUSABLE))
        await work.commit()
    return event.id, token_of(ana)


async def promoted_email_of_ben(db_sessionmaker: Sessionmaker) -> tuple[str, str | None]:
    async with db_sessionmaker() as work:
        row = (await work.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == UNUSABLE))).one()
        return str(row.status), row.last_error


@pytest.mark.parametrize("how", ["api", "page"])
async def test_cancelling_moves_an_unusable_address_up_and_records_its_email_failed(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    how: str,
) -> None:
    event_id, ana_token = await waiting_with_an_unusable_address(client, db, db_sessionmaker,
                                                                 settings)

    if how == "api":
        response = await client.post(f"/api/registrations/{ana_token}/cancel")
        assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    else:
        page = await client.get(f"/registrations/{ana_token}/cancel")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = await client.post(f"/registrations/{ana_token}/cancel",
                                     data={"csrf_token": csrf}, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (
            303, f"/registrations/{ana_token}?done=cancelled")

    assert await statuses(db_sessionmaker, event_id) == [
        ("ana.silva@lisboa.example.pt", "cancelled"), (UNUSABLE, "confirmed")]
    status, reason = await promoted_email_of_ben(db_sessionmaker)
    assert status == str(OutboxStatus.FAILED)
    assert reason is not None and reason.startswith("not sent: invalid email address")
    cancellation = [row for row in await outbox(db_sessionmaker, settings)
                    if row.template == "registration_cancelled_to_registrant"]
    assert [(row.to_address, str(row.status)) for row in cancellation] == [
        ("ana.silva@lisboa.example.pt", str(OutboxStatus.QUEUED))]


async def test_declining_and_adding_places_move_an_unusable_address_up(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event_id, _ = await waiting_with_an_unusable_address(client, db, db_sessionmaker, settings)
    async with db_sessionmaker() as work:
        ana_id = (await work.scalars(select(Registration.id).where(
            Registration.email == "ana.silva@lisboa.example.pt"))).one()

    declined = await client.post(f"/api/organiser/registrations/{ana_id}/decline",
                                 json={}, headers=organiser_headers)
    more_places = await client.patch(f"/api/organiser/events/{event_id}", json={"capacity": 5},
                                     headers=organiser_headers)

    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert more_places.status_code == 200
    assert await statuses(db_sessionmaker, event_id) == [
        ("ana.silva@lisboa.example.pt", "declined"), (UNUSABLE, "confirmed")]
    assert (await promoted_email_of_ben(db_sessionmaker))[0] == str(OutboxStatus.FAILED)


# The API's schema refuses what is not address-shaped (400); the door's rule the rest (422).
@pytest.mark.parametrize(("address", "status"), [
    ("josé@example.es", 422), ("x>,<victim@evil.example", 422), ("ana@bad_domain.example", 422),
    ("anna.keller@example", 400), ("a@@example.org", 400)])
async def test_the_door_refuses_an_address_mail_cannot_reach_naming_the_field(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    address: str, status: int,
) -> None:
    event = await make_event(db, settings)

    response = await register(client, event.slug, email_address=address)

    assert response.status_code == status
    assert [error["field"] for error in response.json()["errors"]] == ["email"]
    assert await statuses(db_sessionmaker, event.id) == []
    assert await outbox(db_sessionmaker, settings) == []


async def test_look_alike_and_international_addresses_are_stored_as_mail_servers_take_them(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings)

    fullwidth = await register(client, event.slug, email_address="ｍallory@example.org")
    international = await register(client, event.slug, name="Idun Berg",
                                   email_address="idun@bücher.example")

    assert (fullwidth.status_code, international.status_code) == (201, 201)
    assert await statuses(db_sessionmaker, event.id) == [
        ("mallory@example.org", "confirmed"), ("idun@xn--bcher-kva.example", "confirmed")]
    assert [(row.to_address, str(row.status)) for row in await outbox(db_sessionmaker, settings)
            ] == [("mallory@example.org", "queued"), ("idun@xn--bcher-kva.example", "queued")]


async def test_an_email_that_could_never_be_built_is_not_sent_again(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event_id, ana_token = await waiting_with_an_unusable_address(client, db, db_sessionmaker,
                                                                 settings)
    await client.post(f"/api/registrations/{ana_token}/cancel")
    async with db_sessionmaker() as work:
        ben_email = (await work.scalars(
            select(OutboxEmail.id).where(OutboxEmail.to_address == UNUSABLE))).one()

    one = await client.post(f"/api/organiser/emails/{ben_email}/resend",
                            headers=organiser_headers)
    every = await client.post(f"/api/organiser/events/{event_id}/emails/resend-failed",
                              headers=organiser_headers)

    assert (one.status_code, [e["field"] for e in one.json()["errors"]]) == (409, ["to_address"])
    assert (every.status_code, every.json()["resent"], every.json()["too_late_ids"]) == (
        200, 0, [ben_email])
    assert (await promoted_email_of_ben(db_sessionmaker))[0] == str(OutboxStatus.FAILED)
