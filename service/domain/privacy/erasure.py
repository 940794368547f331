"""Erasing what identifies a person: one registration, or everything held about an address.

A registration's place ends exactly as a cancellation's does (the first person waiting moves
up once), every email to it not yet sent is withdrawn, its reminders are cancelled and its
private links revoked, and then its personal data is overwritten in place: the row stays,
with what counts need (organisation kind, country, status, sessions attended), so the
organisers' figures and the feeds do not change.

How erased data looks:
- a registration's address becomes `erased-<random>@invalid`: `registrations.email` is NOT
  NULL and unique per event, `.invalid` can never be delivered to (RFC 2606), and a random
  part (rather than a hash of the address) links the row to nobody, not even for whoever
  holds the installation's secret; its name becomes `ERASED_NAME`;
- an email's recipient, kept as the record that it was sent, becomes a keyed hash
  (`hmac-sha256:` + HMAC-SHA256 of the normalised address under the installation's secret
  key): the same address always gives the same hash, so an operator who is given the
  address (and holds the key) can still answer "did we email this person", while a copy of
  the database alone names nobody; bodies and composing details are dropped;
- audit entries about the row keep their shape with `[erased]` in place of the values.
- its feedback keeps its rating (the event's figures) and loses its comments.

Everything here writes with Core statements, never through the ORM's change tracking: the
audit log's listeners would otherwise record the old values in the very log being cleaned.
Flushes, never commits, and logs no personal data.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import ForgottenEmails, forget_emails
from service.db.models import (
    AccessPurpose,
    AccessToken,
    AgendaItem,
    AgendaItemSpeaker,
    AuditEntry,
    ChangeNoticeStatus,
    ConsultationQuestion,
    Event,
    EventStatus,
    Feedback,
    FeedbackAnswer,
    GroupFacilitator,
    GroupMember,
    MeetingGuest,
    MeetingHost,
    OneToOneMeeting,
    OutboxEmail,
    OutboxStatus,
    Person,
    Registration,
    SpeakerNotice,
)
from service.db.models import Session as EventSession
from service.domain import reminders
from service.domain.access import find_issued_access
from service.domain.accounts.audit import actor_of
from service.domain.consultation import meetings as consultation_meetings
from service.domain.consultation.sharing import ANSWER_TEMPLATE
from service.domain.errors import InvalidInputError
from service.domain.groups import meeting_reminders as group_reminders
from service.domain.groups.erased import is_erased, is_reachable
from service.domain.groups.membership import INTEREST_TO_FACILITATOR_TEMPLATE
from service.domain.registration import release_registration
from service.i18n import gettext as _
from service.settings import Settings

logger = logging.getLogger("procura_events.privacy")

ERASED_NAME = "(erased)"
ERASED_VALUE = "[erased]"
HASH_PREFIX = "hmac-sha256:"
ERASED_DOMAIN = "invalid"
WITHDRAWN_NOTE = "withdrawn: the recipient's personal data was erased"
NOTE_ERASED = "the registration was erased"
NOTE_MEMBER_ERASED = "the member's personal data was erased"
# Rows per IN (...) list: well under the bound-parameter limits of both databases.
_CHUNK = 500


class ErasureLevel(StrEnum):
    """How much goes: the contact data only (a Meet-your-Buyer consultation record keeps the
    name, organisation and attendance for its longer term), or everything identifying."""

    CONTACT = "contact"
    FULL = "full"


@dataclass(frozen=True)
class ErasureSummary:
    """What `erase_person` found and erased for one address."""

    registrations: int = 0  # registrations erased (every event)
    emails: int = 0  # outbox rows to it, now under its hash with no body (ever erased)
    emails_withdrawn: int = 0  # of those, not yet sent and now never sent
    persons: int = 0  # speakers or hosts whose address and private links were removed
    names_kept: int = 0  # of those, named on a published programme: the name stays there
    group_members: int = 0  # Interest Group members (or people who expressed interest)
    meeting_guests: int = 0  # guests invited to one group meeting


# --- the marks erased data leaves ------------------------------------------------------------


def address_hash(secret_key: str, address: str) -> str:
    """The keyed hash that replaces an address in delivery records (see the module doc)."""
    if address.startswith(HASH_PREFIX):
        return address
    digest = hmac.new(secret_key.encode(), address.strip().lower().encode(), hashlib.sha256)
    return HASH_PREFIX + digest.hexdigest()


def erased_address() -> str:
    """An unguessable address no mail can reach, unique per row (see the module doc)."""
    return f"erased-{secrets.token_hex(12)}@{ERASED_DOMAIN}"


def is_erased_address(address: str) -> bool:
    return address.startswith("erased-") and address.endswith("@" + ERASED_DOMAIN)


def scrubber(needles: Iterable[str | None]) -> Callable[[str], str]:
    """Replace every occurrence of the needles (any case) in a text by `[erased]`."""
    words = sorted({n.strip() for n in needles if n and len(n.strip()) >= 2},
                   key=len, reverse=True)
    if not words:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return lambda text: pattern.sub(ERASED_VALUE, text)


def scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_json(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, scrub) for k, v in value.items()}
    return value


_REGISTRATION_FIELDS = {
    ErasureLevel.CONTACT: ("email", "email_normalised", "job_title", "access_note",
                           "offer_note"),
    ErasureLevel.FULL: ("name", "email", "email_normalised", "organisation_name", "job_title",
                        "access_note", "company", "sector", "offer_note"),
}


def _erase_audit_values(value: Any, fields: Sequence[str], scrub: Callable[[str], str]) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: (ERASED_VALUE if k in fields and v not in (None, "") else scrub_json(v, scrub))
            for k, v in value.items()}


async def _clean_audit_log(db: AsyncSession, subject_type: str, subject_id: int,
                           fields: Sequence[str], scrub: Callable[[str], str]) -> None:
    """The audit log's before/after of one row keep their keys; the erased values go."""
    rows = (await db.execute(
        select(AuditEntry.id, AuditEntry.before, AuditEntry.after, AuditEntry.actor_label)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
    )).all()
    for entry_id, before, after, label in rows:
        await db.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id)
            .values(before=_erase_audit_values(before, fields, scrub),
                    after=_erase_audit_values(after, fields, scrub),
                    actor_label=scrub(label))
            .execution_options(synchronize_session=False)
        )


async def _record_erasure(db: AsyncSession, *, subject_type: str, subject_id: int,
                          event_id: int | None, reason: str, now: datetime) -> None:
    """An organiser's erasure goes into the audit log (what and why, never whose)."""
    actor = actor_of(db)
    if actor is None:
        return
    db.add(AuditEntry(at=now, account_id=actor.account_id, api_token_id=actor.api_token_id,
                      actor_label=actor.label, action="erased", subject_type=subject_type,
                      subject_id=subject_id, event_id=event_id, before=None,
                      after={"reason": reason[:200]}))
    await db.flush()


# --- registrations ---------------------------------------------------------------------------


async def strip_registrations(
    db: AsyncSession, registration_ids: Sequence[int], *, level: ErasureLevel,
    now: datetime, reason: str, secret_key: str,
) -> ForgottenEmails:
    """Remove the personal data of registrations whose places need no more handling (erased,
    or of an event long over): their emails are withdrawn or stripped, reminders cancelled,
    private links revoked, the row overwritten in place; how many emails were stripped and
    how many of those withdrawn. Each row's own name and address are what get scrubbed from
    its emails and its audit entries.
    """
    ids = list(registration_ids)
    if not ids:
        return ForgottenEmails()
    fields = _REGISTRATION_FIELDS[level]
    emails = withdrawn = 0
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        await db.execute(
            update(AccessToken)
            .where(AccessToken.registration_id.in_(chunk), AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        # Comments are free text (a name, a city): blanked; the rating stays for the figures.
        await db.execute(
            update(Feedback).where(Feedback.registration_id.in_(chunk))
            .values(most_useful="", to_improve="")
            .execution_options(synchronize_session=False)
        )
        await db.execute(
            update(FeedbackAnswer).where(FeedbackAnswer.feedback_id.in_(
                select(Feedback.id).where(Feedback.registration_id.in_(chunk))))
            .values(text="")
            .execution_options(synchronize_session=False)
        )
        rows += (await db.execute(
            select(Registration.id, Registration.name, Registration.email,
                   Registration.email_normalised, Registration.contact_erased_at,
                   Registration.event_id, Registration.company, Registration.organisation_name)
            .where(Registration.id.in_(chunk)).order_by(Registration.id)
        )).all()
    for (registration_id, name, address, normalised, contact_erased_at, event_id, company,
         organisation) in rows:
        await reminders.cancel_reminders(db, registration_id=registration_id, now=now,
                                         note=NOTE_ERASED)
        scrub = scrubber([address, normalised]
                         + ([name] if level == ErasureLevel.FULL else []))
        email_ids = list(await db.scalars(
            select(OutboxEmail.id).where(OutboxEmail.registration_id == registration_id)))
        forgotten = await forget_emails(
            db, email_ids, now=now, note=WITHDRAWN_NOTE, scrub=scrub,
            address_hash=lambda to: address_hash(secret_key, to))
        emails += forgotten.forgotten
        withdrawn += forgotten.withdrawn
        values: dict[str, Any] = {
            "email": address if is_erased_address(address) else erased_address(),
            "job_title": None, "access_note": None, "offer_note": None,
            "contact_erased_at": contact_erased_at or now,
            "erasure_reason": reason[:100], "updated_at": now,
        }
        values["email_normalised"] = values["email"]
        if level == ErasureLevel.FULL:
            values |= {"name": ERASED_NAME, "organisation_name": "", "company": None,
                       "sector": None, "erased_at": now}
        await db.execute(
            update(Registration).where(Registration.id == registration_id).values(**values)
            .execution_options(synchronize_session=False)
        )
        await _clean_audit_log(db, "registration", registration_id, fields, scrub)
        await _reduce_consultation_record(
            db, registration_id, event_id, level=level, asker=company or organisation,
            scrub=scrub, now=now)
    # The ORM's copies of these rows are out of date now.
    erased = set(ids)
    for held in list(db.identity_map.values()):
        if isinstance(held, Registration) and held.id in erased:
            db.expire(held)
    await db.flush()
    return ForgottenEmails(forgotten=emails, withdrawn=withdrawn)


def _texts_of_email(raw: bytes | None) -> str:
    """Every decoded part of a stored message (headers and bodies)."""
    if not raw:
        return ""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        payload = None if part.is_multipart() else part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(texts)


async def emails_naming(db: AsyncSession, candidates: Any, scrub: Callable[[str], str]
                        ) -> list[int]:
    """Of `candidates` (a select of outbox ids, details, subjects and bodies), the emails
    whose text `scrub` would change: those that name the person."""
    return [row_id for row_id, details, subject, raw in (await db.execute(candidates)).all()
            if any(scrub(text) != text for text in
                   (str(details or ""), subject or "", _texts_of_email(raw)))]


def notices_to_others(*where: Any) -> Any:
    """Emails to a host about their one-to-one meetings, or to a facilitator about someone's
    interest: they name the other person (a supplier, a member), and carry their address."""
    return (select(OutboxEmail.id, OutboxEmail.details, OutboxEmail.subject,
                   OutboxEmail.raw_message)
            .where(OutboxEmail.person_id.is_not(None), *where))


async def _forget_emails_naming(
    db: AsyncSession, candidates: Any, *, now: datetime, scrub: Callable[[str], str],
) -> int:
    """Emails to someone else that name the erased person (`candidates`, as for
    `emails_naming`): unsent ones are withdrawn, every one loses its body; the recipient's
    own address stays. How many were withdrawn."""
    about = await emails_naming(db, candidates, scrub)
    forgotten = await forget_emails(db, about, now=now, note=WITHDRAWN_NOTE, scrub=scrub,
                                    address_hash=lambda address: address)
    return forgotten.withdrawn


async def _reduce_consultation_record(
    db: AsyncSession, registration_id: int, event_id: int, *, level: ErasureLevel,
    asker: str | None, scrub: Callable[[str], str], now: datetime,
) -> None:
    """A Meet-your-Buyer supplier's part of the procurement record. Their questions and the
    answers stay as published: with only the contact data gone, an asker who did not agree
    to be named is recorded by their company alone; once everything identifying goes, no
    question names or points to them. Their meetings stay (company and host), but the
    host's emails about them (which carry the supplier's address as an attendee, and their
    name) lose their bodies, as the supplier's own do."""
    questions = (await db.execute(
        select(ConsultationQuestion.id, ConsultationQuestion.may_name_asker)
        .where(ConsultationQuestion.registration_id == registration_id))).all()
    if level == ErasureLevel.FULL and any(may_name for _, may_name in questions):
        # An answer published naming them (as they agreed) went to every supplier: those
        # copies lose their bodies too; their recipients' addresses stay.
        await _forget_emails_naming(db, select(
            OutboxEmail.id, OutboxEmail.details, OutboxEmail.subject, OutboxEmail.raw_message)
            .where(OutboxEmail.event_id == event_id, OutboxEmail.template == ANSWER_TEMPLATE,
                   OutboxEmail.registration_id != registration_id), now=now, scrub=scrub)
    for question_id, may_name in questions:
        if level == ErasureLevel.FULL:
            values: dict[str, Any] = {"asked_by": ERASED_NAME, "may_name_asker": False,
                                      "registration_id": None}
        elif not may_name:
            values = {"asked_by": (asker or "")[:300]}
        else:
            continue
        await db.execute(
            update(ConsultationQuestion).where(ConsultationQuestion.id == question_id)
            .values(**values).execution_options(synchronize_session=False))
        await _clean_audit_log(db, "consultation_question", question_id,
                               ("asked_by",) if level == ErasureLevel.FULL or not may_name
                               else (), scrub)
    # Only the hosts they had a meeting with were told of them (and only those emails are
    # read: decoding every email of a large consultation per supplier would be slow).
    hosts = list(await db.scalars(
        select(MeetingHost.person_id).join(OneToOneMeeting,
                                           OneToOneMeeting.host_id == MeetingHost.id)
        .where(OneToOneMeeting.registration_id == registration_id).distinct()))
    if hosts:
        await _forget_emails_naming(db, notices_to_others(
            OutboxEmail.event_id == event_id,
            OutboxEmail.template == consultation_meetings.TEMPLATE,
            OutboxEmail.person_id.in_(hosts)), now=now, scrub=scrub)


async def clean_access_notes(db: AsyncSession, registration_ids: Sequence[int], *,
                             now: datetime) -> int:
    """Accessibility and dietary notes go (sooner than the rest); how many were deleted."""
    ids = list(registration_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        await db.execute(
            update(Registration)
            .where(Registration.id.in_(chunk), Registration.access_note.is_not(None))
            .values(access_note=None, updated_at=now)
            .execution_options(synchronize_session=False))
    for registration_id in ids:
        await _clean_audit_log(db, "registration", registration_id, ("access_note",),
                               lambda text: text)
    erased = set(ids)
    for held in list(db.identity_map.values()):
        if isinstance(held, Registration) and held.id in erased:
            db.expire(held)
    await db.flush()
    return len(ids)


async def _cancel_supplier_meetings(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
) -> None:
    """An erased supplier's requests are withdrawn (the scheduler places them no more) and
    their meetings still to come are cancelled: the host gets the CANCEL (naming nobody: the
    name is gone by now); the supplier's own copy is withdrawn at once, with no address."""
    cancelled = await consultation_meetings.withdraw_supplier(
        db, registration_id, now=now, settings=settings, include_started=True)
    if not cancelled:
        return
    # Composing the CANCEL issued the registration a private link again: revoked too.
    await db.execute(
        update(AccessToken)
        .where(AccessToken.registration_id == registration_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False))
    own = list(await db.scalars(select(OutboxEmail.id).where(
        OutboxEmail.registration_id == registration_id,
        OutboxEmail.status != OutboxStatus.WITHDRAWN)))
    await forget_emails(db, own, now=now, note=WITHDRAWN_NOTE, scrub=lambda text: text,
                        address_hash=lambda address: address_hash(settings.secret_key, address))


async def _erase_registration_id(
    db: AsyncSession, registration_id: int, *, now: datetime, reason: str, settings: Settings,
) -> ForgottenEmails:
    """`erase_registration` by id; its emails stripped and withdrawn (none if erased already)."""
    await release_registration(db, registration_id, now=now, settings=settings)
    event_id, erased_at = (await db.execute(
        select(Registration.event_id, Registration.erased_at)
        .where(Registration.id == registration_id))).one()
    if erased_at is not None:
        return ForgottenEmails()
    emails = await strip_registrations(db, [registration_id], level=ErasureLevel.FULL,
                                       now=now, reason=reason, secret_key=settings.secret_key)
    await _cancel_supplier_meetings(db, registration_id, now=now, settings=settings)
    await _record_erasure(db, subject_type="registration", subject_id=registration_id,
                          event_id=event_id, reason=reason, now=now)
    logger.info("Registration %d erased (%s); %d emails stripped, %d of them withdrawn",
                registration_id, reason, emails.forgotten, emails.withdrawn)
    return emails


async def erase_registration(
    db: AsyncSession, registration: Registration, *, now: datetime, reason: str,
    settings: Settings,
) -> None:
    """Erase one registration (see the module doc): its place goes to the first person
    waiting, it is sent nothing more, and nothing identifying it is left. Idempotent.

    `reason` (e.g. "registrant", "admin", "retention") is kept on the row and logged.
    """
    await _erase_registration_id(db, registration.id, now=now, reason=reason,
                                 settings=settings)


async def is_erased_registration_link(db: AsyncSession, token: str) -> bool:
    """Whether a private link that no longer works belonged to an erased registration (its
    page then says so, rather than "not found")."""
    issued = await find_issued_access(db, AccessPurpose.REGISTRATION_MANAGE, token)
    if issued is None or issued.registration_id is None:
        return False
    erased_at = await db.scalar(
        select(Registration.erased_at).where(Registration.id == issued.registration_id))
    return erased_at is not None


# --- Interest Group members and meeting guests ------------------------------------------------


async def _forget_facilitator_notices(
    db: AsyncSession, member: GroupMember, *, now: datetime, scrub: Callable[[str], str],
) -> int:
    """The facilitators' "X expressed interest" emails name the person: unsent ones are
    withdrawn (nothing is left to decide), and every one loses its body."""
    facilitators = select(GroupFacilitator.person_id).where(
        GroupFacilitator.group_id == member.group_id)
    return await _forget_emails_naming(db, notices_to_others(
        OutboxEmail.template == INTEREST_TO_FACILITATOR_TEMPLATE,
        OutboxEmail.person_id.in_(facilitators)), now=now, scrub=scrub)


async def strip_group_members(
    db: AsyncSession, member_ids: Sequence[int], *, now: datetime, secret_key: str,
) -> ForgottenEmails:
    """Remove the personal data of Interest Group members (or people who expressed interest):
    their reminders are cancelled, their emails withdrawn or stripped (the address hashed),
    their private links revoked, and the row keeps only its organisation and status, so the
    group's member organisations stay right; an erased member is sent nothing more (see
    `service.domain.groups.erased`)."""
    emails = withdrawn = 0
    for member_id in member_ids:
        member = await db.get(GroupMember, member_id)
        if member is None or is_erased(member):
            continue
        scrub = scrubber([member.name, member.email, member.email_normalised])
        await group_reminders.cancel_reminders(db, member_id=member.id, now=now,
                                               note=NOTE_MEMBER_ERASED)
        await db.execute(
            update(AccessToken)
            .where(AccessToken.group_member_id == member.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False))
        email_ids = list(await db.scalars(
            select(OutboxEmail.id).where(OutboxEmail.group_member_id == member.id)))
        forgotten = await forget_emails(
            db, email_ids, now=now, note=WITHDRAWN_NOTE, scrub=scrub,
            address_hash=lambda to: address_hash(secret_key, to))
        emails += forgotten.forgotten
        withdrawn += forgotten.withdrawn
        withdrawn += await _forget_facilitator_notices(db, member, now=now, scrub=scrub)
        address = erased_address()
        await db.execute(
            update(GroupMember).where(GroupMember.id == member.id)
            .values(name=ERASED_NAME, email=address, email_normalised=address, message=None,
                    decision_note=None, erased_at=now, updated_at=now)
            .execution_options(synchronize_session=False))
        db.expire(member)
    await db.flush()
    return ForgottenEmails(forgotten=emails, withdrawn=withdrawn)


async def strip_meeting_guests(db: AsyncSession, guest_ids: Sequence[int], *,
                               now: datetime) -> int:
    """Guests of one group meeting: their name and address go (the row keeps its meeting;
    an erased guest is sent nothing more). The emails they were sent are found by their
    address (`erase_person`) or by their age (`retention`). How many rows changed."""
    guests = list(await db.scalars(
        select(MeetingGuest).where(MeetingGuest.id.in_(guest_ids),
                                   is_reachable(MeetingGuest))
        .order_by(MeetingGuest.id)))
    for guest in guests:
        address = erased_address()
        await db.execute(
            update(MeetingGuest).where(MeetingGuest.id == guest.id)
            .values(name=ERASED_NAME, email=address, email_normalised=address,
                    erased_at=now)
            .execution_options(synchronize_session=False))
        db.expire(guest)
    await db.flush()
    return len(guests)


async def _erase_guests(db: AsyncSession, key: str, *, now: datetime) -> list[str]:
    """Guests of one group meeting with this address (`strip_meeting_guests`); the names
    they had."""
    guests = list(await db.scalars(
        select(MeetingGuest).where(MeetingGuest.email_normalised == key)
        .order_by(MeetingGuest.id)))
    names = [guest.name for guest in guests]
    await strip_meeting_guests(db, [guest.id for guest in guests], now=now)
    return names


# --- everything about one address ------------------------------------------------------------


async def _is_on_published_programme(db: AsyncSession, person_id: int) -> bool:
    """Named in an agenda of an event that was published (the public programme and its
    archive show it)."""
    found = await db.scalar(
        select(AgendaItemSpeaker.id)
        .join(AgendaItem, AgendaItem.id == AgendaItemSpeaker.agenda_item_id)
        .join(EventSession, EventSession.id == AgendaItem.session_id)
        .join(Event, Event.id == EventSession.event_id)
        .where(AgendaItemSpeaker.person_id == person_id, Event.status != EventStatus.DRAFT)
        .limit(1)
    )
    return found is not None


async def _erase_person_record(
    db: AsyncSession, person: Person, *, now: datetime, settings: Settings,
) -> tuple[bool, int]:
    """A speaker's or host's address, job title and private links go; their name stays only
    where a published programme shows it. (name kept, emails withdrawn)"""
    keep_name = await _is_on_published_programme(db, person.id)
    scrub = scrubber([person.email] + ([] if keep_name else [person.name]))
    await db.execute(
        update(AccessToken)
        .where(AccessToken.person_id == person.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    await db.execute(
        update(SpeakerNotice)
        .where(SpeakerNotice.person_id == person.id,
               SpeakerNotice.status == ChangeNoticeStatus.PENDING)
        .values(status=ChangeNoticeStatus.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    email_ids = list(await db.scalars(
        select(OutboxEmail.id).where(OutboxEmail.person_id == person.id)))
    forgotten = await forget_emails(
        db, email_ids, now=now, note=WITHDRAWN_NOTE, scrub=scrub,
        address_hash=lambda address: address_hash(settings.secret_key, address))
    values: dict[str, Any] = {"email": None, "job_title": None, "updated_at": now}
    fields = ["email", "job_title"]
    if not keep_name:
        values["name"] = ERASED_NAME
        fields.append("name")
    await db.execute(update(Person).where(Person.id == person.id).values(**values)
                     .execution_options(synchronize_session=False))
    await _clean_audit_log(db, "person", person.id, fields, scrub)
    await _record_erasure(db, subject_type="person", subject_id=person.id, event_id=None,
                          reason="erasure of a person's data", now=now)
    db.expire(person)
    return keep_name, forgotten.withdrawn


async def erase_person(
    db: AsyncSession, email: str, *, now: datetime, reason: str, settings: Settings,
) -> ErasureSummary:
    """Everything held about one address: every registration (all events) erased as
    `erase_registration` does, every email to it withdrawn or stripped (address hashed, body
    dropped), speakers or hosts with that address lose it and their private links (their
    name stays only on a published programme, which shows it), and Interest Group members
    and meeting guests with it lose their name and address (`strip_group_members`).
    Idempotent."""
    key = email.strip().lower()
    if not key or "@" not in key:
        raise InvalidInputError(_("Give an email address."), "email")
    registration_ids = list(await db.scalars(
        select(Registration.id)
        .where(Registration.email_normalised == key, Registration.erased_at.is_(None))
        .order_by(Registration.id)))
    names = list(await db.scalars(
        select(Registration.name).where(Registration.id.in_(registration_ids))))
    withdrawn = 0
    for registration_id in registration_ids:
        withdrawn += (await _erase_registration_id(db, registration_id, now=now, reason=reason,
                                                   settings=settings)).withdrawn
    persons = list(await db.scalars(
        select(Person).where(func.lower(Person.email) == key).order_by(Person.id)))
    names_kept = 0
    for person in persons:
        kept, taken = await _erase_person_record(db, person, now=now, settings=settings)
        names_kept += kept
        withdrawn += taken
    members = list(await db.scalars(
        select(GroupMember).where(GroupMember.email_normalised == key).order_by(GroupMember.id)))
    names += [member.name for member in members]
    withdrawn += (await strip_group_members(db, [m.id for m in members], now=now,
                                            secret_key=settings.secret_key)).withdrawn
    guest_names = await _erase_guests(db, key, now=now)
    names += guest_names
    # Anything else still addressed to it (a guest's invitations, a row whose registration
    # was deleted).
    hashed = address_hash(settings.secret_key, key)
    rest = list(await db.scalars(
        select(OutboxEmail.id).where(func.lower(OutboxEmail.to_address) == key)))
    forgotten = await forget_emails(
        db, rest, now=now, note=WITHDRAWN_NOTE, scrub=scrubber([key, *names]),
        address_hash=lambda address: address_hash(settings.secret_key, address))
    withdrawn += forgotten.withdrawn
    await db.flush()
    # Every email ever addressed to it is now recorded under its hash (this call's or earlier).
    emails = int(await db.scalar(
        select(func.count(OutboxEmail.id)).where(OutboxEmail.to_address == hashed)) or 0)
    logger.info("Personal data of one address erased (%s): %d registrations, %d persons",
                reason, len(registration_ids), len(persons))
    return ErasureSummary(registrations=len(registration_ids),
                          emails=emails, emails_withdrawn=withdrawn,
                          persons=len(persons), names_kept=names_kept,
                          group_members=len(members), meeting_guests=len(guest_names))
