"""Registrations over real HTTP on both databases: the form, places, waiting lists, approval,
the private link, and the organisers' views. Emails are checked in the outbox they are
written to (delivery to a real SMTP server is in test_registration_delivery.py).
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import Any

import icalendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.clock import utc_now
from service.db.engine import session_scope
from service.db.models import (
    AccessToken,
    Enrolment,
    EventKind,
    EventStatus,
    OutboxEmail,
    Registration,
    SessionMode,
)
from service.domain import registration as registrations
from service.domain.errors import DomainError
from service.settings import Settings
from tests.factories import (
    SPRING,
    VISIT,
    WINTER,
    EventSpec,
    SessionSpec,
    make_event,
    registration_form,
)

TEST_BASE_URL = "http://events.test"  # as in tests/conftest.py
Client = AsyncTestClient[Litestar]
Sessionmaker = async_sessionmaker[AsyncSession]
Headers = dict[str, str]


# --- builders -------------------------------------------------------------------------------


async def register(client: Client, slug: str, **overrides: Any) -> Any:
    return await client.post(f"/api/events/{slug}/registrations", json=registration_form(**overrides))


def token_of(response: Any) -> str:
    url = response.json()["manage_url"]
    assert url.startswith("http://events.test/registrations/")
    return str(url.rsplit("/", 1)[1])


async def compose_emails(sessionmaker: Sessionmaker, settings: Settings) -> int:
    """What the scheduler's composing job does after a registration commits."""
    composed = 0
    while True:
        async with session_scope(sessionmaker) as db:
            report = await registrations.compose_welcome_emails(db, now=utc_now(),
                                                                settings=settings)
        composed += report.composed
        if not report.claimed:
            return composed


async def outbox(sessionmaker: Sessionmaker, settings: Settings) -> list[OutboxEmail]:
    """Every email in the outbox, the ones recorded to compose composed first."""
    await compose_emails(sessionmaker, settings)
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def mime(row: OutboxEmail) -> MimeMessage:
    message = email.message_from_bytes(row.raw_message, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def invites_of(row: OutboxEmail) -> list[icalendar.Calendar]:
    """The calendars attached to an outbox email (invite.ics, or invite-1.ics ...), in order."""
    found = []
    for part in mime(row).walk():
        if (part.get_filename() or "").endswith(".ics"):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(icalendar.Calendar.from_ical(payload))
    return found


def invite_of(row: OutboxEmail) -> icalendar.Calendar | None:
    """The one calendar attached to an outbox email about one session, if any."""
    invites = invites_of(row)
    assert len(invites) <= 1, f"{len(invites)} invites attached"
    return invites[0] if invites else None


def text_of(row: OutboxEmail) -> str:
    body = mime(row).get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(row: OutboxEmail) -> str:
    body = mime(row).get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def vevents(calendar: icalendar.Calendar) -> list[tuple[str, datetime, datetime, str]]:
    return [
        (str(e["UID"]), e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC),
         str(e["STATUS"]))
        for e in calendar.walk("VEVENT")
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def statuses(sessionmaker: Sessionmaker, event_id: int) -> list[tuple[str, str]]:
    async with sessionmaker() as db:
        rows = await db.execute(
            select(Registration.email, Registration.status)
            .where(Registration.event_id == event_id).order_by(Registration.id)
        )
        return [(address, str(status)) for address, status in rows]


def field_of(response: Any) -> list[str | None]:
    return [error["field"] for error in response.json()["errors"]]


# --- registering for a whole series and for chosen sessions ---------------------------------


async def test_whole_series_registration_confirms_every_session_with_an_invite_each(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings)
    before = utc_now()

    response = await register(client, event.slug)

    assert response.status_code == 201, response.text
    async with db_sessionmaker() as check:
        row = await check.scalar(select(Registration))
        enrolments = (await check.execute(
            select(Enrolment.session_id, Enrolment.status).order_by(Enrolment.session_id)
        )).all()
    assert row is not None and before <= row.consent_at <= utc_now()
    assert (row.is_whole_event, [(sid, str(status)) for sid, status in enrolments]) == (
        True, [(s.id, "confirmed") for s in event.sessions])
    body = response.json()
    assert (body["is_new"], body["status"], body["waiting_position"]) == (True, "confirmed", None)
    assert [(s["title"], s["status"]) for s in body["sessions"]] == [
        (WINTER.title, "confirmed"), (SPRING.title, "confirmed")]
    assert "join_url" not in response.text and "ana.silva" not in response.text
    [confirmation] = await outbox(db_sessionmaker, settings)
    assert (confirmation.template, confirmation.to_address, confirmation.subject) == (
        "registration_confirmed_to_registrant", "ana.silva@lisboa.example.pt",
        "Registration confirmed: Fair ICT procurement webinars")
    invites = invites_of(confirmation)
    assert [str(invite["METHOD"]) for invite in invites] == ["REQUEST", "REQUEST"]
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    assert [vevents(invite) for invite in invites] == [
        [(f"session-{first.id}@events.test", utc("2035-11-12T09:00"), utc("2035-11-12T10:45"),
          "CONFIRMED")],
        [(f"session-{second.id}@events.test", utc("2036-04-10T08:00"), utc("2036-04-10T09:30"),
          "CONFIRMED")],
    ]
    text = text_of(confirmation)
    assert "  Calendar invite: invite-1.ics" in text and "  Calendar invite: invite-2.ics" in text
    assert "Monday 12 November 2035, 10:00–11:45 CET (Brussels time, Europe/Brussels)" in text
    assert "09:00–10:45 UTC" in text
    assert "Thursday 10 April 2036, 10:00–11:30 CEST" in text
    assert "Join online: https://meet.example.org/room-one" in text
    assert f"Your registration: http://events.test/registrations/{token_of(response)}" in text
    assert "Your personal calendar feed: http://events.test/feeds/registrations/" in text


async def test_chosen_sessions_registration_covers_only_those(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, allows_session_choice=True)
    second = sorted(event.sessions, key=lambda s: s.starts_at)[1]

    response = await register(client, event.slug, session_ids=[second.id])

    assert response.status_code == 201, response.text
    assert [(s["id"], s["status"]) for s in response.json()["sessions"]] == [
        (second.id, "confirmed")]
    view = (await client.get(f"/api/registrations/{token_of(response)}")).json()
    assert (view["is_whole_event"], [(s["id"], s["join_url"]) for s in view["sessions"]]) == (
        False, [(second.id, "https://meet.example.org/room-two")])
    [confirmation] = await outbox(db_sessionmaker, settings)
    invite = invite_of(confirmation)
    assert invite is not None
    assert [uid for uid, *_ in vevents(invite)] == [f"session-{second.id}@events.test"]


async def test_repeat_registration_returns_the_existing_one_and_sends_nothing(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings)
    first = await register(client, event.slug)

    again = await register(client, event.slug, name="Someone Else",
                           email_address="ANA.Silva@Lisboa.example.PT")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {
        "is_new": False, "event_slug": event.slug,
        "detail": "This email address is registered for this event already. Your "
        "confirmation email has the link to see, change or cancel your registration.",
        "status": None, "waiting_position": None, "sessions": [], "manage_url": None,
    }
    assert [row.template for row in await outbox(db_sessionmaker, settings)] == [
        "registration_confirmed_to_registrant"]
    async with db_sessionmaker() as check:
        rows = list(await check.scalars(select(Registration)))
        tokens = await check.scalar(select(func.count(AccessToken.id)))
    assert [(r.name, r.email_normalised) for r in rows] == [
        ("Ana Silva", "ana.silva@lisboa.example.pt")]
    assert tokens == 2  # the manage link and the feed link, issued once


# --- the event's status and registration window -----------------------------------------------


async def test_status_and_window_errors_name_the_field(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    draft = await make_event(db, settings, slug="draft-event", publish=False)
    over = await make_event(db, settings, slug="over-event", sessions=(
        SessionSpec("Past webinar", "2020-11-09T10:00", "2020-11-09T11:45"),))
    event = await make_event(db, settings)
    outcomes = [await register(client, draft.slug), await register(client, over.slug)]
    for name, value in [("registration_opens_at", utc_now() + timedelta(days=1)),
                        ("registration_closes_at", utc_now() - timedelta(days=1)),
                        ("status", EventStatus.CANCELLED)]:
        setattr(event, name, value)
        await db.commit()
        outcomes.append(await register(client, event.slug))
        setattr(event, name, None if name != "status" else EventStatus.PUBLISHED)
    await db.commit()

    assert [(r.status_code, field_of(r), r.json()["detail"]) for r in outcomes] == [
        (404, ["slug"], "No published event 'draft-event'."),
        (409, ["registration_closes_at"], "This event is over: registration is closed."),
        (409, ["registration_opens_at"], "Registration has not opened yet."),
        (409, ["registration_closes_at"], "Registration is closed."),
        (409, ["status"], "This event is cancelled."),
    ]
    assert await outbox(db_sessionmaker, settings) == []


async def test_invalid_forms_are_refused_naming_the_field(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    whole = await make_event(db, settings, slug="booked-as-a-whole")
    chosen = await make_event(db, settings, slug="sessions-to-choose", allows_session_choice=True)
    without_consent = registration_form()
    del without_consent["consent"]
    cases: list[tuple[str, dict[str, Any]]] = [
        (whole.slug, without_consent),
        (whole.slug, registration_form(consent=False)),
        (whole.slug, registration_form(name="   ")),
        (whole.slug, registration_form(name="Ana\u2028Bcc: eve@example.org")),  # a line separator
        (whole.slug, registration_form(email_address="not an address")),
        (whole.slug, registration_form(access_note="Vegetarian")),  # only for events held in person
        (whole.slug, registration_form(company="Fairphone")),  # only for Meet-your-Buyer dialogues
        (whole.slug, registration_form(session_ids=[whole.sessions[0].id])),  # booked as a whole
        (chosen.slug, registration_form(session_ids=[chosen.sessions[0].id, 999_999])),
        (chosen.slug, registration_form(session_ids=[])),
    ]

    responses = [await client.post(f"/api/events/{slug}/registrations", json=body)
                 for slug, body in cases]

    assert [(r.status_code, field_of(r)) for r in responses] == [
        (422, ["consent"]), (422, ["consent"]), (422, ["name"]), (422, ["name"]),
        (400, ["email"]), (422, ["access_note"]), (422, ["company"]), (422, ["session_ids"]),
        (422, ["session_ids[1]"]), (422, ["session_ids"]),
    ]
    assert await statuses(db_sessionmaker, whole.id) == []
    assert await outbox(db_sessionmaker, settings) == []


async def test_meet_your_buyer_suppliers_give_company_sector_and_offer(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(
        db, settings, slug="meet-your-buyer-haarlem", kind=EventKind.MEET_YOUR_BUYER,
        sessions=(SessionSpec("Market dialogue", "2035-01-26T13:00", "2035-01-26T16:30",
                              mode=SessionMode.HYBRID, join_url="https://meet.example.org/myb"),),
        extra={"venue_name": "Stadhuis Haarlem", "venue_city": "Haarlem", "venue_country": "NL"},
    )
    supplier = {"organisation_kind": "supplier", "company": "Fairphone B.V.",
                "sector": "ICT hardware", "offer_note": "Modular, repairable smartphones."}

    missing = await register(client, event.slug, **{**supplier, "sector": None})
    complete = await register(client, event.slug, access_note="Step-free access please",
                              **supplier)

    assert (missing.status_code, field_of(missing)) == (422, ["sector"])
    assert (complete.status_code, complete.json()["status"]) == (201, "confirmed")
    async with db_sessionmaker() as check:
        row = await check.scalar(select(Registration))
    assert row is not None
    assert (row.company, row.sector, row.offer_note, row.access_note) == (
        "Fairphone B.V.", "ICT hardware", "Modular, repairable smartphones.",
        "Step-free access please")
    [confirmation] = await outbox(db_sessionmaker, settings)
    assert "Where: Stadhuis Haarlem, Haarlem, NL and online" in text_of(confirmation)


# --- places, the waiting list and promotion -------------------------------------------------


async def test_full_event_puts_people_on_the_waiting_list_and_a_cancellation_promotes_the_first(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, capacity=1)
    ana = await register(client, event.slug)
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")
    cleo = await register(client, event.slug, name="Cleo Dubois", email_address="cleo@example.org")

    cancelled = await client.post(f"/api/registrations/{token_of(ana)}/cancel")

    assert [(r.json()["status"], r.json()["waiting_position"]) for r in (ana, ben, cleo)] == [
        ("confirmed", None), ("waiting", 1), ("waiting", 2)]
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert await statuses(db_sessionmaker, event.id) == [
        ("ana.silva@lisboa.example.pt", "cancelled"), ("ben@example.org", "confirmed"),
        ("cleo@example.org", "waiting")]
    cleo_view = (await client.get(f"/api/registrations/{token_of(cleo)}")).json()
    assert (cleo_view["status"], cleo_view["waiting_position"]) == ("waiting", 1)
    assert all(s["join_url"] is None for s in cleo_view["sessions"])
    emails = await outbox(db_sessionmaker, settings)
    assert [(row.to_address, row.template) for row in emails] == [
        ("ana.silva@lisboa.example.pt", "registration_confirmed_to_registrant"),
        ("ben@example.org", "registration_waiting_to_registrant"),
        ("cleo@example.org", "registration_waiting_to_registrant"),
        ("ben@example.org", "registration_promoted_to_registrant"),
        ("ana.silva@lisboa.example.pt", "registration_cancelled_to_registrant"),
    ]
    confirmation, waiting, _, promotion, cancellation = emails
    assert "number 1 in line" in text_of(waiting)
    assert invite_of(waiting) is None and "meet.example.org" not in waiting.raw_message.decode()
    uids = [uid for invite in invites_of(confirmation) for uid, *_ in vevents(invite)]
    promoted_invites = invites_of(promotion)
    assert [str(invite["METHOD"]) for invite in promoted_invites] == ["REQUEST", "REQUEST"]
    assert [[uid for uid, *_ in vevents(invite)] for invite in promoted_invites] == [
        [uid] for uid in uids]
    assert "Join online: https://meet.example.org/room-one" in text_of(promotion)
    cancel_invites = invites_of(cancellation)
    assert [str(invite["METHOD"]) for invite in cancel_invites] == ["CANCEL", "CANCEL"]
    assert [[(uid, status) for uid, _, _, status in vevents(invite)]
            for invite in cancel_invites] == [[(uid, "CANCELLED")] for uid in uids]


async def test_added_places_go_to_the_people_waiting_in_order(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings, capacity=1)
    for n in range(4):
        await register(client, event.slug, name=f"Person {n}", email_address=f"p{n}@example.org")
    event.capacity = 3
    await db.commit()

    await registrations.promote_waiting(db, event.id, now=utc_now(), settings=settings)
    await db.commit()

    assert await statuses(db_sessionmaker, event.id) == [
        ("p0@example.org", "confirmed"), ("p1@example.org", "confirmed"),
        ("p2@example.org", "confirmed"), ("p3@example.org", "waiting")]
    assert [(row.to_address, row.template) for row in (await outbox(db_sessionmaker, settings))[4:]] == [
        ("p1@example.org", "registration_promoted_to_registrant"),
        ("p2@example.org", "registration_promoted_to_registrant")]


async def test_cancelling_is_idempotent_and_registering_again_starts_afresh(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    event = await make_event(db, settings)
    token = token_of(await register(client, event.slug))
    first = await client.post(f"/api/registrations/{token}/cancel")
    second = await client.post(f"/api/registrations/{token}/cancel")

    again = await register(client, event.slug)

    assert (first.status_code, second.status_code, first.json()["status"]) == (
        200, 200, "cancelled")
    assert first.json() == second.json()  # cancelling twice changes nothing
    assert (again.status_code, again.json()["status"], again.json()["manage_url"]) == (
        201, "confirmed", None)
    assert (await client.get(f"/api/registrations/{token}")).json()["status"] == "confirmed"
    templates = [row.template for row in await outbox(db_sessionmaker, settings)]
    assert templates == ["registration_confirmed_to_registrant",
                         "registration_cancelled_to_registrant",
                         "registration_confirmed_to_registrant"]


async def test_session_places_and_a_change_of_choices_promotes_the_next_person(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    small = SessionSpec("Workshop", "2035-11-12T14:00", "2035-11-12T15:00", capacity=1,
                        join_url="https://meet.example.org/workshop")
    event = await make_event(db, settings, sessions=(WINTER, small), allows_session_choice=True)
    winter, workshop = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await register(client, event.slug)
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")

    changed = await client.put(f"/api/registrations/{token_of(ana)}/sessions",
                               json={"session_ids": [winter.id]})

    assert [(s["id"], s["status"]) for s in ben.json()["sessions"]] == [
        (winter.id, "confirmed"), (workshop.id, "waiting")]
    assert changed.status_code == 200, changed.text
    assert [(s["id"], s["status"]) for s in changed.json()["sessions"]] == [
        (winter.id, "confirmed"), (workshop.id, "cancelled")]
    ben_view = (await client.get(f"/api/registrations/{token_of(ben)}")).json()
    assert [(s["id"], s["status"], s["join_url"]) for s in ben_view["sessions"]] == [
        (winter.id, "confirmed", "https://meet.example.org/room-one"),
        (workshop.id, "confirmed", "https://meet.example.org/workshop")]
    emails = await outbox(db_sessionmaker, settings)
    assert [(row.to_address, row.template) for row in emails] == [
        ("ana.silva@lisboa.example.pt", "registration_confirmed_to_registrant"),
        ("ben@example.org", "registration_confirmed_to_registrant"),
        ("ben@example.org", "registration_promoted_to_registrant"),
        ("ana.silva@lisboa.example.pt", "registration_sessions_dropped_to_registrant"),
    ]
    ben_confirmation, promotion, dropped = emails[1], emails[2], emails[3]
    assert "you are on the waiting list" in text_of(ben_confirmation)
    assert [uid for uid, *_ in vevents(invite_of(promotion))] == [  # type: ignore[arg-type]
        f"session-{workshop.id}@events.test"]
    dropped_invite = invite_of(dropped)
    assert dropped_invite is not None and str(dropped_invite["METHOD"]) == "CANCEL"
    assert [uid for uid, *_ in vevents(dropped_invite)] == [f"session-{workshop.id}@events.test"]


async def test_a_session_added_later_enrols_whole_event_registrants_and_sends_its_invite(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event = await make_event(db, settings, allows_session_choice=True)
    first = sorted(event.sessions, key=lambda s: s.starts_at)[0]
    whole = await register(client, event.slug)
    chosen = await register(client, event.slug, name="Ben Okafor",
                            email_address="ben@example.org", session_ids=[first.id])

    added = await client.post(
        f"/api/organiser/events/{event.id}/sessions", headers=organiser_headers,
        json={"title": "Bonus: market engagement", "starts_at": "2036-05-20T10:00",
              "ends_at": "2036-05-20T11:00", "join_url": "https://meet.example.org/bonus"},
    )

    assert added.status_code == 201, added.text
    new_id = added.json()["id"]
    whole_view = (await client.get(f"/api/registrations/{token_of(whole)}")).json()
    chosen_view = (await client.get(f"/api/registrations/{token_of(chosen)}")).json()
    assert [(s["id"], s["status"]) for s in whole_view["sessions"]][-1] == (new_id, "confirmed")
    assert [s["id"] for s in chosen_view["sessions"]] == [first.id]
    emails = await outbox(db_sessionmaker, settings)
    assert [(row.to_address, row.template, row.subject) for row in emails[2:]] == [
        ("ana.silva@lisboa.example.pt", "registration_new_session_to_registrant",
         "New session added: Bonus: market engagement")]
    invite = invite_of(emails[2])
    assert invite is not None
    assert vevents(invite) == [(f"session-{new_id}@events.test", utc("2036-05-20T08:00"),
                                utc("2036-05-20T09:00"), "CONFIRMED")]
    assert "Join online: https://meet.example.org/bonus" in text_of(emails[2])


# --- approval -------------------------------------------------------------------------------


async def test_approval_flow_with_an_email_at_each_step(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event = await make_event(
        db, settings, slug="citymatch-zurich", kind=EventKind.CITYMATCH, sessions=(VISIT,),
        capacity=1, is_approval_required=True,
        extra={"venue_name": "Amtshaus III", "venue_city": "Zurich", "venue_country": "CH"},
    )
    ana = await register(client, event.slug, access_note="Vegetarian")
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")
    listed = await client.get(f"/api/organiser/events/{event.id}/registrations?status=pending",
                              headers=organiser_headers)
    ana_id, ben_id = [row["id"] for row in listed.json()]

    too_long = await client.post(f"/api/organiser/registrations/{ana_id}/approve",
                                 headers=organiser_headers, json={"note": "x" * 2_001})
    bad_line = await client.post(f"/api/organiser/registrations/{ana_id}/approve",
                                 headers=organiser_headers, json={"note": "Bell\u0007"})
    assert [(r.status_code, r.json()["errors"][0]["field"]) for r in (too_long, bad_line)] \
        == [(400, "note"), (400, "note")]
    assert await statuses(db_sessionmaker, event.id) == [
        ("ana.silva@lisboa.example.pt", "pending"), ("ben@example.org", "pending")]
    approved = await client.post(
        f"/api/organiser/registrations/{ana_id}/approve", headers=organiser_headers,
        json={"note": "Meet <us> at the main entrance at 08:50."})
    full = await client.post(f"/api/organiser/registrations/{ben_id}/approve",
                             headers=organiser_headers)
    declined = await client.post(f"/api/organiser/registrations/{ana_id}/decline",
                                 headers=organiser_headers,
                                 json={"reason": "We can host only one visitor per city."})

    assert [r.json()["status"] for r in (ana, ben)] == ["pending", "pending"]
    assert (approved.status_code, approved.json()["status"]) == (200, "confirmed")
    assert (full.json()["status"], full.json()["waiting_position"]) == ("waiting", 1)
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert await statuses(db_sessionmaker, event.id) == [
        ("ana.silva@lisboa.example.pt", "declined"), ("ben@example.org", "confirmed")]
    emails = await outbox(db_sessionmaker, settings)
    assert [(row.to_address, row.template) for row in emails] == [
        ("ana.silva@lisboa.example.pt", "registration_pending_to_registrant"),
        ("ben@example.org", "registration_pending_to_registrant"),
        ("ana.silva@lisboa.example.pt", "registration_approved_to_registrant"),
        ("ben@example.org", "registration_waiting_to_registrant"),
        ("ben@example.org", "registration_promoted_to_registrant"),
        ("ana.silva@lisboa.example.pt", "registration_declined_to_registrant"),
    ]
    pending, _, approval, waiting, promotion, decline = emails
    assert invite_of(pending) is None
    approval_invite = invite_of(approval)
    assert approval_invite is not None and str(approval_invite["METHOD"]) == "REQUEST"
    assert "Where: Amtshaus III, Zurich, CH" in text_of(approval)
    assert "Meet <us> at the main entrance at 08:50." in text_of(approval)
    assert "Meet &lt;us&gt; at the main entrance at 08:50." in html_of(approval)
    assert "accepted, but all places are taken" in text_of(waiting)
    decline_invite = invite_of(decline)
    assert decline_invite is not None and str(decline_invite["METHOD"]) == "CANCEL"
    assert [uid for uid, *_ in vevents(decline_invite)] == [
        uid for uid, *_ in vevents(approval_invite)]
    assert "We can host only one visitor per city." in text_of(decline)
    assert invite_of(promotion) is not None


async def test_deciding_twice_is_idempotent_and_a_cancelled_one_cannot_be_approved(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event = await make_event(db, settings, is_approval_required=True)
    ana = await register(client, event.slug)
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")
    await client.post(f"/api/registrations/{token_of(ben)}/cancel")
    listed = (await client.get(f"/api/organiser/events/{event.id}/registrations",
                               headers=organiser_headers)).json()
    ana_id, ben_id = [row["id"] for row in listed]
    await client.post(f"/api/organiser/registrations/{ana_id}/approve", headers=organiser_headers)
    before = len(await outbox(db_sessionmaker, settings))

    again = await client.post(f"/api/organiser/registrations/{ana_id}/approve",
                              headers=organiser_headers)
    cancelled = await client.post(f"/api/organiser/registrations/{ben_id}/approve",
                                  headers=organiser_headers)

    assert (again.status_code, again.json()["status"]) == (200, "confirmed")
    assert (cancelled.status_code, field_of(cancelled)) == (409, ["status"])
    assert len(await outbox(db_sessionmaker, settings)) == before
    assert ana.json()["status"] == "pending"


# --- organisers ---------------------------------------------------------------------------


async def test_organiser_routes_need_a_token_and_viewers_may_only_read(
    client: Client, db: AsyncSession, settings: Settings, viewer_headers: Headers,
) -> None:
    event = await make_event(db, settings, is_approval_required=True)
    await register(client, event.slug)
    listing = f"/api/organiser/events/{event.id}/registrations"

    anonymous = await client.get(listing)
    viewer_list = await client.get(listing, headers=viewer_headers)
    registration_id = viewer_list.json()[0]["id"]
    viewer_approve = await client.post(
        f"/api/organiser/registrations/{registration_id}/approve", headers=viewer_headers)
    anonymous_csv = await client.get(f"{listing}.csv")

    assert (anonymous.status_code, anonymous_csv.status_code) == (401, 401)
    assert (viewer_list.status_code, viewer_list.json()[0]["status"]) == (200, "pending")
    assert viewer_approve.status_code == 403
    assert viewer_approve.json()["detail"] == "This token may read but not change the programme."


async def test_organisers_filter_by_status_and_session(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: Headers,
) -> None:
    event = await make_event(db, settings, allows_session_choice=True, capacity=2)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    await register(client, event.slug, session_ids=[first.id])
    await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org",
                   session_ids=[second.id])
    await register(client, event.slug, name="Cleo Dubois", email_address="cleo@example.org")
    listing = f"/api/organiser/events/{event.id}/registrations"

    everyone = (await client.get(listing, headers=organiser_headers)).json()
    waiting = (await client.get(f"{listing}?status=waiting", headers=organiser_headers)).json()
    in_second = (await client.get(f"{listing}?session_id={second.id}",
                                  headers=organiser_headers)).json()
    unknown_session = await client.get(f"{listing}?session_id=999999", headers=organiser_headers)
    unknown_event = await client.get("/api/organiser/events/999999/registrations",
                                     headers=organiser_headers)

    assert [(r["name"], r["status"], r["waiting_position"]) for r in everyone] == [
        ("Ana Silva", "confirmed", None), ("Ben Okafor", "confirmed", None),
        ("Cleo Dubois", "waiting", 1)]
    assert [r["name"] for r in waiting] == ["Cleo Dubois"]
    assert [r["name"] for r in in_second] == ["Ben Okafor", "Cleo Dubois"]
    assert everyone[0]["email"] == "ana.silva@lisboa.example.pt"
    assert [(s["session_id"], s["status"]) for s in everyone[2]["sessions"]] == [
        (first.id, "waiting"), (second.id, "waiting")]
    assert (unknown_session.status_code, field_of(unknown_session)) == (404, ["session_id"])
    assert (unknown_event.status_code, field_of(unknown_event)) == (404, ["event_id"])


async def test_csv_export_opens_in_excel_and_neutralises_formulas(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: Headers,
) -> None:
    event = await make_event(db, settings)
    await register(client, event.slug, name="=HYPERLINK(\"http://evil\",\"x\")",
                   organisation_name="+Ørsted; Ålborg", job_title="-1+1",
                   email_address="eve@example.org")
    await register(client, event.slug, name="Zoë Müller", email_address="zoe@example.org",
                   organisation_name="@Stadt Zürich")

    response = await client.get(f"/api/organiser/events/{event.id}/registrations.csv",
                                headers=organiser_headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="registrations-event-{event.id}.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == [
        "id", "status", "waiting_position", "name", "email", "organisation", "organisation_kind",
        "country", "job_title", "access_note", "company", "sector", "offer_note", "whole_event",
        "confirmed_sessions", "waiting_sessions", "consent_at", "registered_at", "decided_at",
        "cancelled_at", "attendance", "checked_in_at", "checked_in_sessions"]
    eve, zoe = rows[1], rows[2]
    assert (eve[1], eve[3], eve[4], eve[5], eve[8]) == (
        "confirmed", "'=HYPERLINK(\"http://evil\",\"x\")", "eve@example.org",
        "'+Ørsted; Ålborg", "'-1+1")
    assert (zoe[3], zoe[5], zoe[13], zoe[14]) == (
        "Zoë Müller", "'@Stadt Zürich", "yes", f"{WINTER.title}; {SPRING.title}")
    assert b"\r\n" in response.content


async def test_organisers_see_each_registrations_email_history(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
    organiser_headers: Headers,
) -> None:
    event = await make_event(db, settings)
    token = token_of(await register(client, event.slug))
    await client.post(f"/api/registrations/{token}/cancel")
    registration_id = (await client.get(f"/api/organiser/events/{event.id}/registrations",
                                        headers=organiser_headers)).json()[0]["id"]
    history = f"/api/organiser/registrations/{registration_id}/emails"
    before_composing = (await client.get(history, headers=organiser_headers)).json()
    await compose_emails(db_sessionmaker, settings)

    assert [(e["template"], e["status"]) for e in before_composing] == [
        ("registration_confirmed_to_registrant", "composing"),
        ("registration_cancelled_to_registrant", "queued")]
    response = await client.get(f"/api/organiser/registrations/{registration_id}/emails",
                                headers=organiser_headers)
    unknown = await client.get("/api/organiser/registrations/999999/emails",
                               headers=organiser_headers)

    assert response.status_code == 200
    assert [(e["template"], e["subject"], e["status"], e["attempts"], e["last_error"],
             e["sent_at"], e["to_address"]) for e in response.json()] == [
        ("registration_confirmed_to_registrant",
         "Registration confirmed: Fair ICT procurement webinars", "queued", 0, None, None,
         "ana.silva@lisboa.example.pt"),
        ("registration_cancelled_to_registrant",
         "Registration cancelled: Fair ICT procurement webinars", "queued", 0, None, None,
         "ana.silva@lisboa.example.pt"),
    ]
    assert (unknown.status_code, field_of(unknown)) == (404, ["registration_id"])


# --- the private link --------------------------------------------------------------------


async def test_tokens_are_long_and_unknown_ones_reveal_nothing(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, settings)
    token = token_of(await register(client, event.slug))
    unknown = "A" * len(token)

    responses = [await client.get(f"/api/registrations/{unknown}"),
                 await client.get("/api/registrations/x"),
                 await client.post(f"/api/registrations/{unknown}/cancel"),
                 await client.get(f"/api/registrations/{unknown}/invite.ics"),
                 await client.put(f"/api/registrations/{unknown}/sessions",
                                  json={"session_ids": [1]})]

    assert len(token) >= 22 and set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) * 6 >= 128  # base64url: six bits a character
    assert [(r.status_code, r.json()) for r in responses] == [
        (404, {"status_code": 404, "detail": "This link is not valid.",
               "errors": [{"field": "token", "message": "This link is not valid."}]})] * 5


async def test_invite_download_is_a_plain_calendar_attachment_with_join_links(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, settings)
    token = token_of(await register(client, event.slug))

    response = await client.get(f"/api/registrations/{token}/invite.ics")

    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    calendar = icalendar.Calendar.from_ical(response.content)
    # Several sessions in one file: a calendar to import, not an iTIP message (no METHOD).
    assert "METHOD" not in calendar
    assert [str(e["CONFERENCE"]) for e in calendar.walk("VEVENT")] == [
        "https://meet.example.org/room-one", "https://meet.example.org/room-two"]
    assert [str(e["ATTENDEE"]) for e in calendar.walk("VEVENT")] == [
        "mailto:ana.silva@lisboa.example.pt"] * 2


async def test_public_event_output_never_carries_join_links_or_emails(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, settings)
    await register(client, event.slug)

    outputs = [await client.get(f"/api/events/{event.slug}"), await client.get("/api/events"),
               await register(client, event.slug, name="Ben Okafor",
                              email_address="ben@example.org")]

    assert [r.status_code for r in outputs] == [200, 200, 201]
    for response in outputs:
        assert "meet.example.org" not in response.text
        assert "@" not in response.text.replace("@events.test", "")


# --- registering in batches, and the first email composed afterwards ------------------------


def entry(name: str, address: str, **overrides: Any) -> registrations.RegistrationForm:
    return registrations.RegistrationForm(**{"name": name, "email": address, "consent": True,
                                             **overrides})


async def test_a_batch_is_decided_in_arrival_order_with_one_answer_each(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    full = await make_event(db, settings, capacity=2, sessions=(WINTER,))
    other = await make_event(db, settings, EventSpec(slug="visit", kind=EventKind.CITYMATCH,
                                                     sessions=(VISIT,)))
    async with session_scope(db_sessionmaker) as first:
        await registrations.register_participant(
            first, full.slug, entry("Cleo Early", "cleo@example.org"), now=utc_now(),
            settings=settings)

    async with session_scope(db_sessionmaker) as batch_db:
        results = await registrations.register_participants(batch_db, [
            (full.slug, entry("Ana Silva", "ana@example.org")),
            ("no-such-event", entry("Lost Larry", "larry@example.org")),
            (full.slug, entry("Ben Okafor", "ben@example.org")),
            (other.slug, entry("Ana Silva", "ana@example.org")),
            (full.slug, entry("Ana Silva", "ANA@example.org")),  # a double click
            (full.slug, entry("Cleo Early", "cleo@example.org")),  # registered before
            (full.slug, entry("No Consent", "nc@example.org", consent=False)),
            (full.slug, entry("Dan Late", "dan@example.org")),
        ], now=utc_now(), settings=settings)

    def summary(result: Any) -> tuple[object, ...]:
        if isinstance(result, DomainError):
            return (type(result).__name__, result.field)
        return (result.registration.email, str(result.registration.status), result.is_new,
                result.waiting_position, result.manage_token is not None)

    assert [summary(result) for result in results] == [
        ("ana@example.org", "confirmed", True, None, True),
        ("NotFoundError", "slug"),
        ("ben@example.org", "waiting", True, 1, True),
        ("ana@example.org", "confirmed", True, None, True),
        ("ana@example.org", "confirmed", False, None, False),
        ("cleo@example.org", "confirmed", False, None, False),
        ("InvalidInputError", "consent"),
        ("dan@example.org", "waiting", True, 2, True),
    ]
    async with db_sessionmaker() as check:
        stored = (await check.execute(
            select(Registration.event_id, Registration.email, Registration.status,
                   Registration.waiting_since).order_by(Registration.id))).all()
    assert [(event_id, email, str(status)) for event_id, email, status, _ in stored] == [
        (full.id, "cleo@example.org", "confirmed"), (full.id, "ana@example.org", "confirmed"),
        (full.id, "ben@example.org", "waiting"), (full.id, "dan@example.org", "waiting"),
        (other.id, "ana@example.org", "confirmed")]
    ben_since, dan_since = stored[2][3], stored[3][3]
    assert ben_since is not None and dan_since is not None and ben_since < dan_since
    templates = [row.template for row in await outbox(db_sessionmaker, settings)]
    assert templates == ["registration_confirmed_to_registrant",
                         "registration_confirmed_to_registrant",
                         "registration_waiting_to_registrant",
                         "registration_waiting_to_registrant",
                         "registration_confirmed_to_registrant"]


async def test_the_first_email_says_what_was_decided_even_if_things_moved_on(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    """Composed after the commit, from the details recorded with the registration: someone
    promoted before their waiting-list email was composed still gets it, then the promotion."""
    event = await make_event(db, settings, capacity=1, sessions=(WINTER,))
    ana = await register(client, event.slug)
    ben = await register(client, event.slug, name="Ben Okafor", email_address="ben@example.org")
    await client.post(f"/api/registrations/{token_of(ana)}/cancel")
    async with db_sessionmaker() as peek:
        waiting_row = await peek.scalar(select(OutboxEmail).where(
            OutboxEmail.template == "registration_waiting_to_registrant"))
    assert waiting_row is not None and waiting_row.status == "composing"
    assert waiting_row.raw_message is None and waiting_row.details is not None

    emails = await outbox(db_sessionmaker, settings)

    assert ben.json()["waiting_position"] == 1
    assert [(row.to_address, row.template, str(row.status)) for row in emails] == [
        ("ana.silva@lisboa.example.pt", "registration_confirmed_to_registrant", "queued"),
        ("ben@example.org", "registration_waiting_to_registrant", "queued"),
        ("ben@example.org", "registration_promoted_to_registrant", "queued"),
        ("ana.silva@lisboa.example.pt", "registration_cancelled_to_registrant", "queued")]
    waiting_email, promotion = emails[1], emails[2]
    assert "waiting list" in text_of(waiting_email) and invite_of(waiting_email) is None
    assert "1" in text_of(waiting_email)
    assert invite_of(promotion) is not None
    # Message-IDs were given when the emails were recorded, and kept when composed.
    assert len({row.message_id for row in emails}) == 4
    assert await compose_emails(db_sessionmaker, settings) == 0  # composed once, not again
