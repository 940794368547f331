"""Meet-your-Buyer consultations (domain, both databases): the buyer profile and its
refusals, answers and documents shared with every registered supplier through the outbox,
check-in, and the report for the procurement file."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ConsultationDocument,
    ConsultationProfile,
    ConsultationQuestion,
    Event,
    OrganisationKind,
    OutboxEmail,
    RegistrationStatus,
)
from service.domain import consultation, registration
from service.domain.consultation import meetings
from service.domain.consultation.cpv import CpvCode
from service.domain.errors import ConflictError, InvalidInputError
from service.settings import Settings
from tests.factories import MEET_YOUR_BUYER, make_event, make_person, make_registration, make_supplier
from tests.integration.mail_readers import html_of, parse, text_of

NOW = datetime(2035, 9, 1, 9, 0, tzinfo=UTC)


async def _consultation(db: AsyncSession, settings: Settings) -> tuple[Event, int, int]:
    """The event, its buying authority's id and one of its procurers' ids."""
    event = await make_event(db, settings, MEET_YOUR_BUYER)
    host = await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl",
                             organisation="Municipality of Haarlem")
    assert host.organisation_id is not None
    return event, host.organisation_id, host.id


def _typed(buyer: int, host: int, **changes: str) -> consultation.ProfileInput:
    values = {"buyer_organisation_id": str(buyer),
              "subject": "Fair and circular ICT workplace hardware",
              "cpv_codes": "30213000-5, 30231300-0", "estimated_value": "1 250 000,50",
              "planned_publication_on": "2036-03-15", "procedure": "competitive_with_negotiation",
              "market_questions": "Can you take back used laptops?",
              "notice_text": "Haarlem consults the market before its tender.", **changes}
    return consultation.ProfileInput(host_person_ids=[str(host)], **values)


async def test_a_profile_is_kept_with_its_cpv_labels_and_hosts(
    db: AsyncSession, settings: Settings,
) -> None:
    event, buyer, host = await _consultation(db, settings)

    await consultation.save_profile(db, event.id, _typed(buyer, host), now=NOW)
    view = await consultation.find_profile(db, event.id)

    assert view is not None
    assert (view.buyer_name, view.subject, view.estimated_value_cents,
            view.planned_publication_on, view.procedure_label) == (
        "Municipality of Haarlem", "Fair and circular ICT workplace hardware", 125_000_050,
        date(2036, 3, 15), "Competitive procedure with negotiation")
    assert view.cpv_codes == [CpvCode("30213000-5", "Personal computers"),
                              CpvCode("30231300-0", "Display screens")]
    assert [h.name for h in view.hosts] == ["Rudie de Vries"]
    assert consultation.euro_text(view.estimated_value_cents) == "EUR 1,250,000.50"


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("cpv_codes", "30213000-4", "30213000-4 has a wrong check digit: the code is 30213000-5."),
    ("estimated_value", "-5000", "The estimated value cannot be negative."),
    ("estimated_value", "lots", "Write the estimated value in euros as a number, like 250000 "
                                "or 250000.50."),
    ("planned_publication_on", "2036-02-30", "Write the planned publication date as a date, "
                                             "like 2027-03-15."),
    ("procedure", "auction", "Choose a procedure from the list."),
])
async def test_a_bad_profile_field_is_named_and_nothing_is_stored(
    db: AsyncSession, settings: Settings, field: str, typed: str, message: str,
) -> None:
    event, buyer, host = await _consultation(db, settings)

    with pytest.raises(InvalidInputError) as refused:
        await consultation.save_profile(db, event.id, _typed(buyer, host, **{field: typed}),
                                        now=NOW)

    assert [(e.field, e.message) for e in refused.value.errors] == [(field, message)]
    assert await db.scalar(select(func.count()).select_from(ConsultationProfile)) == 0


async def test_a_host_must_be_a_person_of_the_buying_authority(
    db: AsyncSession, settings: Settings,
) -> None:
    event, buyer, _ = await _consultation(db, settings)
    stranger = await make_person(db, "Carla Canal", "carla@example.org", organisation="Barcelona")

    with pytest.raises(InvalidInputError) as refused:
        await consultation.save_profile(db, event.id, _typed(buyer, stranger.id), now=NOW)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("host_person_ids", "Carla Canal is not a person of the buying authority.")]


async def test_only_a_meet_your_buyer_event_has_a_consultation(
    db: AsyncSession, settings: Settings,
) -> None:
    webinar = await make_event(db, settings, commit=False)

    with pytest.raises(ConflictError) as refused:
        await consultation.save_profile(db, webinar.id, consultation.ProfileInput(), now=NOW)

    assert refused.value.message == "Only Meet-your-Buyer events have a market consultation."


async def test_an_answer_goes_to_every_registered_supplier_without_naming_the_asker(
    db: AsyncSession, settings: Settings,
) -> None:
    event, _, _ = await _consultation(db, settings)
    asker = await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")
    await make_supplier(db, event, "Bruno Costa", "Circular Screens", status=RegistrationStatus.WAITING)
    await make_supplier(db, event, "Gone Person", "Gone BV", status=RegistrationStatus.CANCELLED)
    buyer = await make_registration(db, event, event.sessions[0], "Pia Buyer")
    buyer.organisation_kind = OrganisationKind.PUBLIC_AUTHORITY
    question = await consultation.ask_question(db, asker, "Do refurbished laptops count?",
                                               may_name_asker=False, now=NOW)

    await consultation.publish_answer(db, event.id, question.id, "Yes, <b>they</b> do.",
                                      now=NOW, settings=settings)
    emails = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    texts = [text_of(parse(e.raw_message or b"")) for e in emails]
    pages = [html_of(parse(e.raw_message or b"")) for e in emails]

    assert [e.to_address for e in emails] == ["ana@haarlem-fair-ict.example.org",
                                              "bruno@haarlem-fair-ict.example.org"]
    assert [e.template for e in emails] == ["consultation_answer_to_supplier"] * 2
    assert ["Question (a registered supplier):\nDo refurbished laptops count?" in t
            for t in texts] == [True, True]
    assert ["Fairlaptops" in t or "Ana Silva\n" in t.split("Question")[1] for t in texts] == [
        False, False]
    assert ["Yes, &lt;b&gt;they&lt;/b&gt; do." in page for page in pages] == [True, True]
    assert [(q.question, q.answer, q.asked_by) for q in
            await consultation.published_questions(db, event.id)] == [
        ("Do refurbished laptops count?", "Yes, <b>they</b> do.", "a registered supplier")]


async def test_a_published_answer_stays_as_it_was_sent(
    db: AsyncSession, settings: Settings,
) -> None:
    event, _, _ = await _consultation(db, settings)
    question = await consultation.record_question(db, event.id, "Is leasing possible?",
                                                  asked_by="Dell rep", may_name_asker=True,
                                                  now=NOW)
    await consultation.publish_answer(db, event.id, question.id, "Yes.", now=NOW,
                                      settings=settings)

    with pytest.raises(ConflictError):
        await consultation.publish_answer(db, event.id, question.id, "No.", now=NOW,
                                          settings=settings)

    stored = await db.get(ConsultationQuestion, question.id)
    assert stored is not None and (stored.answer, consultation.public_asker(stored)) == (
        "Yes.", "Dell rep")


async def test_only_a_registered_supplier_asks_from_the_private_page(
    db: AsyncSession, settings: Settings,
) -> None:
    event, _, _ = await _consultation(db, settings)
    buyer = await make_registration(db, event, event.sessions[0], "Pia Buyer")

    with pytest.raises(ConflictError):
        await consultation.ask_question(db, buyer, "May I ask?", may_name_asker=False, now=NOW)

    assert await db.scalar(select(func.count()).select_from(ConsultationQuestion)) == 0


async def test_a_file_shared_is_kept_under_var_and_announced_to_every_supplier(
    db: AsyncSession, settings: Settings,
) -> None:
    event, _, _ = await _consultation(db, settings)
    await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")
    content = b"%PDF-1.7\n% a market sounding\n"

    document = await consultation.share_document(
        db, event.id, title="Draft criteria", now=NOW, settings=settings,
        upload=consultation.UploadedFile("../Draft criteria (v2).pdf", content))
    kept = await consultation.read_document_file(db, event.id, document.id, settings=settings)
    email = await db.scalar(select(OutboxEmail))

    assert (kept.file_name, kept.media_type, kept.content) == (
        "Draft criteria _v2_.pdf", "application/pdf", content)
    assert email is not None and email.template == "consultation_document_to_supplier"
    assert (f"{settings.public_base_url}/events/haarlem-fair-ict/consultation/documents/"
            f"{document.id}") in text_of(parse(email.raw_message or b""))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("criteria.exe", b"MZ\x90\x00", "Only PDF, ODT, DOCX, XLSX, ODS, CSV or TXT files can be "
                                    "shared: 'criteria.exe' is not one."),
    ("criteria.pdf", b"<html>not a pdf</html>", "The file is not a PDF document, whatever its "
                                                "name says."),
    ("big.txt", b"a" * (consultation.MAX_DOCUMENT_BYTES + 1),
     "The file is larger than 10 MB: share a link to it instead."),
])
async def test_a_file_of_a_forbidden_type_or_too_large_is_refused_and_nothing_kept(
    db: AsyncSession, settings: Settings, name: str, content: bytes, message: str,
) -> None:
    event, _, _ = await _consultation(db, settings)
    await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")

    with pytest.raises(InvalidInputError) as refused:
        await consultation.share_document(db, event.id, title="Criteria", now=NOW,
                                          settings=settings,
                                          upload=consultation.UploadedFile(name, content))

    assert [(e.field, e.message) for e in refused.value.errors] == [("file", message)]
    assert await db.scalar(select(func.count()).select_from(ConsultationDocument)) == 0
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert not (settings.var_dir / "consultation").exists()


async def test_check_in_and_the_report_for_the_procurement_file(
    db: AsyncSession, settings: Settings,
) -> None:
    event, buyer, host = await _consultation(db, settings)
    await consultation.save_profile(db, event.id, _typed(buyer, host), now=NOW)
    ana = await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")
    bruno = await make_supplier(db, event, "Bruno Costa", "Circular Screens")
    await registration.check_in(db, event, ana.id, present=True, now=NOW)
    await registration.check_in(db, event, bruno.id, present=True, now=NOW)
    await registration.check_in(db, event, bruno.id, present=False, now=NOW)
    await consultation.share_document(db, event.id, title="Market sounding", now=NOW,
                                      settings=settings, url="https://haarlem.example.nl/ms")

    report = await consultation.consultation_report(db, event.id, now=NOW)

    assert [(p.name, p.checked_in_at) for p in report.participants] == [
        ("Ana Silva", NOW), ("Bruno Costa", None)]
    assert (report.attended, report.meetings) == (1, [])
    assert [d.title for d in report.documents] == ["Market sounding"]
    assert report.profile is not None and report.profile.subject == (
        "Fair and circular ICT workplace hardware")
    assert "at least three years after the event" in report.retention_note


async def test_the_haarlem_demo_has_a_consultation_with_hosts_and_published_answers(
    db: AsyncSession, settings: Settings, demo: None,
) -> None:
    event_id = await db.scalar(select(Event.id).where(
        Event.slug == "meet-your-buyer-haarlem-fair-circular-ict"))
    assert event_id is not None

    view = await consultation.find_profile(db, event_id)
    answers = await consultation.published_questions(db, event_id)

    assert view is not None
    assert (view.buyer_name, [c.code for c in view.cpv_codes], [h.name for h in view.hosts]) == (
        "Municipality of Haarlem", ["30213000-5", "30213100-6", "30231300-0", "30237000-9"],
        ["Rudie de Vries", "Marieke Jansen (sample)"])
    assert [a.asked_by for a in answers] == ["asked at the event", "asked at the event"]


async def test_the_profiles_hosts_and_the_meeting_hosts_are_one_list(
    db: AsyncSession, settings: Settings,
) -> None:
    event, buyer, host = await _consultation(db, settings)
    await consultation.save_profile(db, event.id, _typed(buyer, host), now=NOW)
    colleague = await make_person(db, "Anouk Smit", "anouk@haarlem.example.nl",
                                  organisation="Municipality of Haarlem")
    outsider = await make_person(db, "Eva Expert", "eva@experts.example.org",
                                 organisation="Circular Experts")

    await meetings.add_host(db, event.id, colleague.id, now=NOW)
    await meetings.add_host(db, event.id, outsider.id, now=NOW)

    assert sorted(h.person.name for h in await meetings.hosts_of(db, event.id)) == [
        "Anouk Smit", "Eva Expert", "Rudie de Vries"]
    view = await consultation.find_profile(db, event.id)
    assert view is not None
    # Named publicly: the buying authority's people, in the order they were added.
    assert [h.name for h in view.hosts] == ["Rudie de Vries", "Anouk Smit"]
