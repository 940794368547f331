"""Registering: the public form's hot path, one person or a batch of them at once.

Per event, the event (locked) with its sessions, the places already taken (where limited)
and the addresses already registered are read once; places are decided in memory in arrival
order; then one INSERT per table writes the whole batch. The first emails are only recorded
(`welcome.welcome_email`), composed after the commit; events that ask registrants to confirm
their address record them unconfirmed instead (`confirmation`). Keep it that way: every
query added here is paid by every registration (benchmarks/registration.py measures it).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from notifications.outbox import queue_emails
from service.db.engine import insert_returning_ids, insert_rows, one_of, table_of
from service.db.models import (
    AccessPurpose,
    Enrolment,
    EnrolmentStatus,
    Event,
    PrivacyNotice,
    Registration,
    RegistrationStatus,
    Session,
)
from service.domain import access, signals
from service.domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from service.i18n import N_
from service.i18n import gettext as _
from service.settings import Settings

from . import confirmation
from .form import CleanForm, RegistrationForm, check_form_for_event, clean_form, normalise_email
from .loading import as_written, attach, lock_published_event
from .places import Changes, Places, enrolments_for, follow_up
from .queries import waiting_position
from .rules import check_open, check_open_to_organisers, chosen_sessions, scheduled_sessions
from .welcome import welcome_email


@dataclass(frozen=True)
class RegistrationOutcome:
    registration: Registration
    is_new: bool
    # Only for a new registration: a repeat must not hand out a token to whoever knows the
    # email address (the registrant has it in their confirmation email).
    manage_token: str | None
    waiting_position: int | None  # 1-based place on the event's waiting list, if waiting
    # Where an organiser added a place for them (the event, or a session that was full).
    places_added: tuple[Event | Session, ...] = ()


@dataclass
class _NewRegistration:
    """A registration decided in memory, waiting for the batch's INSERTs."""

    index: int
    event: Event
    values: dict[str, Any]
    enrolments: list[tuple[Session, EnrolmentStatus]]
    confirmed: list[Session]
    position: int | None


async def register_participant(
    db: AsyncSession, event_slug: str, form: RegistrationForm, *, now: datetime,
    settings: Settings,
) -> RegistrationOutcome:
    """Register one person for a published event (see `register_participants`)."""
    [result] = await register_participants(db, [(event_slug, form)], now=now, settings=settings)
    if isinstance(result, DomainError):
        raise result
    return result


async def register_participants(
    db: AsyncSession, entries: Sequence[tuple[str, RegistrationForm]], *, now: datetime,
    settings: Settings,
) -> list[RegistrationOutcome | DomainError]:
    """Register people for published events, in the order given; each one's outcome, or the
    rule it broke. A repeat (same address, same event) returns the existing registration.

    For one person or for the batch of those who submitted at the same moment
    (`service.web.registration_desk`): one INSERT per table writes the whole batch:
    registrations, enrolments, private links, reminders and first emails. Those emails are
    recorded to be composed after the commit (`compose_welcome_emails`): rendering them and
    building their invites would cost more than all the rest together.
    """
    results: list[RegistrationOutcome | DomainError | None] = [None] * len(entries)
    forms: dict[int, CleanForm] = {}
    for index, (_key, entry) in enumerate(entries):
        try:
            forms[index] = clean_form(entry)
        except DomainError as error:
            results[index] = error
    await _record_notice_versions(db, forms, results)
    new: list[_NewRegistration] = []
    # For events that ask registrants to confirm their address: (index, what to record).
    unconfirmed: list[tuple[int, confirmation.UnconfirmedEntry]] = []
    twins: dict[int, int] = {}  # a second request for the same address: index -> the first
    # Events are locked in one order, so two batches never wait for each other in a circle.
    for slug in sorted({entries[index][0] for index in forms}):
        indexes = [index for index in forms if entries[index][0] == slug]
        try:
            event = await lock_published_event(db, slug)
        except NotFoundError as error:
            for index in indexes:
                results[index] = error
            continue
        keys = {index: normalise_email(forms[index].email) for index in indexes}
        existing = await _existing_registrations(db, event, set(keys.values()))
        places = await Places.count(db, event, now)
        first_of: dict[str, int] = {}
        for index in indexes:
            clean, key = forms[index], keys[index]
            if key in first_of:
                twins[index] = first_of[key]
                continue
            first_of[key] = index
            found = existing.get(key)
            active = found is not None and found.status not in _NOT_HOLDING
            try:
                check_open(event, now)
                clean = check_form_for_event(clean, event)
                sessions = chosen_sessions(event, clean.session_ids, now)
            except DomainError as error:
                # Someone registered already gets that answer, even once registration closed.
                results[index] = await _repeat(db, found) if found and active else error
                continue
            if found is not None:
                if active:
                    results[index] = await _repeat(db, found)
                elif event.is_address_confirmation_required:
                    results[index] = _awaiting(await confirmation.ask_again(
                        db, event, found, _form_values(clean, now), sessions, now=now,
                        settings=settings))
                else:
                    results[index] = await _register_again(
                        db, event, found, clean, sessions, places, now=now, settings=settings)
                continue
            if event.is_address_confirmation_required:
                unconfirmed.append((index, confirmation.UnconfirmedEntry(
                    event, _new_values(event, clean, key, now), sessions)))
                continue
            new.append(_decide_new(index, event, clean, key, sessions, places, now))
    if unconfirmed:
        recorded = await confirmation.record_unconfirmed(
            db, [entry for _, entry in unconfirmed], now=now, settings=settings)
        for (index, _), registration in zip(unconfirmed, recorded, strict=True):
            results[index] = _awaiting(registration)
    if new:
        for item, outcome in zip(new, await _write_new(db, new, now=now, settings=settings),
                                 strict=True):
            results[item.index] = outcome
    for index, first in twins.items():
        earlier = results[first]
        assert earlier is not None
        if isinstance(earlier, DomainError):
            results[index] = earlier
        else:
            results[index] = RegistrationOutcome(
                registration=earlier.registration, is_new=False, manage_token=None,
                waiting_position=earlier.waiting_position,
            )
    decided = [result for result in results if result is not None]
    assert len(decided) == len(entries)
    return decided


async def register_on_behalf(
    db: AsyncSession, event_slug: str, form: RegistrationForm, *, now: datetime,
    settings: Settings, add_places: bool = False,
) -> RegistrationOutcome:
    """An organiser registers someone who asked them (by phone, by email, at the door): the
    form's rules and the places apply, not the registration window, approval or the address
    confirmation (the organiser vouches for the person). Where the event or a chosen session
    is full they wait, unless the organiser adds a place there (`add_places`: the limit goes
    up by one, as when promoting someone). They get the usual first email."""
    clean = clean_form(form)
    event = await lock_published_event(db, event_slug)
    check_open_to_organisers(event, now)
    clean = check_form_for_event(clean, event)
    sessions = chosen_sessions(event, clean.session_ids, now)
    key = normalise_email(clean.email)
    found = (await _existing_registrations(db, event, {key})).get(key)
    if found is not None and found.status not in _NOT_HOLDING:
        raise ConflictError(_("This address is registered for this event already: open its "
                              "registration from the list."), "email")
    places = await Places.count(db, event, now)
    added = tuple(places.make_room(sessions)) if add_places else ()
    if found is not None:
        outcome = await _register_again(db, event, found, clean, sessions, places, now=now,
                                        settings=settings, by_organiser=True)
    else:
        [outcome] = await _write_new(
            db, [_decide_new(0, event, clean, key, sessions, places, now, by_organiser=True)],
            now=now, settings=settings)
    return replace(outcome, places_added=added)


async def registered_addresses(db: AsyncSession, event: Event, email_keys: Collection[str]
                               ) -> set[str]:
    """Which of these (normalised) addresses hold a registration of the event: the ones
    `register_on_behalf` would refuse."""
    found = await _existing_registrations(db, event, email_keys)
    return {key for key, registration in found.items()
            if registration.status not in _NOT_HOLDING}


async def full_places(db: AsyncSession, event: Event, now: datetime) -> list[Event | Session]:
    """The event and its coming sessions that have no place left: where the organisers'
    form offers to add one."""
    places = await Places.count(db, event, now)
    return places.full([s for s in scheduled_sessions(event) if s.ends_at > now])


NOTICE_UNKNOWN = N_("There is no such version of the privacy notice: load the form again and "
                  "read the notice it links to.")


async def _record_notice_versions(
    db: AsyncSession, forms: dict[int, CleanForm],
    results: list[RegistrationOutcome | DomainError | None],
) -> None:
    """Each consent is recorded with the privacy notice the person was shown: the version
    the form gave, else the current one (the newest). An unknown version is refused."""
    given = {f.privacy_notice_version_id for f in forms.values()
             if f.privacy_notice_version_id is not None}
    current = await db.scalar(select(func.max(PrivacyNotice.id)))
    known = set(await db.scalars(select(PrivacyNotice.id).where(PrivacyNotice.id.in_(given)))
                ) if given else set()
    for index, form in list(forms.items()):
        if form.privacy_notice_version_id is None:
            forms[index] = replace(form, privacy_notice_version_id=current)
        elif form.privacy_notice_version_id not in known:
            results[index] = InvalidInputError(_(NOTICE_UNKNOWN), "privacy_notice_version_id")
            del forms[index]


# A registration under an address found in these states is made again from the form: it
# holds nothing (cancelled), or is not confirmed yet (then the form counts as a new request).
_NOT_HOLDING = (RegistrationStatus.CANCELLED, RegistrationStatus.UNCONFIRMED)


def _awaiting(registration: Registration) -> RegistrationOutcome:
    """Recorded until the address is confirmed: no link, no place, no position to tell."""
    return RegistrationOutcome(registration=registration, is_new=True, manage_token=None,
                               waiting_position=None)


def _new_values(event: Event, form: CleanForm, key: str, now: datetime) -> dict[str, Any]:
    return {**_form_values(form, now), "event_id": event.id, "email_normalised": key,
            "created_at": now}


def _form_values(form: CleanForm, now: datetime) -> dict[str, Any]:
    """The registration's columns that the form sets."""
    return {
        "name": form.name, "email": form.email, "organisation_name": form.organisation_name,
        "organisation_kind": form.organisation_kind, "country": form.country,
        "job_title": form.job_title, "access_note": form.access_note, "company": form.company,
        "sector": form.sector, "offer_note": form.offer_note, "attendance": form.attendance,
        "is_whole_event": form.session_ids is None, "consent_at": now, "updated_at": now,
        "privacy_notice_version_id": form.privacy_notice_version_id,
        "keep_informed_at": now if form.keep_informed else None,
        "language": form.language,
    }


async def _existing_registrations(db: AsyncSession, event: Event, email_keys: Collection[str]
                                  ) -> dict[str, Registration]:
    """The event's registrations (any status) under these addresses, by normalised address."""
    rows = await db.scalars(
        select(Registration)
        .where(Registration.event_id == event.id,
               one_of(db, Registration.email_normalised, list(email_keys)))
        .options(selectinload(Registration.enrolments))
    )
    found = {}
    for registration in rows:
        attach(registration, event)
        found[registration.email_normalised] = registration
    return found


async def _repeat(db: AsyncSession, registration: Registration) -> RegistrationOutcome:
    return RegistrationOutcome(
        registration=registration, is_new=False, manage_token=None,
        waiting_position=await waiting_position(db, registration),
    )


def _decide_new(index: int, event: Event, form: CleanForm, key: str,
                sessions: Sequence[Session], places: Places, now: datetime, *,
                by_organiser: bool = False) -> _NewRegistration:
    """Where a new registration stands: pending approval (not when an organiser registers
    them), a place, or the waiting list."""
    position: int | None = None
    confirmed: list[Session] = []
    if event.is_approval_required and not by_organiser:
        status, waiting_since = RegistrationStatus.PENDING, None
    else:
        status, waiting_since, position = places.event_place()
        if status == RegistrationStatus.CONFIRMED:
            confirmed = places.session_places(sessions)
    placed = {s.id for s in confirmed}
    return _NewRegistration(
        index=index, event=event,
        values={**_form_values(form, now), "event_id": event.id, "email_normalised": key,
                "status": status, "waiting_since": waiting_since, "created_at": now},
        enrolments=[(s, EnrolmentStatus.CONFIRMED if s.id in placed else EnrolmentStatus.WAITING)
                    for s in sessions],
        confirmed=confirmed, position=position,
    )


async def _write_new(db: AsyncSession, new: Sequence[_NewRegistration], *, now: datetime,
                     settings: Settings) -> list[RegistrationOutcome]:
    """One INSERT per table for the whole batch (Core: no objects to track)."""
    ids = await insert_returning_ids(db, table_of(Registration), [item.values for item in new],
                                     key=("event_id", "email_normalised"))
    await insert_rows(db, table_of(Enrolment), [
        {"registration_id": registration_id, "session_id": session.id, "status": status,
         "created_at": now, "updated_at": now}
        for item, registration_id in zip(new, ids, strict=True)
        for session, status in item.enrolments
    ])
    tokens = await access.issue_first_registration_tokens(
        db, ids, (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED),
        secret_key=settings.secret_key, now=now,
    )
    await signals.announce(db, signals.RegistrationsPlaced([
        (registration_id, item.event, item.confirmed)
        for item, registration_id in zip(new, ids, strict=True) if item.confirmed
    ]), now=now, settings=settings)
    await queue_emails(db, [
        welcome_email(registration_id, item.event.id, item.values["status"],
                      item.values["email"], item.enrolments, item.position,
                      language=item.values.get("language"))
        for item, registration_id in zip(new, ids, strict=True)
    ], settings=settings, now=now)
    return [
        RegistrationOutcome(
            registration=as_written(registration_id, item.event, item.values, item.enrolments),
            is_new=True, manage_token=manage_token, waiting_position=item.position,
        )
        for item, registration_id, (manage_token, _) in zip(new, ids, tokens, strict=True)
    ]


async def _register_again(
    db: AsyncSession, event: Event, registration: Registration, form: CleanForm,
    sessions: Sequence[Session], places: Places, *, now: datetime, settings: Settings,
    by_organiser: bool = False,
) -> RegistrationOutcome:
    """Registering again after cancelling (or, unconfirmed, once the event no longer asks for
    confirmation): the same row comes back to life. Its token is not returned (whoever knows
    an address must not get a link): it is in the email."""
    for name, value in _form_values(form, now).items():
        setattr(registration, name, value)
    registration.cancelled_at = None
    registration.decided_at = None
    registration.confirmation_expires_at = None  # unconfirmed, and the event stopped asking
    enrolments_for(registration, sessions, now)
    decided = _decide_new(0, event, form, registration.email_normalised, sessions, places, now,
                          by_organiser=by_organiser)
    registration.status = decided.values["status"]
    registration.waiting_since = decided.values["waiting_since"]
    placed = {s.id for s in decided.confirmed}
    for enrolment in registration.enrolments:
        if enrolment.session_id in placed:
            enrolment.status = EnrolmentStatus.CONFIRMED
    await db.flush()
    changes = Changes()
    for session in decided.confirmed:
        changes.note_confirmed(registration, session)
    await follow_up(db, event, changes, now=now, settings=settings,
                    skip_email_for=registration.id)
    kept = [e for e in registration.enrolments if e.status != EnrolmentStatus.CANCELLED]
    await queue_emails(db, [welcome_email(
        registration.id, event.id, registration.status, registration.email,
        [(e.session, e.status) for e in kept], decided.position,
        {e.session_id: e.invite_sequence or 0 for e in kept},
        language=registration.language)], settings=settings, now=now)
    return RegistrationOutcome(
        registration=registration, is_new=True, manage_token=None,
        waiting_position=decided.position,
    )
