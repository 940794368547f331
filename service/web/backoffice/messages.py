"""Write to registrants: choose who (confirmed, waiting, pending; the whole event or one
session), write a subject and text (and, if wished, the same in other languages), see how
many receive each version and the first one's copy, confirm, and find the emails queued on
the emails page.

Editors of the event only. Every step is a plain form (POST, then a redirect once sent);
the preview carries the draft in hidden fields and the count it showed, which the send
step checks (`send_organiser_message`), so nobody is written to whom the organiser did
not count. A message may be sent later instead (`scheduled_messages`): at a time in the
event's zone, or so long before the start or after the end (which follows the programme),
to whoever is in the group then; the form lists those waiting, to cancel, and those sent.
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
from service.db.models import Event, MessageTiming, ScheduledMessage, ScheduledMessageStatus
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
# "Send later": a day and time, or so many hours or days before the start or after the end.
SEND_LATER_FIELDS = ("send_at", "send_offset", "send_unit", "send_timing")
MINUTES_IN = {"hours": 60, "days": 24 * 60}
UNITS = {"days": N_("days"), "hours": N_("hours")}
TIMINGS = {MessageTiming.AFTER_END: N_("after the end"),
           MessageTiming.BEFORE_START: N_("before the start")}
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
                              **{name: str(form.get(name) or "").strip()[:40]
                                 for name in SEND_LATER_FIELDS}}
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


def _send_later(event: Event, values: dict[str, Any], errors: dict[str, str]
                ) -> tuple[datetime | None, scheduled.RelativeTime | None]:
    """When to send it, as typed: a wall time in the event's zone, or a time relative to
    the event; (None, None) for now. What cannot be read is named in `errors`."""
    send_at: datetime | None = None
    relative: scheduled.RelativeTime | None = None
    if values["send_at"]:
        try:
            send_at = parse_instant(values["send_at"], event.timezone, "send_at")
        except InvalidInputError as refused:
            errors.setdefault("send_at", refused.message)
    if values["send_offset"]:
        amount, unit = values["send_offset"], values["send_unit"]
        if not (amount.isdigit() and len(amount) <= 6):
            errors.setdefault("send_offset", _("Give a whole number of hours or days."))
        elif unit not in MINUTES_IN:
            errors.setdefault("send_unit", _("Choose hours or days."))
        elif values["send_timing"] not in TIMINGS:
            errors.setdefault("send_timing", _("Choose before the start or after the end."))
        else:
            relative = scheduled.RelativeTime(MessageTiming(values["send_timing"]),
                                              int(amount) * MINUTES_IN[unit])
    if values["send_at"] and values["send_offset"]:
        errors.setdefault("send_at", _(
            "Give either a day and time, or a time before the start or after the end, "
            "not both."))
    return send_at, relative


def _form_field(field: str | None) -> str:
    """The form's field for a problem the domain names (its offset is in minutes, the
    form's in hours or days)."""
    return "send_offset" if field == "send_offset_minutes" else field or "send_at"


def timing_text(relative: scheduled.RelativeTime) -> str:
    """"1 day after the end", "2 hours before the start", in whole days or hours where it
    is."""
    minutes = relative.minutes
    if minutes % MINUTES_IN["days"] == 0 and minutes:
        count = minutes // MINUTES_IN["days"]
        amount = ngettext("%(count)s day", "%(count)s days", count)
    elif minutes % MINUTES_IN["hours"] == 0:
        count = minutes // MINUTES_IN["hours"]
        amount = ngettext("%(count)s hour", "%(count)s hours", count)
    else:
        count = minutes
        amount = ngettext("%(count)s minute", "%(count)s minutes", count)
    return _("%(amount)s %(timing)s") % {"amount": amount % {"count": count},
                                         "timing": _(TIMINGS[relative.timing])}


def _scheduled_rows(event: Event, messages: Sequence[ScheduledMessage],
                    labels: dict[str, str]) -> list[dict[str, Any]]:
    """Each scheduled message as the form lists it: when (the event's zone and UTC), to
    whom, its subject, and what became of it."""
    sessions = dict(_session_options(event))
    rows = []
    for message in messages:
        local, utc = local_and_utc(scheduled.send_time(message, event.sessions),
                                   event.timezone)
        relative = scheduled.relative_time_of(message)
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
                     "timing": timing_text(relative) if relative else "",
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
            "errors": {**{k: v for k, v in errors.items() if k not in SEND_LATER_FIELDS},
                       **{k: errors[k] for k in SEND_LATER_FIELDS if k in errors}},
            "units": [(unit, _(label)) for unit, label in UNITS.items()],
            "timings": [(timing.value, _(label)) for timing, label in TIMINGS.items()],
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
            "send_at": "", "send_offset": "", "send_unit": "days",
            "send_timing": MessageTiming.AFTER_END.value}, {},
            done=_(DONE[done]) if done in DONE else None)

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
        send_at, relative = _send_later(event, values, errors)
        if (send_at or relative) and not errors:
            try:
                send_at = scheduled.when_to_send(event.sessions, draft.session_id,
                                                 send_at=send_at, relative=relative,
                                                 now=utc_now())
            except InvalidInputError as refused:
                errors[_form_field(refused.field)] = refused.message
        try:
            preview = await preview_organiser_message(db_session, event_id, draft,
                                                      now=utc_now(), settings=settings)
        except InvalidInputError as refused:
            errors.update({e.field: e.message for e in refused.errors
                           if e.field and e.field not in errors})
        if errors:
            return await self._form_page(request, db_session, event, account, values, errors, status_code=422)
        return await self._preview_page(request, db_session, event, account, values, preview,
                                        send_at=send_at, relative=relative)

    async def _preview_page(self, request: AnyRequest, db: AsyncSession, event: Event,
                            account: CurrentAccount, values: dict[str, Any], preview: Any, *,
                            problem: str | None = None, status_code: int = 200,
                            send_at: datetime | None = None,
                            relative: scheduled.RelativeTime | None = None) -> Response[Any]:
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
            "timing": timing_text(relative) if relative else None,
            "send_later_fields": SEND_LATER_FIELDS,
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
        send_at, relative = _send_later(event, values, errors)
        if not errors:
            try:
                await scheduled.schedule_message(db_session, event_id, draft, send_at=send_at,
                                                 relative=relative, now=utc_now(),
                                                 account_id=account.id)
            except InvalidInputError as refused:
                errors.update({_form_field(e.field): e.message
                               for e in refused.errors if e.field})
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
