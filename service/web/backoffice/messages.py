"""Write to registrants: choose who (confirmed, waiting, pending; the whole event or one
session), write a subject and text (and, if wished, the same in other languages), see how
many receive each version and the first one's copy, confirm, and find the emails queued on
the emails page.

Editors of the event only. Every step is a plain form (POST, then a redirect once sent);
the preview carries the draft in hidden fields and the count it showed, which the send
step checks (`send_organiser_message`), so nobody is written to whom the organiser did
not count. A message may be sent later instead (`scheduled_messages`): at a time in the
event's zone, to whoever is in the group then; the form lists those waiting, to cancel,
and those sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Event, ScheduledMessage, ScheduledMessageStatus
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.registration import attendance_counts
from service.domain.registration import scheduled_messages as scheduled
from service.domain.registration.organiser_messages import (
    AUDIENCES,
    MAX_SUBJECT,
    MAX_TEXT,
    MessageDraft,
    offered_audiences,
    preview_organiser_message,
    send_organiser_message,
)
from service.domain.times import parse_instant
from service.domain.wording import short_date_text, zone_label
from service.i18n import LANGUAGE_NAMES, LANGUAGES, N_, ngettext
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.forms import other_languages
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_editor
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, OptionalIdQuery, SettingsDep

WHOLE_EVENT = ""
# What was just done with a scheduled message, as the form says it (`?done=`).
DONE = {"scheduled": N_("The message is scheduled: it goes out at its time, to whoever is "
                        "in its group then."),
        "cancelled": N_("The scheduled message is cancelled: it will not be sent.")}


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
                              "subject": subject, "text": text,
                              "send_at": str(form.get("send_at") or "").strip()[:40]}
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


def _send_at(event: Event, values: dict[str, Any], errors: dict[str, str]) -> datetime | None:
    """When to send it (a wall time in the event's zone), None for now; a time that cannot
    be read is named in `errors`."""
    if not values["send_at"]:
        return None
    try:
        return parse_instant(values["send_at"], event.timezone, "send_at")
    except InvalidInputError as refused:
        errors.setdefault("send_at", refused.message)
        return None


def _scheduled_rows(event: Event, messages: Sequence[ScheduledMessage],
                    labels: dict[str, str]) -> list[dict[str, Any]]:
    """Each scheduled message as the form lists it: when (the event's zone and UTC), to
    whom, its subject, and what became of it."""
    sessions = dict(_session_options(event))
    rows = []
    for message in messages:
        local, utc = local_and_utc(message.send_at, event.timezone)
        group = ", ".join(_(labels.get(a, a)) for a in message.audiences)
        if message.status == ScheduledMessageStatus.SENT:
            state = ngettext("Sent to %(count)s person", "Sent to %(count)s people",
                             message.recipients or 0) % {"count": message.recipients or 0}
        elif message.status == ScheduledMessageStatus.FAILED:
            # The scheduler words the problem in the default language: the catalogue's
            # message where it is one of ours, in the reader's language.
            state = _("Not sent: %(problem)s") % {"problem": _(message.problem)}
        elif message.status == ScheduledMessageStatus.CANCELLED:
            state = _("Cancelled")
        else:
            state = _("Waiting to be sent")
        rows.append({"id": message.id, "when": local, "when_utc": utc,
                     "to": f"{group} ({sessions.get(str(message.session_id or ''), '')})",
                     "subject": message.subject, "state": state,
                     "is_pending": message.status == ScheduledMessageStatus.PENDING})
    return rows


class MessagesController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_editor]
    include_in_schema = False

    async def _form_page(self, request: AnyRequest, db: AsyncSession, event: Event,
                         account: CurrentAccount, values: dict[str, Any],
                         errors: dict[str, str], *, done: str | None = None,
                         status_code: int = 200) -> Response[Any]:
        offered = await _audiences(db, event)
        return organiser_page(request, "message.html", {
            "title": _("Write to registrants: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "message",
            # In the form's order: the time to send it comes last.
            "values": values, "done": done,
            "errors": {**{k: v for k, v in errors.items() if k != "send_at"},
                       **({"send_at": errors["send_at"]} if "send_at" in errors else {})},
            "zone_label": zone_label(event.timezone),
            "scheduled": _scheduled_rows(event, await scheduled.scheduled_messages(db, event.id),
                                        {**AUDIENCES, **offered}),
            "audiences": [(key, _(label)) for key, label in offered.items()],
            "session_options": _session_options(event), "max_subject": MAX_SUBJECT,
            "max_text": MAX_TEXT, "written_in": LANGUAGE_NAMES[event.default_language],
            "other_languages": other_languages(event),
            "translations_open": any(
                values.get(f"{part}_{code}") or f"{part}_{code}" in errors
                for code in LANGUAGES for part in ("subject", "text")),
        }, status_code=status_code)

    @get("/events/{event_id:int}/message")
    async def message_form(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, session: OptionalIdQuery = None,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        """The form; `session` chooses one of the event's sessions already (the materials
        page links here so); `done` says what was just done with a scheduled message."""
        event = await event_for(db_session, account, event_id, editing=True)
        chosen = str(session) if session in {s.id for s in event.sessions} else WHOLE_EVENT
        return await self._form_page(request, db_session, event, account, {
            "audience": ["confirmed"], "session_id": chosen, "subject": "", "text": "",
            "send_at": ""}, {}, done=_(DONE[done]) if done in DONE else None)

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
        send_at = _send_at(event, values, errors)
        if send_at is not None and send_at <= utc_now():
            errors["send_at"] = _("Choose a time still to come, or send the message now.")
        try:
            preview = await preview_organiser_message(db_session, event_id, draft,
                                                      now=utc_now(), settings=settings)
        except InvalidInputError as refused:
            errors.update({e.field: e.message for e in refused.errors
                           if e.field and e.field not in errors})
        if errors:
            return await self._form_page(request, db_session, event, account, values, errors, status_code=422)
        return await self._preview_page(request, db_session, event, account, values, preview,
                                        send_at=send_at)

    async def _preview_page(self, request: AnyRequest, db: AsyncSession, event: Event,
                            account: CurrentAccount, values: dict[str, Any], preview: Any, *,
                            problem: str | None = None, status_code: int = 200,
                            send_at: datetime | None = None) -> Response[Any]:
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
            # Sent later: when, in the event's zone and UTC.
            "send_at": local_and_utc(send_at, event.timezone) if send_at else None,
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

    @post("/events/{event_id:int}/message/schedule", status_code=HTTP_303_SEE_OTHER)
    async def schedule_message(self, request: AnyRequest, db_session: DbSession,
                               account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """Keep the previewed message to send at its time; back to the form, which lists it."""
        event = await event_for(db_session, account, event_id, editing=True)
        draft, values, errors = _draft(await request.form())
        send_at = _send_at(event, values, errors)
        if send_at is None and "send_at" not in errors:
            errors["send_at"] = _("Give the day and time to send it.")
        if not errors and send_at is not None:
            try:
                await scheduled.schedule_message(db_session, event_id, draft, send_at=send_at,
                                                 now=utc_now(), account_id=account.id)
            except InvalidInputError as refused:
                errors.update({e.field: e.message for e in refused.errors if e.field})
        if errors:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            return await self._form_page(request, db_session, event, account, values, errors,
                                         status_code=422)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/message?done=scheduled#scheduled",
                        status_code=HTTP_303_SEE_OTHER)

    @post("/events/{event_id:int}/message/scheduled/{scheduled_message_id:int}/cancel",
          status_code=HTTP_303_SEE_OTHER)
    async def cancel_scheduled_message(self, db_session: DbSession, account: CurrentAccount,
                                       event_id: IdParam, scheduled_message_id: IdParam
                                       ) -> Response[Any]:
        """It will not be sent (409 once it was)."""
        event = await event_for(db_session, account, event_id, editing=True)
        await scheduled.cancel_scheduled_message(db_session, event.id, scheduled_message_id,
                                                 now=utc_now())
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/message?done=cancelled#scheduled",
                        status_code=HTTP_303_SEE_OTHER)
