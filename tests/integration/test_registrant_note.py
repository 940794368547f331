"""What registrants need to know, through real HTTP and the jobs: an organiser writes the
event's note ("Bring your ID, entrance B") and its German translation through the API (a
note too long is refused naming `registrant_note`, nothing stored); Anna, reading German,
finds the German note in her confirmation and her reminder, Brigitte, reading French, the
note as written (marked English in the HTML), both escaped; each finds it on their private
page and in the private API; the public page and the public API never show it; a copy of
the event keeps it. Both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling.jobs import JobContext, job_compose_welcome_emails, job_prepare_reminders
from service.db.models import Event, Registration
from service.settings import Settings
from tests.factories import make_event, registration_form
from tests.integration.test_feedback import _tokens
from tests.integration.test_languages_of_people import (
    NoMail,
    emails,
    html_of,
    text_of,
)

NOTE = "Bring <your ID> & come by 9:45.\nUse entrance B: https://example.org/map?door=b&floor=1."
LINK = ('<a href="https://example.org/map?door=b&amp;floor=1" rel="noopener">'
        'https://example.org/map?door=b&amp;floor=1</a>.')
GERMAN = "Bringen Sie Ihren <Ausweis> mit.\nEingang B."


async def test_registrants_read_what_they_need_to_know_and_the_public_never_does(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str], db: AsyncSession,
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    event = await make_event(db, settings)
    await db.commit()
    event_id, slug = event.id, event.slug
    api = f"/api/organiser/events/{event_id}"

    too_long = await client.patch(api, headers=organiser_headers,
                                  json={"registrant_note": "x" * 4_001})
    stored_after_refusal = await db.scalar(select(Event.registrant_note)
                                           .where(Event.id == event_id))
    await db.rollback()  # the jobs and the app take their own connections
    written = await client.patch(api, headers=organiser_headers, json={
        "registrant_note": NOTE, "translations": {"de": {"registrant_note": GERMAN}}})
    client.headers["Accept-Language"] = "en"
    for name, address, language in (("Anna Schmidt", "anna@muenchen.example.de", "de"),
                                    ("Brigitte Martin", "brigitte@lyon.example.fr", "fr")):
        answer = await client.post(f"/api/events/{slug}/registrations",
                                   json=registration_form(name, address, language=language))
        assert answer.status_code == 201, answer.text
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings, transport=NoMail())
    await job_compose_welcome_emails(context)
    # The first webinar's one-day reminder (12 November 2035, 10:00 CET) falls due.
    with time_machine.travel(datetime(2035, 11, 11, 9, 0, tzinfo=UTC), tick=False):
        await job_prepare_reminders(context)
    rows = await emails(db_sessionmaker)
    ids = {language: registration_id for language, registration_id in (await db.execute(
        select(Registration.language, Registration.id))).all()}
    tokens = await _tokens(db, settings, ids)
    await db.commit()
    private_pages = {language: await client.get(f"/registrations/{token}",
                                                params={"lang": language})
                     for language, token in tokens.items()}
    private_api = await client.get(f"/api/registrations/{tokens['de']}",
                                   params={"lang": "de"})
    public_page = await client.get(f"/events/{slug}")
    public_api = await client.get(f"/api/events/{slug}")
    copied = await client.post(f"{api}/copy", headers=organiser_headers,
                               json={"title": "Run again", "first_day": "2036-11-12"})

    assert too_long.status_code in (400, 422)
    assert "registrant_note" in too_long.text and stored_after_refusal == ""
    assert written.status_code == 200, written.text
    assert written.json()["registrant_note"] == NOTE
    assert written.json()["translations"]["de"]["registrant_note"] == GERMAN
    by_person = {(row.template, row.to_address.split("@")[0]): row for row in rows}
    confirmations = [by_person[("registration_confirmed_to_registrant", who)]
                     for who in ("anna", "brigitte")]
    reminders = [row for row in rows if row.template == "reminder_to_registrant"]
    assert reminders, [row.template for row in rows]
    for row in confirmations + reminders:
        german = row.to_address.startswith("anna")
        assert (GERMAN if german else NOTE) in text_of(row).replace("\r\n", "\n")
        # Brigitte's note is not in French: marked as the English it is written in.
        assert ('>Bringen Sie Ihren &lt;Ausweis&gt; mit.' if german
                else ' lang="en">Bring &lt;your ID&gt; &amp; come by 9:45.') in html_of(row)
        # A web address in the note is a link in the HTML.
        assert german or LINK in html_of(row)
    assert "Eingang B." in private_pages["de"].text
    assert "Use entrance B: " + LINK in private_pages["fr"].text  # no French: as written
    assert private_api.json()["event"]["registrant_note"] == GERMAN
    for public in (public_page, public_api):
        assert public.status_code == 200
        assert "entrance B" not in public.text and "Eingang" not in public.text
    assert copied.status_code == 201 and copied.json()["registrant_note"] == NOTE
