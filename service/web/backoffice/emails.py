"""The event's emails in the back office: the whole outbox (filter by status, search by
recipient, pages), each email as its recipient sees it, and sending failed ones again.

Reading needs an account that sees the event; sending again needs an editor of it. The
HTML of an email is served alone, under a CSP that forbids scripts and outside requests,
to a sandboxed frame on the email's page: what registrants typed cannot run here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.clock import utc_now
from service.db.models import OutboxEmail, OutboxStatus
from service.domain import outbox_emails
from service.domain.errors import ConflictError, InvalidInputError
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

PAGE_SIZE = 50
# Marked here, translated where shown.
STATUS_LABELS: dict[str, str] = {
    "composing": N_("Being written"),
    "queued": N_("Queued"),
    "sending": N_("Sending"),
    "retry": N_("Waiting to retry"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "withdrawn": N_("Withdrawn"),
}
TEMPLATE_LABELS: dict[str, str] = {
    "registration_confirmed_to_registrant": N_("Registration confirmed"),
    "registration_waiting_to_registrant": N_("On the waiting list"),
    "registration_pending_to_registrant": N_("Application received"),
    "registration_approved_to_registrant": N_("Application approved"),
    "registration_declined_to_registrant": N_("Application declined"),
    "registration_promoted_to_registrant": N_("Place offered from the waiting list"),
    "registration_cancelled_to_registrant": N_("Registration cancelled"),
    "registration_link_to_registrant": N_("Private link sent again"),
    "registration_new_session_to_registrant": N_("New session added"),
    "registration_sessions_added_to_registrant": N_("Sessions added"),
    "registration_sessions_dropped_to_registrant": N_("Sessions dropped"),
    "address_confirmation_to_registrant": N_("Confirm your address"),
    "reminder_to_registrant": N_("Reminder"),
    "session_changed_to_registrant": N_("Session changed"),
    "speaker_slot_to_speaker": N_("Speaker's slot"),
    "speaker_slot_changed_to_speaker": N_("Speaker's slot changed"),
    "speaker_slot_cancelled_to_speaker": N_("Speaker's slot cancelled"),
    "organiser_message_to_registrant": N_("Message from the organisers"),
}
# The email's own HTML, alone: no script, nothing fetched from elsewhere, no form, no
# navigation; framed only by our own pages.
EMAIL_BODY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox"
    ),
}
PageParam = Annotated[int, QueryParameter(ge=1, le=100_000)]


def template_label(template: str) -> str:
    if template in TEMPLATE_LABELS:
        return _(TEMPLATE_LABELS[template])
    return template.replace("_", " ").capitalize()


@dataclass(frozen=True)
class EmailRow:
    id: int
    to_address: str
    template: str
    subject: str
    status: str
    status_label: str
    attempts: int
    last_error: str | None
    created_local: str
    created_utc: str
    sent_local: str
    can_resend: bool


def email_row(email: OutboxEmail, zone: str) -> EmailRow:
    created = local_and_utc(email.created_at, zone)
    return EmailRow(
        id=email.id, to_address=email.to_address, template=template_label(email.template),
        subject=email.subject, status=email.status.value,
        status_label=_(STATUS_LABELS[email.status.value]), attempts=email.attempts,
        last_error=email.last_error, created_local=created[0], created_utc=created[1],
        sent_local=local_and_utc(email.sent_at, zone)[0],
        can_resend=email.status == OutboxStatus.FAILED)


def emails_url(event_id: int, **query: Any) -> str:
    kept = {key: value for key, value in query.items()
            if value and not (key == "page" and value == 1)}
    suffix = f"?{urlencode(kept, doseq=True)}" if kept else ""
    return f"{BACKOFFICE_PATH}/events/{event_id}/emails{suffix}"


class EmailsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/emails")
    async def list_emails(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, page: PageParam = 1,
        status: Annotated[str, QueryParameter(max_length=20)] = "",
        recipient: Annotated[str, QueryParameter(max_length=400)] = "",
        resent: Annotated[int | None, QueryParameter(ge=0, le=1_000_000)] = None,
        sent: Annotated[int | None, QueryParameter(ge=0, le=1_000_000)] = None,
    ) -> Response[Any]:
        """The outbox, newest first, with counts per status and the filters kept."""
        event = await event_for(db_session, account, event_id)
        values = {"status": status, "recipient": recipient}
        errors: dict[str, str] = {}
        try:
            found = await outbox_emails.find_event_emails(
                db_session, event_id, statuses=[status] if status else [], recipient=recipient,
                page=page, page_size=PAGE_SIZE)
        except InvalidInputError as error:
            errors = {"status" if (e.field or "").startswith("status") else "recipient":
                      e.message for e in error.errors}
            found = await outbox_emails.find_event_emails(db_session, event_id,
                                                          page_size=PAGE_SIZE)
        pages = max(1, -(-found.total // PAGE_SIZE))
        return organiser_page(request, "emails.html", {
            "title": _("Emails: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "emails",
            "values": values, "errors": errors,
            "status_options": [(key, _(label)) for key, label in STATUS_LABELS.items()],
            "counts": [(key, _(label), found.counts[OutboxStatus(key)])
                       for key, label in STATUS_LABELS.items()],
            "failed_count": found.counts[OutboxStatus.FAILED],
            "emails": [email_row(email, event.timezone) for email in found.emails],
            "total": found.total, "page": min(page, pages), "pages": pages,
            "prev_url": emails_url(event_id, status=status, recipient=recipient, page=page - 1)
            if page > 1 else None,
            "next_url": emails_url(event_id, status=status, recipient=recipient, page=page + 1)
            if page < pages else None,
            "resent": resent, "sent": sent,
        }, status_code=422 if errors else 200)

    @get("/events/{event_id:int}/emails/{email_id:int}")
    async def show_email(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, email_id: IdParam,
        resent: Annotated[bool, QueryParameter()] = False,
    ) -> Response[Any]:
        """One email as the recipient gets it: headers, text, the HTML in a sandbox, what it
        carries, and every delivery attempt."""
        event = await event_for(db_session, account, event_id)
        return await self._email_page(request, db_session, account, event.id, email_id,
                                      notice=_("Queued to be sent again.") if resent else None)

    async def _email_page(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: int, email_id: int, *, notice: str | None = None,
        problem: str | None = None, status_code: int = 200,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        preview = await outbox_emails.get_email_preview(db_session, email_id,
                                                        event_id=event_id)
        zone = event.timezone
        return organiser_page(request, "emails_one.html", {
            "title": _("Email to %(address)s") % {"address": preview.email.to_address},
            "nav": "events",
            "event": heading(event, account), "section": "emails",
            "email": email_row(preview.email, zone), "headers": preview.headers,
            "text": preview.text, "has_html": preview.html is not None,
            "attachments": preview.attachments,
            "attempts": [(local_and_utc(a.attempted_at, zone), a.outcome, a.smtp_code, a.detail)
                         for a in preview.attempts],
            "body_url": f"{BACKOFFICE_PATH}/events/{event_id}/emails/{email_id}/body.html",
            "back_url": emails_url(event_id), "notice": notice, "problem": problem,
        }, status_code=status_code)

    @get("/events/{event_id:int}/emails/{email_id:int}/body.html")
    async def email_body(self, db_session: DbSession, account: CurrentAccount,
                         event_id: IdParam, email_id: IdParam) -> Response[Any]:
        """The email's HTML part alone, for the sandboxed frame of its page."""
        await event_for(db_session, account, event_id)
        preview = await outbox_emails.get_email_preview(db_session, email_id,
                                                        event_id=event_id)
        return Response(preview.html or "", media_type=MediaType.HTML,
                        headers=EMAIL_BODY_HEADERS)

    @post("/events/{event_id:int}/emails/{email_id:int}/resend", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def resend_email(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam,
                           email_id: IdParam) -> Response[Any]:
        """Queue one failed email again; anything else is refused with the reason."""
        await event_for(db_session, account, event_id, editing=True)
        await outbox_emails.get_email_preview(db_session, email_id, event_id=event_id)
        try:
            await outbox_emails.resend_email(db_session, email_id, now=utc_now())
        except ConflictError as refused:
            return await self._email_page(request, db_session, account, event_id, email_id,
                                          problem=refused.message, status_code=409)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/emails/{email_id}?resent=true",
                        status_code=HTTP_303_SEE_OTHER)

    @post("/events/{event_id:int}/emails/resend-failed", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def resend_failed(self, db_session: DbSession, account: CurrentAccount,
                            event_id: IdParam) -> Response[Any]:
        """Queue every failed email of the event again (not those past their time)."""
        await event_for(db_session, account, event_id, editing=True)
        report = await outbox_emails.resend_failed_event_emails(db_session, event_id,
                                                               now=utc_now())
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/emails?resent={len(report.resent)}",
                        status_code=HTTP_303_SEE_OTHER)
