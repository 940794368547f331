"""Write to registrants: choose who (confirmed, waiting, pending; the whole event or one
session), write a subject and text (and, if wished, the same in other languages), see how
many receive each version and the first one's copy, confirm, and find the emails queued on
the emails page.

Editors of the event only. Every step is a plain form (POST, then a redirect once sent);
the preview carries the draft in hidden fields and the count it showed, which the send
step checks (`send_organiser_message`), so nobody is written to whom the organiser did
not count.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Event
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.registration import attendance_counts
from service.domain.registration.organiser_messages import (
    AUDIENCES,
    MAX_SUBJECT,
    MAX_TEXT,
    MessageDraft,
    offered_audiences,
    preview_organiser_message,
    send_organiser_message,
)
from service.domain.wording import short_date_text
from service.i18n import LANGUAGE_NAMES, LANGUAGES
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.forms import other_languages
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_editor
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, OptionalIdQuery, SettingsDep

WHOLE_EVENT = ""


def _draft(form: Any) -> tuple[MessageDraft, dict[str, Any], dict[str, str]]:
    """The draft as typed, the values to show again, and what could not even be read."""
    audiences = [str(value) for value in form.getall("audience", [])]
    session_text = str(form.get("session_id") or WHOLE_EVENT).strip()
    errors: dict[str, str] = {}
    session_id: int | None = None
    if session_text:
        if session_text.isdigit() and len(session_text) < 10:
            session_id = int(session_text)
        else:
            errors["session_id"] = _("Choose a session of this event, or the whole event.")
    subject, text = str(form.get("subject") or ""), str(form.get("text") or "")
    values: dict[str, Any] = {"audience": audiences, "session_id": session_text,
                              "subject": subject, "text": text}
    translations: dict[str, tuple[str, str]] = {}
    for language in LANGUAGES:
        typed = (str(form.get(f"subject_{language}") or ""),
                 str(form.get(f"text_{language}") or ""))
        values[f"subject_{language}"], values[f"text_{language}"] = typed
        if any(typed):
            translations[language] = typed
    return (MessageDraft(audiences=audiences, subject=subject, text=text,
                         session_id=session_id, translations=translations), values, errors)


def _session_options(event: Event) -> list[tuple[str, str]]:
    sessions = sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
    return [(WHOLE_EVENT, _("The whole event"))] + [
        (str(s.id), f"{s.title} ({short_date_text(s.starts_at.date())} {s.starts_at.year})")
        for s in sessions]


async def _audiences(db: AsyncSession, event: Event) -> dict[str, str]:
    return offered_audiences(event, (await attendance_counts(db, event.id))[0] > 0)


class MessagesController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_editor]
    include_in_schema = False

    async def _form_page(self, request: AnyRequest, db: AsyncSession, event: Event,
                         account: CurrentAccount, values: dict[str, Any],
                         errors: dict[str, str], *, status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "message.html", {
            "title": _("Write to registrants: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "message",
            "values": values, "errors": errors,
            "audiences": [(key, _(label))
                          for key, label in (await _audiences(db, event)).items()],
            "session_options": _session_options(event), "max_subject": MAX_SUBJECT,
            "max_text": MAX_TEXT, "written_in": LANGUAGE_NAMES[event.default_language],
            "other_languages": other_languages(event),
            "translations_open": any(
                values.get(f"{part}_{code}") or f"{part}_{code}" in errors
                for code in LANGUAGES for part in ("subject", "text")),
        }, status_code=status_code)

    @get("/events/{event_id:int}/message")
    async def message_form(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam,
                           session: OptionalIdQuery = None) -> Response[Any]:
        """The form; `session` chooses one of the event's sessions already (the materials
        page links here so)."""
        event = await event_for(db_session, account, event_id, editing=True)
        chosen = str(session) if session in {s.id for s in event.sessions} else WHOLE_EVENT
        return await self._form_page(request, db_session, event, account, {
            "audience": ["confirmed"], "session_id": chosen, "subject": "", "text": ""}, {})

    @post("/events/{event_id:int}/message/edit", status_code=200)
    async def edit_message(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """Back from the preview to the form, with the draft as it was."""
        event = await event_for(db_session, account, event_id, editing=True)
        _, values, errors = _draft(await request.form())
        return await self._form_page(request, db_session, event, account, values, errors)

    @post("/events/{event_id:int}/message/preview", status_code=200)
    async def preview_message(self, request: AnyRequest, db_session: DbSession,
                              settings: SettingsDep, account: CurrentAccount,
                              event_id: IdParam) -> Response[Any]:
        """How many receive it and the first copy; or the form again with every problem."""
        event = await event_for(db_session, account, event_id, editing=True)
        draft, values, errors = _draft(await request.form())
        try:
            preview = await preview_organiser_message(db_session, event_id, draft,
                                                      now=utc_now(), settings=settings)
        except InvalidInputError as refused:
            errors.update({e.field: e.message for e in refused.errors
                           if e.field and e.field not in errors})
        if errors:
            return await self._form_page(request, db_session, event, account, values, errors, status_code=422)
        return await self._preview_page(request, db_session, event, account, values, preview)

    async def _preview_page(self, request: AnyRequest, db: AsyncSession, event: Event,
                            account: CurrentAccount, values: dict[str, Any], preview: Any, *,
                            problem: str | None = None, status_code: int = 200
                            ) -> Response[Any]:
        session_label = dict(_session_options(event)).get(values["session_id"], "")
        labels = {**AUDIENCES, **await _audiences(db, event)}
        return organiser_page(request, "message_preview.html", {
            "title": _("Check your message: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "message", "values": values,
            "audience_labels": [_(labels[a]) for a in preview.draft.audiences],
            "session_label": session_label, "recipients": preview.recipients,
            "versions": preview.versions, "translated": bool(preview.draft.translations),
            "written_language": preview.draft.language,
            "other_languages": other_languages(event), "problem": problem,
        }, status_code=status_code)

    @post("/events/{event_id:int}/message/send", status_code=HTTP_303_SEE_OTHER)
    async def send_message(self, request: AnyRequest, db_session: DbSession,
                           settings: SettingsDep, account: CurrentAccount,
                           event_id: IdParam) -> Response[Any]:
        """Queue one email per recipient, then show them on the emails page."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        draft, values, errors = _draft(form)
        expected_text = str(form.get("recipients") or "")
        expected = int(expected_text) if expected_text.isdigit() and len(expected_text) < 10 else -1
        if errors:
            return await self._form_page(request, db_session, event, account, values, errors, status_code=422)
        try:
            sent = await send_organiser_message(db_session, event_id, draft, now=utc_now(),
                                                settings=settings, expected_recipients=expected)
        except ConflictError as changed:
            preview = await preview_organiser_message(db_session, event_id, draft,
                                                      now=utc_now(), settings=settings)
            return await self._preview_page(request, db_session, event, account, values, preview,
                                      problem=changed.message, status_code=409)
        except InvalidInputError as refused:
            errors.update({e.field: e.message for e in refused.errors if e.field})
            return await self._form_page(request, db_session, event, account, values, errors, status_code=422)
        return Redirect(
            f"{BACKOFFICE_PATH}/events/{event_id}/emails?sent={sent.recipients}",
            status_code=HTTP_303_SEE_OTHER)
