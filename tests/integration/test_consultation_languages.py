"""A Meet-your-Buyer event's market consultation in several languages: its subject, notice
and questions to the market, its shared documents' titles and its published questions and
answers are translated on the event's translations page (a refused form names the field and
stores nothing; not a withdrawn document, not a question still unanswered, not another
event's), and suppliers read them in their language on the event page and through the API,
else as written, marked with `lang`. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import ConsultationQuestion, ContentTranslation, Event
from service.domain import consultation
from service.domain.errors import ConflictError, NotFoundError
from service.domain.programme.translations import (
    TextChange,
    consultation_profile,
    set_translations,
)
from service.settings import Settings
from tests.factories import MEET_YOUR_BUYER, make_event, make_person, make_supplier
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import Element, parse

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


async def _consultation_with_answers(db: AsyncSession, settings: Settings
                                     ) -> tuple[Event, dict[str, int]]:
    """A written consultation with two documents (one withdrawn), a published answer and a
    question still unanswered; the event and the ids of its texts."""
    event = await _consultation(db, settings)
    supplier = await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")
    criteria = await consultation.share_document(
        db, event.id, title="Draft criteria", url="https://haarlem.example.nl/criteria",
        now=NOW, settings=settings)
    old = await consultation.share_document(
        db, event.id, title="Old planning", url="https://haarlem.example.nl/planning",
        now=NOW, settings=settings)
    await consultation.withdraw_document(db, event.id, old.id, now=NOW)
    answered = await consultation.ask_question(db, supplier, "Refurbished screens?",
                                               may_name_asker=False, now=NOW)
    await consultation.publish_answer(db, event.id, answered.id, "Yes, with a warranty.",
                                      now=NOW, settings=settings)
    open_question = await consultation.ask_question(db, supplier, "Leasing?",
                                                    may_name_asker=False, now=NOW)
    await db.commit()
    return event, {"criteria": criteria.id, "old": old.id, "answered": answered.id,
                   "open": open_question.id}


def _answers(section: Element) -> list[Element]:
    """The published questions and answers of the page's consultation section."""
    return [p for qa in section.find_all("div", cls="qa") for p in qa.find_all("p", cls="pre-line")]


async def test_documents_and_answers_are_translated_and_read_in_the_readers_language(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar], db: AsyncSession,
    settings: Settings,
) -> None:
    event, ids = await _consultation_with_answers(db, settings)
    event_id, slug = event.id, event.slug
    url = f"/organiser/events/{event_id}/translations"
    names = {"criteria": f"document-{ids['criteria']}-title",
             "question": f"question-{ids['answered']}-question",
             "answer": f"question-{ids['answered']}-answer"}

    page = await organiser_client.get(url, params={"language": "de"})
    too_long = await organiser_client.post_form(url, {
        "language": "de", names["criteria"]: "K" * 301})
    stored_after_refusal = await db.scalar(select(func.count(ContentTranslation.id)))
    saved = await organiser_client.post_form(url, {
        "language": "de", names["criteria"]: "Entwurf der Kriterien",
        names["question"]: "Aufbereitete Bildschirme?",
        names["answer"]: "Ja, mit Garantie.\r\nSiehe die Kriterien."})
    shown = await organiser_client.get(saved.headers["location"])
    german = await client.get(f"/events/{slug}", headers={"Accept-Language": "de"})
    french = await client.get(f"/events/{slug}", headers={"Accept-Language": "fr"})
    api_german = await client.get(f"/api/events/{slug}/consultation",
                                  headers={"Accept-Language": "de"})
    api_english = await client.get(f"/api/events/{slug}/consultation")

    consultation_fields = parse(page.text).find_all("fieldset")[-1]
    assert consultation_fields.one("legend").text == "Market consultation"
    assert [label.text for label in consultation_fields.find_all("label")][-3:] == [
        "Document 1: title (optional)", "Question 1 (optional)",
        "Answer to question 1 (optional)"]
    # Neither the withdrawn document nor the question still unanswered is offered.
    assert f"document-{ids['old']}-title" not in page.text
    assert f"question-{ids['open']}-" not in page.text
    assert parse(page.text).one(id=names["answer"]).tag == "textarea"
    assert too_long.status_code == 422 and stored_after_refusal == 0
    assert parse(too_long.text).one("div", cls="field-error").one("label").attrs["for"] \
        == names["criteria"]
    assert saved.status_code == 303
    assert 'value="Entwurf der Kriterien"' in shown.text
    section = parse(german.text).one("section", aria_labelledby="market-consultation")
    assert [a.text for a in section.find_all("a")] == ["Entwurf der Kriterien"]
    assert [p.text for p in _answers(section)] == [
        "Aufbereitete Bildschirme?", "Ja, mit Garantie. Siehe die Kriterien."]  # (spaces folded)
    # In French, nothing was translated: as written, marked as English for screen readers.
    section = parse(french.text).one("section", aria_labelledby="market-consultation")
    assert [(a.text, a.attrs.get("lang")) for a in section.find_all("a")] == [
        ("Draft criteria", "en")]
    assert [(p.text, p.attrs.get("lang")) for p in _answers(section)] == [
        ("Refurbished screens?", "en"), ("Yes, with a warranty.", "en")]
    assert [d["title"] for d in api_german.json()["documents"]] == ["Entwurf der Kriterien"]
    assert [(q["question"], q["answer"]) for q in api_german.json()["questions"]] == [
        ("Aufbereitete Bildschirme?", "Ja, mit Garantie.\nSiehe die Kriterien.")]
    assert [(q["question"], q["answer"]) for q in api_english.json()["questions"]] == [
        ("Refurbished screens?", "Yes, with a warranty.")]


async def test_an_unanswered_question_or_another_events_text_is_not_translated(
    db: AsyncSession, settings: Settings,
) -> None:
    event, ids = await _consultation_with_answers(db, settings)
    open_question = await db.get(ConsultationQuestion, ids["open"])
    answered = await db.get(ConsultationQuestion, ids["answered"])
    assert open_question is not None and answered is not None
    other = await make_event(db, settings)

    def change(target: ConsultationQuestion) -> TextChange:
        return TextChange(target, "de", "question", "Leasing?", "question")

    with pytest.raises(ConflictError) as unanswered:
        await set_translations(db, event.id, [change(open_question)], now=utc_now())
    with pytest.raises(NotFoundError) as elsewhere:
        await set_translations(db, other.id, [change(answered)], now=utc_now())

    assert [e.field for e in unanswered.value.errors] == ["question_id"]
    assert [e.field for e in elsewhere.value.errors] == ["question_id"]
    assert await db.scalar(select(func.count(ContentTranslation.id))) == 0
