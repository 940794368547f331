"""A Meet-your-Buyer event's market consultation in several languages: its subject, notice
and questions to the market are translated on the event's translations page (a refused form
names the field and stores nothing), and suppliers read them in their language on the event
page and through the API, else as written, marked with `lang`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ContentTranslation, Event
from service.domain import consultation
from service.domain.programme.translations import (
    TextChange,
    consultation_profile,
    set_translations,
)
from service.settings import Settings
from tests.factories import MEET_YOUR_BUYER, make_event, make_person
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

NOW = datetime(2035, 9, 1, 9, 0, tzinfo=UTC)
SUBJECT = "Fair and circular ICT workplace hardware"
QUESTIONS = "Can you take back used laptops?"
GERMAN_SUBJECT = "Faire und kreislauffähige IKT-Hardware für den Arbeitsplatz"
GERMAN_NOTICE = "Haarlem erkundet den Markt vor der Ausschreibung.\nAlles wird geteilt."


async def _consultation(db: AsyncSession, settings: Settings) -> Event:
    event = await make_event(db, settings, MEET_YOUR_BUYER)
    host = await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl",
                             organisation="Municipality of Haarlem")
    await consultation.save_profile(db, event.id, consultation.ProfileInput(
        buyer_organisation_id=str(host.organisation_id), subject=SUBJECT,
        cpv_codes="30213000-5", market_questions=QUESTIONS,
        notice_text="Haarlem consults the market before its tender.",
        host_person_ids=[str(host.id)]), now=NOW)
    await db.commit()
    return event


async def test_an_editor_translates_the_consultation_and_suppliers_read_their_language(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await _consultation(db, settings)
    url = f"/organiser/events/{event.id}/translations"
    form = {"language": "de", "consultation-subject": GERMAN_SUBJECT,
            "consultation-notice_text": GERMAN_NOTICE, "consultation-market_questions": ""}

    page = await organiser_client.get(url, params={"language": "de"})
    bad = await organiser_client.post_form(url, {**form,
                                                 "consultation-subject": "Zwei\nZeilen"})
    stored_after_bad = await db.scalar(select(func.count(ContentTranslation.id)))
    saved = await organiser_client.post_form(url, form)
    shown = await organiser_client.get(saved.headers["location"])
    german = await organiser_client.get(f"/events/{event.slug}", params={"lang": "de"})
    french = await organiser_client.get(f"/events/{event.slug}", params={"lang": "fr"})
    api_german = await organiser_client.get(f"/api/events/{event.slug}/consultation",
                                            params={"lang": "de"})
    api_french = await organiser_client.get(f"/api/events/{event.slug}/consultation",
                                            params={"lang": "fr"})

    consultation_fields = parse(page.text).find_all("fieldset")[-1]
    assert consultation_fields.one("legend").text == "Market consultation"
    assert [label.text for label in consultation_fields.find_all("label")] == [
        "Subject of the upcoming procurement (optional)", "Notice (optional)",
        "What the buyer asks the market (optional)"]
    assert [consultation_fields.one(id=name).tag for name in (
        "consultation-subject", "consultation-notice_text", "consultation-market_questions")
            ] == ["input", "textarea", "textarea"]
    assert (bad.status_code, stored_after_bad) == (422, 0)
    assert parse(bad.text).one(id="consultation-subject-error").text == (
        "Error: Must be a single line without control characters.")
    assert saved.status_code == 303
    assert f'value="{GERMAN_SUBJECT}"' in shown.text
    # The event's title, its session's title and the consultation's three texts.
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (2/5 translated)", "Français (0/5 translated)"]

    section = parse(german.text).one("section", aria_labelledby="market-consultation")
    assert [(dd.attrs.get("lang"), dd.text) for dd in section.find_all("dd")][1] == (
        None, GERMAN_SUBJECT)
    assert [(p.attrs.get("lang"), p.text) for p in section.find_all("p", cls="pre-line")][:2] \
        == [(None, GERMAN_NOTICE.replace("\n", " ")), ("en", QUESTIONS)]
    french_section = parse(french.text).one("section", aria_labelledby="market-consultation")
    assert [(dd.attrs.get("lang"), dd.text) for dd in french_section.find_all("dd")][1] == (
        "en", SUBJECT)
    body = api_german.json()
    assert (body["subject"], body["language"], body["notice_text"], body["market_questions"]) \
        == (GERMAN_SUBJECT, "de", GERMAN_NOTICE, QUESTIONS)
    assert (api_french.json()["subject"], api_french.json()["language"]) == (SUBJECT, "en")


async def test_the_back_office_and_the_report_keep_the_texts_as_written(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await _consultation(db, settings)
    profile = await consultation_profile(db, event.id)
    assert profile is not None
    await set_translations(db, event.id, [
        TextChange(profile, "de", "subject", GERMAN_SUBJECT, "consultation.de.subject")],
        now=NOW)

    german = await consultation.find_profile(db, event.id, language="de")
    written = await consultation.find_profile(db, event.id)
    report = await consultation.consultation_report(db, event.id, now=NOW)

    assert german is not None and written is not None and report.profile is not None
    assert (german.subject, german.language) == (GERMAN_SUBJECT, "de")
    assert (written.subject, written.language) == (SUBJECT, "en")
    assert report.profile.subject == SUBJECT
