"""A Meet-your-Buyer consultation over HTTP, on both databases: the profile editor and its
refusals, documents (an upload served back as an attachment, a forbidden or oversized file
refused by name), a supplier's question from their private page answered in the back
office and published on the event page, check-in, and the report as a page and as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from babel.support import NullTranslations
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service import i18n
from service.db.models import (
    AccessPurpose,
    AuditEntry,
    ConsultationDocument,
    ConsultationProfile,
    ConsultationQuestion,
    OutboxEmail,
)
from service.domain import access, consultation
from service.settings import Settings
from tests.factories import MEET_YOUR_BUYER, make_event, make_person, make_supplier
from tests.integration.backoffice import SignedInClient

NOW = datetime(2035, 9, 1, 9, 0, tzinfo=UTC)
PROFILE = {"subject": "Fair and circular ICT workplace hardware",
           "cpv_codes": "30213000-5\n30231300-0", "estimated_value": "250000",
           "planned_publication_on": "2036-03-15", "procedure": "open",
           "market_questions": "Can you take back used laptops?", "notice_text": "We consult."}


async def _arrange(db: AsyncSession, settings: Settings) -> dict[str, object]:
    event = await make_event(db, settings, MEET_YOUR_BUYER)
    host = await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl",
                             organisation="Municipality of Haarlem")
    supplier = await make_supplier(db, event, "Ana Silva", "Fairlaptops BV")
    token = await access.current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                              secret_key=settings.secret_key, now=NOW,
                                              registration_id=supplier.id)
    made = {"event_id": event.id, "slug": event.slug, "buyer": host.organisation_id,
            "host": host.id, "supplier": supplier.id, "token": token}
    await db.commit()
    return made


async def _count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0


async def test_the_profile_is_saved_from_its_editor_and_shown_on_the_public_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    url = f"/organiser/events/{made['event_id']}/consultation"

    saved = await organiser_client.post_form(url, {
        **PROFILE, "buyer_organisation_id": str(made["buyer"]),
        "host_person_ids": str(made["host"])})
    editor = await organiser_client.get(url + "?done=profile")
    public = await organiser_client.get(f"/events/{made['slug']}")

    assert (saved.status_code, saved.headers["location"]) == (303, url + "?done=profile")
    assert "The buyer profile is saved." in editor.text
    assert "30213000-5 Personal computers" in editor.text
    section = public.text.split('id="market-consultation"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<li>([^<]+)</li>", section) == [
        "30213000-5 Personal computers", "30231300-0 Display screens", "Rudie de Vries"]
    assert "EUR 250,000.00" in section
    german = (await organiser_client.get(f"/events/{made['slug']}?lang=de")).text
    section = german.split('id="market-consultation"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<li>([^<]+)</li>", section)[:2] == [
        "30213000-5 Personalcomputer", "30231300-0 Bildschirme"]


async def test_organisers_find_cpv_codes_by_their_words_in_their_language(
    organiser_client: SignedInClient,
) -> None:
    found = await organiser_client.get("/organiser/cpv?q=ordinateurs+portables&lang=fr")
    by_digits = await organiser_client.get("/organiser/cpv?q=302")
    nothing = await organiser_client.get("/organiser/cpv?q=%3Cscript%3Ezz")

    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td>([^<]+)</td></tr>", found.text)
    assert (found.status_code, rows) == (200, [("30213100-6", "Ordinateurs portables")])
    assert "1 code correspond à « ordinateurs portables »." in found.text
    assert (by_digits.status_code, len(re.findall(r"<tr><td><code>", by_digits.text))) == (
        200, 100)
    assert "134 codes match “302”; the first 100 are shown." in by_digits.text
    assert "0 codes match “&lt;script&gt;zz”." in nothing.text
    assert "<script>zz" not in nothing.text


class _Labels(NullTranslations):
    """A catalogue of a few labels, standing in for one language's."""

    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__()
        self.labels = labels

    def gettext(self, message: str) -> str:
        return self.labels.get(message, message)


async def test_the_event_page_links_to_the_consultation_whatever_its_language(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one-to-one meetings and consultation links follow the event's kind, not the
    kind's label in the page's language."""
    made = await _arrange(db, settings)
    german = _Labels({"Meet-your-Buyer dialogue": "Meet-your-Buyer-Dialog"})
    monkeypatch.setattr(i18n, "translations",
                        lambda language: german if language == "de" else NullTranslations())

    page = await organiser_client.get(f"/organiser/events/{made['event_id']}?lang=de")

    links = re.findall(rf'href="/organiser/events/{made["event_id"]}/(meetings|consultation)"',
                       page.text)
    assert (page.status_code, "Meet-your-Buyer-Dialog" in page.text, links) == (
        200, True, ["meetings", "consultation"])


async def test_a_bad_cpv_code_comes_back_beside_its_field_and_nothing_is_stored(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)

    refused = await organiser_client.post_form(
        f"/organiser/events/{made['event_id']}/consultation",
        {**PROFILE, "cpv_codes": "30213000-9", "estimated_value": "-3",
         "buyer_organisation_id": str(made["buyer"])})

    assert refused.status_code == 422
    assert re.findall(r'<a href="#(\w+)">', refused.text) == ["cpv_codes", "estimated_value"]
    assert "30213000-9 has a wrong check digit: the code is 30213000-5." in refused.text
    assert await _count(db, ConsultationProfile) == 0


async def test_a_file_is_shared_and_served_back_as_an_attachment(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    content = b"%PDF-1.7\n<script>alert(1)</script>\n"

    shared = await organiser_client.post(
        f"/organiser/events/{made['event_id']}/consultation/documents",
        data={"_csrf": organiser_client.csrf, "title": "Draft criteria"},
        files={"file": ("criteria.pdf", content, "text/html")}, follow_redirects=False)
    document_id = await db.scalar(select(ConsultationDocument.id))
    download = await organiser_client.get(
        f"/events/{made['slug']}/consultation/documents/{document_id}")

    assert shared.status_code == 303
    assert (download.status_code, download.content) == (200, content)
    assert (download.headers["content-type"], download.headers["content-disposition"],
            download.headers["x-content-type-options"]) == (
        "application/pdf", "attachment; filename=\"criteria.pdf\"; filename*=UTF-8''criteria.pdf",
        "nosniff")
    assert [e.template for e in await db.scalars(select(OutboxEmail))] == [
        "consultation_document_to_supplier"]


async def test_a_withdrawn_document_is_offered_no_more_but_stays_in_the_report(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    base = f"/organiser/events/{made['event_id']}/consultation"
    await organiser_client.post_form(base, {**PROFILE, "buyer_organisation_id": str(made["buyer"])})
    await organiser_client.post(f"{base}/documents",
                                data={"_csrf": organiser_client.csrf, "title": "Draft criteria"},
                                files={"file": ("criteria.txt", b"Draft 1\n", "text/plain")},
                                follow_redirects=False)
    document_id = await db.scalar(select(ConsultationDocument.id))
    download = f"/events/{made['slug']}/consultation/documents/{document_id}"
    assert (await organiser_client.get(download)).status_code == 200

    withdrawn = await organiser_client.post_form(
        f"{base}/documents/{document_id}/withdraw", {})
    again = await organiser_client.post_form(f"{base}/documents/{document_id}/withdraw", {})

    assert (withdrawn.status_code, withdrawn.headers["location"]) == (
        303, f"{base}/documents?done=withdrawn")
    listing = await organiser_client.get(withdrawn.headers["location"])
    assert "The document is withdrawn" in listing.text
    assert "Draft criteria" not in listing.text
    report = await organiser_client.get(f"{base}/report")
    assert "shared with every registered supplier" in report.text
    assert "; withdrawn " in report.text
    assert again.status_code == 303
    assert (await organiser_client.get(download)).status_code == 404
    public = await organiser_client.get(f"/events/{made['slug']}")
    assert "Draft criteria" not in public.text
    api = await organiser_client.get(f"/api/events/{made['slug']}/consultation")
    assert api.json()["documents"] == []
    sheet = await organiser_client.get(f"{base}/report.csv")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [(row[0], row[2]) for row in rows if row[0].startswith("document")] == [
        ("document", "Draft criteria"), ("document withdrawn", "Draft criteria")]
    await db.rollback()
    assert await _count(db, ConsultationDocument) == 1  # kept for the procurement file


async def test_a_forbidden_or_oversized_file_is_refused_by_name_and_nothing_is_kept(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    url = f"/organiser/events/{made['event_id']}/consultation/documents"
    answers = []
    for name, content in (("run.exe", b"MZ"),
                          ("big.txt", b"a" * (consultation.MAX_DOCUMENT_BYTES + 1))):
        refused = await organiser_client.post(
            url, data={"_csrf": organiser_client.csrf, "title": "Criteria"},
            files={"file": (name, content, "application/octet-stream")}, follow_redirects=False)
        answers.append((refused.status_code,
                        re.findall(r'<a href="#(\w+)">([^<]+)</a>', refused.text)))

    assert answers == [
        (422, [("file", "Only PDF, ODT, DOCX, XLSX, ODS, CSV or TXT files can be shared: "
                        "&#39;run.exe&#39; is not one.")]),
        (422, [("file", "The file is larger than 10 MB: share a link to it instead.")])]
    assert (await _count(db, ConsultationDocument), await _count(db, OutboxEmail)) == (0, 0)


async def test_a_suppliers_question_is_answered_and_published_without_their_name(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    await organiser_client.post_form(f"/organiser/events/{made['event_id']}/consultation", {
        **PROFILE, "buyer_organisation_id": str(made["buyer"])})
    manage = await organiser_client.get(f"/registrations/{made['token']}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', manage.text)
    assert csrf is not None

    asked = await organiser_client.post(
        f"/registrations/{made['token']}/questions",
        data={"csrf_token": csrf.group(1), "question": "Do refurbished laptops count?"},
        follow_redirects=False)
    question_id = await db.scalar(select(ConsultationQuestion.id))
    answered = await organiser_client.post_form(
        f"/organiser/events/{made['event_id']}/consultation/questions/{question_id}/answer",
        {"answer": "Yes, they do."})
    public = await organiser_client.get(f"/events/{made['slug']}")

    assert "Ask the buyer" in manage.text
    assert (asked.status_code, asked.headers["location"]) == (
        303, f"/registrations/{made['token']}?done=question")
    assert answered.status_code == 303
    section = public.text.split('id="market-consultation"', 1)[1].split("</section>", 1)[0]
    assert "Do refurbished laptops count?" in section and "Yes, they do." in section
    assert ("a registered supplier" in section, "Ana Silva" in section) == (True, False)
    assert [(e.template, e.to_address) for e in await db.scalars(select(OutboxEmail))] == [
        ("consultation_answer_to_supplier", "ana@haarlem-fair-ict.example.org")]


async def test_check_in_and_the_report_as_a_page_and_as_csv(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    base = f"/organiser/events/{made['event_id']}/consultation"
    await organiser_client.post_form(base, {**PROFILE, "buyer_organisation_id": str(made["buyer"])})

    # The day's check-in is the event's own page (`test_check_in`), in the consultation's nav.
    door = f"/organiser/events/{made['event_id']}/check-in"
    checked = await organiser_client.post_form(f"{door}/{made['supplier']}", {"present": "yes"})
    listing = await organiser_client.get(door)
    report = await organiser_client.get(f"{base}/report")
    sheet = await organiser_client.get(f"{base}/report.csv")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))

    assert checked.status_code == 303
    assert "1 of 1 checked in." in listing.text
    assert f'<a href="{door}" aria-current="page">' in listing.text
    assert "1 registered, 1 attended." in report.text
    assert "No one-to-one meetings recorded." in report.text
    assert "at least three years after the event" in report.text
    assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert [row[0] for row in rows] == [
        "record", "profile", "profile", "profile", "profile", "profile", "profile", "profile",
        "participant", "meeting", "retention"]
    assert rows[8][2:4] == ["Ana Silva", "Fairlaptops BV"]
    assert rows[9][2] == "no one-to-one meetings recorded"


async def test_profile_changes_and_answers_are_in_the_events_audit_log(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    base = f"/organiser/events/{made['event_id']}/consultation"
    await organiser_client.post_form(base, {**PROFILE, "buyer_organisation_id": str(made["buyer"])})
    await organiser_client.post_form(f"{base}/questions", {"question": "Leasing?"})
    question_id = await db.scalar(select(ConsultationQuestion.id))
    await organiser_client.post_form(f"{base}/questions/{question_id}/answer", {"answer": "No."})

    entries = list(await db.scalars(select(AuditEntry).where(
        AuditEntry.event_id == made["event_id"]).order_by(AuditEntry.id)))
    log = await organiser_client.get(f"/organiser/events/{made['event_id']}/audit")

    assert [(e.action, e.subject_type, e.actor_label) for e in entries] == [
        ("created", "consultation_profile", "Olga Organiser <olga@procura.example.org>"),
        ("created", "consultation_question", "Olga Organiser <olga@procura.example.org>"),
        ("changed", "consultation_question", "Olga Organiser <olga@procura.example.org>")]
    assert entries[2].after == {"answer": "No.", "answered_at": entries[2].after["answered_at"]}
    assert "Question to the buyer" in log.text


async def test_an_empty_question_comes_back_beside_its_field_and_nothing_is_stored(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    manage = await organiser_client.get(f"/registrations/{made['token']}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', manage.text)
    assert csrf is not None

    refused = await organiser_client.post(
        f"/registrations/{made['token']}/questions",
        data={"csrf_token": csrf.group(1), "question": "  "}, follow_redirects=False)

    assert refused.status_code == 422
    assert re.findall(r'<a href="#(\w+)">', refused.text) == ["question"]
    assert await _count(db, ConsultationQuestion) == 0


async def test_a_title_address_or_asker_too_long_is_refused_not_kept_cut_short(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    made = await _arrange(db, settings)
    base = f"/organiser/events/{made['event_id']}/consultation"
    link = "https://docs.example.org/" + "criteria-" * 110  # 1,014 characters

    long_title = await organiser_client.post_form(f"{base}/documents", {
        "title": "Criteria " + "x" * 300, "url": "https://docs.example.org/criteria.pdf"})
    long_link = await organiser_client.post_form(f"{base}/documents", {
        "title": "Criteria", "url": link})
    long_asker = await organiser_client.post_form(f"{base}/questions", {
        "question": "Can you take back used laptops?", "asked_by": "A" * 301})

    assert [(answer.status_code, re.findall(r'<a href="#(\w+)">', answer.text))
            for answer in (long_title, long_link, long_asker)] == [
        (422, ["title"]), (422, ["url"]), (422, ["asked_by"])]
    assert (await _count(db, ConsultationDocument), await _count(db, ConsultationQuestion)) == (0, 0)
