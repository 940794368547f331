"""What registrants are told, and when: one plain function per email, each queued in the outbox.

Each function decides the template, the context and the calendar invites (REQUEST for places
given, CANCEL with the same UIDs for places taken back: one iTIP object per session, see
`notifications.message.build_mime` for how they travel in one email), and queues it
(`queue_emails`) in the caller's transaction; or, given `into` (an outbox row recorded to be
composed later, see `registration.compose_welcome_emails`), fills that row in. Bodies carry the essentials
themselves (times in the event's zone and in UTC, join link or venue, private links)
because Outlook shows the body, not the invite's description. Join links go only to people
with a confirmed place.

This module renders nothing itself and never touches SMTP; it reads only what the caller
loaded (event with sessions and agenda, registration with enrolments).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Concatenate, Literal, ParamSpec

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage, invite_filenames
from notifications.outbox import OutboxEntry, fill_composed_email, queue_emails
from service.db.models import (
    EnrolmentStatus,
    Event,
    OutboxEmail,
    Registration,
    Session,
    SessionMode,
    SessionStatus,
)
from service.domain import wording
from service.domain.batch_memo import BatchMemo
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import CalendarAttendee, build_calendar, build_invites
from service.domain.calendars.shared import shared_entry
from service.domain.programme import offers_session_choice
from service.domain.programme.translations import localised
from service.domain.urls import event_page_url
from service.domain.wording import kind_label, venue_line, zone_label
from service.i18n import current_language, supported, use_language
from service.settings import Settings

InviteMethod = Literal["REQUEST", "CANCEL"]
PRIVATE_LINK_TEMPLATE = "registration_link_to_registrant"


@dataclass(frozen=True)
class RegistrantLinks:
    """The registrant's private links, as they appear in every email."""

    manage_url: str
    feed_url: str


@dataclass(frozen=True)
class OrganiserNote:
    """The organisers' note in the email that tells someone of a decision (approved,
    declined): the words as written, and the same note in other languages.

    `language` is the one the note is written in, or None where it is not known (a note
    for one person, typed through the API): then it is taken to be the email's own.
    """

    text: str
    language: str | None = None
    translations: Mapping[str, str] = field(default_factory=dict)

    def context_for(self, language: str, key: str = "note") -> dict[str, object]:
        """The note for a reader of `language` (their version, or the words as written),
        under `key`, and `note_language` where the words are in another language than
        the email's."""
        translated = self.translations.get(language)
        if translated:
            return {key: translated}
        if self.language is None or self.language == language:
            return {key: self.text}
        return {key: self.text, "note_language": self.language}


_P = ParamSpec("_P")


def in_registrant_language(
    send: Callable[Concatenate[AsyncSession, Registration, _P], Awaitable[None]],
) -> Callable[Concatenate[AsyncSession, Registration, _P], Awaitable[None]]:
    """The email is worded (dates, labels, invites) in the registrant's own language,
    whoever causes it: the registrant, an organiser reading another language, a job."""
    @functools.wraps(send)
    async def worded(db: AsyncSession, registration: Registration, /,
                     *args: _P.args, **kwargs: _P.kwargs) -> None:
        with use_language(registration.language):
            await send(db, registration, *args, **kwargs)
    return worded


# --- invites -------------------------------------------------------------------------------


def invite_sequences(registration: Registration) -> dict[int, int]:
    """How far this registrant's copy of each session is above the session's SEQUENCE."""
    return {e.session_id: e.invite_sequence or 0 for e in registration.enrolments}


def invited_sessions(sessions: Sequence[Session], method: InviteMethod) -> list[Session]:
    """The sessions an invite may carry: a REQUEST never offers a cancelled one."""
    if method == "CANCEL":
        return list(sessions)
    return [s for s in sessions if s.status != SessionStatus.CANCELLED]


def invite_calendars(
    registration: Registration, event: Event, sessions: Sequence[Session], *,
    method: InviteMethod, now: datetime, settings: Settings,
) -> tuple[bytes, ...]:
    """The iTIP invites for one registrant: one object (one UID) per session, earliest
    first, the registrant as ATTENDEE; cancelled sessions are left out of a REQUEST.

    SEQUENCE is the session's plus the registrant's own count (`invite_sequences`): a
    CANCEL outranks the REQUEST it withdraws, and a REQUEST after it outranks the CANCEL.
    """
    attendee = CalendarAttendee(email=registration.email, name=registration.name)
    offsets = invite_sequences(registration)
    # The recipient's language (in force while their email is composed).
    language = current_language()
    entries = [
        shared_entry(
            session, event, settings, language=language,
            include_join_url=method == "REQUEST", cancelled=method == "CANCEL",
            sequence_offset=offsets.get(session.id, 0),
        )
        for session in invited_sessions(sessions, method)
    ]
    return build_invites(entries, now=now, method=method, attendees=(attendee,))


def registrant_download(
    registration: Registration, event: Event, sessions: Sequence[Session], *, now: datetime,
    settings: Settings,
) -> bytes:
    """The registrant's sessions as a plain calendar to import (no METHOD: not an iTIP
    message, so it may hold several sessions); the same UIDs and SEQUENCE as their invites,
    so an imported copy and an emailed one are one event."""
    attendee = CalendarAttendee(email=registration.email, name=registration.name)
    offsets = invite_sequences(registration)
    language = current_language()
    texts = event_in(event, language)
    entries = [
        session_entry(session_in(session, event, language), texts, settings,
                      include_join_url=True, attendees=(attendee,),
                      sequence_offset=offsets.get(session.id, 0))
        for session in sessions
    ]
    return build_calendar(entries, now=now)


# --- what the body says about a session ------------------------------------------------------


def session_when(session: Session, event: Event) -> tuple[str, str]:
    """The session's time in the event's zone (with CET/CEST) and in UTC, for email bodies.

    Each time has its own abbreviation when the clocks change in between.
    """
    return wording.session_when(session.starts_at, session.ends_at, event.timezone)


_VIEWS: BatchMemo[dict[str, object]] = BatchMemo("shared_session_views")


def sharing_session_views() -> AbstractContextManager[None]:
    """Within it (this task only), each session's view is made once per language (a batch
    of first emails about the same sessions), as its invite entry is."""
    return _VIEWS.scope()


def session_view(session: Session, event: Event, *, with_join_url: bool) -> dict[str, object]:
    """A session as the email body shows it (plain values only; a copy of the batch's own
    within `sharing_session_views`)."""
    return dict(_VIEWS.get((session, event), (current_language(), with_join_url),
                           lambda: _session_view(session, event, with_join_url=with_join_url)))


def _session_view(session: Session, event: Event, *, with_join_url: bool) -> dict[str, object]:
    local, utc = session_when(session, event)
    place = wording.place_text(session.mode, venue_line(event))
    online = session.mode != SessionMode.IN_PERSON
    return {
        "id": session.id,
        "title": str(localised(event, "title", current_language(), session)),
        "when": local,
        "when_utc": utc,
        "zone": event.timezone,
        "zone_label": zone_label(event.timezone, event.venue_city),
        "place": place,
        "join_url": session.join_url if with_join_url and online and session.join_url else None,
        "is_cancelled": session.status == SessionStatus.CANCELLED,
        # With several invites in one email: the attachment that holds this session's.
        "invite_file": None,
    }


def _note_context(note: OrganiserNote | None, key: str = "note") -> dict[str, object]:
    """The organisers' note in the reader's language (in force), or none."""
    if note is None:
        return {key: None}
    return note.context_for(current_language(), key)


def _sessions_in(registration: Registration, status: EnrolmentStatus) -> list[Session]:
    sessions = [e.session for e in registration.enrolments if e.status == status]
    return sorted(sessions, key=lambda s: (s.starts_at, s.id))


def registrant_note_context(event: Event) -> dict[str, object]:
    """What registrants need to know (the event's note), in the reader's language where it
    is translated; `event_note_language` where the words are in another language."""
    if not event.registrant_note:
        return {"event_note": ""}
    language = current_language()
    note = localised(event, "registrant_note", language)
    return {"event_note": str(note),
            **({"event_note_language": note.language} if note.language != language else {})}


def registrant_context(
    registration: Registration, event: Event, links: RegistrantLinks, settings: Settings,
    **extra: object,
) -> dict[str, object]:
    return {
        **registrant_note_context(event),
        "recipient_name": registration.name,
        "event_title": str(localised(event, "title", current_language())),
        "event_kind": kind_label(event.kind),
        "event_url": event_page_url(settings, event.slug),
        "event_zone": event.timezone,
        "venue": venue_line(event),
        "contact_email": event.contact_email or settings.organiser_email,
        # Offer "change your sessions" only where there is a choice to change.
        "can_change_sessions": offers_session_choice(event),
        "manage_url": links.manage_url,
        "feed_url": links.feed_url,
        **extra,
    }


def _name_invites(context: dict[str, object], sessions: Sequence[Session]) -> None:
    """With several invites, each session in the body names its attachment."""
    names = dict(zip((s.id for s in sessions), invite_filenames(len(sessions)), strict=True))
    context["invite_count"] = len(sessions)
    if len(sessions) < 2:
        return
    for key in ("sessions", "session"):
        views = context.get(key)
        for view in views if isinstance(views, list) else [views]:
            if isinstance(view, dict) and view.get("id") in names:
                view["invite_file"] = names[view["id"]]


async def _send(
    db: AsyncSession, registration: Registration, event: Event, template: str,
    context: dict[str, object], *, now: datetime, settings: Settings,
    invite: tuple[InviteMethod, Sequence[Session]] | None = None,
    dedupe_key: str | None = None, into: OutboxEmail | None = None,
) -> None:
    calendars: tuple[bytes, ...] = ()
    method: InviteMethod | None = None
    if invite is not None:
        sessions = sorted(invited_sessions(invite[1], invite[0]),
                          key=lambda s: (s.starts_at, s.id))
        calendars = invite_calendars(registration, event, sessions, method=invite[0], now=now,
                                     settings=settings)
        if calendars:
            method = invite[0]
        _name_invites(context, sessions)
    message = EmailMessage(
        template=template,
        to_address=registration.email,
        to_name=registration.name,
        context=context,
        calendar=calendars[0] if calendars else None,
        calendar_method=method,
        more_calendars=calendars[1:],
        reply_to=event.contact_email,
        language=supported(registration.language),
    )
    if into is not None:
        fill_composed_email(into, message, settings=settings, now=now)
        return
    await queue_emails(db, [OutboxEntry(message, event_id=event.id,
                                        registration_id=registration.id, dedupe_key=dedupe_key)],
                       settings=settings, now=now)


def _views(sessions: Sequence[Session], event: Event, *, with_join_url: bool
           ) -> list[dict[str, object]]:
    return [session_view(s, event, with_join_url=with_join_url) for s in sessions]


# --- one function per email ----------------------------------------------------------------


@in_registrant_language
async def send_confirmation(
    db: AsyncSession, registration: Registration, event: Event, *, links: RegistrantLinks,
    now: datetime, settings: Settings, into: OutboxEmail | None = None,
) -> None:
    """Registered with a place: the invite for every confirmed session."""
    await _send_place_with_invite(db, registration, event, "registration_confirmed_to_registrant",
                                  links=links, now=now, settings=settings, into=into)


@in_registrant_language
async def _send_place_with_invite(
    db: AsyncSession, registration: Registration, event: Event, template: str, *,
    links: RegistrantLinks, now: datetime, settings: Settings, into: OutboxEmail | None = None,
    note: OrganiserNote | None = None,
) -> None:
    """A place given (at once or on approval): confirmed sessions with the invite."""
    confirmed = _sessions_in(registration, EnrolmentStatus.CONFIRMED)
    waiting = _sessions_in(registration, EnrolmentStatus.WAITING)
    context = registrant_context(
        registration, event, links, settings,
        sessions=_views(confirmed, event, with_join_url=True),
        waiting_sessions=_views(waiting, event, with_join_url=False),
        **_note_context(note),
    )
    await _send(db, registration, event, template, context,
                now=now, settings=settings, invite=("REQUEST", confirmed), into=into)


@in_registrant_language
async def send_waiting_list(
    db: AsyncSession, registration: Registration, event: Event, *, position: int | None,
    links: RegistrantLinks, now: datetime, settings: Settings, approved: bool = False,
    into: OutboxEmail | None = None, note: OrganiserNote | None = None,
) -> None:
    """The event is full: their place in the queue, no invite and no join link (and, on
    approval, the organisers' note if they wrote one)."""
    sessions = sorted((e.session for e in registration.enrolments
                       if e.status != EnrolmentStatus.CANCELLED),
                      key=lambda s: (s.starts_at, s.id))
    context = registrant_context(
        registration, event, links, settings,
        position=position, approved=approved, **_note_context(note),
        sessions=_views(sessions, event, with_join_url=False),
    )
    await _send(db, registration, event, "registration_waiting_to_registrant", context,
                now=now, settings=settings, into=into)


@in_registrant_language
async def send_pending_approval(
    db: AsyncSession, registration: Registration, event: Event, *, links: RegistrantLinks,
    now: datetime, settings: Settings, into: OutboxEmail | None = None,
) -> None:
    """An application received: the organisers will decide."""
    sessions = sorted((e.session for e in registration.enrolments),
                      key=lambda s: (s.starts_at, s.id))
    context = registrant_context(registration, event, links, settings,
                       sessions=_views(sessions, event, with_join_url=False))
    await _send(db, registration, event, "registration_pending_to_registrant", context,
                now=now, settings=settings, into=into)


@in_registrant_language
async def send_approved(
    db: AsyncSession, registration: Registration, event: Event, *, links: RegistrantLinks,
    now: datetime, settings: Settings, note: OrganiserNote | None = None,
) -> None:
    """An application accepted with a place: the invite, and the organisers' note if any."""
    await _send_place_with_invite(db, registration, event, "registration_approved_to_registrant",
                                  links=links, now=now, settings=settings, note=note)


@in_registrant_language
async def send_promoted(
    db: AsyncSession, registration: Registration, event: Event, sessions: Sequence[Session], *,
    from_event_waiting_list: bool, links: RegistrantLinks, now: datetime, settings: Settings,
) -> None:
    """Someone left and a place went to this person: the invite for the new places."""
    newly = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    newly_ids = {s.id for s in newly}
    still_waiting = [s for s in _sessions_in(registration, EnrolmentStatus.WAITING)
                     if s.id not in newly_ids]
    context = registrant_context(
        registration, event, links, settings,
        from_event_waiting_list=from_event_waiting_list,
        sessions=_views(newly, event, with_join_url=True),
        waiting_sessions=_views(still_waiting, event, with_join_url=False),
    )
    await _send(db, registration, event, "registration_promoted_to_registrant", context,
                now=now, settings=settings, invite=("REQUEST", newly))


@in_registrant_language
async def send_declined(
    db: AsyncSession, registration: Registration, event: Event, ended: Sequence[Session], *,
    reason: OrganiserNote | None, links: RegistrantLinks, now: datetime, settings: Settings,
) -> None:
    """Not accepted (or no longer): a CANCEL for any invite they had, and the organisers'
    note (their reason) if any."""
    context = registrant_context(registration, event, links, settings,
                                 **_note_context(reason, key="reason"),
                                 sessions=_views(ended, event, with_join_url=False))
    await _send(db, registration, event, "registration_declined_to_registrant", context,
                now=now, settings=settings, invite=("CANCEL", ended))


@in_registrant_language
async def send_cancellation(
    db: AsyncSession, registration: Registration, event: Event, ended: Sequence[Session], *,
    links: RegistrantLinks, now: datetime, settings: Settings,
) -> None:
    """They cancelled: a CANCEL with the same UIDs takes the sessions out of their calendar."""
    context = registrant_context(registration, event, links, settings,
                       sessions=_views(ended, event, with_join_url=False))
    await _send(db, registration, event, "registration_cancelled_to_registrant", context,
                now=now, settings=settings, invite=("CANCEL", ended))


@in_registrant_language
async def send_new_session(
    db: AsyncSession, registration: Registration, event: Event, session: Session, *,
    links: RegistrantLinks, now: datetime, settings: Settings,
) -> None:
    """A session was added to the event they registered for as a whole: its invite."""
    context = registrant_context(registration, event, links, settings,
                       session=session_view(session, event, with_join_url=True))
    await _send(
        db, registration, event, "registration_new_session_to_registrant", context,
        now=now, settings=settings, invite=("REQUEST", [session]),
        dedupe_key=f"registration-{registration.id}-new-session-{session.id}",
    )


@in_registrant_language
async def send_sessions_changed(
    db: AsyncSession, registration: Registration, event: Event, *,
    added: Sequence[Session], dropped: Sequence[Session], links: RegistrantLinks,
    now: datetime, settings: Settings,
) -> None:
    """They changed their session choices: a CANCEL for places given up, a REQUEST for new ones.

    One calendar method per message, so this may be two emails.
    """
    if dropped:
        context = registrant_context(registration, event, links, settings,
                           sessions=_views(dropped, event, with_join_url=False))
        await _send(db, registration, event, "registration_sessions_dropped_to_registrant",
                    context, now=now, settings=settings, invite=("CANCEL", dropped))
    if added:
        added_ids = {s.id for s in added}
        confirmed = [s for s in _sessions_in(registration, EnrolmentStatus.CONFIRMED)
                     if s.id in added_ids]
        waiting = [s for s in _sessions_in(registration, EnrolmentStatus.WAITING)
                   if s.id in added_ids]
        context = registrant_context(
            registration, event, links, settings,
            sessions=_views(confirmed, event, with_join_url=True),
            waiting_sessions=_views(waiting, event, with_join_url=False),
            registration_status=str(registration.status),
        )
        await _send(db, registration, event, "registration_sessions_added_to_registrant",
                    context, now=now, settings=settings, invite=("REQUEST", confirmed))


# --- confirming an address (events that ask for it) -------------------------------------------

ADDRESS_CONFIRMATION_TEMPLATE = "address_confirmation_to_registrant"


def address_confirmation_email(
    registration_id: int, event: Event, *, name: str, to_address: str, confirm_url: str,
    expires_at: datetime, language: str | None = None,
) -> OutboxEntry:
    """"Confirm your address": the only email an unconfirmed registration gets.

    Anyone can type any address into the form, so this email carries nothing the visitor
    wrote but their name in the greeting (escaped by the template; not in the To: header),
    no invite, no private page: only the event's title and the single-use link.
    """
    with use_language(language) as worded_in:
        message = EmailMessage(
            template=ADDRESS_CONFIRMATION_TEMPLATE,
            to_address=to_address,
            to_name="",
            context={
                "recipient_name": name,
                "event_title": str(localised(event, "title", worded_in)),
                "event_kind": kind_label(event.kind),
                "confirm_url": confirm_url,
                "expires": wording.start_text(expires_at, event.timezone),
            },
            reply_to=event.contact_email,
            language=worded_in,
        )
    return OutboxEntry(message, event_id=event.id, registration_id=registration_id)


@in_registrant_language
async def send_private_link(
    db: AsyncSession, registration: Registration, event: Event, *, links: RegistrantLinks,
    now: datetime, settings: Settings,
) -> None:
    """They asked for their private link again: it goes to the registered address only."""
    sessions = sorted((e.session for e in registration.enrolments
                       if e.status != EnrolmentStatus.CANCELLED),
                      key=lambda s: (s.starts_at, s.id))
    context = registrant_context(registration, event, links, settings,
                       sessions=_views(sessions, event, with_join_url=False))
    await _send(db, registration, event, PRIVATE_LINK_TEMPLATE, context, now=now,
                settings=settings)
