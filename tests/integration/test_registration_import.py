"""An organiser imports registrations from a spreadsheet, through real HTTP: a file saved by
Excel in Windows-1252 with semicolons is checked and every problem named by line and column
at once (an unreadable address, one twice in the file, one registered already, a country
and a language not known), nothing stored; then the registrations exported from another
event import as they are: the page lists the people first, nothing stored until "Import";
then each is registered as on their behalf, the places applying (one place left: one has it,
two wait), each with the usual first email, each in the audit log. A viewer is refused, a
draft says to publish first, a missing file and consent are named. Both databases.
"""

from __future__ import annotations

import base64

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import AuditEntry, OutboxEmail, Registration, RegistrationStatus
from service.settings import Settings
from tests.factories import MEET_YOUR_BUYER, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

REFUSED = (
    "Full name;E-mail address;Organization;Country;Language\r\n"
    "Anna Müller;anna.mueller@zurich.example.ch;Stadt Zürich;CH;de\r\n"
    "Bad Address;anna.keller@;City of Zurich;CH;\r\n"
    "Anna Again;ANNA.MUELLER@zurich.example.ch;Stadt Zürich;CH;de\r\n"
    "Bruno Costa;bruno.costa@lisboa.example.pt;Lisboa;PT;\r\n"
    "Carla Canal;carla@bcn.example.es;Ajuntament;XX;pt\r\n"
).encode("cp1252")


def _problems(html: str) -> list[tuple[str, str]]:
    """The problems table: (line, column) of each row."""
    table = parse(html).one("table", aria_labelledby="problems-heading")
    return [tuple(cell.text for cell in row.find_all("td")[:2])  # type: ignore[misc]
            for row in table.find_all("tbody")[0].find_all("tr")]


async def _count(db: AsyncSession, event_id: int) -> int:
    await db.rollback()  # see what the app committed
    return await db.scalar(select(func.count()).select_from(Registration)
                           .where(Registration.event_id == event_id)) or 0


async def test_an_organiser_imports_registrations_from_a_spreadsheet(
    organiser_client: SignedInClient, viewer_client: SignedInClient, db: AsyncSession,
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(capacity=2, commit=False))
    await make_registration(db, event, None, "Bruno Costa",
                            email_address="bruno.costa@lisboa.example.pt")
    other = await make_event(db, settings, EventSpec(slug="last-year", title="Last year"))
    for name in ("Elin Seveholt", "Rudie de Vries", "Kathleen McCaughey"):
        await make_registration(db, other, None, name,
                                email_address=f"{name.split()[0].lower()}@city.example.org")
    await db.commit()
    event_id, other_id = event.id, other.id
    url = f"/organiser/events/{event_id}/registrations/import"

    page = await organiser_client.get(url)
    as_viewer = await viewer_client.post_form(url, {"step": "check", "consent": "yes"},
                                              files={"file": ("people.csv", REFUSED)})
    nothing = await organiser_client.post_form(url, {"step": "check"})
    refused = await organiser_client.post_form(url, {"step": "check", "consent": "yes"},
                                               files={"file": ("people.csv", REFUSED)})
    after_refusal = await _count(db, event_id)
    exported = await organiser_client.get(f"/organiser/events/{other_id}/registrations.csv")
    checked = await organiser_client.post_form(
        url, {"step": "check", "consent": "yes"},
        files={"file": ("registrations.csv", exported.content)})
    after_check = await _count(db, event_id)
    hidden = next(i for i in parse(checked.text).find_all("input", type="hidden")
                  if i.attrs["name"] == "checked")
    tampered = await organiser_client.post_form(url, {
        "step": "import", "consent": "yes", "checked": "not base64!"})
    imported = await organiser_client.post_form(url, {
        "step": "import", "consent": "yes", "checked": hidden.attrs["value"]})
    told = await organiser_client.get(imported.headers["location"])
    again = await organiser_client.post_form(url, {
        "step": "import", "consent": "yes", "checked": hidden.attrs["value"]})

    assert page.status_code == 200
    assert parse(page.text).one("input", type="file").attrs["name"] == "file"
    assert as_viewer.status_code == 403
    assert nothing.status_code == 422
    assert [a.attrs["href"] for a in parse(nothing.text).one(cls="error-summary")
            .find_all("a")] == ["#file", "#consent"]
    assert refused.status_code == 422
    assert "The file has 5 problems" in refused.text
    assert _problems(refused.text) == [("3", "email"), ("4", "email"), ("5", "email"),
                                       ("6", "language"), ("6", "country")]
    assert "This address is on line 2 already." in refused.text
    assert "This address is registered for this event already." in refused.text
    assert after_refusal == 1

    assert checked.status_code == 200, checked.text
    listed = parse(checked.text).find_all("tbody")[0].find_all("tr")
    assert [row.find_all("td")[1].text for row in listed] == [
        "Elin Seveholt", "Rudie de Vries", "Kathleen McCaughey"]
    assert base64.b64decode(hidden.attrs["value"]) == exported.content
    assert after_check == 1
    assert tampered.status_code == 422 and 'id="file-error"' in tampered.text
    assert imported.status_code == 303
    assert imported.headers["location"].endswith("/registrations/import?confirmed=1&waiting=2")
    assert "1 person is registered with a place." in told.text
    assert "2 people are on the waiting list." in told.text
    # Imported twice: each address is registered already, nothing more stored.
    assert again.status_code == 422 and "The file has 3 problems" in again.text

    await db.rollback()  # the pool's one SQLite connection, for the fresh session
    async with db_sessionmaker() as fresh:
        rows = (await fresh.execute(
            select(Registration.name, Registration.status, Registration.language,
                   Registration.consent_at.is_not(None))
            .where(Registration.event_id == event_id).order_by(Registration.id))).all()
        emails = list(await fresh.scalars(
            select(OutboxEmail.template).join(Registration,
                                              Registration.id == OutboxEmail.registration_id)
            .where(Registration.event_id == event_id, Registration.name != "Bruno Costa")
            .order_by(OutboxEmail.id)))
        audited = await fresh.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.subject_type == "registration", AuditEntry.action == "created",
            AuditEntry.event_id == event_id))
    assert [tuple(row) for row in rows] == [
        ("Bruno Costa", RegistrationStatus.CONFIRMED, "en", True),
        ("Elin Seveholt", RegistrationStatus.CONFIRMED, "en", True),
        ("Rudie de Vries", RegistrationStatus.WAITING, "en", True),
        ("Kathleen McCaughey", RegistrationStatus.WAITING, "en", True)]
    assert emails == ["registration_confirmed_to_registrant",
                      "registration_waiting_to_registrant",
                      "registration_waiting_to_registrant"]
    assert audited == 3


async def test_a_draft_is_published_before_anyone_is_imported(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(publish=False))

    page = await organiser_client.get(f"/organiser/events/{event.id}/registrations/import")

    assert page.status_code == 200
    assert "This event is a draft: publish it first" in page.text
    assert 'type="file"' not in page.text


async def test_the_file_to_start_from_has_this_events_columns_and_imports_as_it_is(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    webinars = await make_event(db, settings, EventSpec())
    dialogue = await make_event(db, settings, MEET_YOUR_BUYER)
    await db.commit()

    checked = []
    headers = []
    for event_id in (webinars.id, dialogue.id):
        url = f"/organiser/events/{event_id}/registrations/import"
        example = await organiser_client.get(f"{url}/example.csv")
        assert example.status_code == 200
        assert example.headers["content-type"].startswith("text/csv")
        headers.append(example.content.decode("utf-8-sig").splitlines()[0])
        checked.append(await organiser_client.post_form(
            url, {"step": "check", "consent": "yes"},
            files={"file": ("example.csv", example.content)}))

    assert headers == [
        "name,email,organisation,organisation_kind,country,job_title,language",
        "name,email,organisation,organisation_kind,country,job_title,language,company,sector,"
        "offer_note,access_note"]
    for answer in checked:
        assert answer.status_code == 200, answer.text
        assert "The file is ready: 1 person to register" in answer.text
