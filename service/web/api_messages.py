"""Organiser API: write to an event's registrants now or later, as the back office's "Write
to registrants" does (`registration.organiser_messages`, `registration.scheduled_messages`).

A preview counts who would receive it and shows the first copy of each version; sending
may name the count the client expects, refused with 409 when it changed meanwhile. A
message to send later goes at a fixed time or so long before the start or after the end of
the event (or of its session), following the programme. Reading needs a viewer token or
better; writing an organiser token. Parse, one domain call, present.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody
from msgspec import Meta, Struct

from service.clock import utc_now
from service.db.models import MessageTiming, ScheduledMessage, ScheduledMessageStatus, Session
from service.domain import programme
from service.domain.errors import FieldError, InvalidInputError
from service.domain.registration import organiser_messages
from service.domain.registration import scheduled_messages as scheduled
from service.domain.registration.organiser_messages import MessageDraft
from service.domain.times import iso_utc, parse_instant
from service.i18n import gettext as _
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam, SettingsDep
from service.web.schemas import Id, Input, TimeText

# Lengths are checked by the domain, which names the field; these only bound the request.
_Words = Annotated[str, Meta(max_length=20_001)]
Audience = Annotated[str, Meta(max_length=20)]


class WordingIn(Input):
    subject: _Words = ""
    text: _Words = ""


class MessageIn(Input):
    """The message: to whom (`confirmed`, `waiting`, `pending`; after attendance is known
    `attended`, `absent`), of the whole event or of one session, and in other languages
    (`{"de": {"subject": ..., "text": ...}}`): each person reads their own language's."""

    audiences: Annotated[list[Audience], Meta(max_length=10)]
    subject: _Words
    text: _Words
    session_id: Id | None = None
    translations: Annotated[dict[Annotated[str, Meta(max_length=8)], WordingIn],
                            Meta(max_length=10)] = {}


class MessageSendIn(MessageIn):
    # The count the preview gave: when it changed meanwhile, nothing is sent (409).
    expected_recipients: Annotated[int, Meta(ge=0, le=10_000_000)] | None = None


class ScheduledMessageIn(MessageIn):
    """When to send it: `send_at` (ISO 8601 with an offset, or a wall time in the event's
    zone), or `send_timing` (`before_start`, `after_end`) with `send_offset_minutes`,
    which follows the programme when sessions move."""

    send_at: TimeText | None = None
    send_timing: MessageTiming | None = None
    send_offset_minutes: Annotated[int, Meta(ge=0, le=scheduled.MAX_OFFSET_MINUTES)] | None = None


class VersionOut(Struct):
    language: str
    recipients: int
    subject: str  # the first recipient's copy, as it will be sent
    text: str


class MessagePreviewOut(Struct):
    recipients: int
    versions: list[VersionOut]  # the message as written first


class MessageSentOut(Struct):
    recipients: int
    email_ids: list[int]


class ScheduledMessageOut(Struct):
    id: int
    event_id: int
    session_id: int | None
    audiences: list[str]
    subject: str
    text: str
    translations: dict[str, WordingIn]
    send_at: str  # when it goes out: a relative one's as the programme stands now
    send_timing: MessageTiming | None
    send_offset_minutes: int | None
    status: ScheduledMessageStatus
    recipients: int | None  # how many it went to
    problem: str  # why it was not sent
    created_at: str
    sent_at: str | None


def _draft(data: MessageIn) -> MessageDraft:
    return MessageDraft(
        audiences=data.audiences, subject=data.subject, text=data.text,
        session_id=data.session_id,
        translations={language: (words.subject, words.text)
                      for language, words in data.translations.items()})


def _api_field(field: str | None) -> str | None:
    """The request's name for a field the domain names as the form does."""
    if field == "audience":
        return "audiences"
    for part in ("subject", "text"):
        if field and field.startswith(f"{part}_"):
            return f"translations.{field.removeprefix(part + '_')}.{part}"
    return field


def _named_as_sent(refused: InvalidInputError) -> InvalidInputError:
    return InvalidInputError.of([FieldError(_api_field(e.field), e.message)
                                 for e in refused.errors])


def scheduled_message_out(message: ScheduledMessage, sessions: list[Session]
                          ) -> ScheduledMessageOut:
    return ScheduledMessageOut(
        id=message.id, event_id=message.event_id, session_id=message.session_id,
        audiences=list(message.audiences), subject=message.subject, text=message.text,
        translations={language: WordingIn(subject=str(words[0]), text=str(words[1]))
                      for language, words in (message.translations or {}).items()},
        send_at=iso_utc(scheduled.send_time(message, sessions)),
        send_timing=message.timing, send_offset_minutes=message.offset_minutes,
        status=message.status, recipients=message.recipients,
        problem=_(message.problem) if message.problem else "",
        created_at=iso_utc(message.created_at),
        sent_at=iso_utc(message.sent_at) if message.sent_at else None)


class MessagesController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @post("/events/{event_id:int}/messages/preview", status_code=200)
    async def preview_message(self, db_session: DbSession, settings: SettingsDep,
                              event_id: IdParam, data: JSONBody[MessageIn]
                              ) -> MessagePreviewOut:
        """Who would receive it and the first copy of each version; nothing is sent."""
        try:
            preview = await organiser_messages.preview_organiser_message(
                db_session, event_id, _draft(data), now=utc_now(), settings=settings)
        except InvalidInputError as refused:
            raise _named_as_sent(refused) from refused
        return MessagePreviewOut(recipients=preview.recipients, versions=[
            VersionOut(language=v.wording.language, recipients=v.recipients,
                       subject=v.copy.subject, text=v.copy.text) for v in preview.versions])

    @post("/events/{event_id:int}/messages", status_code=200)
    async def send_message(self, db_session: DbSession, settings: SettingsDep,
                           event_id: IdParam, data: JSONBody[MessageSendIn]
                           ) -> MessageSentOut:
        """One email to each person of the group now, through the outbox."""
        try:
            sent = await organiser_messages.send_organiser_message(
                db_session, event_id, _draft(data), now=utc_now(), settings=settings,
                expected_recipients=data.expected_recipients)
        except InvalidInputError as refused:
            raise _named_as_sent(refused) from refused
        return MessageSentOut(recipients=sent.recipients, email_ids=sent.email_ids)

    @get("/events/{event_id:int}/scheduled-messages")
    async def list_scheduled_messages(self, db_session: DbSession, event_id: IdParam
                                      ) -> list[ScheduledMessageOut]:
        """Those still to go, soonest first, then the others, latest first."""
        event = await programme.get_event(db_session, event_id)
        return [scheduled_message_out(message, event.sessions)
                for message in await scheduled.scheduled_messages(db_session, event.id)]

    @post("/events/{event_id:int}/scheduled-messages", status_code=201)
    async def schedule_message(self, db_session: DbSession, event_id: IdParam,
                               data: JSONBody[ScheduledMessageIn]) -> ScheduledMessageOut:
        """Keep the message to send at its time, to whoever is in its group then."""
        event = await programme.get_event(db_session, event_id)
        relative = (scheduled.RelativeTime(data.send_timing, data.send_offset_minutes or 0)
                    if data.send_timing is not None else None)
        if data.send_offset_minutes is not None and relative is None:
            raise InvalidInputError(_("Say what the offset counts from: before_start or "
                                      "after_end."), "send_timing")
        try:
            send_at = (parse_instant(data.send_at, event.timezone, "send_at")
                       if data.send_at is not None else None)
            message = await scheduled.schedule_message(
                db_session, event.id, _draft(data), send_at=send_at, relative=relative,
                now=utc_now())
        except InvalidInputError as refused:
            raise _named_as_sent(refused) from refused
        return scheduled_message_out(message, event.sessions)

    @post("/events/{event_id:int}/scheduled-messages/{scheduled_message_id:int}/cancel",
          status_code=200)
    async def cancel_scheduled_message(self, db_session: DbSession, event_id: IdParam,
                                       scheduled_message_id: IdParam) -> ScheduledMessageOut:
        """It will not be sent (409 once it was, or was cancelled)."""
        event = await programme.get_event(db_session, event_id)
        message = await scheduled.cancel_scheduled_message(
            db_session, event.id, scheduled_message_id, now=utc_now())
        return scheduled_message_out(message, event.sessions)


ROUTE_HANDLERS = [MessagesController]
