"""A person's own copy: everything the database holds about one email address, as JSON.

Found by the address (registrations of every event, a speaker's or host's person record,
emails sent to it, requests for this very copy) and then by what refers to those rows
(places in sessions, reminders, private links, delivery attempts, speaker slots and notices,
audit entries about them). Interest Group memberships (with declined meetings, meeting
reminders and private links) and guest invitations are found by the address too; a
registration brings its Meet-your-Buyer meeting requests, one-to-one meetings and the
questions it asked. An organiser account under the address comes with its team
memberships, sign-in sessions, emailed links and the audit entries of what it changed;
failed sign-ins typed with the address come too. Every column of each row is given, except
the secrets behind private links (their nonce and hash: the links themselves are in the
person's emails) and an account's password hash.
The body of an email is given while it is kept. Reads only; the caller records the export
in the audit log (`record_personal_data_export`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from typing import Any

from sqlalchemy import func, inspect, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessToken,
    Account,
    AccountLink,
    AccountSession,
    AgendaItem,
    AgendaItemSpeaker,
    AuditEntry,
    ConsultationQuestion,
    DataRequest,
    EmailAttempt,
    Enrolment,
    Event,
    Feedback,
    FeedbackAnswer,
    FeedbackQuestion,
    GroupFacilitator,
    GroupMember,
    InterestGroup,
    LoginFailure,
    MeetingDecline,
    MeetingGuest,
    MeetingReminder,
    MeetingRequest,
    MeetingSeries,
    OneToOneMeeting,
    Organisation,
    OutboxEmail,
    Person,
    PrivacyNotice,
    Registration,
    Reminder,
    SpeakerNotice,
    Team,
    TeamMembership,
)
from service.db.models import Session as EventSession
from service.domain.accounts.audit import Actor, record_export
from service.domain.consultation.meetings import TEMPLATE as MEETING_TEMPLATE
from service.domain.groups.membership import INTEREST_TO_FACILITATOR_TEMPLATE
from service.domain.programme.feedback_questions import choice_list
from service.settings import Settings

from . import erasure

FORMAT = "procura-events/personal-data/1"
EXPORT_SUBJECT = "personal_data_export"
# Never handed out, not even to the person: a private link's secret (the link is in their
# emails), and message bodies as MIME bytes (given as text instead).
_HIDDEN = {"access_tokens": {"nonce", "token_hash"}, "data_requests": {"token_hash"},
           "accounts": {"password_hash"}, "account_links": {"token_hash"},
           "outbox_emails": {"raw_message"}}


def normalise_address(email: str) -> str:
    return email.strip().lower()


def address_hash(settings: Settings, email: str) -> str:
    """A keyed hash of an address: names a person in records that must outlive their data
    (the audit log), as delivery records name erased recipients (`erasure.address_hash`)."""
    return erasure.address_hash(settings.secret_key, normalise_address(email))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def row_dict(row: Any) -> dict[str, Any]:
    """Every column of an ORM row as JSON, but the hidden ones of its table."""
    mapper = inspect(type(row))
    hidden = _HIDDEN.get(mapper.local_table.name, set())
    return {attr.key: _plain(getattr(row, attr.key)) for attr in mapper.column_attrs
            if attr.key not in hidden}


def email_text(raw: bytes | None) -> str | None:
    """The plain-text body of a stored message, as its recipient read it."""
    if not raw:
        return None
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        return None
    content = body.get_content()
    return content if isinstance(content, str) else None


def _ids(rows: Iterable[Any]) -> list[int]:
    return [row.id for row in rows]


async def _all(db: AsyncSession, statement: Any) -> list[Any]:
    return list(await db.scalars(statement))


async def export_personal_data(db: AsyncSession, email: str, *, now: datetime
                               ) -> dict[str, Any]:
    """Everything held about `email` (see the module docstring), ready for `json.dumps`."""
    key = normalise_address(email)
    registrations = await _all(db, select(Registration).where(
        Registration.email_normalised == key).order_by(Registration.id))
    persons = await _all(db, select(Person).where(
        func.lower(func.trim(Person.email)) == key).order_by(Person.id))
    members = await _all(db, select(GroupMember).where(
        GroupMember.email_normalised == key).order_by(GroupMember.id))
    guests = await _all(db, select(MeetingGuest).where(
        MeetingGuest.email_normalised == key).order_by(MeetingGuest.id))
    registration_ids, person_ids = _ids(registrations), _ids(persons)
    emails = await _all(db, select(OutboxEmail).where(or_(
        func.lower(OutboxEmail.to_address) == key,
        OutboxEmail.registration_id.in_(registration_ids),
        OutboxEmail.person_id.in_(person_ids),
        OutboxEmail.group_member_id.in_(_ids(members)))).order_by(OutboxEmail.id))
    email_ids = _ids(emails)
    about_ids = await erasure.emails_naming(db, erasure.notices_to_others(
        OutboxEmail.id.not_in(email_ids), or_(
            (OutboxEmail.template == MEETING_TEMPLATE)
            & OutboxEmail.event_id.in_({r.event_id for r in registrations}),
            (OutboxEmail.template == INTEREST_TO_FACILITATOR_TEMPLATE)
            & OutboxEmail.person_id.in_(select(GroupFacilitator.person_id).where(
                GroupFacilitator.group_id.in_({m.group_id for m in members}))))),
        erasure.scrubber([key]))
    export: dict[str, Any] = {
        "format": FORMAT,
        "email": key,
        "generated_at": now.isoformat(),
        "registrations": await _registrations(db, registrations, email_ids),
        "speaker_profiles": await _persons(db, persons),
        "group_memberships": await _memberships(db, members),
        "meeting_guest_invitations": await _guest_invitations(db, guests),
        "emails": await _emails(db, emails),
        "emails_to_others_about_you": await _emails_about(db, about_ids),
        "data_requests": [row_dict(r) for r in await _all(db, select(DataRequest).where(
            DataRequest.email_normalised == key).order_by(DataRequest.id))],
        "audit_entries": await _audit_entries(db, registrations, persons),
        "organiser_accounts": await _accounts(db, await _all(db, select(Account).where(
            func.lower(Account.email) == key).order_by(Account.id))),
        "sign_in_failures": [row_dict(f) for f in await _all(db, select(LoginFailure).where(
            func.lower(LoginFailure.email) == key).order_by(LoginFailure.id))],
    }
    export["row_count"] = count_rows(export)
    return export


async def _registrations(db: AsyncSession, registrations: Sequence[Registration],
                         email_ids: Sequence[int]) -> list[dict[str, Any]]:
    ids = _ids(registrations)
    events = {e.id: e for e in await _all(db, select(Event).where(
        Event.id.in_({r.event_id for r in registrations})))}
    notices = {n.id: n for n in await _all(db, select(PrivacyNotice).where(
        PrivacyNotice.id.in_({r.privacy_notice_version_id for r in registrations
                              if r.privacy_notice_version_id is not None})))}
    enrolments = await _all(db, select(Enrolment).where(Enrolment.registration_id.in_(ids))
                            .order_by(Enrolment.id))
    sessions = {s.id: s for s in await _all(db, select(EventSession).where(
        EventSession.id.in_({e.session_id for e in enrolments})))}
    reminders = await _all(db, select(Reminder).where(or_(
        Reminder.registration_id.in_(ids), Reminder.outbox_email_id.in_(email_ids)))
        .order_by(Reminder.id))
    links = await _all(db, select(AccessToken).where(AccessToken.registration_id.in_(ids))
                       .order_by(AccessToken.id))
    requests = await _all(db, select(MeetingRequest).where(MeetingRequest.registration_id.in_(ids))
                          .order_by(MeetingRequest.id))
    meetings = await _all(db, select(OneToOneMeeting).where(
        OneToOneMeeting.registration_id.in_(ids)).order_by(OneToOneMeeting.id))
    questions = await _all(db, select(ConsultationQuestion).where(
        ConsultationQuestion.registration_id.in_(ids)).order_by(ConsultationQuestion.id))
    answers = await _all(db, select(Feedback).where(Feedback.registration_id.in_(ids))
                         .order_by(Feedback.id))
    own_answers = await _all(db, select(FeedbackAnswer).where(
        FeedbackAnswer.feedback_id.in_([f.id for f in answers])).order_by(FeedbackAnswer.id))
    own_questions = {q.id: q for q in await _all(db, select(FeedbackQuestion).where(
        FeedbackQuestion.id.in_({a.question_id for a in own_answers})))}
    out = []
    for registration in registrations:
        event = events[registration.event_id]
        notice = notices.get(registration.privacy_notice_version_id or 0)
        out.append({
            **row_dict(registration),
            "event": {"id": event.id, "title": event.title, "slug": event.slug,
                      "kind": event.kind.value},
            "consents": {
                "event": {"given_at": _plain(registration.consent_at),
                          "privacy_notice": None if notice is None else {
                              "version": notice.id, "created_at": _plain(notice.created_at),
                              "text": notice.text, "language": notice.language,
                              "translations": dict(notice.translations or {})}},
                "keep_informed": {"given_at": _plain(registration.keep_informed_at)},
            },
            "enrolments": [
                {**row_dict(e), "session": _session(sessions[e.session_id])}
                for e in enrolments if e.registration_id == registration.id],
            "reminders": [row_dict(r) for r in reminders
                          if r.registration_id == registration.id],
            "private_links": [row_dict(a) for a in links if a.registration_id == registration.id],
            "meeting_requests": [row_dict(r) for r in requests
                                 if r.registration_id == registration.id],
            "one_to_one_meetings": [row_dict(m) for m in meetings
                                    if m.registration_id == registration.id],
            "consultation_questions": [row_dict(q) for q in questions
                                       if q.registration_id == registration.id],
            "feedback": [
                {**row_dict(f), "answers": [
                    {**row_dict(a), **_question_of(own_questions.get(a.question_id), a)}
                    for a in own_answers if a.feedback_id == f.id]}
                for f in answers if f.registration_id == registration.id],
        })
    return out


def _question_of(question: FeedbackQuestion | None, answer: FeedbackAnswer) -> dict[str, str]:
    """An own question's wording beside its answer, and the choice's words for a choice."""
    if question is None:
        return {"question": ""}
    choices = choice_list(question.choices)
    if answer.choice is not None and 0 < answer.choice <= len(choices):
        return {"question": question.text, "chosen": choices[answer.choice - 1]}
    return {"question": question.text}


async def _memberships(db: AsyncSession, members: Sequence[GroupMember]
                       ) -> list[dict[str, Any]]:
    """Interest Group memberships (and expressions of interest), with the meetings declined,
    the reminders planned and the private links."""
    ids = _ids(members)
    groups = {g.id: g for g in await _all(db, select(InterestGroup).where(
        InterestGroup.id.in_({m.group_id for m in members})))}
    declines = await _all(db, select(MeetingDecline).where(MeetingDecline.member_id.in_(ids))
                          .order_by(MeetingDecline.id))
    reminders = await _all(db, select(MeetingReminder).where(
        MeetingReminder.member_id.in_(ids)).order_by(MeetingReminder.id))
    links = await _all(db, select(AccessToken).where(AccessToken.group_member_id.in_(ids))
                       .order_by(AccessToken.id))
    return [{
        **row_dict(member),
        "group": {"id": member.group_id, "topic": groups[member.group_id].topic,
                  "slug": groups[member.group_id].slug},
        "declined_meetings": [row_dict(d) for d in declines if d.member_id == member.id],
        "meeting_reminders": [row_dict(r) for r in reminders if r.member_id == member.id],
        "private_links": [row_dict(a) for a in links if a.group_member_id == member.id],
    } for member in members]


async def _guest_invitations(db: AsyncSession, guests: Sequence[MeetingGuest]
                             ) -> list[dict[str, Any]]:
    """Invitations as a guest to one group meeting, with the meeting they were for."""
    series = {s.id: s for s in await _all(db, select(MeetingSeries).where(
        MeetingSeries.id.in_({g.series_id for g in guests})))}
    return [{**row_dict(guest), "meeting": {"series_id": guest.series_id,
                                            "title": series[guest.series_id].title}}
            for guest in guests]


def _session(session: EventSession) -> dict[str, Any]:
    return {"id": session.id, "title": session.title, "starts_at": _plain(session.starts_at),
            "ends_at": _plain(session.ends_at)}


async def _persons(db: AsyncSession, persons: Sequence[Person]) -> list[dict[str, Any]]:
    ids = _ids(persons)
    slots = await _all(db, select(AgendaItemSpeaker).where(AgendaItemSpeaker.person_id.in_(ids))
                       .order_by(AgendaItemSpeaker.id))
    items = {i.id: i for i in await _all(db, select(AgendaItem).where(
        AgendaItem.id.in_({s.agenda_item_id for s in slots})))}
    sessions = {s.id: s for s in await _all(db, select(EventSession).where(
        EventSession.id.in_({i.session_id for i in items.values()})))}
    organisations = {o.id: o.name for o in await _all(db, select(Organisation).where(
        Organisation.id.in_({p.organisation_id for p in persons if p.organisation_id}
                            | {s.organisation_id for s in slots if s.organisation_id})))}
    links = await _all(db, select(AccessToken).where(AccessToken.person_id.in_(ids))
                       .order_by(AccessToken.id))
    notices = await _all(db, select(SpeakerNotice).where(SpeakerNotice.person_id.in_(ids))
                         .order_by(SpeakerNotice.id))
    out = []
    for person in persons:
        person_slots = []
        for slot in slots:
            if slot.person_id != person.id:
                continue
            item = items[slot.agenda_item_id]
            person_slots.append({
                **row_dict(slot),
                "organisation": organisations.get(slot.organisation_id or 0),
                "agenda_item": {"id": item.id, "title": item.title,
                                "starts_at": _plain(item.starts_at),
                                "ends_at": _plain(item.ends_at)},
                "session": _session(sessions[item.session_id]),
            })
        out.append({
            **row_dict(person),
            "organisation": organisations.get(person.organisation_id or 0),
            "slots": person_slots,
            "private_links": [row_dict(a) for a in links if a.person_id == person.id],
            "speaker_notices": [row_dict(n) for n in notices if n.person_id == person.id],
        })
    return out


async def _emails(db: AsyncSession, emails: Sequence[OutboxEmail]) -> list[dict[str, Any]]:
    attempts = await _all(db, select(EmailAttempt).where(
        EmailAttempt.outbox_email_id.in_(_ids(emails))).order_by(EmailAttempt.id))
    return [{**row_dict(email), "body_text": email_text(email.raw_message),
             "attempts": [row_dict(a) for a in attempts if a.outbox_email_id == email.id]}
            for email in emails]


async def _emails_about(db: AsyncSession, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Emails to a host or facilitator that name the person (a meeting's invitation lists
    them as attendee): when and what, never the other person's address or message."""
    rows = await _all(db, select(OutboxEmail).where(OutboxEmail.id.in_(ids))
                      .order_by(OutboxEmail.id))
    return [{"id": row.id, "template": row.template, "event_id": row.event_id,
             "status": _plain(row.status), "created_at": _plain(row.created_at),
             "sent_at": _plain(row.sent_at)} for row in rows]


async def _audit_entries(db: AsyncSession, registrations: Sequence[Registration],
                         persons: Sequence[Person]) -> list[dict[str, Any]]:
    """What organisers changed about this person's rows (their registrations, places in
    sessions, person record), as the audit log recorded it."""
    enrolment_ids = list(await db.scalars(select(Enrolment.id).where(
        Enrolment.registration_id.in_(_ids(registrations)))))
    question_ids = list(await db.scalars(select(ConsultationQuestion.id).where(
        ConsultationQuestion.registration_id.in_(_ids(registrations)))))
    subjects = ([("registration", i) for i in _ids(registrations)]
                + [("enrolment", i) for i in enrolment_ids]
                + [("consultation_question", i) for i in question_ids]
                + [("person", i) for i in _ids(persons)])
    if not subjects:
        return []
    rows = await _all(db, select(AuditEntry).where(
        tuple_(AuditEntry.subject_type, AuditEntry.subject_id).in_(subjects))
        .order_by(AuditEntry.id))
    return [row_dict(r) for r in rows]


async def _accounts(db: AsyncSession, accounts: Sequence[Account]) -> list[dict[str, Any]]:
    """An organiser account: its teams, sessions, emailed links and what it changed."""
    ids = _ids(accounts)
    teams = {t.id: t.name for t in await _all(db, select(Team))}
    memberships = await _all(db, select(TeamMembership).where(
        TeamMembership.account_id.in_(ids)))
    sessions = await _all(db, select(AccountSession).where(
        AccountSession.account_id.in_(ids)).order_by(AccountSession.created_at))
    links = await _all(db, select(AccountLink).where(
        AccountLink.account_id.in_(ids)).order_by(AccountLink.id))
    made = await _all(db, select(AuditEntry).where(
        AuditEntry.account_id.in_(ids)).order_by(AuditEntry.id))
    return [{
        **row_dict(account),
        "team_memberships": [{**row_dict(m), "team": teams.get(m.team_id)}
                             for m in memberships if m.account_id == account.id],
        "sessions": [row_dict(s) for s in sessions if s.account_id == account.id],
        "links": [row_dict(link) for link in links if link.account_id == account.id],
        "audit_entries_made": [row_dict(e) for e in made if e.account_id == account.id],
    } for account in accounts]


# Where each table's rows are in an export: top-level sections, and lists nested in them.
SECTIONS = {"registrations": "registrations", "speaker_profiles": "persons",
            "group_memberships": "interest_group_members",
            "meeting_guest_invitations": "group_meeting_guests",
            "emails": "outbox_emails", "emails_to_others_about_you": "outbox_emails",
            "data_requests": "data_requests",
            "audit_entries": "audit_entries", "organiser_accounts": "accounts",
            "sign_in_failures": "login_failures"}
NESTED = {"enrolments": "enrolments", "reminders": "reminders", "private_links": "access_tokens",
          "slots": "agenda_item_speakers", "speaker_notices": "speaker_notices",
          "attempts": "email_attempts", "meeting_requests": "meeting_requests",
          "one_to_one_meetings": "one_to_one_meetings",
          "consultation_questions": "consultation_questions", "feedback": "feedback",
          "answers": "feedback_answers",
          "declined_meetings": "group_meeting_declines",
          "meeting_reminders": "group_meeting_reminders",
          "team_memberships": "team_memberships", "sessions": "account_sessions",
          "links": "account_links", "audit_entries_made": "audit_entries"}
# Tables whose rows have no `id`: their primary key's columns, in order.
_PRIMARY_KEYS = {"team_memberships": ("team_id", "account_id")}


def _row_key(table: str, record: dict[str, Any]) -> Any:
    if table in _PRIMARY_KEYS:
        return tuple(record[column] for column in _PRIMARY_KEYS[table])
    return record["id"]


def exported_rows(export: dict[str, Any]) -> set[tuple[str, Any]]:
    """Each database row an export gives, as (table, primary key)."""
    found: set[tuple[str, Any]] = set()

    def add(table: str, records: list[dict[str, Any]]) -> None:
        for record in records:
            found.add((table, _row_key(table, record)))
            for key, nested_table in NESTED.items():
                add(nested_table, record.get(key, []))

    for section, table in SECTIONS.items():
        add(table, export[section])
    return found


def count_rows(export: dict[str, Any]) -> int:
    """How many database rows the export gives."""
    return len(exported_rows(export))


async def record_personal_data_export(
    db: AsyncSession, actor: Actor, export: dict[str, Any], *, now: datetime,
    settings: Settings,
) -> None:
    """The audit entry of an export: by whom, when, how many rows, and whose (a keyed hash
    of the address, never the address)."""
    await record_export(db, actor, what=EXPORT_SUBJECT, rows=int(export["row_count"]), now=now,
                        details={"address": address_hash(settings, str(export["email"]))})
