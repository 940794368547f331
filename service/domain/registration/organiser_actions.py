"""What organisers do to registrations from the back office beyond one approval: promote a
chosen person off a waiting list, and approve or decline many at once with one message
(in the event's default language, and optionally the same message in other languages).

Built on the same commands as the API (`lifecycle`) and the same place-keeping (`places`),
so the rules and emails are theirs. Never commits.

A manual promotion never overbooks silently. Places are always given to the first in line
as soon as they are free (`places.fill_places`), so a full event or session has no place
for a chosen person: promoting them then needs the organiser's explicit `add_place`, which
raises the limit to exactly one more than the places taken and gives that place to them
(not to the first in line). Without it the promotion is refused naming `add_place`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    EnrolmentStatus,
    Registration,
    RegistrationStatus,
    SessionStatus,
)
from service.domain.emails.registration import OrganiserNote
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.programme.checks import one_more_place
from service.i18n import LANGUAGE_NAMES, LANGUAGES
from service.i18n import gettext as _
from service.settings import Settings

from .form import Problems
from .lifecycle import approve_registration, decline_registration
from .loading import lock_event, lock_for_registration
from .places import Changes, follow_up, place_enrolments, session_counts
from .queries import count_confirmed_registrations
from .rules import ACTIVE_STATUSES


@dataclass(frozen=True)
class Promotion:
    registration: Registration
    # The new limit on places when the organiser added one for this promotion.
    places_raised_to: int | None


async def promote_from_waiting_list(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
    session_id: int | None = None, add_place: bool = False,
) -> Promotion:
    """Give a chosen person waiting for the event (or, with `session_id`, for one of its
    sessions) a place ahead of the queue; they get the same email as anyone moving up."""
    event, registration = await lock_for_registration(db, registration_id)
    changes = Changes()
    raised: int | None = None
    if session_id is None:
        if registration.status != RegistrationStatus.WAITING:
            raise ConflictError(_("%(name)s is not on the event's waiting list (the registration "
                                      "is %(status)s).")
                                    % {"name": registration.name, "status": registration.status},
                                "registration")
        if event.capacity is not None:
            taken = (await count_confirmed_registrations(db, [event.id])).get(event.id, 0)
            if taken >= event.capacity:
                raised = _one_more(taken, event.capacity, add_place, registration.name)
                event.capacity = raised
                event.updated_at = now
        registration.status = RegistrationStatus.CONFIRMED
        registration.waiting_since = None
        registration.updated_at = now
        changes.promoted.add(registration.id)
        changes.registrations[registration.id] = registration
        await db.flush()
        await place_enrolments(db, registration, changes, now=now)
    else:
        session = next((s for s in event.sessions if s.id == session_id), None)
        if session is None:
            raise NotFoundError(_("No session %(session_id)s in this event.")
                                    % {"session_id": session_id}, "session")
        enrolment = next((e for e in registration.enrolments if e.session_id == session_id),
                         None)
        if (registration.status != RegistrationStatus.CONFIRMED or enrolment is None
                or enrolment.status != EnrolmentStatus.WAITING):
            raise ConflictError(_("%(name)s is not on the waiting list of %(title)r.")
                                    % {"name": registration.name, "title": session.title}, "registration")
        if session.status != SessionStatus.SCHEDULED:
            raise ConflictError(_("%(title)r is cancelled.") % {"title": session.title}, "session")
        if session.capacity is not None:
            taken = (await session_counts(db, [session]))[session.id]
            if taken >= session.capacity:
                raised = _one_more(taken, session.capacity, add_place, registration.name)
                session.capacity = raised
                session.updated_at = now
        enrolment.status = EnrolmentStatus.CONFIRMED
        enrolment.updated_at = now
        changes.note_confirmed(registration, session)
        await db.flush()
    await follow_up(db, event, changes, now=now, settings=settings)
    return Promotion(registration=registration, places_raised_to=raised)


def _one_more(taken: int, capacity: int, add_place: bool, name: str) -> int:
    """The raised limit that leaves exactly one place free, if the organiser asked for it."""
    if not add_place:
        raise ConflictError(
            _("All %(capacity)s places are taken: promoting %(name)s needs one more place. Add a "
                  "place to raise the limit to %(value)s.")
                % {"capacity": capacity, "name": name, "value": taken + 1}, "add_place")
    return one_more_place(taken, "add_place")


class Decision(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


@dataclass(frozen=True)
class DecisionRow:
    id: int
    name: str


@dataclass
class DecisionReport:
    """What a decision on many registrations did, each one named."""

    changed: list[DecisionRow] = field(default_factory=list)
    # Left as they were, with the reason (already decided, cancelled meanwhile, ...).
    skipped: list[tuple[DecisionRow, str]] = field(default_factory=list)


async def decide_registrations(
    db: AsyncSession, event_id: int, registration_ids: Sequence[int], decision: Decision, *,
    now: datetime, settings: Settings, message: str | None = None,
    translations: Mapping[str, str] | None = None,
) -> DecisionReport:
    """Approve or decline each chosen registration of the event, the organisers' optional
    message in every email: written in the event's default language, and in `translations`
    (language code -> text) the same message in other languages, each person reading the
    one in theirs. One that cannot be decided is skipped with its reason; an id that is not
    the event's, or a message that breaks a rule, refuses the whole request, and nothing
    changes."""
    ids = list(dict.fromkeys(registration_ids))
    # Locked: the statuses read next stay true until commit.
    event = await lock_event(db, event_id=event_id)
    problems = Problems()
    note = _checked_message(message, translations or {}, event.default_language, problems)
    if not ids:
        problems.add("registration_ids", _("Choose at least one registration."))
    if problems.found:
        raise InvalidInputError.of(problems.found)
    found = {
        row.id: (row.name, row.status)
        for row in (await db.execute(
            select(Registration.id, Registration.name, Registration.status)
            .where(Registration.event_id == event_id, Registration.id.in_(ids))
        )).all()
    }
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise NotFoundError(_("No registration %(unknown)s in this event.")
                                % {"unknown": unknown[0]}, "registration_ids")
    report = DecisionReport()
    for registration_id in ids:
        name, status = found[registration_id]
        row = DecisionRow(registration_id, name)
        reason = _why_not(decision, status)
        if reason is not None:
            report.skipped.append((row, reason))
            continue
        try:
            if decision == Decision.APPROVE:
                await approve_registration(db, registration_id, now=now, settings=settings,
                                           note=note)
            else:
                await decline_registration(db, registration_id, now=now, settings=settings,
                                           reason=note)
        except ConflictError as error:  # e.g. the event was cancelled
            report.skipped.append((row, error.message))
            continue
        report.changed.append(row)
    return report


def check_decision_message(message: str | None, translations: Mapping[str, str],
                           written_in: str) -> OrganiserNote | None:
    """The message of a decision and its translations, checked on their own (every problem
    at once), for a form refused before there is anything to decide."""
    problems = Problems()
    note = _checked_message(message, translations, written_in, problems)
    if problems.found:
        raise InvalidInputError.of(problems.found)
    return note


def _checked_message(message: str | None, translations: Mapping[str, str], written_in: str,
                     problems: Problems) -> OrganiserNote | None:
    """The message and its translations, cleaned, each problem noted under its field
    (`message`, `message_<language>`); a language left empty is no translation."""
    text = problems.text(message, "message")
    checked: dict[str, str] = {}
    for language, typed in translations.items():
        if not (typed or "").strip():
            continue
        name = f"message_{language}"
        if language not in LANGUAGES or language == written_in:
            problems.add(name, _("Translations go into another of the languages the service "
                                 "speaks than the message's own."))
            continue
        translated = problems.text(typed, name)
        if translated:
            checked[language] = translated
    if checked and not text and not any(p.field == "message" for p in problems.found):
        problems.add("message", _(
            "Write the message in %(language)s too: everyone without a version in their own "
            "language receives it.") % {"language": LANGUAGE_NAMES[written_in]})
    return OrganiserNote(text, written_in, checked) if text else None


def _why_not(decision: Decision, status: RegistrationStatus) -> str | None:
    """Why this decision does not apply to a registration with `status`, or None."""
    if decision == Decision.APPROVE:
        if status == RegistrationStatus.PENDING:
            return None
        if status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING):
            return "already approved"
        return f"the registration is {status}"
    if status in ACTIVE_STATUSES:
        return None
    if status == RegistrationStatus.DECLINED:
        return "already declined"
    return f"the registration is {status}"
