"""A group's meetings: series, their occurrences, who is invited, and what reaches calendars.

Every command takes `db`, `now` and `settings`, flushes and never commits; what members'
calendars must learn is queued in the outbox in the same transaction (`invites`), and the
reminders of the occurrences concerned are planned again (`meeting_reminders`).

- `create_series`: a recurring series (a `RecurrenceRule`) or a one-off meeting (no rule);
  every current member gets the series' REQUEST.
- "This occurrence": `move_occurrence`, `cancel_occurrence`, `edit_occurrence` (its agenda
  or join link) record a MeetingOccurrence and send a REQUEST (or CANCEL) with that
  RECURRENCE-ID. A one-off meeting has no RECURRENCE-ID: its series itself changes.
- "This and all following": `change_following` ends the series with an UNTIL the day
  before and starts a new one from there (`previous_series_id`); both reach calendars in
  one email per member (the old series' REQUEST with UNTIL, SEQUENCE raised, and the new
  one's). From the first occurrence it is simply the whole series that changes.
- Members: `invite_member_to_group_meetings` when a member is approved (every current
  series), `withdraw_member_from_group_meetings` when they leave (CANCEL), and
  `decline_occurrence` for one occurrence (no reminder, left out of their own feed).
- Guests: `invite_guest` to one occurrence (an event of their own in their calendar).

The service's own list of occurrences is `occurrences` (from `schedule`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.addresses import AddressRefused, accept_address
from service.db.models import (
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
    MeetingDecline,
    MeetingGuest,
    MeetingOccurrence,
    MeetingSeries,
    MeetingStatus,
    SessionMode,
)
from service.domain.calendars.group_series import series_uid
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.groups import invites, meeting_reminders, translations
from service.domain.groups.erased import is_reachable
from service.domain.groups.recurrence import RecurrenceRule, matches_rule, recurrence_starts
from service.domain.groups.schedule import (
    Occurrence,
    apply_override,
    occurrences,
    scheduled,
    series_starts,
    utc,
)
from service.domain.text import clean_line, clean_text
from service.domain.times import check_wall_time, parse_instant, zone_for
from service.domain.wording import date_text
from service.i18n import DEFAULT_LANGUAGE, is_language
from service.i18n import gettext as _
from service.settings import Settings

__all__ = [
    "Occurrence",
    "RecurrenceRule",
    "cancel_occurrence",
    "change_following",
    "create_series",
    "decline_occurrence",
    "edit_occurrence",
    "invite_guest",
    "invite_member_to_group_meetings",
    "move_occurrence",
    "occurrence_row",
    "occurrences",
    "scheduled",
    "withdraw_member_from_group_meetings",
]

MIN_DURATION, MAX_DURATION = 5, 24 * 60


# --- checking what the organiser gave -----------------------------------------------------------


def _start_instant(starts_at_local: str | datetime, zone: ZoneInfo, field: str) -> datetime:
    """A wall time in the group's zone ("2026-01-13T10:00", as organisers write it, or a
    naive datetime) or an aware instant, as UTC; gaps and folds refused."""
    if isinstance(starts_at_local, str):
        return parse_instant(starts_at_local, zone.key, field)
    if starts_at_local.tzinfo is None:
        return check_wall_time(starts_at_local.replace(tzinfo=zone), field)
    return starts_at_local.astimezone(UTC)


def _check_walls(starts: Sequence[datetime], first: datetime, zone: ZoneInfo, field: str) -> None:
    """Every occurrence keeps the first one's wall time: none falls in a change of the
    clocks (calendar apps would each place it differently)."""
    wall = first.astimezone(zone).time()
    for start in starts:
        local = start.astimezone(zone)
        ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
        if local.time() != wall or ambiguous:
            raise InvalidInputError(
                _("The meeting of %(date_text)s would fall when the clocks change at %(wall)s: "
                      "choose another time of day.")
                    % {"date_text": date_text(local.date()), "wall": format(wall, "%H:%M")}, field)


def _clean_url(value: str | None, field: str) -> str | None:
    url = clean_line(value, field, max_length=500)
    if url is not None and not url.lower().startswith(("https://", "http://")):
        raise InvalidInputError(_("Give a link starting with https://."), field)
    return url


def _check_duration(minutes: int, field: str = "duration_minutes") -> int:
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        raise InvalidInputError(_("Give from %(min_duration)s to %(max_duration)s minutes.")
                                    % {"min_duration": MIN_DURATION, "max_duration": MAX_DURATION}, field)
    return minutes


def _checked_rule(rule: RecurrenceRule | None, first: datetime, zone: ZoneInfo,
                  field: str = "starts_at_local") -> str | None:
    """The RRULE for `rule` starting at `first`, or a 422 naming what is at fault."""
    if rule is None:
        _check_walls([first], first, zone, field)
        return None
    rule.check("rule")
    if rule.until is None and rule.count is None:
        raise InvalidInputError(_("Give an end date or a number of meetings."), "rule.until")
    local = first.astimezone(zone)
    if rule.weekday is None and rule.frequency != "weekly" and local.day > 28:
        raise InvalidInputError(_("A monthly meeting by date must fall on day 1 to 28: choose a "
                                "weekday rule instead (e.g. the last Friday)."), field)
    if rule.until is not None and rule.until < local.date():
        raise InvalidInputError(_("The end date is before the first meeting."), "rule.until")
    rrule = rule.to_rrule(zone.key)
    if not matches_rule(rrule, first, zone.key):
        raise InvalidInputError(
            _("%(date_text)s is not a day of this rule (%(describe)s): the first meeting must be "
                  "one.")
                % {"date_text": date_text(local.date()), "describe": rule.describe()}, field)
    _check_walls(recurrence_starts(rrule, first, zone.key), first, zone, field)
    return rrule


def _rid(series: MeetingSeries, recurrence_id: datetime) -> datetime:
    """The recurrence id as one of the series' starts, or 404 naming `recurrence_id`."""
    rid = utc(recurrence_id)
    if rid not in set(series_starts(series, until=rid + timedelta(days=1))):
        raise NotFoundError(_("This series has no meeting at that time."), "recurrence_id")
    return rid


async def _group(db: AsyncSession, series: MeetingSeries) -> InterestGroup:
    group = await db.get(InterestGroup, series.group_id)
    if group is None:  # pragma: no cover - the foreign key cascades
        raise NotFoundError(_("No such group."), "group_id")
    return group


# --- series ---------------------------------------------------------------------------------------


async def _new_series(
    db: AsyncSession, group: InterestGroup, *, title: str, starts_at: datetime, timezone: str,
    duration_minutes: int, recurrence: str | None, mode: SessionMode, join_url: str | None,
    venue: str | None, agenda: str, reminder_offsets_minutes: list[int] | None,
    previous_series_id: int | None, now: datetime, settings: Settings,
) -> MeetingSeries:
    series = MeetingSeries(
        group_id=group.id, uid=f"pending-{secrets.token_hex(8)}", title=title,
        starts_at=starts_at, duration_minutes=duration_minutes, timezone=timezone,
        recurrence=recurrence, mode=mode, join_url=join_url, venue=venue, agenda=agenda,
        reminder_offsets_minutes=reminder_offsets_minutes, sequence=0,
        status=MeetingStatus.SCHEDULED, previous_series_id=previous_series_id,
        created_at=now, updated_at=now,
    )
    db.add(series)
    await db.flush()
    series.uid = series_uid(series.id, settings.uid_domain)
    await db.flush()
    return series


async def create_series(
    db: AsyncSession, group: InterestGroup, *, title: str, starts_at_local: str | datetime,
    timezone: str | None = None, duration_minutes: int, rule: RecurrenceRule | None,
    mode: SessionMode | str = SessionMode.ONLINE, join_url: str | None = None,
    venue: str | None = None, agenda: str = "", reminder_offsets_minutes: list[int] | None = None,
    now: datetime, settings: Settings,
) -> MeetingSeries:
    """A new series (or one-off meeting, `rule=None`) of the group; every current member gets
    its REQUEST, and its reminders are planned. `starts_at_local` is the first meeting's wall
    time in `timezone` (default: the group's)."""
    errors: list[FieldError] = []
    zone = zone_for(timezone or group.timezone, "timezone")
    clean_title = join = clean_venue = clean_agenda = None
    first = None
    recurrence: str | None = None
    try:
        clean_title = clean_line(title, "title", required=True, max_length=300)
    except InvalidInputError as error:
        errors += error.errors
    try:
        _check_duration(duration_minutes)
    except InvalidInputError as error:
        errors += error.errors
    try:
        mode = SessionMode(mode)
    except ValueError:
        errors.append(FieldError("mode", _("Choose online, in person or hybrid.")))
        mode = SessionMode.ONLINE
    try:
        join = _clean_url(join_url, "join_url")
    except InvalidInputError as error:
        errors += error.errors
    try:
        clean_venue = clean_line(venue, "venue", max_length=300)
    except InvalidInputError as error:
        errors += error.errors
    try:
        clean_agenda = clean_text(agenda, "agenda", max_length=20000)
    except InvalidInputError as error:
        errors += error.errors
    try:
        offsets = _check_offsets(reminder_offsets_minutes)
    except InvalidInputError as error:
        errors += error.errors
        offsets = None
    try:
        first = _start_instant(starts_at_local, zone, "starts_at_local")
        recurrence = _checked_rule(rule, first, zone)
    except InvalidInputError as error:
        errors += error.errors
    if errors:
        raise InvalidInputError.of(errors)
    assert clean_title is not None and first is not None
    series = await _new_series(
        db, group, title=clean_title, starts_at=first, timezone=zone.key,
        duration_minutes=duration_minutes, recurrence=recurrence, mode=SessionMode(mode),
        join_url=join, venue=clean_venue, agenda=clean_agenda or "",
        reminder_offsets_minutes=offsets, previous_series_id=None, now=now, settings=settings)
    members = await invites.current_members(db, group.id)
    await invites.send_series(db, group, [series], members, method="REQUEST",
                              kind="invitation", now=now, settings=settings)
    await meeting_reminders.plan_reminders(db, now=now, series_ids=[series.id])
    return series


def _check_offsets(offsets: list[int] | None) -> list[int] | None:
    if offsets is None:
        return None
    if len(offsets) > 5 or any(not 5 <= minutes <= 60 * 24 * 30 for minutes in offsets):
        raise InvalidInputError(_("Give up to five reminders, each from 5 minutes to 30 days "
                                "before."), "reminder_offsets_minutes")
    return sorted(set(offsets), reverse=True)


async def set_series_reminders(db: AsyncSession, series: MeetingSeries,
                               offsets: list[int] | None, *, now: datetime) -> MeetingSeries:
    """When members are reminded before each meeting of the series (None: the default for
    its mode); every reminder still to come is planned again (no invitation is re-sent)."""
    series.reminder_offsets_minutes = _check_offsets(offsets)
    series.updated_at = now
    await db.flush()
    await meeting_reminders.replan_series(db, series, now=now)
    return series


# --- one occurrence ------------------------------------------------------------------------------


async def _override(db: AsyncSession, series: MeetingSeries, rid: datetime, *, now: datetime
                    ) -> MeetingOccurrence:
    row = await db.scalar(select(MeetingOccurrence).where(
        MeetingOccurrence.series_id == series.id, MeetingOccurrence.recurrence_id == rid))
    if row is None:
        row = MeetingOccurrence(series_id=series.id, recurrence_id=rid, starts_at=rid,
                                status=MeetingStatus.SCHEDULED, sequence=series.sequence,
                                created_at=now, updated_at=now)
        db.add(row)
    return row


def _bump(row: MeetingOccurrence, series: MeetingSeries, now: datetime) -> None:
    """A change calendars must take: above the series' SEQUENCE and its own last one."""
    row.sequence = max(row.sequence or 0, series.sequence) + 1
    row.updated_at = now


async def _one_off_changed(db: AsyncSession, series: MeetingSeries, *, now: datetime,
                           settings: Settings) -> Occurrence:
    """A one-off meeting changes as a whole (it has no RECURRENCE-ID)."""
    series.sequence += 1
    series.updated_at = now
    await db.flush()
    group = await _group(db, series)
    members = await invites.current_members(db, group.id)
    cancelled = series.status == MeetingStatus.CANCELLED
    await invites.send_series(db, group, [series], members,
                              method="CANCEL" if cancelled else "REQUEST",
                              kind="cancelled" if cancelled else "changed", now=now,
                              settings=settings)
    await meeting_reminders.replan_series(db, series, now=now)
    return apply_override(series, utc(series.starts_at), None)


async def _occurrence_changed(db: AsyncSession, series: MeetingSeries, row: MeetingOccurrence,
                              previous: Occurrence, *, now: datetime, settings: Settings
                              ) -> Occurrence:
    await db.flush()
    group = await _group(db, series)
    members = await invites.current_members(db, group.id)
    await invites.send_occurrence(db, group, series, row, members, previous=previous, now=now,
                                  settings=settings)
    await meeting_reminders.replan_occurrence(db, series, utc(row.recurrence_id), now=now)
    return apply_override(series, utc(row.recurrence_id), row)


async def _current(db: AsyncSession, series: MeetingSeries, rid: datetime) -> Occurrence:
    row = await db.scalar(select(MeetingOccurrence).where(
        MeetingOccurrence.series_id == series.id, MeetingOccurrence.recurrence_id == rid))
    return apply_override(series, rid, row)


async def move_occurrence(
    db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *,
    starts_at_local: str | datetime, duration_minutes: int | None = None, now: datetime,
    settings: Settings,
) -> Occurrence:
    """This occurrence only, to another time (wall time in the series' zone): a REQUEST with
    its RECURRENCE-ID to members and its guests."""
    rid = _rid(series, recurrence_id)
    zone = ZoneInfo(series.timezone)
    new_start = _start_instant(starts_at_local, zone, "starts_at_local")
    _check_walls([new_start], new_start, zone, "starts_at_local")
    if duration_minutes is not None:
        _check_duration(duration_minutes)
    previous = await _current(db, series, rid)
    if previous.is_cancelled:
        raise ConflictError(_("This meeting is cancelled: it cannot be moved."), "recurrence_id")
    if series.recurrence is None:
        series.starts_at = new_start
        if duration_minutes is not None:
            series.duration_minutes = duration_minutes
        return await _one_off_changed(db, series, now=now, settings=settings)
    row = await _override(db, series, rid, now=now)
    row.starts_at = new_start
    if duration_minutes is not None:
        row.duration_minutes = (None if duration_minutes == series.duration_minutes
                                else duration_minutes)
    _bump(row, series, now)
    return await _occurrence_changed(db, series, row, previous, now=now, settings=settings)


async def cancel_occurrence(
    db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *, now: datetime,
    settings: Settings,
) -> Occurrence:
    """This occurrence only is cancelled: a CANCEL with its RECURRENCE-ID (EXDATE in feeds),
    its reminders cancelled."""
    rid = _rid(series, recurrence_id)
    previous = await _current(db, series, rid)
    if previous.is_cancelled:
        return previous
    if series.recurrence is None:
        series.status = MeetingStatus.CANCELLED
        return await _one_off_changed(db, series, now=now, settings=settings)
    row = await _override(db, series, rid, now=now)
    row.status = MeetingStatus.CANCELLED
    _bump(row, series, now)
    return await _occurrence_changed(db, series, row, previous, now=now, settings=settings)


async def edit_occurrence(
    db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *,
    agenda: str | None = None, join_url: str | None = None, now: datetime, settings: Settings,
) -> Occurrence:
    """This occurrence's own agenda or join link (None: unchanged; "": the series' again)."""
    rid = _rid(series, recurrence_id)
    clean_agenda = None if agenda is None else clean_text(agenda, "agenda", max_length=20000) or ""
    clean_join = None if join_url is None else _clean_url(join_url, "join_url") or ""
    previous = await _current(db, series, rid)
    if previous.is_cancelled:
        raise ConflictError(_("This meeting is cancelled."), "recurrence_id")
    if series.recurrence is None:
        if clean_agenda is not None:
            series.translations = translations.kept_series_translations(
                series, title=series.title, agenda=clean_agenda)
            series.agenda = clean_agenda
        if clean_join is not None:
            series.join_url = clean_join or None
        return await _one_off_changed(db, series, now=now, settings=settings)
    row = await _override(db, series, rid, now=now)
    # The series' own agenda or link given back (the back office's form shows them) is
    # none of this meeting's own: it keeps following the series (and its translations).
    if clean_agenda is not None:
        own_agenda = None if clean_agenda in ("", series.agenda or "") else clean_agenda
        if own_agenda != row.agenda:
            # A new agenda has no translations yet (its minutes' stay).
            row.translations = translations.without_translations_of(row.translations,
                                                                    "agenda")
        row.agenda = own_agenda
    if clean_join is not None:
        row.join_url = None if clean_join in ("", series.join_url or "") else clean_join
    after = apply_override(series, rid, row)
    if (after.agenda, after.join_url) == (previous.agenda, previous.join_url):
        return after
    _bump(row, series, now)
    return await _occurrence_changed(db, series, row, previous, now=now, settings=settings)


# --- this and all following ----------------------------------------------------------------------


async def change_following(
    db: AsyncSession, series: MeetingSeries, from_recurrence_id: datetime, *, now: datetime,
    settings: Settings, title: str | None = None, starts_at_local: str | datetime | None = None,
    duration_minutes: int | None = None, rule: RecurrenceRule | None = None,
    mode: SessionMode | str | None = None, join_url: str | None = None,
    venue: str | None = None, agenda: str | None = None,
) -> MeetingSeries:
    """This occurrence and all following change (None: unchanged): the series ends with an
    UNTIL the day before and a new series carries on; the new series is returned (the same
    one when changing from the first occurrence)."""
    rid = _rid(series, from_recurrence_id)
    zone = ZoneInfo(series.timezone)
    old_rule = (None if series.recurrence is None
                else RecurrenceRule.from_rrule(series.recurrence, series.timezone))
    starts = series_starts(series)
    before = [s for s in starts if s < rid]
    if rule is None and old_rule is not None:
        rule = old_rule if old_rule.count is None else replace(
            old_rule, count=old_rule.count - len(before))
    new_first = (_start_instant(starts_at_local, zone, "starts_at_local")
                 if starts_at_local is not None else rid)
    new_title = series.title if title is None else clean_line(title, "title", required=True,
                                                              max_length=300)
    new_mode = series.mode if mode is None else SessionMode(mode)
    new_duration = (series.duration_minutes if duration_minutes is None
                    else _check_duration(duration_minutes))
    new_join = series.join_url if join_url is None else _clean_url(join_url, "join_url")
    new_venue = series.venue if venue is None else clean_line(venue, "venue", max_length=300)
    new_agenda = (series.agenda if agenda is None
                  else clean_text(agenda, "agenda", max_length=20000) or "")
    recurrence = _checked_rule(rule if old_rule is not None else None, new_first, zone)
    # Translations hold while their text stays; a new title or agenda has none yet.
    new_translations = translations.kept_series_translations(series, title=new_title,
                                                             agenda=new_agenda)
    group = await _group(db, series)
    members = await invites.current_members(db, group.id)
    guests = await _guests_from(db, series, rid)
    if not before:
        # From the first occurrence: the whole series changes, in place.
        series.title, series.starts_at, series.duration_minutes = new_title, new_first, new_duration
        series.recurrence, series.mode, series.join_url = recurrence, new_mode, new_join
        series.venue, series.agenda = new_venue, new_agenda
        series.translations = new_translations
        series.sequence += 1
        series.updated_at = now
        await _keep_rows_in(db, series, series)
        await db.flush()
        await invites.send_series(db, group, [series], members, method="REQUEST",
                                  kind="changed", now=now, settings=settings)
        await meeting_reminders.replan_series(db, series, now=now)
        await _retell_guests(db, group, series, guests, now=now, settings=settings)
        return series
    assert old_rule is not None
    _end_before(series, old_rule, rid, last=before[-1])
    series.sequence += 1
    series.updated_at = now
    new = await _new_series(
        db, group, title=new_title, starts_at=new_first, timezone=series.timezone,
        duration_minutes=new_duration, recurrence=recurrence, mode=new_mode, join_url=new_join,
        venue=new_venue, agenda=new_agenda or "",
        reminder_offsets_minutes=series.reminder_offsets_minutes,
        previous_series_id=series.id, now=now, settings=settings)
    new.translations = new_translations
    await _keep_rows_in(db, series, new, from_rid=rid)
    await db.flush()
    await invites.send_series(db, group, [series, new], members, method="REQUEST",
                              kind="changed", now=now, settings=settings)
    await meeting_reminders.replan_series(db, series, now=now)
    await meeting_reminders.replan_series(db, new, now=now)
    await _retell_guests(db, group, series, guests, now=now, settings=settings)
    return new


def _end_before(series: MeetingSeries, rule: RecurrenceRule, rid: datetime, *,
                last: datetime) -> None:
    """The series ends with an UNTIL the day before `rid` (never before its `last` kept
    occurrence's day), in its own zone."""
    zone = ZoneInfo(series.timezone)
    day_before = max(last.astimezone(zone).date(),
                     (rid.astimezone(zone) - timedelta(days=1)).date())
    series.recurrence = replace(rule, until=day_before, count=None).to_rrule(series.timezone)


async def cancel_following(
    db: AsyncSession, series: MeetingSeries, from_recurrence_id: datetime, *, now: datetime,
    settings: Settings,
) -> MeetingSeries:
    """This occurrence and all following are cancelled. From the first one the whole series
    is (a CANCEL of the series); from a later one the series ends with an UNTIL the day
    before (a REQUEST with the shorter rule), so that meetings held stay in calendars.
    Guests of the meetings dropped get a CANCEL of their copy; reminders go."""
    rid = _rid(series, from_recurrence_id)
    before = [start for start in series_starts(series) if start < rid]
    group = await _group(db, series)
    members = await invites.current_members(db, group.id)
    guests = await _guests_from(db, series, rid)
    series.sequence += 1
    series.updated_at = now
    if not before or series.recurrence is None:
        series.status = MeetingStatus.CANCELLED
        await db.flush()
        await invites.send_series(db, group, [series], members, method="CANCEL",
                                  kind="cancelled", now=now, settings=settings)
    else:
        _end_before(series, RecurrenceRule.from_rrule(series.recurrence, series.timezone), rid,
                    last=before[-1])
        await _keep_rows_in(db, series, series, from_rid=rid)
        await db.flush()
        await invites.send_series(db, group, [series], members, method="REQUEST",
                                  kind="changed", now=now, settings=settings)
    await meeting_reminders.replan_series(db, series, now=now)
    await _retell_guests(db, group, series, guests, now=now, settings=settings)
    return series


async def _guests_from(db: AsyncSession, series: MeetingSeries, rid: datetime
                       ) -> list[tuple[MeetingGuest, Occurrence]]:
    """The series' guests from `rid` on, each with the occurrence their copy shows now."""
    rows = await db.scalars(select(MeetingGuest).where(
        MeetingGuest.series_id == series.id, MeetingGuest.recurrence_id >= rid,
        is_reachable(MeetingGuest)).order_by(MeetingGuest.id))
    return [(guest, await _current(db, series, utc(guest.recurrence_id))) for guest in rows]


async def _retell_guests(
    db: AsyncSession, group: InterestGroup, old: MeetingSeries,
    guests: Sequence[tuple[MeetingGuest, Occurrence]], *, now: datetime, settings: Settings,
) -> None:
    """After "this and all following": a guest whose meeting still exists under the same
    series gets the update; one whose meeting went (or moved to the series that follows,
    with another UID) gets a CANCEL of the copy they have, and in the second case the new
    one. Each copy's SEQUENCE stays above the one they were sent."""
    for guest, was in guests:
        gone = sa_inspect(guest).deleted or sa_inspect(guest).was_deleted
        where = None if gone else await db.get(MeetingSeries, guest.series_id)
        now_shown = None if where is None else await _current(db, where, utc(guest.recurrence_id))
        if where is not None and where.id == old.id and now_shown is not None \
                and not now_shown.is_cancelled:
            update = replace(now_shown, sequence=max(now_shown.sequence, was.sequence + 1))
            await invites.send_guest_invites(db, group, old, update, [guest], kind="changed",
                                             now=now, settings=settings)
            continue
        ended = replace(was, status=MeetingStatus.CANCELLED, sequence=was.sequence + 1)
        await invites.send_guest_invites(db, group, old, ended, [guest], kind="cancelled",
                                         now=now, settings=settings)
        if where is not None and now_shown is not None and not now_shown.is_cancelled:
            await invites.send_guest_invites(db, group, where, now_shown, [guest],
                                             kind="invitation", now=now, settings=settings)


async def _keep_rows_in(db: AsyncSession, old: MeetingSeries, new: MeetingSeries, *,
                        from_rid: datetime | None = None) -> None:
    """Occurrence rows, declines and guests from `from_rid` on follow to `new` where it has
    the same occurrence; the others go (their occurrence no longer exists)."""
    valid = set(series_starts(new))
    rows: list[MeetingOccurrence | MeetingDecline | MeetingGuest] = []
    rows += await db.scalars(select(MeetingOccurrence).where(MeetingOccurrence.series_id == old.id))
    rows += await db.scalars(select(MeetingDecline).where(MeetingDecline.series_id == old.id))
    rows += await db.scalars(select(MeetingGuest).where(MeetingGuest.series_id == old.id))
    for row in rows:
        rid = utc(row.recurrence_id)
        if from_rid is not None and rid < from_rid:
            continue
        if rid in valid:
            row.series_id = new.id
        else:
            await db.delete(row)
    await db.flush()


# --- members and guests ---------------------------------------------------------------------------


async def _current_series(db: AsyncSession, group_id: int, *, now: datetime) -> list[MeetingSeries]:
    rows = await db.scalars(select(MeetingSeries).where(
        MeetingSeries.group_id == group_id, MeetingSeries.status == MeetingStatus.SCHEDULED)
        .order_by(MeetingSeries.starts_at, MeetingSeries.id))
    return [s for s in rows if invites.is_current(s, now=now)]


async def invite_member_to_group_meetings(
    db: AsyncSession, member: GroupMember, *, now: datetime, settings: Settings
) -> None:
    """A member just approved: one email with the REQUEST of every current series (SEQUENCE
    raised, so it outranks a CANCEL they had when leaving before); reminders planned."""
    if member.status != GroupMemberStatus.MEMBER:
        raise ConflictError(_("Only members are invited to the group's meetings."), "member_id")
    group = await db.get(InterestGroup, member.group_id)
    assert group is not None
    current = await _current_series(db, group.id, now=now)
    for series in current:
        series.sequence += 1
        series.updated_at = now
    await db.flush()
    await invites.send_series(db, group, current, [member], method="REQUEST", kind="invitation",
                              now=now, settings=settings)
    await meeting_reminders.plan_reminders(db, now=now, member_ids=[member.id])


async def withdraw_member_from_group_meetings(
    db: AsyncSession, member: GroupMember, *, now: datetime, settings: Settings
) -> None:
    """A member who left: a CANCEL of every current series (SEQUENCE raised), their
    reminders cancelled."""
    group = await db.get(InterestGroup, member.group_id)
    assert group is not None
    current = await _current_series(db, group.id, now=now)
    for series in current:
        series.sequence += 1
        series.updated_at = now
    await db.flush()
    await invites.send_series(db, group, current, [member], method="CANCEL", kind="withdrawn",
                              now=now, settings=settings)
    await meeting_reminders.cancel_reminders(db, member_id=member.id, now=now,
                                             note="the member left the group")


async def decline_occurrence(
    db: AsyncSession, member: GroupMember, series: MeetingSeries, recurrence_id: datetime, *,
    now: datetime,
) -> MeetingDecline:
    """The member will not come to this occurrence: no reminders for it, and it leaves
    their own feed. Declining twice is one decline."""
    if member.status != GroupMemberStatus.MEMBER or member.group_id != series.group_id:
        raise NotFoundError(_("No such meeting for this member."), "recurrence_id")
    rid = _rid(series, recurrence_id)
    found = await db.scalar(select(MeetingDecline).where(
        MeetingDecline.series_id == series.id, MeetingDecline.recurrence_id == rid,
        MeetingDecline.member_id == member.id))
    if found is not None:
        return found
    decline = MeetingDecline(series_id=series.id, recurrence_id=rid, member_id=member.id,
                             created_at=now)
    db.add(decline)
    await db.flush()
    await meeting_reminders.cancel_reminders(db, member_id=member.id, series_id=series.id,
                                             recurrence_id=rid, now=now,
                                             note="the member declined this meeting")
    return decline


async def invite_guest(
    db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *, name: str, email: str,
    now: datetime, settings: Settings, language: str = DEFAULT_LANGUAGE,
) -> MeetingGuest:
    """Someone invited to this occurrence only: an invite (REQUEST) of their own, and the
    occurrence's later changes and cancellation, in `language`."""
    errors: list[FieldError] = []
    if not is_language(language):
        errors.append(FieldError("language", _("Choose one of the languages offered.")))
    clean_name = address = None
    try:
        clean_name = clean_line(name, "name", required=True, max_length=200)
    except InvalidInputError as error:
        errors += error.errors
    try:
        address = accept_address(email)
    except AddressRefused as refused:
        errors.append(FieldError("email", str(refused)))
    if errors:
        raise InvalidInputError.of(errors)
    assert clean_name is not None and address is not None
    rid = _rid(series, recurrence_id)
    occurrence = await _current(db, series, rid)
    if occurrence.is_cancelled or occurrence.ends_at <= now:
        raise ConflictError(_("This meeting is cancelled or over."), "recurrence_id")
    key = address.lower()
    guest = await db.scalar(select(MeetingGuest).where(
        MeetingGuest.series_id == series.id, MeetingGuest.recurrence_id == rid,
        MeetingGuest.email_normalised == key))
    if guest is None:
        guest = MeetingGuest(series_id=series.id, recurrence_id=rid, name=clean_name,
                             email=address, email_normalised=key, language=language,
                             created_at=now)
        db.add(guest)
    else:
        guest.name, guest.language = clean_name, language
    await db.flush()
    group = await _group(db, series)
    await invites.send_guest_invites(db, group, series, occurrence, [guest], kind="invitation",
                                     now=now, settings=settings)
    return guest


# --- reading ---------------------------------------------------------------------------------------


async def list_series(db: AsyncSession, group_id: int) -> list[MeetingSeries]:
    """The group's series, first meeting first."""
    return list(await db.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group_id)
                                 .order_by(MeetingSeries.starts_at, MeetingSeries.id)))


async def list_occurrences(
    db: AsyncSession, group_id: int, *, start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[MeetingSeries, Occurrence]]:
    """Every occurrence of the group's series in [start, end), earliest first (cancelled
    ones included, marked): what the group's pages list."""
    series = await list_series(db, group_id)
    overrides = await invites.overrides_of(db, [s.id for s in series])
    found = [(s, o) for s in series for o in occurrences(s, overrides[s.id], start=start, end=end)]
    return sorted(found, key=lambda pair: (pair[1].starts_at, pair[0].id))


async def declined_by(db: AsyncSession, member_id: int) -> set[tuple[int, datetime]]:
    """(series id, recurrence id) of the occurrences the member declined."""
    rows = await db.scalars(select(MeetingDecline).where(MeetingDecline.member_id == member_id))
    return {(row.series_id, utc(row.recurrence_id)) for row in rows}


async def occurrence_row(db: AsyncSession, series: MeetingSeries, recurrence_id: datetime, *,
                         now: datetime) -> MeetingOccurrence:
    """The row of one occurrence (made, unchanged, where there is none yet): where its
    minutes go. Changing its time, status, agenda or join link goes through the functions
    above, which tell calendars; its minutes do not concern them."""
    rid = _rid(series, recurrence_id)
    row = await _override(db, series, rid, now=now)
    await db.flush()
    return row


async def get_series(db: AsyncSession, series_id: int) -> MeetingSeries:
    series = await db.get(MeetingSeries, series_id)
    if series is None:
        raise NotFoundError(_("No such meeting series."), "series_id")
    return series


def until_date(series: MeetingSeries) -> date | None:
    """The last day the series' rule allows, for editors."""
    if series.recurrence is None:
        return None
    return RecurrenceRule.from_rrule(series.recurrence, series.timezone).until

