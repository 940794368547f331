"""How long registrants' personal data is kept after an event, and anonymising it then.

Every date counts from the end of the event's last session (an event without sessions has
no end, so nothing of it expires):
- accessibility and dietary notes (`access_note`) are deleted `access_note_days` after it
  (PROCURA_ACCESS_NOTE_DAYS, default 30);
- everything identifying a registrant goes `retention_months` after it: the event's own
  `Event.retention_months`, or the installation's PROCURA_RETENTION_MONTHS (default 12);
- a Meet-your-Buyer dialogue is a public buyer's procurement record: at the event's
  retention date its registrations lose their contact data (address, job title, notes,
  offer, private links, email bodies), keeping the name, organisation and attendance the
  record needs, and those go too at least `MEET_YOUR_BUYER_RECORD_MONTHS` (36) after it
  (the longer of that and the event's own period).

What survives is what counts need: status, organisation kind, country, sessions attended
(`participation_counts`), so the organisers' figures, the feeds and the dashboard read the
same before and after. `anonymise_expired` is the hourly job's work: each event in a
savepoint of its own, so one that fails is recorded with why and never blocks the others.

Interest Group members go through the same job (`member_expires_at`): someone who left or
was declined `retention_months` (PROCURA_RETENTION_MONTHS) after that; a member (or someone
still waiting for a decision) is kept while the group runs and anonymised that long after
its end date. Each group in a savepoint of its own, too.
Flushes, never commits.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import forget_emails
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
    MeetingGuest,
    MeetingSeries,
    OrganisationKind,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    Session,
)
from service.domain.errors import InvalidInputError
from service.domain.groups.erased import is_erased, is_reachable
from service.domain.groups.invites import GUEST_TEMPLATE
from service.domain.privacy.erasure import (
    HASH_PREFIX,
    WITHDRAWN_NOTE,
    ErasureLevel,
    address_hash,
    clean_access_notes,
    scrubber,
    strip_group_members,
    strip_meeting_guests,
    strip_registrations,
)
from service.i18n import gettext as _

logger = logging.getLogger("procura_events.privacy")

MEET_YOUR_BUYER_RECORD_MONTHS = 36
RETENTION_REASON = "retention"


class RetentionPolicy(Protocol):
    """The installation's defaults (`Settings` is one)."""

    @property
    def retention_months(self) -> int: ...

    @property
    def access_note_days(self) -> int: ...

    @property
    def secret_key(self) -> str: ...


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day where it is shorter)."""
    index = at.month - 1 + months
    year, month = at.year + index // 12, index % 12 + 1
    return at.replace(year=year, month=month,
                      day=min(at.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class RetentionDates:
    """When each kind of personal data of one event goes (None: the event has no end)."""

    ends_at: datetime | None
    months: int  # the event's retention period
    is_installation_default: bool  # `months` is PROCURA_RETENTION_MONTHS
    is_procurement_record: bool  # Meet-your-Buyer: the name and organisation stay longer
    access_notes_deleted_at: datetime | None
    contact_erased_at: datetime | None  # addresses, notes, private links, email bodies
    erased_at: datetime | None  # names and organisations: nothing identifying is left


def retention_dates(event: Event, ends_at: datetime | None, policy: RetentionPolicy
                    ) -> RetentionDates:
    months = event.retention_months if event.retention_months is not None \
        else policy.retention_months
    record = event.kind == EventKind.MEET_YOUR_BUYER
    if ends_at is None:
        return RetentionDates(None, months, event.retention_months is None, record,
                              None, None, None)
    contact = add_months(ends_at, months)
    full = add_months(ends_at, max(months, MEET_YOUR_BUYER_RECORD_MONTHS)) if record else contact
    return RetentionDates(
        ends_at=ends_at, months=months, is_installation_default=event.retention_months is None,
        is_procurement_record=record,
        access_notes_deleted_at=ends_at + timedelta(days=policy.access_note_days),
        contact_erased_at=contact, erased_at=full,
    )


async def event_ends_at(db: AsyncSession, event_id: int) -> datetime | None:
    """The end of the event's last session."""
    ends: datetime | None = await db.scalar(
        select(func.max(Session.ends_at)).where(Session.event_id == event_id))
    return ends


# --- what an organiser sees before it happens --------------------------------------------------


@dataclass(frozen=True)
class RetentionOutlook:
    """One event's retention dates and how many rows each step will touch now."""

    dates: RetentionDates
    access_notes: int  # registrations with a note still kept
    registrations_with_contact: int  # registrations whose address is still kept
    registrations_named: int  # registrations whose name is still kept
    emails: int  # outbox emails to its registrants still holding an address


async def get_retention_outlook(db: AsyncSession, event: Event, policy: RetentionPolicy
                                ) -> RetentionOutlook:
    dates = retention_dates(event, await event_ends_at(db, event.id), policy)
    of_event = Registration.event_id == event.id
    notes, contact, named = (await db.execute(
        select(func.count(Registration.access_note),
               func.count(Registration.id).filter(Registration.contact_erased_at.is_(None)),
               func.count(Registration.id).filter(Registration.erased_at.is_(None)))
        .where(of_event))).one()
    emails = await db.scalar(
        select(func.count(OutboxEmail.id))
        .join(Registration, Registration.id == OutboxEmail.registration_id)
        .where(of_event, Registration.contact_erased_at.is_(None))) or 0
    return RetentionOutlook(dates, int(notes or 0), int(contact or 0), int(named or 0),
                            int(emails))


@dataclass(frozen=True)
class ParticipationCounts:
    """What reporting keeps of an event's registrations once nothing identifies anyone."""

    by_status: dict[RegistrationStatus, int]
    # Confirmed registrations only, by organisation kind (None: not given) and country.
    by_organisation_kind: dict[OrganisationKind | None, int]
    by_country: dict[str | None, int]
    # Confirmed places per session id.
    by_session: dict[int, int]


async def participation_counts(db: AsyncSession, event_id: int) -> ParticipationCounts:
    of_event = Registration.event_id == event_id
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    by_status = dict.fromkeys(RegistrationStatus, 0)
    by_status.update({RegistrationStatus(s): n for s, n in (await db.execute(
        select(Registration.status, func.count(Registration.id)).where(of_event)
        .group_by(Registration.status))).all()})
    kinds = {(OrganisationKind(k) if k is not None else None): n for k, n in (await db.execute(
        select(Registration.organisation_kind, func.count(Registration.id))
        .where(of_event, confirmed).group_by(Registration.organisation_kind))).all()}
    countries = {c: n for c, n in (await db.execute(
        select(Registration.country, func.count(Registration.id))
        .where(of_event, confirmed).group_by(Registration.country))).all()}
    sessions = {s: n for s, n in (await db.execute(
        select(Enrolment.session_id, func.count(Enrolment.id))
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(of_event, confirmed, Enrolment.status == EnrolmentStatus.CONFIRMED)
        .group_by(Enrolment.session_id))).all()}
    return ParticipationCounts(by_status, kinds, countries, sessions)


# --- the hourly job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRetention:
    """What one run did to one event."""

    event_id: int
    access_notes_deleted: int = 0
    contact_erased: int = 0
    erased: int = 0
    emails: int = 0


@dataclass
class RetentionRun:
    """One run of `anonymise_expired`: what was done per event, and the events that failed
    with why (their savepoint rolled back; the next run tries them again)."""

    events: list[EventRetention] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    # Interest Groups: (group id, members anonymised), and the groups that failed with why.
    groups: list[tuple[int, int]] = field(default_factory=list)
    group_failures: list[tuple[int, str]] = field(default_factory=list)
    # Meeting guests: (series id, guests anonymised), and the series that failed with why.
    guests: list[tuple[int, int]] = field(default_factory=list)
    guest_failures: list[tuple[int, str]] = field(default_factory=list)  # 0: their emails
    guest_emails: int = 0  # emails to guests stripped

    @property
    def claimed(self) -> int:
        """Registrations, group members and guests changed (for the job's drain: a full batch
        means more may wait)."""
        return (sum(e.access_notes_deleted + e.contact_erased + e.erased for e in self.events)
                + sum(n for _, n in self.groups) + sum(n for _, n in self.guests)
                + self.guest_emails)


async def _ended_events(db: AsyncSession, now: datetime) -> list[tuple[Event, datetime]]:
    ends = (select(Session.event_id, func.max(Session.ends_at).label("ends_at"))
            .group_by(Session.event_id).subquery())
    rows = (await db.execute(
        select(Event, ends.c.ends_at).join(ends, ends.c.event_id == Event.id)
        .where(ends.c.ends_at < now).order_by(Event.id))).all()
    return [(event, ends_at) for event, ends_at in rows]


async def _ids(db: AsyncSession, event_id: int, condition: ColumnElement[bool], limit: int
               ) -> list[int]:
    if limit <= 0:
        return []
    return list(await db.scalars(
        select(Registration.id).where(Registration.event_id == event_id, condition)
        .order_by(Registration.id).limit(limit)))


async def _anonymise_event(db: AsyncSession, event_id: int, dates: RetentionDates, *,
                           now: datetime, policy: RetentionPolicy, limit: int) -> EventRetention:
    notes = contact = erased = emails = 0
    if dates.access_notes_deleted_at is not None and dates.access_notes_deleted_at <= now:
        ids = await _ids(db, event_id, Registration.access_note.is_not(None), limit)
        notes = await clean_access_notes(db, ids, now=now)
    if dates.erased_at is not None and dates.erased_at <= now:
        ids = await _ids(db, event_id, Registration.erased_at.is_(None), limit - notes)
        erased = len(ids)
        emails += (await strip_registrations(
            db, ids, level=ErasureLevel.FULL, now=now, reason=RETENTION_REASON,
            secret_key=policy.secret_key)).forgotten
    elif dates.contact_erased_at is not None and dates.contact_erased_at <= now:
        ids = await _ids(db, event_id, Registration.contact_erased_at.is_(None), limit - notes)
        contact = len(ids)
        emails += (await strip_registrations(
            db, ids, level=ErasureLevel.CONTACT, now=now, reason=RETENTION_REASON,
            secret_key=policy.secret_key)).forgotten
    return EventRetention(event_id, notes, contact, erased, emails)


async def anonymise_expired(
    db: AsyncSession, *, now: datetime, policy: RetentionPolicy, batch_size: int = 200,
    event_ids: Sequence[int] | None = None,
) -> RetentionRun:
    """Anonymise what has passed its retention date (up to `batch_size` registrations in all,
    so a large event is done over several transactions), event by event in savepoints."""
    run = RetentionRun()
    budget = batch_size
    # Read first: a savepoint rolled back below expires what it had loaded.
    due = [(event.id, dates) for event, dates in (
        (event, retention_dates(event, ends_at, policy))
        for event, ends_at in await _ended_events(db, now)
        if event_ids is None or event.id in event_ids)
        if any(d is not None and d <= now for d in (
            dates.access_notes_deleted_at, dates.contact_erased_at, dates.erased_at))]
    for event_id, dates in due:
        if budget <= 0:
            break
        try:
            async with db.begin_nested():
                done = await _anonymise_event(db, event_id, dates, now=now, policy=policy,
                                              limit=budget)
        except Exception as error:  # recorded, and the other events go on
            first_line = str(error).splitlines()[0][:300] if str(error) else ""
            reason = f"{type(error).__name__}: {first_line}"
            run.failures.append((event_id, reason))
            logger.warning("Retention of event %d failed, tried again next run: %s",
                           event_id, reason)
            continue
        if done.access_notes_deleted or done.contact_erased or done.erased:
            run.events.append(done)
            budget -= done.access_notes_deleted + done.contact_erased + done.erased
            logger.info("Retention of event %d: %d notes deleted, %d registrations reduced "
                        "to the procurement record, %d anonymised, %d emails stripped",
                        event_id, done.access_notes_deleted, done.contact_erased, done.erased,
                        done.emails)
    if budget > 0:
        await _anonymise_group_members(db, run, now=now, policy=policy, limit=budget)
    budget -= sum(n for _, n in run.groups)
    if budget > 0:
        await _anonymise_meeting_guests(db, run, now=now, policy=policy, limit=budget)
    return run


def _failure(error: Exception) -> str:
    first_line = str(error).splitlines()[0][:300] if str(error) else ""
    return f"{type(error).__name__}: {first_line}"


def group_ends_at(group: InterestGroup) -> datetime | None:
    """The end of the group's last day, in its zone (None: it has no end date yet)."""
    if group.ends_on is None:
        return None
    return datetime.combine(group.ends_on + timedelta(days=1), time(),
                            tzinfo=ZoneInfo(group.timezone)).astimezone(UTC)


def member_expires_at(member: GroupMember, group_ends: datetime | None, months: int
                      ) -> datetime | None:
    """When a group member's personal data goes: `months` after they left or were declined;
    for a member (or someone still waiting for a decision), that long after the group's end."""
    since: datetime | None
    if member.status == GroupMemberStatus.LEFT:
        since = member.left_at or member.updated_at
    elif member.status == GroupMemberStatus.DECLINED:
        since = member.decided_at or member.updated_at
    else:
        since = group_ends
    return None if since is None else add_months(since, months)


@dataclass(frozen=True)
class GroupRetentionOutlook:
    """What the retention job will do to one Interest Group's members, and when: what an
    organiser sees before it happens."""

    ends_at: datetime | None  # the end of the group's last day (None: no end date yet)
    months: int
    # When members and people waiting for a decision go (None: kept while it has no end).
    members_go_at: datetime | None
    members: int  # members and people waiting, their data still kept
    departed: int  # people who left or were declined, their data still kept
    next_departed_go_at: datetime | None  # the soonest of those to go
    due: int  # past their date: anonymised at the job's next run
    anonymised: int  # rows already anonymised (by this job or an erasure)
    guests: int  # guests of one of its meetings, their data still kept
    next_guest_go_at: datetime | None  # the soonest of those to go (None: none, or all due)


async def get_group_retention_outlook(db: AsyncSession, group: InterestGroup,
                                      policy: RetentionPolicy, *, now: datetime
                                      ) -> GroupRetentionOutlook:
    """The dates `member_expires_at` gives each of the group's members, gathered."""
    months = policy.retention_months
    ends = group_ends_at(group)
    rows = list(await db.scalars(select(GroupMember).where(GroupMember.group_id == group.id)))
    kept = [m for m in rows if not is_erased(m)]
    departed = [m for m in kept if m.status in (GroupMemberStatus.LEFT,
                                                 GroupMemberStatus.DECLINED)]
    expiries = [at for m in kept if (at := member_expires_at(m, ends, months)) is not None]
    departed_dates = [at for m in departed
                      if (at := member_expires_at(m, ends, months)) is not None and at > now]
    guests = list(await db.scalars(
        select(MeetingGuest).join(MeetingSeries, MeetingSeries.id == MeetingGuest.series_id)
        .where(MeetingSeries.group_id == group.id,
               is_reachable(MeetingGuest))))
    guest_dates = [guest_expires_at(guest, months) for guest in guests]
    return GroupRetentionOutlook(
        ends_at=ends, months=months,
        members_go_at=add_months(ends, months) if ends is not None else None,
        members=len(kept) - len(departed), departed=len(departed),
        next_departed_go_at=min(departed_dates, default=None),
        due=sum(1 for at in expiries if at <= now) + sum(1 for at in guest_dates if at <= now),
        anonymised=len(rows) - len(kept), guests=len(guests),
        next_guest_go_at=min((at for at in guest_dates if at > now), default=None))


async def _anonymise_group_members(db: AsyncSession, run: RetentionRun, *, now: datetime,
                                   policy: RetentionPolicy, limit: int) -> None:
    """Interest Group members past their date (`member_expires_at`), group by group in
    savepoints: one group that fails is recorded and never blocks another."""
    budget = limit
    due: list[tuple[int, list[int]]] = []
    for group in await db.scalars(select(InterestGroup).order_by(InterestGroup.id)):
        ends = group_ends_at(group)
        members = await db.scalars(select(GroupMember).where(
            GroupMember.group_id == group.id, is_reachable(GroupMember))
            .order_by(GroupMember.id))
        ids = [m.id for m in members
               if (at := member_expires_at(m, ends, policy.retention_months)) is not None
               and at <= now]
        if ids:
            due.append((group.id, ids))
    for group_id, ids in due:
        if budget <= 0:
            break
        chosen = ids[:budget]
        try:
            async with db.begin_nested():
                await strip_group_members(db, chosen, now=now, secret_key=policy.secret_key)
        except Exception as error:  # recorded, and the other groups go on
            run.group_failures.append((group_id, _failure(error)))
            logger.warning("Retention of group %d failed, tried again next run: %s",
                           group_id, _failure(error))
            continue
        run.groups.append((group_id, len(chosen)))
        budget -= len(chosen)
        logger.info("Retention of group %d: %d members anonymised", group_id, len(chosen))


def guest_expires_at(guest: MeetingGuest, months: int) -> datetime:
    """When a meeting guest's name and address go: `months` after the meeting they were
    invited to (its planned start)."""
    return add_months(guest.recurrence_id, months)


def _not_before(now: datetime, months: int) -> datetime:
    """A bound for SQL: whatever is `months` old at `now` is at most this old (a month's end
    shortens a month by up to three days; the exact date is checked after)."""
    return add_months(now, -months) + timedelta(days=4)


async def _anonymise_meeting_guests(db: AsyncSession, run: RetentionRun, *, now: datetime,
                                    policy: RetentionPolicy, limit: int) -> None:
    """Guests past their date (`guest_expires_at`), series by series in savepoints (one
    series that fails is recorded and never blocks another); then the emails sent to guests,
    `months` after they were written (before their meeting, so never after the guest)."""
    months = policy.retention_months
    candidates = await db.scalars(
        select(MeetingGuest).where(is_reachable(MeetingGuest),
                                   MeetingGuest.recurrence_id <= _not_before(now, months))
        .order_by(MeetingGuest.series_id, MeetingGuest.id))
    by_series: dict[int, list[int]] = {}
    for guest in candidates:
        if guest_expires_at(guest, months) <= now and limit > 0:
            by_series.setdefault(guest.series_id, []).append(guest.id)
            limit -= 1
    for series_id, ids in by_series.items():
        try:
            async with db.begin_nested():
                await strip_meeting_guests(db, ids, now=now)
        except Exception as error:  # recorded, and the other series go on
            run.guest_failures.append((series_id, _failure(error)))
            logger.warning("Retention of the guests of series %d failed, tried again next "
                           "run: %s", series_id, _failure(error))
            continue
        run.guests.append((series_id, len(ids)))
        logger.info("Retention of series %d: %d meeting guests anonymised", series_id, len(ids))
    await _strip_guest_emails(db, run, now=now, policy=policy, limit=limit)


async def _strip_guest_emails(db: AsyncSession, run: RetentionRun, *, now: datetime,
                              policy: RetentionPolicy, limit: int) -> None:
    """Guests' invitations (and their changes and cancellations) `months` after they were
    written: the body goes and the address becomes its keyed hash, as on erasure."""
    months = policy.retention_months
    rows = (await db.execute(
        select(OutboxEmail.id, OutboxEmail.created_at, OutboxEmail.to_address).where(
            OutboxEmail.template == GUEST_TEMPLATE,
            OutboxEmail.to_address.not_like(f"{HASH_PREFIX}%"),
            OutboxEmail.created_at <= _not_before(now, months))
        .order_by(OutboxEmail.id))).all()
    due = [(row_id, address) for row_id, written, address in rows
           if add_months(written, months) <= now][:limit]
    if not due:
        return
    try:
        async with db.begin_nested():
            for row_id, address in due:
                await forget_emails(
                    db, [row_id], now=now, note=WITHDRAWN_NOTE,
                    scrub=scrubber([address]),
                    address_hash=lambda to: address_hash(policy.secret_key, to))
    except Exception as error:  # recorded; the next run tries again
        run.guest_failures.append((0, _failure(error)))
        logger.warning("Retention of guests' emails failed, tried again next run: %s",
                       _failure(error))
        return
    run.guest_emails = len(due)
    logger.info("Retention: %d emails to meeting guests stripped", len(due))


MAX_RETENTION_MONTHS = 120


async def set_event_retention(db: AsyncSession, event: Event, months: int | None, *,
                              now: datetime) -> Event:
    """An organiser sets the event's own retention period (None: the installation's); the
    audit log records it like any other change to the event."""
    if months is not None and not 0 <= months <= MAX_RETENTION_MONTHS:
        raise InvalidInputError(
            _("Give a number of months from 0 to %(max_retention_months)s, or leave it empty for "
                  "the installation's default.")
                % {"max_retention_months": MAX_RETENTION_MONTHS}, "retention_months")
    if event.retention_months != months:
        event.retention_months = months
        event.updated_at = now
        await db.flush()
    return event
