"""A Meet-your-Buyer event's market consultation in the back office: the buyer profile
editor, documents, questions and answers, and the report for the procurement file (a
printable page and CSV). The day's check-in is every in-person event's (`check_in`).

Reading needs an account that sees the event; changing needs an editor of it. Each handler
reads the form, calls one function of `service.domain.consultation` and renders; a refusal
comes back on its page with each error beside its field (422, or 409 for a clash), and
nothing is stored. An event of another kind gets a page that says so (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT
from sqlalchemy import select

from service.clock import utc_now
from service.db.models import Event, EventKind, Organisation, OrganisationKind
from service.domain import consultation
from service.domain.errors import DomainError
from service.domain.wording import STATUS_LABELS
from service.i18n import N_
from service.i18n import gettext as _
from service.web.api_registration import spreadsheet_csv
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.forms import field_errors, refusal_status, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

PROFILE_FIELDS = ("buyer_organisation_id", "subject", "cpv_codes", "estimated_value",
                  "planned_publication_on", "procedure", "market_questions", "notice_text")
LONG_TEXT = 20_000
CPV_FOUND_SHOWN = 100
# The form's own limit sits above the documents' so that an oversized file reaches the
# domain's check and is refused by name, not cut off by the server.
UPLOAD_BODY_LIMIT = consultation.MAX_DOCUMENT_BYTES + 1024 * 1024
DONE = {"profile": N_("The buyer profile is saved."),
        "document": N_("The document is shared: every registered supplier is emailed."),
        "withdrawn": N_("The document is withdrawn: suppliers no longer see it; the report "
                        "keeps it with both dates."),
        "question": N_("The question is recorded."),
        "answer": N_("The answer is published: every registered supplier is emailed.")}


def _label(label: str | None) -> str:
    """A label in the language in force; no label stays empty (gettext("") is not "")."""
    return _(label) if label else ""


def _base(event_id: int, section: str = "") -> str:
    return f"{BACKOFFICE_PATH}/events/{event_id}/consultation{section}"


def _values(profile: consultation.ProfileView | None, event: Event) -> dict[str, str]:
    if profile is None:
        return {"buyer_organisation_id": str(event.host_organisation_id or "")}
    value = profile.estimated_value_cents
    return {
        "buyer_organisation_id": str(profile.buyer_organisation_id or ""),
        "subject": profile.subject,
        "cpv_codes": "\n".join(code.code for code in profile.cpv_codes),
        "estimated_value": "" if value is None else f"{value // 100}.{value % 100:02d}",
        "planned_publication_on": (profile.planned_publication_on.isoformat()
                                   if profile.planned_publication_on else ""),
        "procedure": str(profile.procedure or ""),
        "market_questions": profile.market_questions,
        "notice_text": profile.notice_text,
    }


class ConsultationController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _event(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                     event_id: int, *, editing: bool = False) -> Event | Response[Any]:
        """The event, or the page saying it has no consultation (another kind of event)."""
        event = await event_for(db_session, account, event_id, editing=editing)
        if event.kind != EventKind.MEET_YOUR_BUYER:
            return organiser_page(request, "consultation_missing.html", {
                "title": _("No market consultation"), "nav": "events",
                "event": heading(event, account),
            }, status_code=HTTP_409_CONFLICT)
        return event

    def _page(self, request: AnyRequest, account: CurrentAccount, event: Event, template: str,
              section: str, title: str, context: dict[str, Any], *, status_code: int = 200,
              done: str | None = None) -> Response[Any]:
        return organiser_page(request, template, {
            "title": title % {"title": event.title}, "nav": "events", "section": section,
            "event": heading(event, account), "done": _label(DONE.get(done or "")), **context,
        }, status_code=status_code)

    # -- the buyer profile --

    async def _profile_page(self, request: AnyRequest, db_session: DbSession,
                            account: CurrentAccount, event: Event, *,
                            values: dict[str, str] | None = None,
                            hosts: list[int] | None = None, errors: dict[str, str] | None = None,
                            status_code: int = 200, done: str | None = None) -> Response[Any]:
        profile = await consultation.find_profile(db_session, event.id)
        values = values or _values(profile, event)
        buyer_id = int(values["buyer_organisation_id"]) if values.get(
            "buyer_organisation_id", "").isdigit() else None
        organisations = list(await db_session.scalars(
            select(Organisation).where(Organisation.kind == OrganisationKind.PUBLIC_AUTHORITY)
            .order_by(Organisation.name)))
        return self._page(request, account, event, "consultation.html", "profile",
                          _("Market consultation: %(title)s"), {
            "values": values, "errors": errors or {}, "profile": profile,
            "organisations": [(str(o.id), o.name) for o in organisations],
            "procedures": [(str(p), _label(label))
                           for p, label in consultation.PROCEDURE_LABELS.items()],
            "people": await consultation.persons_of(db_session, buyer_id),
            "hosts": set(hosts if hosts is not None else
                         [h.person_id for h in (profile.hosts if profile else [])]),
            "value_text": consultation.euro_text(profile.estimated_value_cents
                                                 if profile else None),
        }, status_code=status_code, done=done)

    @get("/cpv")
    async def find_cpv_codes(
        self, request: AnyRequest, account: CurrentAccount,
        q: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Response[Any]:
        """The CPV vocabulary searched in the organiser's language, to fill a profile."""
        codes, total = consultation.find_cpv_codes(q, limit=CPV_FOUND_SHOWN)
        return organiser_page(request, "cpv.html", {
            "title": _("CPV codes"), "nav": "events", "q": q.strip(), "codes": codes,
            "total": total,
        })

    @get("/events/{event_id:int}/consultation")
    async def show_profile(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id)
        if isinstance(event, Response):
            return event
        return await self._profile_page(request, db_session, account, event, done=done)

    @post("/events/{event_id:int}/consultation", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def save_profile(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id, editing=True)
        if isinstance(event, Response):
            return event
        form = await request.form()
        values = {name: text(form, name, LONG_TEXT) for name in PROFILE_FIELDS}
        host_ids = [v for v in form.getall("host_person_ids", []) if isinstance(v, str)]
        try:
            await consultation.save_profile(
                db_session, event_id,
                consultation.ProfileInput(host_person_ids=host_ids, **values), now=utc_now())
        except DomainError as refused:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            return await self._profile_page(
                request, db_session, account, event, values=values,
                hosts=[int(v) for v in host_ids if v.isdigit()], errors=field_errors(refused),
                status_code=refusal_status(refused))
        return Redirect(_base(event_id, "?done=profile"), status_code=HTTP_303_SEE_OTHER)

    # -- documents --

    async def _documents_page(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, event: Event, settings: SettingsDep, *,
                              values: dict[str, str] | None = None,
                              errors: dict[str, str] | None = None, status_code: int = 200,
                              done: str | None = None) -> Response[Any]:
        documents = await consultation.list_documents(db_session, event.id)
        return self._page(request, account, event, "consultation_documents.html", "documents",
                          _("Consultation documents: %(title)s"), {
            "documents": [(d, consultation.document_url(settings, event.slug, d),
                           local_and_utc(d.shared_at, event.timezone)[0]) for d in documents],
            "values": values or {}, "errors": errors or {},
            "max_mb": consultation.MAX_DOCUMENT_BYTES // (1024 * 1024),
        }, status_code=status_code, done=done)

    @get("/events/{event_id:int}/consultation/documents")
    async def show_documents(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id)
        if isinstance(event, Response):
            return event
        return await self._documents_page(request, db_session, account, event, settings,
                                          done=done)

    @post("/events/{event_id:int}/consultation/documents", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def share_document(self, request: AnyRequest, db_session: DbSession,
                             settings: SettingsDep, account: CurrentAccount,
                             event_id: IdParam) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id, editing=True)
        if isinstance(event, Response):
            return event
        form = await request.form()
        # One past what the domain takes: a longer text is refused by name, not kept cut short.
        values = {"title": text(form, "title", 301), "url": text(form, "url", 1001)}
        sent = form.get("file")
        upload = None
        if isinstance(sent, UploadFile) and sent.filename:
            upload = consultation.UploadedFile(sent.filename, await sent.read())
        try:
            await consultation.share_document(db_session, event_id, title=values["title"],
                                              url=values["url"], upload=upload, now=utc_now(),
                                              settings=settings)
        except DomainError as refused:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            return await self._documents_page(request, db_session, account, event, settings,
                                              values=values, errors=field_errors(refused),
                                              status_code=refusal_status(refused))
        return Redirect(_base(event_id, "/documents?done=document"),
                        status_code=HTTP_303_SEE_OTHER)

    @post("/events/{event_id:int}/consultation/documents/{document_id:int}/withdraw",
          guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def withdraw_document(self, request: AnyRequest, db_session: DbSession,
                                account: CurrentAccount, event_id: IdParam,
                                document_id: IdParam) -> Response[Any]:
        """No longer offered to suppliers; the report keeps it with both dates."""
        event = await self._event(request, db_session, account, event_id, editing=True)
        if isinstance(event, Response):
            return event
        await consultation.withdraw_document(db_session, event_id, document_id, now=utc_now())
        return Redirect(_base(event_id, "/documents?done=withdrawn"),
                        status_code=HTTP_303_SEE_OTHER)

    # -- questions and answers --

    async def _questions_page(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, event: Event, *,
                              values: dict[str, str] | None = None,
                              errors: dict[str, str] | None = None,
                              failed_question: int | None = None, status_code: int = 200,
                              done: str | None = None) -> Response[Any]:
        questions = await consultation.list_questions(db_session, event.id)
        return self._page(request, account, event, "consultation_questions.html", "questions",
                          _("Questions and answers: %(title)s"), {
            "questions": [(q, consultation.public_asker(q),
                           local_and_utc(q.asked_at, event.timezone)[0],
                           local_and_utc(q.answered_at, event.timezone)[0]) for q in questions],
            "values": values or {}, "errors": errors or {},
            "failed_question": failed_question,
        }, status_code=status_code, done=done)

    @get("/events/{event_id:int}/consultation/questions")
    async def show_questions(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id)
        if isinstance(event, Response):
            return event
        return await self._questions_page(request, db_session, account, event, done=done)

    @post("/events/{event_id:int}/consultation/questions", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def record_question(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """A question asked at the event, as the organisers noted it."""
        event = await self._event(request, db_session, account, event_id, editing=True)
        if isinstance(event, Response):
            return event
        form = await request.form()
        values = {"question": text(form, "question", LONG_TEXT),
                  "asked_by": text(form, "asked_by", 301),
                  "may_name_asker": "yes" if form.get("may_name_asker") else ""}
        try:
            await consultation.record_question(
                db_session, event_id, values["question"], asked_by=values["asked_by"],
                may_name_asker=bool(values["may_name_asker"]), now=utc_now())
        except DomainError as refused:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            return await self._questions_page(request, db_session, account, event,
                                              values=values, errors=field_errors(refused),
                                              status_code=refusal_status(refused))
        return Redirect(_base(event_id, "/questions?done=question"),
                        status_code=HTTP_303_SEE_OTHER)

    @post("/events/{event_id:int}/consultation/questions/{question_id:int}/answer",
          guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def publish_answer(self, request: AnyRequest, db_session: DbSession,
                             settings: SettingsDep, account: CurrentAccount, event_id: IdParam,
                             question_id: IdParam) -> Response[Any]:
        """Publish the buyer's answer to every registered supplier (once)."""
        event = await self._event(request, db_session, account, event_id, editing=True)
        if isinstance(event, Response):
            return event
        form = await request.form()
        answer = text(form, "answer", LONG_TEXT)
        try:
            await consultation.publish_answer(db_session, event_id, question_id, answer,
                                              now=utc_now(), settings=settings)
        except DomainError as refused:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            errors = {("answer" if field == "question_id" else field): message
                      for field, message in field_errors(refused).items()}
            return await self._questions_page(
                request, db_session, account, event, values={"answer": answer},
                errors=errors, failed_question=question_id,
                status_code=404 if refused.field == "question_id" else refusal_status(refused))
        return Redirect(_base(event_id, "/questions?done=answer"),
                        status_code=HTTP_303_SEE_OTHER)

    # -- the report --

    @get("/events/{event_id:int}/consultation/report")
    async def show_report(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id)
        if isinstance(event, Response):
            return event
        report = await consultation.consultation_report(db_session, event_id, now=utc_now())
        zone = event.timezone
        return self._page(request, account, event, "consultation_report.html", "report",
                          _("Consultation report: %(title)s"), {
            "report": report,
            "value_text": consultation.euro_text(
                report.profile.estimated_value_cents if report.profile else None),
            "participants": [(r, _(STATUS_LABELS[r.status]),
                              local_and_utc(r.created_at, zone)[0],
                              local_and_utc(r.checked_in_at, zone)[0])
                             for r in report.participants],
            "questions": [(q, consultation.public_asker(q), local_and_utc(q.asked_at, zone)[0],
                           local_and_utc(q.answered_at, zone)[0]) for q in report.questions],
            "documents": [(d, local_and_utc(d.shared_at, zone)[0],
                           local_and_utc(d.withdrawn_at, zone)[0] if d.withdrawn_at else None)
                          for d in report.documents],
            "made_at": local_and_utc(report.made_at, zone)[0],
        })

    @get("/events/{event_id:int}/consultation/report.csv")
    async def report_csv(self, request: AnyRequest, db_session: DbSession,
                         account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await self._event(request, db_session, account, event_id)
        if isinstance(event, Response):
            return event
        report = await consultation.consultation_report(db_session, event_id, now=utc_now())
        return Response(content=report_csv(report), media_type="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="consultation-{event.slug}.csv"',
                                 "X-Content-Type-Options": "nosniff"})


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _row(*cells: object) -> list[object]:
    return list(cells)


def report_csv(report: consultation.ConsultationReport) -> bytes:
    """One row per fact: (record, date, who or what, detail, more); UTF-8 with a byte order
    mark and CRLF rows for spreadsheets, formula-like cells neutralised."""
    rows: list[list[object]] = [["record", "date", "subject", "detail", "more"]]
    profile = report.profile
    if profile is not None:
        rows += [
            ["profile", _iso(profile.updated_at), "buying authority", profile.buyer_name, ""],
            ["profile", "", "subject", profile.subject, ""],
            *[_row("profile", "", "CPV code", code.code, code.label or "")
              for code in profile.cpv_codes],
            ["profile", "", "estimated value",
             consultation.euro_text(profile.estimated_value_cents), ""],
            ["profile", _iso(profile.planned_publication_on), "planned publication", "", ""],
            ["profile", "", "procedure", profile.procedure_label, ""],
            *[_row("host", "", host.name, host.job_title or "", host.email or "")
              for host in profile.hosts],
        ]
    for person in report.participants:
        rows.append(["participant", _iso(person.created_at), person.name,
                     person.company or person.organisation_name,
                     f"{person.status}; attended {_iso(person.checked_in_at)}"
                     if person.checked_in_at else f"{person.status}; not checked in"])
    for meeting in report.meetings:
        rows.append(["meeting", f"{meeting.date.isoformat()} {meeting.time}",
                     meeting.host, meeting.supplier_company,
                     f"{meeting.status}; {meeting.table}"])
    if not report.meetings:
        rows.append(["meeting", "", "no one-to-one meetings recorded", "", ""])
    for question in report.questions:
        rows.append(["question", _iso(question.asked_at), question.asked_by,
                     question.question, "named with consent" if question.may_name_asker
                     else "published without the asker's name"])
        if question.answered_at is not None:
            rows.append(["answer", _iso(question.answered_at), "", question.answer or "",
                         "sent to every registered supplier"])
    for document in report.documents:
        rows.append(["document", _iso(document.shared_at), document.title,
                     document.url or document.file_name or "",
                     "sent to every registered supplier"])
        if document.withdrawn_at is not None:
            rows.append(["document withdrawn", _iso(document.withdrawn_at), document.title,
                         "", "no longer offered to suppliers"])
    rows.append(["retention", "", "", report.retention_note, ""])
    return spreadsheet_csv(rows)


