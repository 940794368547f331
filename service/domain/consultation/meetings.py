"""One-to-one meetings of a Meet-your-Buyer event: the grid, hosts, requests and meetings.

The grid (days, meeting length, pauses, named breaks, tables or online rooms) gives the
slots, kept as rows so that a meeting names its slot and the database itself keeps a table,
a host and a supplier to one live meeting per slot (partial unique indexes: two suppliers
taking the last free slot at once cannot both have it). Hosts are persons of the buying
authority with availability intervals (none given: the whole grid). Suppliers ask for
meetings from their private page; hosts (through the organisers) accept or decline, or the
grid accepts every request as it comes. "Schedule all" hands the accepted requests to the
pure scheduler (`matchmaking.schedule_all`) and carries out its answer. Every meeting
placed, moved or cancelled sends its own invite (REQUEST or CANCEL, one UID, a rising
SEQUENCE) to the supplier and to the host through the outbox, in the same transaction.

Functions take `db` and `now`, flush and never commit.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from notifications.message import CalendarMethod, EmailMessage, parse_address
from notifications.outbox import OutboxEntry, queue_emails, withdraw_emails
from service.db.models import (
    AccessPurpose,
    Event,
    EventKind,
    HostAvailability,
    MeetingBreak,
    MeetingGrid,
    MeetingGridDay,
    MeetingHost,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingSlot,
    MeetingTable,
    OneToOneMeeting,
    OneToOneStatus,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Person,
    Registration,
    RegistrationStatus,
    Session,
)
from service.domain.access import current_access_token
from service.domain.calendars.ical import build_calendar
from service.domain.calendars.meetings import MeetingFacts, meeting_entry, meeting_uid
from service.domain.consultation.matchmaking import Placement, Problem, Request, Schedule, Slot, schedule_all
from service.domain.consultation.profile import name_meeting_host
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.reminders.policy import reminder_due_at, reminder_offsets
from service.domain.text import clean_line, clean_text
from service.domain.times import check_wall_time, in_zone, local_date, zone_for
from service.domain.urls import event_page_url, manage_url, speaker_page_url
from service.domain.wording import period_text, start_text, utc_period_text
from service.i18n import gettext as _
from service.i18n import supported, use_language
from service.settings import Settings

MAX_MEETING_MINUTES = 240
MAX_TABLES = 200
# The longest list (days, breaks, tables, availability) a back-office text box may hold: 200
# tables with their join links fit.
MAX_LIST_TEXT = 20_000
MAX_SLOTS = 2000
TEMPLATE = "meeting_to_participant"
# Reminders of one-to-one meetings live in the outbox only, under keys
# "meeting-reminder:<meeting>:<sequence>:<supplier|host>:<minutes before>:<planning>".
MEETING_REMINDER_KEY = "meeting-reminder"
LIVE = (OneToOneStatus.SCHEDULED, OneToOneStatus.HELD)

# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Period:
    """A stretch of one day in the event's zone: "2035-11-12", "09:00", "12:30"."""

    day: str
    starts: str
    ends: str


@dataclass(frozen=True)
class NamedBreak:
    name: str
    period: Period


@dataclass(frozen=True)
class TableInput:
    name: str
    join_url: str | None = None


@dataclass(frozen=True)
class GridInput:
    meeting_minutes: int
    gap_minutes: int
    days: Sequence[Period]
    breaks: Sequence[NamedBreak] = ()
    tables: Sequence[TableInput] = ()
    accepts_automatically: bool = False
    suppliers_pick_slots: bool = False


_PERIOD_LINE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
_BREAK_LINE = re.compile(r"^\s*(.+?)\s+(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _check_list_length(text: str, field: str) -> None:
    """A list longer than the box may hold is refused whole, never read cut short (a table's
    join link cut in the middle would still look like one)."""
    if len(text) > MAX_LIST_TEXT:
        raise InvalidInputError(_("At most %(count)s characters.") % {"count": MAX_LIST_TEXT},
                                field)


def parse_periods(text: str, field: str) -> list[Period]:
    """Lines such as "2035-11-12 09:00-17:00" (as the back office's text boxes hold them)."""
    _check_list_length(text, field)
    periods = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _PERIOD_LINE.match(line)
        if match is None:
            raise InvalidInputError(
                _("Line %(number)s: write a day and two times, e.g. 2035-11-12 09:00-17:00.")
                    % {"number": number}, field)
        periods.append(Period(*match.groups()))
    return periods


def parse_breaks(text: str) -> list[NamedBreak]:
    """Lines such as "Lunch 2035-11-12 12:30-13:30"."""
    _check_list_length(text, "breaks")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _BREAK_LINE.match(line)
        if match is None:
            raise InvalidInputError(
                _("Line %(number)s: write a name, a day and two times, e.g. Lunch 2035-11-12 "
                      "12:30-13:30.")
                    % {"number": number},
                "breaks")
        name, day, starts, ends = match.groups()
        found.append(NamedBreak(name, Period(day, starts, ends)))
    return found


def parse_tables(text: str) -> list[TableInput]:
    """One table per line: its name, and for an online room its join link after the name."""
    _check_list_length(text, "tables")
    tables = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.strip().rsplit(None, 1)
        if len(parts) == 2 and re.match(r"^https?://\S+$", parts[1]):
            tables.append(TableInput(parts[0], parts[1]))
        else:
            tables.append(TableInput(line.strip()))
    return tables


def _instants(period: Period, zone: ZoneInfo, field: str) -> tuple[datetime, datetime]:
    try:
        day = date.fromisoformat(period.day)
        starts = time.fromisoformat(period.starts.zfill(5))
        ends = time.fromisoformat(period.ends.zfill(5))
    except ValueError as error:
        raise InvalidInputError(_("%(day)s %(starts)s-%(ends)s is not a day and two times.")
                                    % {"day": period.day, "starts": period.starts, "ends": period.ends},
                                field) from error
    start = check_wall_time(datetime.combine(day, starts, tzinfo=zone), field)
    end = check_wall_time(datetime.combine(day, ends, tzinfo=zone), field)
    if end <= start:
        raise InvalidInputError(_("%(day)s: the end must come after the start.") % {"day": period.day}, field)
    return start, end


def _overlapping(periods: Sequence[tuple[datetime, datetime]]) -> bool:
    ordered = sorted(periods)
    return any(a[1] > b[0] for a, b in itertools.pairwise(ordered))


def derive_slots(
    days: Sequence[tuple[datetime, datetime]], breaks: Sequence[tuple[datetime, datetime]],
    meeting_minutes: int, gap_minutes: int,
) -> list[tuple[datetime, datetime]]:
    """The meeting times of a grid: back to back (with the pause) from each day's start, a
    slot never crossing a break (the next starts when the break ends)."""
    length, gap = timedelta(minutes=meeting_minutes), timedelta(minutes=gap_minutes)
    slots: list[tuple[datetime, datetime]] = []
    for day_start, day_end in sorted(days):
        at = day_start
        while at + length <= day_end:
            clash = [b for b in breaks if b[0] < at + length and at < b[1]]
            if clash:
                at = max(b[1] for b in clash)
                continue
            slots.append((at, at + length))
            at = at + length + gap
    return slots


# ------------------------------------------------------------------------- the grid


async def _event(db: AsyncSession, event_id: int) -> Event:
    event = await db.get(Event, event_id)
    if event is None:
        raise NotFoundError(_("No such event."), "event_id")
    if event.kind != EventKind.MEET_YOUR_BUYER:
        raise ConflictError(_("Only Meet-your-Buyer events have one-to-one meetings."), "kind")
    return event


async def get_grid(db: AsyncSession, event_id: int) -> MeetingGrid | None:
    return await db.scalar(select(MeetingGrid).where(MeetingGrid.event_id == event_id))


async def _event_days(db: AsyncSession, event: Event) -> set[date]:
    sessions = (await db.execute(
        select(Session.starts_at, Session.ends_at).where(Session.event_id == event.id))).all()
    days: set[date] = set()
    for starts_at, ends_at in sessions:
        day, last = local_date(starts_at, event.timezone), local_date(ends_at, event.timezone)
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


async def save_grid(db: AsyncSession, event_id: int, data: GridInput, *, now: datetime) -> MeetingGrid:
    """Create or replace the grid; the slots follow it. Refused (nothing stored) when a rule
    breaks, and when a live meeting's slot would no longer be in the grid."""
    event = await _event(db, event_id)
    zone = zone_for(event.timezone)
    errors: list[FieldError] = []

    if not 5 <= data.meeting_minutes <= MAX_MEETING_MINUTES:
        errors.append(FieldError("meeting_minutes",
                                 _("Give a length from 5 to %(max_meeting_minutes)s minutes.")
                                     % {"max_meeting_minutes": MAX_MEETING_MINUTES}))
    if not 0 <= data.gap_minutes <= 120:
        errors.append(FieldError("gap_minutes", _("Give a pause from 0 to 120 minutes.")))
    days: list[tuple[datetime, datetime]] = []
    breaks: list[tuple[str, datetime, datetime]] = []
    event_days = await _event_days(db, event)
    for period in data.days:
        try:
            start, end = _instants(period, zone, "days")
        except InvalidInputError as error:
            errors.extend(error.errors)
            continue
        if event_days and local_date(start, event.timezone) not in event_days:
            errors.append(FieldError("days", _("%(day)s is not a day of the event.") % {"day": period.day}))
        days.append((start, end))
    if not data.days:
        errors.append(FieldError("days", _("Give at least one day with its start and end.")))
    if _overlapping(days):
        errors.append(FieldError("days", _("Two days' times overlap.")))
    for named in data.breaks:
        try:
            name = clean_line(named.name, "breaks", required=True, max_length=200)
            start, end = _instants(named.period, zone, "breaks")
        except InvalidInputError as error:
            errors.extend(error.errors)
            continue
        if not any(d[0] <= start and end <= d[1] for d in days):
            errors.append(FieldError("breaks", _("%(name)s is outside the meeting days.") % {"name": name}))
        breaks.append((name, start, end))
    if _overlapping([(b[1], b[2]) for b in breaks]):
        errors.append(FieldError("breaks", _("Two breaks overlap.")))
    tables: list[TableInput] = []
    for table in data.tables:
        try:
            name = clean_line(table.name, "tables", required=True, max_length=200)
        except InvalidInputError as error:
            errors.extend(error.errors)
            continue
        if table.join_url is not None and not re.match(r"^https?://\S+$", table.join_url):
            errors.append(FieldError("tables", _("%(name)s: give an http or https join link.")
                                                   % {"name": name}))
        tables.append(TableInput(name, table.join_url))
    if not tables:
        errors.append(FieldError("tables", _("Give at least one table or online room.")))
    if len(tables) > MAX_TABLES:
        errors.append(FieldError("tables", _("At most %(max_tables)s tables.") % {"max_tables": MAX_TABLES}))
    if len({t.name.casefold() for t in tables}) != len(tables):
        errors.append(FieldError("tables", _("Two tables have the same name.")))
    if errors:
        raise InvalidInputError.of(errors)

    slots = derive_slots(days, [(b[1], b[2]) for b in breaks], data.meeting_minutes, data.gap_minutes)
    if not slots:
        raise InvalidInputError(_("No meeting fits in the days given."), "days")
    if len(slots) > MAX_SLOTS:
        raise InvalidInputError(_("At most %(max_slots)s meeting times.")
                                    % {"max_slots": MAX_SLOTS}, "meeting_minutes")

    # Live meetings must keep their slot (same times) and table (same position).
    existing_slots = {s.starts_at: s for s in (await db.scalars(
        select(MeetingSlot).where(MeetingSlot.event_id == event.id))).all()}
    existing_tables = list((await db.scalars(
        select(MeetingTable).where(MeetingTable.event_id == event.id)
        .order_by(MeetingTable.position, MeetingTable.id))).all())
    live = (await db.scalars(select(OneToOneMeeting).where(
        OneToOneMeeting.event_id == event.id, OneToOneMeeting.status.in_(LIVE)))).all()
    new_slots = {start: end for start, end in slots}
    slot_by_id = {s.id: s for s in existing_slots.values()}
    for meeting in live:
        slot = slot_by_id[meeting.slot_id]
        if new_slots.get(slot.starts_at) != slot.ends_at:
            raise ConflictError(
                _("A scheduled meeting would fall outside the new grid (%(period_text)s): move or "
                      "cancel it first.")
                    % {"period_text": period_text(slot.starts_at, slot.ends_at, event.timezone)}, "days")
        position = next(i for i, t in enumerate(existing_tables) if t.id == meeting.table_id)
        if position >= len(tables):
            raise ConflictError(_("%(name)s has meetings: keep it.")
                                    % {"name": existing_tables[position].name}, "tables")

    grid = await get_grid(db, event.id)
    if grid is None:
        grid = MeetingGrid(event_id=event.id, created_at=now)
        db.add(grid)
    grid.meeting_minutes = data.meeting_minutes
    grid.gap_minutes = data.gap_minutes
    grid.accepts_automatically = data.accepts_automatically
    grid.suppliers_pick_slots = data.suppliers_pick_slots
    grid.updated_at = now
    await db.execute(delete(MeetingGridDay).where(MeetingGridDay.event_id == event.id))
    await db.execute(delete(MeetingBreak).where(MeetingBreak.event_id == event.id))
    db.add_all(MeetingGridDay(event_id=event.id, starts_at=s, ends_at=e) for s, e in days)
    db.add_all(MeetingBreak(event_id=event.id, name=n, starts_at=s, ends_at=e) for n, s, e in breaks)
    for position, table in enumerate(tables):
        if position < len(existing_tables):
            row = existing_tables[position]
            row.name, row.join_url, row.position = table.name, table.join_url, position
        else:
            db.add(MeetingTable(event_id=event.id, name=table.name, join_url=table.join_url,
                                position=position))
    used_slots = {m.slot_id for m in live}
    used_tables = {m.table_id for m in (await db.scalars(
        select(OneToOneMeeting).where(OneToOneMeeting.event_id == event.id))).all()}
    for extra in existing_tables[len(tables):]:
        if extra.id not in used_tables:
            await db.delete(extra)
    for start, slot in existing_slots.items():
        if new_slots.get(start) != slot.ends_at and slot.id not in used_slots:
            still_named = await db.scalar(select(func.count()).select_from(OneToOneMeeting)
                                          .where(OneToOneMeeting.slot_id == slot.id))
            if not still_named:
                await db.delete(slot)
            elif start in new_slots:
                # Only cancelled meetings name it: the grid's new time of that start wins.
                slot.ends_at = new_slots[start]
    await db.flush()
    remaining = set((await db.scalars(select(MeetingSlot.starts_at).where(
        MeetingSlot.event_id == event.id))).all())
    db.add_all(MeetingSlot(event_id=event.id, starts_at=s, ends_at=e)
               for s, e in slots if s not in remaining)
    await db.flush()
    return grid


async def grid_slots(db: AsyncSession, event_id: int) -> list[MeetingSlot]:
    """The slots of the grid as it is now (a slot kept only for a cancelled meeting's
    record is not one of them)."""
    grid = await get_grid(db, event_id)
    if grid is None:
        return []
    days = (await db.execute(select(MeetingGridDay.starts_at, MeetingGridDay.ends_at)
                             .where(MeetingGridDay.event_id == event_id))).all()
    breaks = (await db.execute(select(MeetingBreak.starts_at, MeetingBreak.ends_at)
                               .where(MeetingBreak.event_id == event_id))).all()
    wanted = dict(derive_slots([tuple(d) for d in days], [tuple(b) for b in breaks],  # type: ignore[misc]
                               grid.meeting_minutes, grid.gap_minutes))
    rows = (await db.scalars(select(MeetingSlot).where(MeetingSlot.event_id == event_id)
                             .order_by(MeetingSlot.starts_at))).all()
    return [s for s in rows if wanted.get(s.starts_at) == s.ends_at]


async def tables_of(db: AsyncSession, event_id: int) -> list[MeetingTable]:
    return list((await db.scalars(select(MeetingTable).where(MeetingTable.event_id == event_id)
                                  .order_by(MeetingTable.position, MeetingTable.id))).all())


# --------------------------------------------------------------------------- hosts


async def add_host(db: AsyncSession, event_id: int, person_id: int, *, now: datetime) -> MeetingHost:
    event = await _event(db, event_id)
    person = await db.get(Person, person_id)
    if person is None:
        raise InvalidInputError(_("No such person."), "person_id")
    found = await db.scalar(select(MeetingHost).where(
        MeetingHost.event_id == event.id, MeetingHost.person_id == person_id))
    if found is not None:
        return found
    host = MeetingHost(event_id=event.id, person_id=person_id, created_at=now)
    db.add(host)
    await name_meeting_host(db, event.id, person, now=now)
    await db.flush()
    return host


async def hosts_of(db: AsyncSession, event_id: int) -> list[MeetingHost]:
    return list((await db.scalars(
        select(MeetingHost).where(MeetingHost.event_id == event_id)
        .options(selectinload(MeetingHost.person).selectinload(Person.organisation))
        .join(Person, Person.id == MeetingHost.person_id).order_by(Person.name))).all())


async def _host(db: AsyncSession, event_id: int, host_id: int) -> MeetingHost:
    host = await db.scalar(select(MeetingHost).where(
        MeetingHost.id == host_id, MeetingHost.event_id == event_id))
    if host is None:
        raise NotFoundError(_("No such host at this event."), "host_id")
    return host


async def set_availability(
    db: AsyncSession, event_id: int, host_id: int, periods: Sequence[Period], *, now: datetime
) -> list[HostAvailability]:
    """Replace a host's availability; each interval must lie within a day of the grid.
    No interval at all: available for the whole grid."""
    event = await _event(db, event_id)
    host = await _host(db, event.id, host_id)
    zone = zone_for(event.timezone)
    days = (await db.execute(select(MeetingGridDay.starts_at, MeetingGridDay.ends_at)
                             .where(MeetingGridDay.event_id == event.id))).all()
    if periods and not days:
        raise ConflictError(_("Set the meeting grid's days first."), "availability")
    intervals: list[tuple[datetime, datetime]] = []
    errors: list[FieldError] = []
    for period in periods:
        try:
            start, end = _instants(period, zone, "availability")
        except InvalidInputError as error:
            errors.extend(error.errors)
            continue
        if not any(d_start <= start and end <= d_end for d_start, d_end in days):
            errors.append(FieldError(
                "availability", _("%(day)s %(starts)s-%(ends)s is outside the meeting days.")
                                    % {"day": period.day, "starts": period.starts, "ends": period.ends}))
        intervals.append((start, end))
    if _overlapping(intervals):
        errors.append(FieldError("availability", _("Two intervals overlap.")))
    if errors:
        raise InvalidInputError.of(errors)
    await db.execute(delete(HostAvailability).where(HostAvailability.host_id == host.id))
    rows = [HostAvailability(host_id=host.id, starts_at=s, ends_at=e) for s, e in sorted(intervals)]
    db.add_all(rows)
    await db.flush()
    return rows


async def availability_of(
    db: AsyncSession, host_ids: Sequence[int]
) -> dict[int, list[tuple[datetime, datetime]]]:
    rows = (await db.execute(
        select(HostAvailability.host_id, HostAvailability.starts_at, HostAvailability.ends_at)
        .where(HostAvailability.host_id.in_(host_ids)).order_by(HostAvailability.starts_at))).all()
    found: dict[int, list[tuple[datetime, datetime]]] = {h: [] for h in host_ids}
    for host_id, start, end in rows:
        found[host_id].append((start, end))
    return found


def _available(intervals: list[tuple[datetime, datetime]], slot: MeetingSlot) -> bool:
    return not intervals or any(s <= slot.starts_at and slot.ends_at <= e for s, e in intervals)


# ------------------------------------------------------------------------ requests


async def supplier_registration(db: AsyncSession, registration_id: int) -> Registration:
    """A confirmed supplier of a Meet-your-Buyer event, or a refusal saying why not."""
    registration = await db.get(Registration, registration_id)
    if registration is None:
        raise NotFoundError(_("No such registration."), "registration_id")
    event = await db.get(Event, registration.event_id)
    assert event is not None
    if event.kind != EventKind.MEET_YOUR_BUYER:
        raise ConflictError(_("Only Meet-your-Buyer events have one-to-one meetings."), "kind")
    if registration.organisation_kind != OrganisationKind.SUPPLIER:
        raise ConflictError(_("Meetings are for registered suppliers."), "organisation_kind")
    if registration.status != RegistrationStatus.CONFIRMED:
        raise ConflictError(_("Your registration is not confirmed."), "status")
    return registration


async def request_meetings(
    db: AsyncSession, registration_id: int, host_ids: Sequence[int], topic: str, *, now: datetime,
    settings: Settings,
) -> list[MeetingRequest]:
    """A supplier asks to meet one or more hosts, in order of preference (1st, 2nd...).
    Asking again for a host replaces that request's topic and rank."""
    registration = await supplier_registration(db, registration_id)
    grid = await get_grid(db, registration.event_id)
    if grid is None:
        raise ConflictError(_("This event takes no meeting requests yet."), "host_ids")
    cleaned = clean_text(topic, "topic", required=True, max_length=2000)
    if not host_ids:
        raise InvalidInputError(_("Choose at least one host."), "host_ids")
    if len(set(host_ids)) != len(host_ids):
        raise InvalidInputError(_("Choose each host once."), "host_ids")
    made = []
    for rank, host_id in enumerate(host_ids, start=1):
        host = await db.scalar(select(MeetingHost).where(
            MeetingHost.id == host_id, MeetingHost.event_id == registration.event_id))
        if host is None:
            raise InvalidInputError(_("No such host at this event."), "host_ids")
        request = await db.scalar(select(MeetingRequest).where(
            MeetingRequest.registration_id == registration.id, MeetingRequest.host_id == host_id))
        status = MeetingRequestStatus.ACCEPTED if grid.accepts_automatically else MeetingRequestStatus.PENDING
        if request is None:
            request = MeetingRequest(event_id=registration.event_id, registration_id=registration.id,
                                     host_id=host_id, created_at=now, status=status,
                                     decided_at=now if grid.accepts_automatically else None)
            db.add(request)
        elif request.status == MeetingRequestStatus.WITHDRAWN:
            request.status, request.decided_at = status, now if grid.accepts_automatically else None
        request.rank, request.topic, request.updated_at = rank, cleaned, now
        made.append(request)
    await db.flush()
    return made


async def decide_request(
    db: AsyncSession, event_id: int, request_id: int, *, accept: bool, now: datetime, settings: Settings
) -> MeetingRequest:
    """A host's answer (given by an organiser). Declining a placed request cancels its meeting."""
    request = await db.scalar(select(MeetingRequest).where(
        MeetingRequest.id == request_id, MeetingRequest.event_id == event_id))
    if request is None:
        raise NotFoundError(_("No such request."), "request_id")
    if request.status == MeetingRequestStatus.WITHDRAWN:
        raise ConflictError(_("The supplier withdrew this request."), "status")
    request.status = MeetingRequestStatus.ACCEPTED if accept else MeetingRequestStatus.DECLINED
    request.decided_at = request.updated_at = now
    if not accept:
        meeting = await db.scalar(select(OneToOneMeeting).where(
            OneToOneMeeting.request_id == request.id, OneToOneMeeting.status == OneToOneStatus.SCHEDULED))
        if meeting is not None:
            await _cancel(db, meeting, now=now, settings=settings)
    await db.flush()
    return request


async def withdraw_request(
    db: AsyncSession, registration_id: int, request_id: int, *, now: datetime, settings: Settings
) -> MeetingRequest:
    """A supplier takes back one of their requests: "Schedule all" places it no more, and a
    meeting it already has is cancelled (each side gets the CANCEL). Withdrawing twice
    changes nothing."""
    request = await db.scalar(select(MeetingRequest).where(
        MeetingRequest.id == request_id, MeetingRequest.registration_id == registration_id))
    if request is None:
        raise NotFoundError(_("No such request of yours."), "request_id")
    if request.status == MeetingRequestStatus.WITHDRAWN:
        return request
    request.status, request.updated_at = MeetingRequestStatus.WITHDRAWN, now
    meeting = await db.scalar(select(OneToOneMeeting).where(
        OneToOneMeeting.request_id == request.id,
        OneToOneMeeting.status == OneToOneStatus.SCHEDULED))
    if meeting is not None:
        await _cancel(db, meeting, now=now, settings=settings)
    await db.flush()
    return request


async def requests_of(db: AsyncSession, event_id: int) -> list[MeetingRequest]:
    return list((await db.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event_id)
                                  .order_by(MeetingRequest.created_at, MeetingRequest.id))).all())


# ------------------------------------------------------------------ scheduling


@dataclass(frozen=True)
class LoadedProblem:
    """The scheduler's input as read from the database, with the rows it names."""

    problem: Problem
    slots: dict[int, MeetingSlot]
    meetings: dict[int, OneToOneMeeting]  # by request id: every meeting row, live or not


async def load_problem(db: AsyncSession, event_id: int) -> LoadedProblem:
    """The accepted requests of an event, its grid, tables, hosts' availability and locked
    meetings, as the pure scheduler's plain dataclasses."""
    slots = await grid_slots(db, event_id)
    tables = await tables_of(db, event_id)
    # Accepted requests of suppliers still registered (a cancelled registration's go).
    requests = (await db.scalars(select(MeetingRequest).join(
        Registration, Registration.id == MeetingRequest.registration_id).where(
        MeetingRequest.event_id == event_id, MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
        Registration.status == RegistrationStatus.CONFIRMED)
        .order_by(MeetingRequest.id))).all()
    host_ids = list((await db.scalars(select(MeetingHost.id).where(MeetingHost.event_id == event_id))).all())
    availability = await availability_of(db, host_ids)
    meetings = {m.request_id: m for m in (await db.scalars(
        select(OneToOneMeeting).where(OneToOneMeeting.event_id == event_id))).all()}
    zone = ZoneInfo((await _event(db, event_id)).timezone)
    days = sorted({s.starts_at.astimezone(zone).date() for s in slots})
    plain_slots = [Slot(id=s.id, index=i, day=days.index(s.starts_at.astimezone(zone).date()))
                   for i, s in enumerate(slots)]
    # Held meetings took place: they stay where they were, like locked ones.
    locked = [Placement(m.request_id, m.slot_id, m.table_id) for m in meetings.values()
              if (m.is_locked and m.status == OneToOneStatus.SCHEDULED) or m.status == OneToOneStatus.HELD]
    problem = Problem(
        slots=plain_slots,
        table_ids=[t.id for t in tables],
        requests=[Request(id=r.id, supplier_id=r.registration_id, host_id=r.host_id, rank=r.rank)
                  for r in requests],
        availability={h: frozenset(s.id for s in slots if _available(availability[h], s)) for h in host_ids},
        locked=locked,
    )
    return LoadedProblem(problem=problem, slots={s.id: s for s in slots}, meetings=meetings)


@dataclass(frozen=True)
class ScheduleOutcome:
    placed: int
    requested: int
    new: int
    moved: int
    cancelled: int
    unplaced_request_ids: list[int]
    idle_gaps: int


async def schedule_all_meetings(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings, notify: bool = True
) -> ScheduleOutcome:
    """Run the scheduler over the accepted requests and carry out its answer: new meetings
    invited, moved ones updated, ones no longer placed cancelled. Locked meetings stay.
    `notify=False` emails nobody (the demo's sample meetings, loaded with the programme)."""
    event = await _event(db, event_id)
    loaded = await load_problem(db, event.id)
    schedule: Schedule = schedule_all(loaded.problem)
    wanted = {p.request_id: p for p in schedule.placements}
    moved: list[tuple[OneToOneMeeting, int, int]] = []
    created: list[OneToOneMeeting] = []
    cancelled: list[OneToOneMeeting] = []
    requests = {r.id: r for r in loaded.problem.requests}
    # Unscheduled first: meetings that move or go step out of their slots before any other
    # takes them (the unique indexes hold at every flush).
    for request_id, meeting in loaded.meetings.items():
        if meeting.status == OneToOneStatus.HELD:
            continue
        placement = wanted.get(request_id)
        live = meeting.status == OneToOneStatus.SCHEDULED
        if placement is None:
            if live:
                cancelled.append(meeting)
            continue
        if live and (meeting.slot_id, meeting.table_id) == (placement.slot_id, placement.table_id):
            continue
        moved.append((meeting, placement.slot_id, placement.table_id))
    previous = {m.id: (m.slot_id, m.table_id, m.status) for m, _, _ in moved}
    for meeting, _slot_id, _table_id in moved:
        meeting.status = OneToOneStatus.CANCELLED
    for meeting in cancelled:
        meeting.status = OneToOneStatus.CANCELLED
    await db.flush()
    for meeting, slot_id, table_id in moved:
        meeting.slot_id, meeting.table_id = slot_id, table_id
        meeting.status, meeting.cancelled_at = OneToOneStatus.SCHEDULED, None
        meeting.sequence += 1
        meeting.updated_at = now
    for request_id, placement in wanted.items():
        if request_id in loaded.meetings:
            continue
        request = requests[request_id]
        meeting = OneToOneMeeting(
            event_id=event.id, request_id=request_id, slot_id=placement.slot_id,
            table_id=placement.table_id, host_id=request.host_id, registration_id=request.supplier_id,
            status=OneToOneStatus.SCHEDULED, is_locked=False,
            uid=meeting_uid(request_id, settings.uid_domain), sequence=0,
            created_at=now, updated_at=now)
        db.add(meeting)
        created.append(meeting)
    for meeting in cancelled:
        meeting.sequence += 1
        meeting.cancelled_at = meeting.updated_at = now
    await db.flush()
    outcome = ScheduleOutcome(
        placed=len(schedule.placements), requested=len(loaded.problem.requests), new=len(created),
        moved=sum(1 for m, _, _ in moved if previous[m.id][2] != OneToOneStatus.CANCELLED),
        cancelled=len(cancelled), unplaced_request_ids=schedule.unplaced, idle_gaps=schedule.idle_gaps)
    if not notify:
        return outcome
    for meeting in created:
        await _tell(db, meeting, "scheduled", now=now, settings=settings)
    for meeting, _slot_id, _table_id in moved:
        old_slot, old_table, old_status = previous[meeting.id]
        what = "scheduled" if old_status == OneToOneStatus.CANCELLED else "changed"
        await _tell(db, meeting, what, now=now, settings=settings, was=(old_slot, old_table))
    for meeting in cancelled:
        await _tell(db, meeting, "cancelled", now=now, settings=settings)
    return outcome


async def _meeting(db: AsyncSession, event_id: int, meeting_id: int) -> OneToOneMeeting:
    meeting = await db.scalar(select(OneToOneMeeting).where(
        OneToOneMeeting.id == meeting_id, OneToOneMeeting.event_id == event_id))
    if meeting is None:
        raise NotFoundError(_("No such meeting."), "meeting_id")
    return meeting


async def _check_place(
    db: AsyncSession, meeting: OneToOneMeeting | None, event_id: int, host_id: int,
    registration_id: int, slot_id: int, table_id: int | None,
) -> int:
    """The table a meeting may take at `slot_id` (the one given, or a free one), or a refusal
    naming the field: a slot outside the grid or the host's availability, a clash."""
    slots = {s.id: s for s in await grid_slots(db, event_id)}
    slot = slots.get(slot_id)
    if slot is None:
        raise InvalidInputError(_("That time is not in the meeting grid."), "slot_id")
    availability = (await availability_of(db, [host_id]))[host_id]
    if not _available(availability, slot):
        raise InvalidInputError(_("The host is not available then."), "slot_id")
    tables = {t.id for t in await tables_of(db, event_id)}
    if table_id is not None and table_id not in tables:
        raise InvalidInputError(_("No such table in the meeting grid."), "table_id")
    others = (await db.scalars(select(OneToOneMeeting).where(
        OneToOneMeeting.slot_id == slot_id, OneToOneMeeting.status.in_(LIVE)))).all()
    others = [o for o in others if meeting is None or o.id != meeting.id]
    if any(o.host_id == host_id for o in others):
        raise ConflictError(_("The host has another meeting then."), "slot_id")
    if any(o.registration_id == registration_id for o in others):
        raise ConflictError(_("The supplier has another meeting then."), "slot_id")
    taken = {o.table_id for o in others}
    if table_id is not None:
        if table_id in taken:
            raise ConflictError(_("That table is taken then."), "table_id")
        return table_id
    free = [t.id for t in await tables_of(db, event_id) if t.id not in taken]
    if not free:
        raise ConflictError(_("Every table is taken then."), "slot_id")
    return free[0]


async def move_meeting(
    db: AsyncSession, event_id: int, meeting_id: int, slot_id: int, table_id: int | None, *,
    now: datetime, settings: Settings,
) -> OneToOneMeeting:
    """Put a meeting at another time or table (an organiser's choice: it stays locked there)."""
    meeting = await _meeting(db, event_id, meeting_id)
    if meeting.status != OneToOneStatus.SCHEDULED:
        raise ConflictError(_("Only a scheduled meeting can move."), "status")
    table = await _check_place(db, meeting, event_id, meeting.host_id, meeting.registration_id,
                               slot_id, table_id)
    was = (meeting.slot_id, meeting.table_id)
    if was == (slot_id, table):
        return meeting
    meeting.slot_id, meeting.table_id = slot_id, table
    meeting.is_locked = True
    meeting.sequence += 1
    meeting.updated_at = now
    await _flush_claim(db)
    await _tell(db, meeting, "changed", now=now, settings=settings, was=was)
    return meeting


async def _flush_claim(db: AsyncSession) -> None:
    """Flush a meeting's place; the database's unique indexes settle a race."""
    try:
        await db.flush()
    except IntegrityError as error:
        raise ConflictError(_("Someone took that time a moment ago: choose another."), "slot_id") from error


async def _cancel(db: AsyncSession, meeting: OneToOneMeeting, *, now: datetime, settings: Settings) -> None:
    meeting.status = OneToOneStatus.CANCELLED
    meeting.is_locked = False
    meeting.sequence += 1
    meeting.cancelled_at = meeting.updated_at = now
    await db.flush()
    await _tell(db, meeting, "cancelled", now=now, settings=settings)


async def cancel_meeting(
    db: AsyncSession, event_id: int, meeting_id: int, *, now: datetime, settings: Settings
) -> OneToOneMeeting:
    meeting = await _meeting(db, event_id, meeting_id)
    if meeting.status != OneToOneStatus.SCHEDULED:
        raise ConflictError(_("Only a scheduled meeting can be cancelled."), "status")
    await _cancel(db, meeting, now=now, settings=settings)
    return meeting


async def withdraw_supplier(
    db: AsyncSession, registration_id: int, *, now: datetime, settings: Settings,
    include_started: bool = False,
) -> list[int]:
    """A supplier who takes no further part (cancelled, declined, erased): their open
    requests are withdrawn, so "Schedule all" places them no more, and their meetings still
    to come are cancelled, each side getting the CANCEL. Returns the cancelled meetings."""
    await db.execute(
        update(MeetingRequest)
        .where(MeetingRequest.registration_id == registration_id,
               MeetingRequest.status.in_([MeetingRequestStatus.PENDING,
                                          MeetingRequestStatus.ACCEPTED]))
        .values(status=MeetingRequestStatus.WITHDRAWN, updated_at=now)
        .execution_options(synchronize_session=False))
    query = (select(OneToOneMeeting)
             .join(MeetingSlot, MeetingSlot.id == OneToOneMeeting.slot_id)
             .where(OneToOneMeeting.registration_id == registration_id,
                    OneToOneMeeting.status == OneToOneStatus.SCHEDULED)
             .order_by(MeetingSlot.starts_at, OneToOneMeeting.id))
    if not include_started:
        query = query.where(MeetingSlot.starts_at > now)
    meetings = list(await db.scalars(query))
    for meeting in meetings:
        await _cancel(db, meeting, now=now, settings=settings)
    return [meeting.id for meeting in meetings]


async def set_locked(db: AsyncSession, event_id: int, meeting_id: int, locked: bool, *,
                     now: datetime) -> OneToOneMeeting:
    meeting = await _meeting(db, event_id, meeting_id)
    if meeting.status != OneToOneStatus.SCHEDULED:
        raise ConflictError(_("Only a scheduled meeting can be locked."), "status")
    meeting.is_locked, meeting.updated_at = locked, now
    await db.flush()
    return meeting


async def mark_held(db: AsyncSession, event_id: int, meeting_id: int, *, now: datetime) -> OneToOneMeeting:
    """The meeting took place (for the consultation report)."""
    meeting = await _meeting(db, event_id, meeting_id)
    if meeting.status == OneToOneStatus.CANCELLED:
        raise ConflictError(_("A cancelled meeting cannot have been held."), "status")
    slot = await db.get(MeetingSlot, meeting.slot_id)
    assert slot is not None
    if slot.starts_at > now:
        raise ConflictError(_("The meeting has not started yet."), "status")
    meeting.status, meeting.held_at, meeting.updated_at = OneToOneStatus.HELD, now, now
    await db.flush()
    return meeting


async def free_slots_for(db: AsyncSession, registration_id: int, request_id: int) -> list[MeetingSlot]:
    """The times a supplier may take for an accepted request: in the grid, the host
    available and free, the supplier free, a table free."""
    request = await db.get(MeetingRequest, request_id)
    if request is None or request.registration_id != registration_id:
        return []
    slots = await grid_slots(db, request.event_id)
    availability = (await availability_of(db, [request.host_id]))[request.host_id]
    tables = len(await tables_of(db, request.event_id))
    live = (await db.execute(select(OneToOneMeeting.slot_id, OneToOneMeeting.host_id,
                                    OneToOneMeeting.registration_id).where(
        OneToOneMeeting.event_id == request.event_id, OneToOneMeeting.status.in_(LIVE)))).all()
    busy = {s for s, h, r in live if h == request.host_id or r == registration_id}
    used: dict[int, int] = {}
    for s, _host, _registration in live:
        used[s] = used.get(s, 0) + 1
    return [s for s in slots if _available(availability, s) and s.id not in busy
            and used.get(s.id, 0) < tables]


async def pick_slot(
    db: AsyncSession, registration_id: int, request_id: int, slot_id: int, *, now: datetime,
    settings: Settings,
) -> OneToOneMeeting:
    """A supplier takes a free slot for their accepted request (when the grid allows it).
    Two suppliers taking the last one at once: the database lets exactly one have it, the
    other is told to choose again (409)."""
    registration = await supplier_registration(db, registration_id)
    grid = await get_grid(db, registration.event_id)
    if grid is None or not grid.suppliers_pick_slots:
        raise ConflictError(_("The organisers place the meetings at this event."), "slot_id")
    request = await db.get(MeetingRequest, request_id)
    if request is None or request.registration_id != registration.id:
        raise NotFoundError(_("No such request."), "request_id")
    if request.status != MeetingRequestStatus.ACCEPTED:
        raise ConflictError(_("The host has not accepted this request."), "request_id")
    meeting = await db.scalar(select(OneToOneMeeting).where(OneToOneMeeting.request_id == request.id))
    if meeting is not None and meeting.status in LIVE:
        raise ConflictError(_("This meeting already has a time."), "request_id")
    table = await _check_place(db, None, request.event_id, request.host_id, registration.id, slot_id, None)
    if meeting is None:
        meeting = OneToOneMeeting(
            event_id=request.event_id, request_id=request.id, host_id=request.host_id,
            registration_id=registration.id, uid=meeting_uid(request.id, settings.uid_domain),
            sequence=0, is_locked=True, created_at=now)
        db.add(meeting)
    else:
        meeting.sequence += 1
        meeting.cancelled_at = None
    meeting.slot_id, meeting.table_id, meeting.status = slot_id, table, OneToOneStatus.SCHEDULED
    meeting.updated_at = now
    await _flush_claim(db)
    await _tell(db, meeting, "scheduled", now=now, settings=settings)
    return meeting


# ------------------------------------------------------------------- reading


@dataclass(frozen=True)
class MeetingView:
    """A meeting as pages, feeds and the consultation report show it."""

    id: int
    request_id: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    slot_id: int
    table_id: int
    table_name: str
    join_url: str | None
    host_id: int
    host_name: str
    host_email: str | None
    host_organisation: str | None
    registration_id: int
    supplier_name: str
    supplier_email: str
    supplier_company: str
    topic: str
    status: OneToOneStatus
    is_locked: bool
    uid: str
    sequence: int
    created_at: datetime
    updated_at: datetime

    @property
    def local_day(self) -> date:
        return in_zone(self.starts_at, self.timezone).local.date()

    @property
    def local_time(self) -> str:
        start, end = in_zone(self.starts_at, self.timezone).local, in_zone(self.ends_at, self.timezone).local
        return f"{start:%H:%M}–{end:%H:%M} {start.tzname()}"

    def facts(self, event: Event, settings: Settings) -> MeetingFacts:
        return MeetingFacts(
            meeting_id=self.id, uid=self.uid, sequence=self.sequence, starts_at=self.starts_at,
            ends_at=self.ends_at, timezone=self.timezone, event_title=event.title,
            event_slug=event.slug, table_name=self.table_name, join_url=self.join_url,
            host_name=self.host_name, host_email=self.host_email,
            host_organisation=self.host_organisation, supplier_name=self.supplier_name,
            supplier_email=self.supplier_email, supplier_company=self.supplier_company,
            topic=self.topic, organizer_email=event.contact_email or settings.organiser_email,
            cancelled=self.status == OneToOneStatus.CANCELLED, created_at=self.created_at,
            updated_at=self.updated_at)


async def meeting_views(
    db: AsyncSession, event_id: int | None = None, *, registration_id: int | None = None,
    person_id: int | None = None, meeting_id: int | None = None, live_only: bool = False,
) -> list[MeetingView]:
    """Meetings with everything shown about them, in time order."""
    query = (
        select(OneToOneMeeting, MeetingSlot, MeetingTable, Person, Registration, MeetingRequest, Event)
        .join(MeetingSlot, MeetingSlot.id == OneToOneMeeting.slot_id)
        .join(MeetingTable, MeetingTable.id == OneToOneMeeting.table_id)
        .join(MeetingHost, MeetingHost.id == OneToOneMeeting.host_id)
        .join(Person, Person.id == MeetingHost.person_id)
        .join(Registration, Registration.id == OneToOneMeeting.registration_id)
        .join(MeetingRequest, MeetingRequest.id == OneToOneMeeting.request_id)
        .join(Event, Event.id == OneToOneMeeting.event_id)
        .options(selectinload(Person.organisation))
        .order_by(MeetingSlot.starts_at, MeetingTable.position, OneToOneMeeting.id)
    )
    if event_id is not None:
        query = query.where(OneToOneMeeting.event_id == event_id)
    if registration_id is not None:
        query = query.where(OneToOneMeeting.registration_id == registration_id)
    if person_id is not None:
        query = query.where(MeetingHost.person_id == person_id)
    if meeting_id is not None:
        query = query.where(OneToOneMeeting.id == meeting_id)
    if live_only:
        query = query.where(OneToOneMeeting.status.in_(LIVE))
    views = []
    for meeting, slot, table, person, registration, request, event in (await db.execute(query)).all():
        views.append(MeetingView(
            id=meeting.id, request_id=meeting.request_id, starts_at=slot.starts_at,
            ends_at=slot.ends_at, timezone=event.timezone, slot_id=slot.id, table_id=table.id,
            table_name=table.name, join_url=table.join_url, host_id=meeting.host_id,
            host_name=person.name, host_email=person.email,
            host_organisation=person.organisation.name if person.organisation else None,
            registration_id=registration.id, supplier_name=registration.name,
            supplier_email=registration.email,
            supplier_company=registration.company or registration.organisation_name,
            topic=request.topic, status=meeting.status, is_locked=meeting.is_locked,
            uid=meeting.uid, sequence=meeting.sequence, created_at=meeting.created_at,
            updated_at=meeting.updated_at))
    return views


@dataclass(frozen=True)
class ReportMeeting:
    """One line of the consultation report's meetings."""

    date: date
    time: str
    table: str
    host: str
    supplier_company: str
    status: str  # scheduled, held or cancelled


async def meetings_for_report(db: AsyncSession, event: Event) -> list[ReportMeeting]:
    """Every one-to-one meeting of the event, for the procurement file."""
    return [
        ReportMeeting(date=v.local_day, time=v.local_time, table=v.table_name,
                      host=v.host_name + (f" ({v.host_organisation})" if v.host_organisation else ""),
                      supplier_company=v.supplier_company, status=str(v.status))
        for v in await meeting_views(db, event.id)
    ]


# ------------------------------------------------------------------- invites


async def _tell(
    db: AsyncSession, meeting: OneToOneMeeting, what: str, *, now: datetime, settings: Settings,
    was: tuple[int, int] | None = None, invite: bool = True,
) -> None:
    """Queue the meeting's invite (REQUEST, or CANCEL) to the supplier and to the host, and
    plan its reminders again (`invite=False`: only the reminders, for a new policy)."""
    event = await db.get(Event, meeting.event_id)
    assert event is not None
    [view] = await meeting_views(db, meeting_id=meeting.id)
    if view.ends_at <= now:
        return
    cancelled = what == "cancelled"
    method: CalendarMethod = "CANCEL" if cancelled else "REQUEST"
    old_slot = old_table = None
    if was is not None:
        old_slot = await db.get(MeetingSlot, was[0])
        old_table = await db.get(MeetingTable, was[1])
    worded: dict[str, tuple[bytes, dict[str, object]]] = {}

    def in_language(language: str) -> tuple[bytes, dict[str, object]]:
        """The invite and what the email says, in `language` (built once per language)."""
        if language in worded:
            return worded[language]
        with use_language(language):
            calendar = build_calendar([meeting_entry(view.facts(event, settings), settings)],
                                      now=now, method=method)
            changes: list[dict[str, str]] = []
            if old_slot is not None and old_slot.starts_at != view.starts_at:
                changes.append({
                    "label": "Time",
                    "old": period_text(old_slot.starts_at, old_slot.ends_at, event.timezone),
                    "new": period_text(view.starts_at, view.ends_at, event.timezone)})
            if old_table is not None and old_table.name != view.table_name:
                changes.append({"label": "Table", "old": old_table.name,
                                "new": view.table_name})
            common: dict[str, object] = {
                "what": what,
                "event_title": event.title,
                "meeting_local": period_text(view.starts_at, view.ends_at, event.timezone),
                "meeting_start": start_text(view.starts_at, event.timezone),
                "meeting_utc": utc_period_text(view.starts_at, view.ends_at),
                "table_name": view.table_name,
                "join_url": view.join_url,
                "topic": view.topic,
                "changes": changes,
                "event_url": event_page_url(settings, event.slug),
            }
        worded[language] = (calendar, common)
        return worded[language]

    # Who hears of it: the supplier, and the host when they have a usable address; each in
    # their own language.
    supplier_token = await current_access_token(
        db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key, now=now,
        registration_id=view.registration_id)
    supplier_row = await db.get(Registration, view.registration_id)
    host = view.host_name + (f", {view.host_organisation}" if view.host_organisation else "")
    people: list[tuple[str, str, str, dict[str, object], tuple[int | None, int | None],
                       str]] = [(
        "supplier", view.supplier_email, view.supplier_name,
        {"other_party": host, "page_url": manage_url(settings, supplier_token)},
        (view.registration_id, None),
        supported(supplier_row.language if supplier_row is not None else None))]
    if view.host_email:
        try:
            parse_address(view.host_email, view.host_name)
        except ValueError:
            pass
        else:
            host_row = await db.get(MeetingHost, view.host_id)
            assert host_row is not None
            host_token = await current_access_token(
                db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=now,
                person_id=host_row.person_id)
            host_person = await db.get(Person, host_row.person_id)
            supplier = f"{view.supplier_name}, {view.supplier_company}" if view.supplier_company \
                else view.supplier_name
            people.append(("host", view.host_email, view.host_name,
                           {"other_party": supplier, "page_url": speaker_page_url(settings, host_token)},
                           (None, host_row.person_id),
                           supported(host_person.language if host_person is not None else None)))
    entries: list[OutboxEntry] = []
    for _role, address, name, own, owner, language in people if invite else []:
        calendar, common = in_language(language)
        entries.append(OutboxEntry(EmailMessage(
            template=TEMPLATE, to_address=address, to_name=name,
            context={**common, "recipient_name": name, **own},
            calendar=calendar, calendar_method=method, reply_to=event.contact_email,
            language=language,
        ), event_id=event.id, registration_id=owner[0], person_id=owner[1]))
    # Reminders by the event's policy, held in the outbox until due; those planned before
    # are taken back first (a move re-plans them, a cancellation ends them, a new policy
    # replaces them). One already due is left to go out. Each planning has its own key, so
    # an offset dropped and chosen again is planned anew.
    planned = select(OutboxEmail.id).where(
        OutboxEmail.dedupe_key.like(f"{MEETING_REMINDER_KEY}:{meeting.id}:%"))
    if not invite:
        planned = planned.where(OutboxEmail.due_at > now)
    pending = list((await db.scalars(planned)).all())
    await withdraw_emails(db, pending, note=("the meeting moved or was cancelled" if invite
                                             else "the reminder policy changed"))
    planning = secrets.token_hex(6)
    if not cancelled:
        for offset in reminder_offsets(event):
            due = reminder_due_at(view.starts_at, offset, event.timezone)
            if due <= now:
                continue
            for role, address, name, own, owner, language in people:
                _, common = in_language(language)
                entries.append(OutboxEntry(EmailMessage(
                    template=TEMPLATE, to_address=address, to_name=name,
                    context={**common, "what": "reminder", "changes": [], "recipient_name": name, **own},
                    reply_to=event.contact_email, language=language,
                ), event_id=event.id, send_at=due, due_at=due, expires_at=view.starts_at,
                    dedupe_key=(f"{MEETING_REMINDER_KEY}:{meeting.id}:{meeting.sequence}:"
                                f"{role}:{offset}:{planning}"),
                    registration_id=owner[0], person_id=owner[1]))
    await queue_emails(db, entries, settings=settings, now=now)



async def replan_meeting_reminders(db: AsyncSession, event: Event, *, now: datetime,
                                   settings: Settings) -> None:
    """The event's reminder policy changed: each meeting still to come is reminded by it
    (no new invite: the meeting itself did not change)."""
    meetings = await db.scalars(
        select(OneToOneMeeting).join(MeetingSlot, MeetingSlot.id == OneToOneMeeting.slot_id)
        .where(OneToOneMeeting.event_id == event.id,
               OneToOneMeeting.status == OneToOneStatus.SCHEDULED, MeetingSlot.starts_at > now)
        .order_by(MeetingSlot.starts_at, OneToOneMeeting.id))
    for meeting in list(meetings):
        await _tell(db, meeting, "reminder", now=now, settings=settings, invite=False)


@dataclass(frozen=True)
class MeetingReminderLine:
    """The reminders of an event's one-to-one meetings at one offset, counted by state."""

    offset_minutes: int
    counts: dict[str, int]  # scheduled, sending, sent, failed, cancelled


@dataclass(frozen=True)
class MeetingReminderProblem:
    recipient_name: str
    recipient_email: str
    due_at: datetime | None
    state: str  # failed
    note: str | None


def _reminder_state(status: OutboxStatus) -> str:
    """The outbox's state as the Reminders page names a reminder's."""
    if status in (OutboxStatus.COMPOSING, OutboxStatus.QUEUED, OutboxStatus.RETRY):
        return "scheduled"
    return {OutboxStatus.SENDING: "sending", OutboxStatus.SENT: "sent",
            OutboxStatus.FAILED: "failed"}.get(status, "cancelled")


async def meeting_reminder_schedule(
    db: AsyncSession, event_id: int,
) -> tuple[list[MeetingReminderLine], list[MeetingReminderProblem]]:
    """Every reminder of the event's one-to-one meetings, counted per offset (largest
    first), and those that failed."""
    rows = (await db.execute(
        select(OutboxEmail.dedupe_key, OutboxEmail.status, OutboxEmail.to_address,
               OutboxEmail.due_at, OutboxEmail.last_error, OutboxEmail.registration_id,
               OutboxEmail.person_id)
        .where(OutboxEmail.event_id == event_id,
               OutboxEmail.dedupe_key.like(f"{MEETING_REMINDER_KEY}:%"))
        .order_by(OutboxEmail.due_at, OutboxEmail.id))).all()
    counts: dict[int, dict[str, int]] = {}
    problems: list[MeetingReminderProblem] = []
    for key, status, address, due_at, error, registration_id, person_id in rows:
        offset = int(str(key).split(":")[4])
        state = _reminder_state(status)
        line = counts.setdefault(offset, {})
        line[state] = line.get(state, 0) + 1
        if state == "failed":
            name = await db.scalar(select(Registration.name).where(
                Registration.id == registration_id)) if registration_id else await db.scalar(
                select(Person.name).where(Person.id == person_id))
            problems.append(MeetingReminderProblem(
                recipient_name=name or address, recipient_email=address, due_at=due_at,
                state=state, note=error))
    return ([MeetingReminderLine(offset, counts[offset])
             for offset in sorted(counts, reverse=True)], problems)


# ------------------------------------------------------------- back-office helpers


def period_line(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    """An interval as the back office's text boxes hold it: "2035-11-12 09:00-12:00"."""
    start, end = in_zone(starts_at, zone_name).local, in_zone(ends_at, zone_name).local
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"


async def grid_text(db: AsyncSession, event: Event, part: str) -> list[str]:
    """The grid's days or named breaks, one line each, as the editor shows them."""
    if part == "days":
        days = (await db.execute(select(MeetingGridDay.starts_at, MeetingGridDay.ends_at)
                                 .where(MeetingGridDay.event_id == event.id)
                                 .order_by(MeetingGridDay.starts_at))).all()
        return [period_line(s, e, event.timezone) for s, e in days]
    breaks = (await db.execute(select(MeetingBreak.name, MeetingBreak.starts_at, MeetingBreak.ends_at)
                               .where(MeetingBreak.event_id == event.id)
                               .order_by(MeetingBreak.starts_at))).all()
    return [f"{n} {period_line(s, e, event.timezone)}" for n, s, e in breaks]


async def host_candidates(db: AsyncSession, event: Event, limit: int = 500) -> list[Person]:
    """People who may host: those of the event's host organisation when it names one."""
    query = select(Person).options(selectinload(Person.organisation)).order_by(Person.name).limit(limit)
    if event.host_organisation_id is not None:
        query = query.where(Person.organisation_id == event.host_organisation_id)
    return list((await db.scalars(query)).all())


@dataclass(frozen=True)
class RequestRow:
    id: int
    supplier_name: str
    supplier_company: str
    host_name: str
    rank: int
    topic: str
    status: str
    meeting: str | None  # when it is placed, in the event's zone


async def request_rows(db: AsyncSession, event_id: int) -> list[RequestRow]:
    """Every request of the event with who asks whom, for the organisers' list."""
    event = await db.get(Event, event_id)
    assert event is not None
    rows = (await db.execute(
        select(MeetingRequest, Registration.name, Registration.company, Registration.organisation_name,
               Person.name)
        .join(Registration, Registration.id == MeetingRequest.registration_id)
        .join(MeetingHost, MeetingHost.id == MeetingRequest.host_id)
        .join(Person, Person.id == MeetingHost.person_id)
        .where(MeetingRequest.event_id == event_id)
        .order_by(MeetingRequest.created_at, MeetingRequest.id))).all()
    placed = {v.request_id: period_text(v.starts_at, v.ends_at, event.timezone)
              for v in await meeting_views(db, event_id, live_only=True)}
    return [RequestRow(id=r.id, supplier_name=name, supplier_company=company or organisation or "",
                       host_name=host, rank=r.rank, topic=r.topic, status=str(r.status),
                       meeting=placed.get(r.id))
            for r, name, company, organisation, host in rows]


@dataclass(frozen=True)
class SupplierDesk:
    """What a supplier's private page shows and offers about one-to-one meetings."""

    hosts: list[tuple[int, str]]
    requests: list[RequestRow]
    meetings: list[MeetingView]
    # Accepted requests without a time, with the free times the supplier may take.
    free_slots: dict[int, list[tuple[int, str]]]
    can_pick: bool


async def supplier_desk(db: AsyncSession, registration: Registration) -> SupplierDesk | None:
    """None unless this is a confirmed supplier of a Meet-your-Buyer event with a grid."""
    event = await db.get(Event, registration.event_id)
    if (event is None or event.kind != EventKind.MEET_YOUR_BUYER
            or registration.organisation_kind != OrganisationKind.SUPPLIER
            or registration.status != RegistrationStatus.CONFIRMED):
        return None
    grid = await get_grid(db, event.id)
    if grid is None:
        return None
    hosts = [(h.id, h.person.name + (f", {h.person.organisation.name}" if h.person.organisation else ""))
             for h in await hosts_of(db, event.id)]
    own = set((await db.scalars(select(MeetingRequest.id).where(
        MeetingRequest.registration_id == registration.id))).all())
    requests = [r for r in await request_rows(db, event.id) if r.id in own]
    views = await meeting_views(db, event.id, registration_id=registration.id, live_only=True)
    placed = {v.request_id for v in views}
    free: dict[int, list[tuple[int, str]]] = {}
    if grid.suppliers_pick_slots:
        for row in requests:
            if row.status == str(MeetingRequestStatus.ACCEPTED) and row.id not in placed:
                free[row.id] = [(s.id, period_text(s.starts_at, s.ends_at, event.timezone))
                                for s in await free_slots_for(db, registration.id, row.id)]
    return SupplierDesk(hosts=hosts, requests=requests, meetings=views, free_slots=free,
                        can_pick=grid.suppliers_pick_slots)
