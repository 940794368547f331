"""Organisers write to registrants: the confirmed, waiting or pending people of an event or
of one of its sessions (or, after an in-person day, those checked in at the door or those
who did not come), one email each through the outbox, with a preview first.

`message_recipients` says who would get it (the count the organiser confirms),
`preview_organiser_message` renders the first recipient's copy of each version exactly as
it will be built, and `send_organiser_message` queues one email per recipient
(`queue_emails`, the one way into the outbox) and records what was sent in the audit log
when an account or token is acting. Only addresses people gave when registering receive
it (unconfirmed addresses never do). The organiser writes in the event's default language
and may add the same message in other languages: each person receives the one in their
own language, or the message as written. Takes `db` and `now`, flushes, never commits;
knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, base_context, queue_emails
from notifications.render import RenderedEmail, render_email
from service.db.engine import table_of
from service.db.models import (
    AccessPurpose,
    AuditEntry,
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
    SessionMaterial,
)
from service.domain import access
from service.domain.accounts import actor_of
from service.domain.emails.organiser_message import (
    ORGANISER_MESSAGE_TEMPLATE,
    Wording,
    organiser_message,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError
from service.domain.programme.materials import materials_of_registrations
from service.domain.urls import certificate_url, feedback_url
from service.i18n import LANGUAGE_NAMES, LANGUAGES, N_
from service.i18n import gettext as _
from service.settings import Settings

from .attendance import ATTENDEE_STATUSES, has_a_place_to_come_to, with_a_certificate
from .feedback import asked_for_feedback
from .form import Problems
from .links import links_from_tokens
from .loading import load_event

# Whom a message can go to, in the organisers' words: by the state of their registration,
# and after an in-person day by whether they were checked in at the door (slides for those
# who came, the recording for those who did not).
AUDIENCES: dict[str, str] = {
    "confirmed": "Confirmed",
    "waiting": "On the waiting list",
    "pending": "Waiting for approval",
    "attended": N_("Checked in at the door"),
    "absent": N_("Confirmed, not checked in"),
}
DOOR_AUDIENCES = ("attended", "absent")
# The same two after an online session, whose attendance comes from a pasted report.
ONLINE_AUDIENCES: dict[str, str] = {"attended": N_("Attended"),
                                    "absent": N_("Confirmed, did not attend")}
MAX_SUBJECT = 150
MAX_TEXT = 10_000
_PURPOSES = (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED)
AUDIT_SUBJECT = "organiser_message"


def offered_audiences(event: Event, attendance_recorded: bool) -> dict[str, str]:
    """The groups a message can go to, labelled (to translate where shown): by state; by
    a check-in for an event with a door; by its attendance list for an online event once
    attendance is recorded."""
    if has_a_place_to_come_to(event):
        return dict(AUDIENCES)
    if attendance_recorded:
        return {**AUDIENCES, **ONLINE_AUDIENCES}
    return {key: label for key, label in AUDIENCES.items() if key not in DOOR_AUDIENCES}


@dataclass(frozen=True)
class MessageDraft:
    """What the organiser typed, as typed (checked by `check_draft`)."""

    audiences: Sequence[str]
    subject: str
    text: str
    session_id: int | None = None  # None: the whole event
    # The same message in other languages: language code -> (subject, text).
    translations: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedDraft:
    audiences: tuple[str, ...]
    subject: str
    text: str
    session_id: int | None
    language: str  # of the subject and text: the event's default language
    translations: dict[str, Wording] = field(default_factory=dict)

    def wording_for(self, registration: Registration) -> Wording:
        """The version in the person's language, or the message as written."""
        return self.translations.get(registration.language) or Wording(
            self.language, self.subject, self.text)


@dataclass(frozen=True)
class VersionPreview:
    """Who receives one version, and the first of them's copy as it will be sent."""

    wording: Wording
    recipients: int
    first_recipient: str  # "Name <address>"
    copy: RenderedEmail


@dataclass(frozen=True)
class MessagePreview:
    draft: CheckedDraft
    recipients: int
    versions: list[VersionPreview]  # the message as written first; none when nobody


@dataclass(frozen=True)
class SentMessage:
    recipients: int
    email_ids: list[int]


def check_draft(draft: MessageDraft, event: Event) -> CheckedDraft:
    """The draft cleaned, or every rule it breaks at once (fields: audience, session_id,
    subject, text, and subject_<language>, text_<language> of a translation)."""
    problems = Problems()
    audiences = tuple(dict.fromkeys(draft.audiences))
    if not audiences:
        problems.add("audience", _("Choose who receives the message."))
    for value in audiences:
        if value not in AUDIENCES:
            problems.add("audience", _("Unknown group %(value)r: choose among %(groups)s.")
                         % {"value": value, "groups": ", ".join(AUDIENCES)})
            break
    if draft.session_id is not None and draft.session_id not in {s.id for s in event.sessions}:
        problems.add("session_id", _("Choose a session of this event, or the whole event."))
    subject = problems.line(draft.subject, "subject", missing=_("Write a subject."),
                            max_length=MAX_SUBJECT)
    text = problems.text(draft.text, "text", missing=_("Write the message."), max_length=MAX_TEXT)
    translations = _checked_translations(draft.translations, event.default_language, problems)
    problems.raise_if_any()
    assert subject is not None and text is not None
    return CheckedDraft(audiences=audiences, subject=subject, text=text,
                        session_id=draft.session_id, language=event.default_language,
                        translations=translations)


def _checked_translations(given: Mapping[str, tuple[str, str]], written_in: str,
                          problems: Problems) -> dict[str, Wording]:
    """Each language's subject and text, cleaned; a language left empty is no translation."""
    checked: dict[str, Wording] = {}
    for language, (subject_typed, text_typed) in given.items():
        if not (subject_typed or "").strip() and not (text_typed or "").strip():
            continue
        subject_field, text_field = f"subject_{language}", f"text_{language}"
        if language not in LANGUAGES or language == written_in:
            problems.add(subject_field, _("Translations go into another of the languages "
                                          "the service speaks than the message's own."))
            continue
        name = LANGUAGE_NAMES[language]
        subject = problems.line(subject_typed, subject_field, max_length=MAX_SUBJECT,
                                missing=_("Write the subject in %(language)s too, or leave "
                                          "both empty.") % {"language": name})
        text = problems.text(text_typed, text_field, max_length=MAX_TEXT,
                             missing=_("Write the message in %(language)s too, or leave "
                                       "both empty.") % {"language": name})
        if subject is not None and text is not None:
            checked[language] = Wording(language, subject, text)
    return checked


def _audience_filter(audiences: Sequence[str], session_id: int | None
                     ) -> ColumnElement[bool]:
    """WHERE clauses for the registrations a message goes to (see `message_recipients`)."""
    if session_id is None:
        came = (Registration.checked_in_at.is_not(None)
                & Registration.status.in_(ATTENDEE_STATUSES))
        stayed_away = ((Registration.status == RegistrationStatus.CONFIRMED)
                       & Registration.checked_in_at.is_(None))
        wanted: list[ColumnElement[bool]] = [Registration.status.in_(
            [RegistrationStatus(value) for value in audiences if value not in DOOR_AUDIENCES])]
        if "attended" in audiences:
            wanted.append(came)
        if "absent" in audiences:
            wanted.append(stayed_away)
        return or_(*wanted)
    in_session = Enrolment.session_id == session_id
    holds_a_place = Enrolment.status == EnrolmentStatus.CONFIRMED
    wanted = []
    if "confirmed" in audiences:
        wanted.append((Registration.status == RegistrationStatus.CONFIRMED) & holds_a_place)
    if "waiting" in audiences:
        # The event's waiting list, or the session's own (a confirmed registrant waiting
        # for a place in this session).
        wanted.append((Registration.status == RegistrationStatus.WAITING)
                      | ((Registration.status == RegistrationStatus.CONFIRMED)
                         & (Enrolment.status == EnrolmentStatus.WAITING)))
    if "pending" in audiences:
        wanted.append(Registration.status == RegistrationStatus.PENDING)
    came_here = Enrolment.checked_in_at.is_not(None)  # at this session's door
    if "attended" in audiences:
        # With a place in it, waiting or asking for one: they came.
        wanted.append(came_here & Registration.status.in_(ATTENDEE_STATUSES))
    if "absent" in audiences:
        wanted.append((Registration.status == RegistrationStatus.CONFIRMED) & holds_a_place
                      & Enrolment.checked_in_at.is_(None))
    return Registration.id.in_(
        select(Enrolment.registration_id)
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(in_session, Enrolment.status != EnrolmentStatus.CANCELLED, or_(*wanted))
    )


async def message_recipients(db: AsyncSession, event_id: int, draft: CheckedDraft
                             ) -> list[Registration]:
    """Who receives the message, in registration order: for the whole event, registrations
    in the chosen states; for one session, those holding (confirmed), waiting for (waiting)
    or asking for (pending) a place in it. Registrations whose address was erased are left
    out."""
    return list(await db.scalars(
        select(Registration)
        .where(Registration.event_id == event_id,
               _audience_filter(draft.audiences, draft.session_id),
               # Erased (or past its retention): no address to write to any more.
               Registration.contact_erased_at.is_(None))
        .order_by(Registration.id)
    ))


async def preview_organiser_message(
    db: AsyncSession, event_id: int, draft: MessageDraft, *, now: datetime, settings: Settings,
) -> MessagePreview:
    """How many would receive the message, and the first one's copy as it will be sent."""
    event = await load_event(db, event_id)
    checked = check_draft(draft, event)
    recipients = await message_recipients(db, event_id, checked)
    if not recipients:
        return MessagePreview(draft=checked, recipients=0, versions=[])
    by_version: dict[str, list[Registration]] = {}
    for registration in recipients:
        by_version.setdefault(checked.wording_for(registration).language, []).append(
            registration)
    firsts = [people[0] for people in by_version.values()]
    tokens = await access.registration_tokens(db, _PURPOSES, [r.id for r in firsts],
                                              secret_key=settings.secret_key, now=now)
    certified = await with_a_certificate(db, [r.id for r in firsts], now)
    shared = await materials_of_registrations(db, [r.id for r in firsts],
                                              session_id=checked.session_id)
    asked = await asked_for_feedback(db, [r.id for r in firsts], now)
    versions = []
    for people in by_version.values():
        first, wording = people[0], checked.wording_for(people[0])
        message = _copy(first, event, wording, tokens, Extras(certified, shared, asked),
                        settings)
        versions.append(VersionPreview(
            wording=wording, recipients=len(people),
            first_recipient=f"{first.name} <{first.email}>",
            copy=render_email(message.template, {**base_context(settings), **message.context},
                              message.language)))
    # The message as written first, then the translations in the order of the languages.
    versions.sort(key=lambda v: (v.wording.language != checked.language,
                                 LANGUAGES.index(v.wording.language)))
    return MessagePreview(draft=checked, recipients=len(recipients), versions=versions)


async def send_organiser_message(
    db: AsyncSession, event_id: int, draft: MessageDraft, *, now: datetime, settings: Settings,
    expected_recipients: int | None = None,
) -> SentMessage:
    """Queue one copy per recipient. With `expected_recipients` (the count the organiser
    saw in the preview), a different count now refuses to send, so nobody is written to
    whom the organiser did not count."""
    event = await load_event(db, event_id)
    checked = check_draft(draft, event)
    recipients = await message_recipients(db, event_id, checked)
    if expected_recipients is not None and expected_recipients != len(recipients):
        raise ConflictError(
            _("The message would now go to %(count)s people, not the %(expected_recipients)s shown "
                  "in the preview: look at the preview again.")
                % {"count": len(recipients), "expected_recipients": expected_recipients},
            "recipients")
    if not recipients:
        raise InvalidInputError.of([FieldError(
            "audience", _("Nobody in this group: the message would reach no one."))])
    tokens = await access.registration_tokens(db, _PURPOSES, [r.id for r in recipients],
                                              secret_key=settings.secret_key, now=now)
    ids = [r.id for r in recipients]
    extras = Extras(certified=await with_a_certificate(db, ids, now),
                    materials=await materials_of_registrations(
                        db, ids, session_id=checked.session_id),
                    asked_for_feedback=await asked_for_feedback(db, ids, now))
    entries = [
        OutboxEntry(
            email=_copy(registration, event, checked.wording_for(registration), tokens,
                        extras, settings),
            event_id=event.id, registration_id=registration.id,
        )
        for registration in recipients
    ]
    ids = [email_id for email_id in await queue_emails(db, entries, settings=settings, now=now)
           if email_id is not None]
    await _record_in_audit_log(db, event, checked, ids, now=now)
    return SentMessage(recipients=len(ids), email_ids=ids)


@dataclass(frozen=True)
class Extras:
    """What each reader's copy may carry beyond the message, by registration id."""

    certified: set[int]  # who has a certificate of attendance
    materials: Mapping[int, Sequence[SessionMaterial]]  # of their sessions, that they may read
    asked_for_feedback: set[int]  # who is asked for feedback and has not given it


def _copy(registration: Registration, event: Event, wording: Wording,
          tokens: Mapping[tuple[int, AccessPurpose], str], extras: Extras,
          settings: Settings) -> EmailMessage:
    """One person's copy, with their private links (and certificate, if they have one, the
    materials of the message's session, or of all theirs, that they may read, and the
    feedback form while they are asked for feedback)."""
    manage_token = tokens[(registration.id, _PURPOSES[0])]
    return organiser_message(
        registration, event, wording=wording, settings=settings,
        links=links_from_tokens(settings, manage_token, tokens[(registration.id, _PURPOSES[1])]),
        certificate_url=certificate_url(settings, manage_token)
        if registration.id in extras.certified else None,
        materials=extras.materials.get(registration.id, ()),
        feedback_url=feedback_url(settings, manage_token)
        if registration.id in extras.asked_for_feedback else None)


async def _record_in_audit_log(db: AsyncSession, event: Event, draft: CheckedDraft,
                               email_ids: list[int], *, now: datetime) -> None:
    """The message itself in the event's audit log (its copies are outbox rows, which the
    log's ORM listeners do not see), when an account or API token is acting."""
    actor = actor_of(db)
    if actor is None:
        return
    await db.execute(insert(table_of(AuditEntry)).values(
        at=now, account_id=actor.account_id, api_token_id=actor.api_token_id,
        actor_label=actor.label[:300], action="sent", subject_type=AUDIT_SUBJECT,
        subject_id=None, event_id=event.id, before=None,
        after={"template": ORGANISER_MESSAGE_TEMPLATE, "audience": list(draft.audiences),
               "session_id": draft.session_id, "subject": draft.subject, "text": draft.text,
               "language": draft.language,
               "translations": {language: {"subject": w.subject, "text": w.text}
                                for language, w in draft.translations.items()},
               "recipients": len(email_ids), "email_ids": email_ids},
    ))

