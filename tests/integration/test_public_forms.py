"""The public forms and pages over real HTTP (issue 11): every error at once and focus on it,
the Register button first, the private link sent again, registrants changing their details,
times labelled with the event's own zone, the Meet-your-Buyer and hybrid questions, and
"change your sessions" offered only where there is a choice.

The demo programme is loaded as of 1 October 2020 and the clock stands still on 20 October
2020, as in test_pages.py (whose page reader and fixtures are used here).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    Attendance,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Registration,
    Reminder,
    ReminderStatus,
)
from service.domain import registration, reminders
from service.domain.errors import InvalidInputError
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from service.settings import Settings
from tests.integration.mail_readers import parse as parse_mail
from tests.integration.mail_readers import text_of
from tests.integration.test_pages import (
    CITYMATCH,
    MEET_YOUR_BUYER,
    NOW,
    SEMINAR,
    SERIES,
    Client,
    Element,
    count_registrations,
    event_id,
    field_error,
    form,
    h1,
    parse,
    post_registration,
    register_directly,
)

Sessionmaker = async_sessionmaker[AsyncSession]
ANNA = "anna.keller@zurich.example.ch"

pytestmark = [pytest.mark.usefixtures("frozen_clock", "demo"), pytest.mark.one_database]


async def outbox(db: AsyncSession, template: str) -> list[OutboxEmail]:
    await db.rollback()  # see what the app committed
    return list(await db.scalars(
        select(OutboxEmail).where(OutboxEmail.template == template).order_by(OutboxEmail.id)))


def summary_links(page: Element) -> list[tuple[str, str]]:
    summary = page.one("div", cls="error-summary")
    return [(a.attrs["href"], a.text) for a in summary.find_all("a")]


# --- 20. every error at once, beside its field, saying what to change ----------------------


async def test_every_error_of_the_form_is_reported_at_once(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(
        client, SERIES, form(name="", email="anna.keller@", consent="", session_ids=[]))

    assert status == 422
    assert summary_links(page) == [
        ("#name", "Enter your name."),
        ("#email", "Give a whole email address, e.g. name@example.org."),
        (f"#{page.find_all('input', name='session_ids')[0].attrs['id']}",
         "Choose at least one session."),
        ("#consent", "Tick the box to agree that we use your details for this event."),
    ]
    assert (field_error(page, "name"), field_error(page, "email")) == (
        "Error: Enter your name.", "Error: Give a whole email address, e.g. name@example.org.")
    assert await count_registrations(db) == 0


async def test_a_supplier_hears_of_the_address_sector_and_offer_together(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(client, MEET_YOUR_BUYER, form(
        email="anna.keller@", organisation_kind="supplier", organisation_name=""))

    assert status == 422
    assert summary_links(page) == [
        ("#email", "Give a whole email address, e.g. name@example.org."),
        ("#organisation_name", "Enter the name of your company."),
        ("#sector", "Enter your sector, for example ICT hardware."),
        ("#offer_note", "Describe in a few sentences what your company can offer the buyers."),
    ]
    assert await count_registrations(db) == 0


async def test_the_api_reports_every_error_in_one_answer(client: Client, db: AsyncSession) -> None:
    response = await client.post(
        "/api/events/meet-your-buyer-haarlem-fair-circular-ict/registrations",
        json={"name": "Anna Keller", "email": "anna..keller@example.org", "consent": False,
              "organisation_kind": "supplier", "organisation_name": "Fairtech BV"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "email", "message": "The part before @ may only have letters, digits and "
                                      ". _ - + (no spaces, commas or angle brackets), and no "
                                      "dot at its start or end."},
        {"field": "consent", "message": "Agree that we use your details for this event: we "
                                        "cannot register you without it."},
        {"field": "sector", "message": "Enter your sector, for example ICT hardware."},
        {"field": "offer_note", "message": "Describe in a few sentences what your company can "
                                           "offer the buyers."},
    ]
    assert await count_registrations(db) == 0


# --- 21. focus on the error summary; Register before the calendar links ---------------------


async def test_the_error_summary_comes_first_and_takes_the_focus(client: Client) -> None:
    _, page = await post_registration(client, SERIES, form(name=""))

    main = page.one("main").one("div", cls="wrap")
    first = next(child for child in main.children if isinstance(child, Element))
    assert (first.attrs["id"], first.attrs["tabindex"], "autofocus" in first.attrs) == (
        "error-summary", "-1", True)
    assert page.one("title").text.startswith("Error: ")
    assert summary_links(page) == [("#name", "Enter your name.")]
    assert page.one("input", name="name").attrs["aria-invalid"] == "true"


def _tab_stops(page: Element) -> list[Element]:
    """Links and controls of the main content, in the order Tab reaches them."""
    return [e for e in page.one("main").iter()
            if (e.tag == "a" and "href" in e.attrs) or e.tag in {"button", "input", "select"}]


async def test_the_register_button_is_the_first_tab_stop_after_the_events_details(
    client: Client,
) -> None:
    page = parse((await client.get(SERIES)).text)

    stops = [e.attrs.get("href", "") for e in _tab_stops(page)]
    breadcrumbs = [a.attrs["href"] for a in page.one("nav", cls="breadcrumbs").find_all("a")]
    assert stops[len(breadcrumbs)] == f"{SERIES}/register"
    first_calendar_link = next(i for i, href in enumerate(stops) if href.startswith("/feeds/"))
    assert stops.index(f"{SERIES}/register") < first_calendar_link


# --- 22. sending the private link again ----------------------------------------------------


async def _send_link(client: Client, slug_path: str, address: str) -> tuple[int, Element]:
    token = parse((await client.get(f"{slug_path}/link")).text).one(
        "input", name="csrf_token").attrs["value"]
    response = await client.post(f"{slug_path}/link",
                                 data={"csrf_token": token, "email": address})
    return response.status_code, parse(response.text)


async def test_already_registered_can_have_the_link_sent_again_to_the_address_only(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    first = await register_directly(db, settings, email=ANNA)
    _, already = await post_registration(client, SERIES, form(email=ANNA.upper()))
    send = already.one("form", action=f"{SERIES}/link")
    data = {e.attrs["name"]: e.attrs["value"] for e in send.find_all("input")}

    response = await client.post(f"{SERIES}/link", data=data)

    assert h1(already) == "You are already registered"
    assert data["email"] == ANNA.upper()
    assert response.status_code == 200
    assert parse(response.text).one("div", id="link-sent").find_all("p")[0].text == (
        f"If {ANNA.upper()} is registered for this event, we have sent the link to your "
        "registration to that address. It can take a few minutes to arrive; look in your spam "
        "folder too.")
    [sent] = await outbox(db, "registration_link_to_registrant")
    message = parse_mail(sent.raw_message or b"")
    assert (sent.to_address, sent.status, message["Subject"]) == (
        ANNA, OutboxStatus.QUEUED,
        "Your registration link: Procura+ webinar series on socially responsible ICT "
        "procurement")
    assert f"Your registration: http://events.test/registrations/{first.manage_token}" in \
        text_of(message)


async def test_the_answer_is_the_same_whether_or_not_the_address_is_registered(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await register_directly(db, settings, email=ANNA)

    registered = await _send_link(client, SERIES, ANNA)
    unknown = await _send_link(client, SERIES, "nobody@zurich.example.ch")

    def answer(result: tuple[int, Element], address: str) -> tuple[int, str]:
        return result[0], result[1].one("div", id="link-sent").text.replace(address, "ADDRESS")

    assert answer(registered, ANNA) == answer(unknown, "nobody@zurich.example.ch")
    assert [row.to_address for row in await outbox(db, "registration_link_to_registrant")] == [
        ANNA]


async def test_the_link_is_sent_again_at_most_once_in_ten_minutes_and_asking_is_limited(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await register_directly(db, settings, email=ANNA)

    answers = [await _send_link(client, SERIES, ANNA) for _ in range(5)]
    limited = await client.post(f"{SERIES}/link", data={"email": ANNA})
    later = await registration.send_registration_link(
        db, MAKE_ICT_FAIR_SLUG, ANNA, now=NOW + timedelta(minutes=11), settings=settings)

    assert [status for status, _ in answers] == [200] * 5
    assert len({page.one("div", id="link-sent").text for _, page in answers}) == 1
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "600")
    assert later is True
    await db.commit()
    assert len(await outbox(db, "registration_link_to_registrant")) == 2


async def test_the_api_sends_the_link_again_with_the_same_answer_for_any_address(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await register_directly(db, settings, email=ANNA)
    path = f"/api/events/{MAKE_ICT_FAIR_SLUG}/registrations/link"

    known = await client.post(path, json={"email": ANNA})
    unknown = await client.post(path, json={"email": "nobody@zurich.example.ch"})

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (
        202, {"detail": "If this address is registered for this event, its private link is "
                        "on its way to it."})
    assert [row.to_address for row in await outbox(db, "registration_link_to_registrant")] == [
        ANNA]


# --- 23. registrants change their own details ------------------------------------------------


async def _details_form(client: Client, token: str) -> tuple[str, dict[str, str]]:
    page = parse((await client.get(f"/registrations/{token}")).text)
    details = page.one("form", action=f"/registrations/{token}/details")
    values = {e.attrs["name"]: e.attrs.get("value", "") for e in details.find_all("input")
              if e.attrs.get("type") != "radio"}
    return values.pop("csrf_token"), values


async def test_a_registrant_changes_their_details_on_their_private_page(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, email=ANNA, organisation_name="Stadt Zürich")
    token, values = await _details_form(client, str(outcome.manage_token))

    response = await client.post(
        f"/registrations/{outcome.manage_token}/details",
        data={**values, "csrf_token": token, "name": "Anna Keller",
              "job_title": "Head of procurement"}, follow_redirects=False)
    after = parse((await client.get(response.headers["location"])).text)

    assert values == {"name": "Ana Novak", "organisation_name": "Stadt Zürich", "job_title": ""}
    assert (response.status_code, response.headers["location"]) == (
        303, f"/registrations/{outcome.manage_token}?done=details")
    assert after.one("div", role="status").text == "Your details are saved."
    details = after.one("dl", cls="details")
    assert [(dt.text, dd.text) for dt, dd in zip(details.find_all("dt"), details.find_all("dd"),
                                                 strict=True)] == [
        ("Name", "Anna Keller"), ("Email", ANNA), ("Organisation", "Stadt Zürich"),
        ("Job title", "Head of procurement")]


async def test_invalid_details_are_all_reported_and_nothing_changes(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, email=ANNA)
    token, values = await _details_form(client, str(outcome.manage_token))

    response = await client.post(
        f"/registrations/{outcome.manage_token}/details",
        data={**values, "csrf_token": token, "name": "", "job_title": "Buyer\x07"})
    api = await client.patch(f"/api/registrations/{outcome.manage_token}",
                             json={"name": "  ", "sector": "ICT hardware"})

    page = parse(response.text)
    assert response.status_code == 422
    assert summary_links(page) == [
        ("#name", "Enter your name."),
        ("#job_title", "Must be a single line without control characters.")]
    assert (api.status_code, [(e["field"], e["message"]) for e in api.json()["errors"]]) == (
        422, [("name", "Enter your name."),
              ("sector", "Leave this empty: it is only asked for Meet-your-Buyer dialogues.")])
    await db.rollback()
    assert await db.scalar(select(Registration.name)) == "Ana Novak"


async def test_the_api_changes_details_and_a_prepared_reminder_is_composed_again(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, email=ANNA)
    # The 1-day reminder of the first webinar (9 November 2020, 09:00 UTC), composed ahead.
    ahead = datetime(2020, 11, 8, 8, 45, tzinfo=UTC)
    await reminders.prepare_reminders(db, now=ahead, settings=settings)
    await db.commit()
    [before] = await outbox(db, "reminder_to_registrant")

    response = await client.patch(f"/api/registrations/{outcome.manage_token}",
                                  json={"name": "Anna Keller", "job_title": None})
    await db.rollback()
    prepared_again = await reminders.prepare_reminders(
        db, now=ahead + timedelta(minutes=5), settings=settings)
    await db.commit()

    assert (response.status_code, response.json()["name"], response.json()["job_title"]) == (
        200, "Anna Keller", None)
    withdrawn, composed = await outbox(db, "reminder_to_registrant")
    assert (withdrawn.id, withdrawn.status, withdrawn.last_error) == (
        before.id, OutboxStatus.WITHDRAWN,
        "reminder composed again: the registrant changed their name")
    assert prepared_again.sent == 1
    assert text_of(parse_mail(composed.raw_message or b"")).startswith("Dear Anna Keller,")
    assert "Dear Ana Novak," in text_of(parse_mail(before.raw_message or b""))
    statuses = set(await db.scalars(select(Reminder.status)))
    assert ReminderStatus.SENT in statuses


async def test_changing_details_of_a_cancelled_registration_is_refused(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, email=ANNA)
    await client.post(f"/api/registrations/{outcome.manage_token}/cancel")

    response = await client.patch(f"/api/registrations/{outcome.manage_token}",
                                  json={"name": "Anna Keller"})

    assert (response.status_code, [e["field"] for e in response.json()["errors"]]) == (
        409, ["status"])


# --- 24. times labelled with the event's own zone --------------------------------------------


async def test_the_zurich_visit_is_labelled_in_zurich_time_everywhere(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    page = parse((await client.get(CITYMATCH)).text)
    status, _ = await post_registration(client, CITYMATCH, form(email=ANNA))
    async with db_sessionmaker() as composing:
        await registration.compose_welcome_emails(composing, now=NOW, settings=settings)
        await composing.commit()

    facts = page.one("dl", cls="facts-list")
    assert facts.find_all("dd")[1].text == "Zurich time (CET)"
    assert page.one("section", aria_labelledby="agenda").find_all("p")[0].text == \
        "Times are in Zurich time (CET), as the organisers publish them."
    assert "Brussels" not in page.text
    [received] = await outbox(db, "registration_pending_to_registrant")
    text = text_of(parse_mail(received.raw_message or b""))
    assert "  Thursday 18 March 2027, 09:00–17:00 CET (Zurich time, Europe/Zurich)" in \
        text.splitlines()
    assert "Brussels" not in text
    assert status == 200


# --- 25. Meet-your-Buyer roles asked once; in person or online --------------------------------


async def test_a_public_buyer_registers_for_a_dialogue_without_supplier_fields(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(client, MEET_YOUR_BUYER, form(
        organisation_kind="public_authority", organisation_name="Gemeente Utrecht"))

    assert (status, h1(page)) == (200, "You are registered")
    await db.rollback()
    row = (await db.execute(select(Registration.organisation_kind, Registration.company,
                                   Registration.sector, Registration.offer_note))).one()
    assert tuple(row) == (OrganisationKind.PUBLIC_AUTHORITY, None, None, None)


async def test_a_suppliers_organisation_is_their_company_asked_once(
    client: Client, db: AsyncSession
) -> None:
    register_page = parse((await client.get(f"{MEET_YOUR_BUYER}/register")).text)
    status, _ = await post_registration(client, MEET_YOUR_BUYER, form(
        organisation_kind="supplier", organisation_name="Fairtech BV", sector="ICT hardware",
        offer_note="Refurbished laptops"))

    labels = [label.text for label in register_page.find_all("label")]
    assert "Company" not in labels
    assert [e.attrs.get("required") for e in register_page.find_all("input", name="sector")] == [
        None]
    assert status == 200
    await db.rollback()
    row = (await db.execute(select(Registration.organisation_name, Registration.company,
                                   Registration.sector))).one()
    assert tuple(row) == ("Fairtech BV", "Fairtech BV", "ICT hardware")


async def test_a_hybrid_registrant_chooses_online_and_organisers_see_it(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: dict[str, str]
) -> None:
    page = parse((await client.get(f"{SEMINAR}/register")).text)
    status, _ = await post_registration(client, SEMINAR, form(email=ANNA, attendance="online"))
    await db.rollback()
    token = await db.scalar(select(Registration.id))
    assert token is not None
    seminar = await event_id(db, "procura-plus-seminar-2027")

    listed = (await client.get(f"/api/organiser/events/{seminar}/registrations",
                               headers=organiser_headers)).json()
    exported = (await client.get(f"/api/organiser/events/{seminar}/registrations.csv",
                                 headers=organiser_headers)).content.decode("utf-8-sig")

    assert [(e.attrs["value"], e.attrs["id"]) for e in page.find_all("input", type="radio")] == [
        ("in_person", "attendance"), ("online", "attendance-online")]
    assert status == 200
    assert await db.scalar(select(Registration.attendance)) == Attendance.ONLINE
    assert [row["attendance"] for row in listed] == ["online"]
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(row["email"], row["attendance"]) for row in rows] == [(ANNA, "online")]


async def test_the_private_page_shows_and_changes_how_one_takes_part(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, "procura-plus-seminar-2027", email=ANNA,
                                      attendance=Attendance.IN_PERSON)
    path = f"/registrations/{outcome.manage_token}"
    token, values = await _details_form(client, str(outcome.manage_token))

    await client.post(f"{path}/details", data={**values, "csrf_token": token,
                                               "attendance": "online"})
    page = parse((await client.get(path)).text)

    details = page.one("dl", cls="details")
    assert dict(zip([dt.text for dt in details.find_all("dt")],
                    [dd.text for dd in details.find_all("dd")], strict=True))[
        "How you take part"] == "Online"
    assert "checked" in page.one("input", id="attendance-online").attrs


async def test_attendance_is_only_asked_where_the_event_is_hybrid(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await register_directly(db, settings, email=ANNA, attendance=Attendance.ONLINE)

    webinar_form = parse((await client.get(f"{SERIES}/register")).text)
    assert webinar_form.find_all("input", name="attendance") == []
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("attendance", "Leave this out: this event is not held both in person and online.")]


# --- 26. "change your sessions" only where there is a choice -----------------------------------


async def test_a_one_session_visit_never_offers_to_change_sessions(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    status, page = await post_registration(client, CITYMATCH, form(email=ANNA))
    async with db_sessionmaker() as composing:
        await registration.compose_welcome_emails(composing, now=NOW, settings=settings)
        await composing.commit()
    await db.rollback()
    outcome_token = await registration.registrant_links(
        db, await registration.get_registration(db, await db.scalar(select(Registration.id)) or 0),
        now=NOW, settings=settings)
    await db.commit()
    manage = parse((await client.get(outcome_token.manage_url.removeprefix(
        "http://events.test"))).text)

    [received] = await outbox(db, "registration_pending_to_registrant")
    text = text_of(parse_mail(received.raw_message or b""))
    assert "Open it to see your registration, change your details or cancel." in text
    assert "session" not in text.split("Your registration:")[1].split("Your personal")[0]
    assert (status, h1(page)) == (200, "Application received")
    assert "sessions" not in page.one("div", id="next-steps").text
    assert manage.find_all("h2", id="change-sessions") == []


async def test_a_series_with_a_choice_still_offers_to_change_sessions(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings
) -> None:
    from service.domain import programme

    await programme.update_event(db, await event_id(db, MAKE_ICT_FAIR_SLUG),
                                 programme.EventUpdate(allows_session_choice=True), now=NOW,
                                 settings=settings)
    await db.commit()
    status, page = await post_registration(client, SERIES, form(email=ANNA))
    async with db_sessionmaker() as composing:
        await registration.compose_welcome_emails(composing, now=NOW, settings=settings)
        await composing.commit()

    [received] = await outbox(db, "registration_confirmed_to_registrant")
    assert "change your details or your sessions, or cancel." in \
        text_of(parse_mail(received.raw_message or b""))
    assert page.one("div", id="next-steps").find_all("li")[1].text == (
        "The email has your private link to see your registration, change your details or "
        "your sessions, or cancel.")
    assert status == 200
