"""What follows a change, decided in one place: enrolments, places, reminders, notices.

The concern packages announce what happened (`service.domain.signals`); this module is the
only subscriber, so whoever must be enrolled, promoted, re-reminded or told of a change is
decided here, inside the transaction of the change itself. `wire()` runs at start-up (app,
worker, CLI, tests); announcing a fact nobody subscribed to is an error, never a silent skip.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain import registration, reminders, signals
from service.domain.consultation import meetings as consultation_meetings
from service.domain.notices import changes as change_notices
from service.domain.notices import speakers as speaker_notices
from service.domain.snapshots import snapshot_session
from service.settings import Settings


async def after_session_added(db: AsyncSession, fact: signals.SessionAdded, now: datetime,
                              settings: Settings) -> None:
    """Whole-event registrants are enrolled in the new session."""
    await registration.enrol_in_new_session(db, fact.session, now=now, settings=settings)


async def after_session_changed(db: AsyncSession, fact: signals.SessionChanged, now: datetime,
                                settings: Settings) -> None:
    """Bump SEQUENCE on a change of time, place or status, and tell whoever must know;
    reminders follow any change of what they say (prepared ones are composed again)."""
    session, event, before = fact.session, fact.event, fact.before
    after = snapshot_session(session, event)
    if after == before:
        return
    material = before.material_changes(after)
    if material:
        session.sequence += 1
        session.updated_at = now
        await db.flush()
    if (before.starts_at, before.status, before.timezone) != (
            after.starts_at, after.status, after.timezone):
        await reminders.retime_reminders_for_session(db, session, event, now=now)
    else:  # due times stay: only what prepared reminders say is out of date
        await reminders.refresh_prepared_reminders(
            db, session.id, now=now, note=reminders.WITHDRAWN_SESSION_CHANGED)
    if material:
        await change_notices.record_session_change(
            db, session, event, before, now=now, settings=settings)
        await speaker_notices.notify_session_change(
            db, session, event, before, now=now, settings=settings)


async def after_agenda_changed(db: AsyncSession, fact: signals.AgendaChanged, now: datetime,
                               settings: Settings) -> None:
    """Speakers hear of their slots; reminders composed ahead (which show the agenda) are
    composed again; registrants are told of a moved item."""
    await reminders.refresh_prepared_reminders(db, fact.session.id, now=now)
    await change_notices.record_agenda_change(
        db, fact.session, added=fact.added, removed=fact.removed, moved_from=fact.moved_from,
        item=fact.item, now=now, settings=settings)
    await speaker_notices.notify_agenda_change(
        db, fact.session, added=fact.added, removed=fact.removed, moved_from=fact.moved_from,
        now=now, settings=settings)


async def after_speaker_details_changed(db: AsyncSession, fact: signals.SpeakerDetailsChanged,
                                        now: datetime, settings: Settings) -> None:
    """Agendas show speakers' names and organisations: prepared reminders are redone."""
    await reminders.refresh_prepared_reminders_for_speakers(
        db, now=now, person_id=fact.person_id, organisation_id=fact.organisation_id)


async def after_registrant_renamed(db: AsyncSession, fact: signals.RegistrantRenamed,
                                  now: datetime, settings: Settings) -> None:
    """Reminders are addressed by name: prepared ones are composed again."""
    await reminders.refresh_prepared_reminders_for_registration(
        db, fact.registration.id, now=now)


async def after_places_added(db: AsyncSession, fact: signals.PlacesAdded, now: datetime,
                             settings: Settings) -> None:
    """An organiser raised (or lifted) a limit on places: people waiting move up."""
    await registration.promote_waiting(db, fact.event.id, now=now, settings=settings)


async def after_enrolment_confirmed(db: AsyncSession, fact: signals.EnrolmentConfirmed,
                                    now: datetime, settings: Settings) -> None:
    """A registrant now has a confirmed place in a session: plan their reminders."""
    event = await db.get(Event, fact.session.event_id)
    assert event is not None
    await reminders.plan_reminders_for_enrolment(db, fact.registration, fact.session, event,
                                                 now=now)


async def after_registrations_placed(db: AsyncSession, fact: signals.RegistrationsPlaced,
                                     now: datetime, settings: Settings) -> None:
    """New registrations of this transaction have confirmed places: plan their reminders."""
    await reminders.plan_reminders_for_new_registrations(db, fact.placements, now=now)


async def after_enrolment_ended(db: AsyncSession, fact: signals.EnrolmentEnded, now: datetime,
                                settings: Settings) -> None:
    """No confirmed place any more (cancelled, declined, moved to waiting): no reminders."""
    await reminders.cancel_reminders(
        db, session_id=fact.session.id, registration_id=fact.registration.id, now=now,
        note=reminders.NOTE_PLACE_ENDED)


async def after_reminder_policy_changed(db: AsyncSession, fact: signals.ReminderPolicyChanged,
                                        now: datetime, settings: Settings) -> None:
    """Every reminder still to come follows the new policy: sessions' and one-to-one
    meetings'."""
    await reminders.replan_reminders_for_event(db, fact.event, now=now)
    await consultation_meetings.replan_meeting_reminders(db, fact.event, now=now,
                                                         settings=settings)


async def after_registration_withdrawn(db: AsyncSession, fact: signals.RegistrationWithdrawn,
                                       now: datetime, settings: Settings) -> None:
    """A supplier who leaves a Meet-your-Buyer dialogue leaves its meetings too."""
    await consultation_meetings.withdraw_supplier(db, fact.registration.id, now=now,
                                                  settings=settings)


def wire() -> None:
    """Subscribe every consequence to its fact (idempotent)."""
    signals.subscribe(signals.SessionAdded, after_session_added)
    signals.subscribe(signals.SessionChanged, after_session_changed)
    signals.subscribe(signals.AgendaChanged, after_agenda_changed)
    signals.subscribe(signals.SpeakerDetailsChanged, after_speaker_details_changed)
    signals.subscribe(signals.PlacesAdded, after_places_added)
    signals.subscribe(signals.EnrolmentConfirmed, after_enrolment_confirmed)
    signals.subscribe(signals.RegistrationsPlaced, after_registrations_placed)
    signals.subscribe(signals.EnrolmentEnded, after_enrolment_ended)
    signals.subscribe(signals.ReminderPolicyChanged, after_reminder_policy_changed)
    signals.subscribe(signals.RegistrantRenamed, after_registrant_renamed)
    signals.subscribe(signals.RegistrationWithdrawn, after_registration_withdrawn)
