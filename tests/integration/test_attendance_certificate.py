"""A registrant's certificate of attendance, through real HTTP: before they have been checked
in (or before the session is over) there is none, said plainly; once day 1 of a two-day
seminar is over and they were checked in there, their private page links to it, and it
names them (escaped), their organisation, the event and day 1 only (its time in the
event's zone, its venue, the total time), in the reader's language. Both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, Enrolment, EnrolmentStatus, EventKind
from service.domain import registration
from service.domain.access import current_access_token
from service.settings import Settings
from tests.conftest import TEST_BASE_URL
from tests.factories import BUILT_AT, EventSpec, make_event, make_registration
from tests.integration.test_pages import parse
from tests.integration.test_registration_on_behalf import DAY_1, DAY_2

DURING_DAY_1 = datetime(2035, 5, 14, 10, 0, tzinfo=UTC)
AFTER_DAY_1 = datetime(2035, 5, 14, 18, 0, tzinfo=UTC)


async def test_a_certificate_names_the_sessions_they_came_to_once_over(
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, sessions=(DAY_1, DAY_2),
        commit=False, extra={"venue_name": "Stadhuis", "venue_city": "Haarlem"}))
    day_1, day_2 = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, day_1, "Ana <i>Silva</i>",
                                  organisation="City of Lisbon")
    db.add(Enrolment(registration_id=ana.id, session_id=day_2.id, status=EnrolmentStatus.CONFIRMED,
                     created_at=BUILT_AT, updated_at=BUILT_AT))
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=BUILT_AT,
                                       registration_id=ana.id)
    await db.commit()
    url = f"/registrations/{token}/certificate"

    not_yet = await client.get(url)
    await registration.check_in(db, event, ana.id, session_id=day_1.id, present=True,
                                now=DURING_DAY_1)
    await db.commit()
    with time_machine.travel(DURING_DAY_1, tick=False):
        during = await client.get(url)
    with time_machine.travel(AFTER_DAY_1, tick=False):
        private_page = await client.get(f"/registrations/{token}")
        certificate = await client.get(url)
        in_french = await client.get(url, params={"lang": "fr"})
    elsewhere = await client.get("/registrations/not-a-token/certificate")

    assert (not_yet.status_code, during.status_code) == (404, 404)
    assert "No certificate yet" in not_yet.text
    assert url in [a.attrs.get("href") for a in parse(private_page.text).find_all("a")]
    assert certificate.status_code == 200
    page = parse(certificate.text).one("article", cls="certificate")
    assert page.one("p", cls="certificate-name").text == "Ana <i>Silva</i>"
    assert "Ana &lt;i&gt;Silva&lt;/i&gt;" in certificate.text
    assert page.one("p", cls="certificate-organisation").text == "City of Lisbon"
    assert page.one("p", cls="certificate-event").text == "Seminar"
    rows = page.one("tbody").find_all("tr")
    assert [[c.text for c in row.children if not isinstance(c, str)] for row in rows] == [[
        "Day 1", "Monday 14 May 2035, 09:00–17:00 CEST (Europe/Brussels)", "Stadhuis, Haarlem"]]
    assert page.one("caption").text == "Sessions attended: 8 hours in all."
    assert "Issued on Monday 14 May 2035 by" in page.text
    french = parse(in_french.text).one("article", cls="certificate")
    assert french.one("h1").text == "Attestation de présence"
    assert elsewhere.status_code == 404


async def test_whoever_is_shown_a_certificate_checks_it_through_the_link_printed_on_it(
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    """The certificate prints a link of its own; opened by anyone, it shows the certificate
    as the records say it (no way to the holder's private page), marked as genuine; a
    mistyped link is a 404; once the registration is erased, its link no longer works."""
    event = await make_event(db, settings, EventSpec(
        slug="seminar", title="Seminar", kind=EventKind.SEMINAR, sessions=(DAY_1, DAY_2),
        commit=False, extra={"venue_name": "Stadhuis", "venue_city": "Haarlem"}))
    day_1 = sorted(event.sessions, key=lambda s: s.starts_at)[0]
    ana = await make_registration(db, event, day_1, "Ana Silva", organisation="City of Lisbon")
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=BUILT_AT,
                                       registration_id=ana.id)
    await registration.check_in(db, event, ana.id, session_id=day_1.id, present=True,
                                now=DURING_DAY_1)
    await db.commit()

    with time_machine.travel(AFTER_DAY_1, tick=False):
        certificate = await client.get(f"/registrations/{token}/certificate")
        check_url = parse(certificate.text).one("span", cls="certificate-check-url").text
        checked = await client.get(check_url.removeprefix(TEST_BASE_URL))
        again = await client.get(f"/registrations/{token}/certificate")
        mistyped = await client.get(check_url.removeprefix(TEST_BASE_URL)[:-2] + "xx")
        erased = await client.delete(f"/api/registrations/{token}", params={"confirm": "erase"})
        after_erasure = await client.get(check_url.removeprefix(TEST_BASE_URL))

    assert check_url.startswith(f"{TEST_BASE_URL}/certificates/")
    assert check_url in again.text  # the same link each time it is printed
    assert checked.status_code == 200
    page = parse(checked.text)
    assert page.one("p", cls="certificate-checked").text.startswith("This certificate is genuine")
    assert page.one("p", cls="certificate-name").text == "Ana Silva"
    assert [row.one("th").text for row in page.one("tbody").find_all("tr")] == ["Day 1"]
    assert token not in checked.text and "/registrations/" not in checked.text
    assert 'name="robots" content="noindex"' in checked.text
    assert mistyped.status_code == 404 and "No such certificate" in mistyped.text
    assert erased.status_code == 200
    assert after_erasure.status_code == 404
