"""The audit log in the back office: what changed in an event, and what an account did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from service.db.models import AuditEntry, Event
from service.domain.accounts import AuditPage, get_account, list_audit_entries
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    BackofficeForbidden,
    CurrentAccount,
    require_account,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

PAGE_SIZE = 50
# Marked here, translated where shown (`entry_row`).
ACTION_LABELS = {"created": N_("Created"), "changed": N_("Changed"), "deleted": N_("Deleted"),
                 "exported": N_("Exported")}
SUBJECT_LABELS = {"event": N_("Event"), "session": N_("Session"),
                  "agenda_item": N_("Agenda item"), "session_material": N_("Session material"),
                  "agenda_item_speaker": N_("Speaker of an agenda item"),
                  "person": N_("Person"), "organisation": N_("Organisation"),
                  "registration": N_("Registration"), "enrolment": N_("Place in a session"),
                  "organiser_message": N_("Message to registrants"), "account": N_("Account"),
                  "registrations_export": N_("Registrations (CSV)"),
                  "personal_data_export": N_("Everything held about one address (JSON)")}
SUBJECT_LABELS.update({"consultation_profile": N_("Buyer profile"),
                       "consultation_document": N_("Consultation document"),
                       "consultation_question": N_("Question to the buyer")})
SUBJECT_LABELS.update({"content_translation": N_("Translation"),
                       "scheduled_message": N_("Message to send later"),
                       "feedback_question": N_("Feedback question")})
PageParam = Annotated[int, QueryParameter(ge=1, le=100_000)]


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EntryRow:
    id: int
    at: str
    actor: str
    action: str
    subject: str
    event_id: int | None
    changes: list[Change]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def entry_row(entry: AuditEntry) -> EntryRow:
    before, after = entry.before or {}, entry.after or {}
    fields = list(after) + [key for key in before if key not in after]
    return EntryRow(
        id=entry.id, at=entry.at.strftime("%Y-%m-%d %H:%M:%S UTC"), actor=entry.actor_label,
        action=_(ACTION_LABELS[entry.action]) if entry.action in ACTION_LABELS else entry.action,
        subject=(_(SUBJECT_LABELS[entry.subject_type]) if entry.subject_type in SUBJECT_LABELS
                 else entry.subject_type)
        + ("" if entry.subject_id is None else f" #{entry.subject_id}"),
        event_id=entry.event_id,
        changes=[Change(field=key, before=_text(before.get(key)) if entry.before else "",
                        after=_text(after.get(key)) if entry.after else "")
                 for key in fields if key != "id"],
    )


def _page_context(log: AuditPage, base_url: str) -> dict[str, Any]:
    return {"entries": [entry_row(e) for e in log.entries], "page": log.page, "pages": log.pages,
            "total": log.total, "base_url": base_url}


class AuditPagesController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/audit")
    async def event_audit(self, request: AnyRequest, db_session: DbSession, event_id: IdParam,
                          page: PageParam = 1) -> Response[Any]:
        """Every change to the event, its sessions, agenda and registrations (the guard has
        checked the event is the account's teams')."""
        event = await db_session.get(Event, event_id)
        log = await list_audit_entries(db_session, event_id=event_id, page=page,
                                       page_size=PAGE_SIZE)
        title = (event.title if event is not None
                 else _("Event #%(id)s (deleted)") % {"id": event_id})
        return organiser_page(request, "audit.html", {
            "title": _("Changes: %(title)s") % {"title": title},
            "heading": _("Changes to %(title)s") % {"title": title}, "nav": "events",
            **_page_context(log, f"{BACKOFFICE_PATH}/events/{event_id}/audit")})

    @get("/accounts/{account_id:int}/audit")
    async def account_audit(self, request: AnyRequest, db_session: DbSession,
                            account: CurrentAccount, account_id: IdParam,
                            page: PageParam = 1) -> Response[Any]:
        """What one account changed: admins see anyone's, others their own."""
        if not account.is_admin and account.id != account_id:
            raise BackofficeForbidden(_("Only administrators can see what other accounts did."))
        subject = await get_account(db_session, account_id)
        log = await list_audit_entries(db_session, account_id=account_id, page=page,
                                       page_size=PAGE_SIZE)
        return organiser_page(request, "audit.html", {
            "title": _("Changes by %(name)s") % {"name": subject.name},
            "heading": _("Changes made by %(name)s") % {"name": subject.name},
            "nav": "accounts" if account.is_admin else None,
            **_page_context(log, f"{BACKOFFICE_PATH}/accounts/{account_id}/audit")})
