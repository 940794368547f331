"""What a group's members (and guests) are sent about its meetings, queued in the outbox.

Each function decides the template, what the body says and the iTIP objects, and queues
one email per person (`queue_emails`) in the caller's transaction. A series travels as one
object of one UID (the master VEVENT with RRULE and EXDATEs, plus its changed occurrences);
a change to one occurrence as a REQUEST with its RECURRENCE-ID, its cancellation as a
CANCEL with it; leaving the group as a CANCEL of every series. Bodies carry the essentials
(times in the group's zone and UTC, join link or venue) because Outlook shows the body,
not the invite. Join links go to members and guests only. Never commits, never sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
    MeetingGuest,
    MeetingOccurrence,
    MeetingSeries,
    SessionMode,
)
from service.domain import access, wording
from service.domain.calendars.group_series import (
    OccurrenceOverride,
    SeriesEntry,
    build_occurrence_invite,
    build_series_invite,
)
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry, build_calendar
from service.domain.groups.erased import is_reachable
from service.domain.groups.recurrence import RecurrenceRule
from service.domain.groups.schedule import (
    Occurrence,
    apply_override,
    occurrences,
    series_starts,
    utc,
)
from service.domain.groups.series_calendars import occurrence_override, series_entry
from service.domain.groups.translations import group_text, occurrence_agenda, series_title
from service.domain.urls import group_member_feed_url, group_member_page_url, group_page_url
from service.i18n import current_language, use_language
from service.i18n import gettext as _
from service.settings import Settings

SERIES_TEMPLATE = "group_meeting_series_to_member"
OCCURRENCE_TEMPLATE = "group_meeting_occurrence_to_member"
GUEST_TEMPLATE = "group_meeting_invitation_to_guest"


async def current_members(db: AsyncSession, group_id: int) -> list[GroupMember]:
    """The group's members today, in a stable order."""
    return list(await db.scalars(
        select(GroupMember)
        .where(GroupMember.group_id == group_id, GroupMember.status == GroupMemberStatus.MEMBER,
               is_reachable(GroupMember))
        .order_by(GroupMember.id)))


async def overrides_of(db: AsyncSession, series_ids: Sequence[int]
                       ) -> dict[int, list[MeetingOccurrence]]:
    found: dict[int, list[MeetingOccurrence]] = {sid: [] for sid in series_ids}
    if series_ids:
        for row in await db.scalars(select(MeetingOccurrence)
                                    .where(MeetingOccurrence.series_id.in_(list(series_ids)))
                                    .order_by(MeetingOccurrence.recurrence_id)):
            found[row.series_id].append(row)
    return found


def _attendee(member: GroupMember) -> CalendarAttendee:
    return CalendarAttendee(email=member.email, name=member.name)


def describe_series(series: MeetingSeries) -> str:
    """"Every second Tuesday of every other month, 10:00 Brussels time, until ..." or, for a
    one-off meeting, its date."""
    local = utc(series.starts_at).astimezone(ZoneInfo(series.timezone))
    if series.recurrence is None:
        return f"{wording.date_text(local.date())}, {local:%H:%M} " \
               f"{wording.zone_label(series.timezone)}"
    rule = RecurrenceRule.from_rrule(series.recurrence, series.timezone)
    return rule.describe(at=local.time(), timezone=series.timezone)


def occurrence_view(series: MeetingSeries, occurrence: Occurrence, group: InterestGroup, *,
                    with_join_url: bool) -> dict[str, object]:
    """One occurrence as email bodies show it (plain values only), in the language in
    force; `agenda_language` says the agenda's where it is not that one."""
    local, when_utc = wording.session_when(occurrence.starts_at, occurrence.ends_at,
                                           series.timezone)
    language = current_language()
    agenda = occurrence_agenda(series, occurrence, group.default_language, language)
    return {
        "when": local,
        "when_utc": when_utc,
        "place": wording.place_text(series.mode, series.venue),
        "join_url": wording.join_url_for(series.mode, occurrence.join_url)
        if with_join_url else None,
        "agenda": str(agenda),
        "agenda_language": agenda.language if agenda.language != language else None,
        "is_moved": occurrence.is_moved,
    }


def series_view(series: MeetingSeries, overrides: Sequence[MeetingOccurrence],
                group: InterestGroup, *, now: datetime) -> dict[str, object]:
    """A series in an email body (in the language in force): the rule in words, the next
    few occurrences."""
    upcoming = [o for o in occurrences(series, overrides, start=now) if not o.is_cancelled][:3]
    return {
        "title": series_title(series, group.default_language, current_language()),
        "rule": describe_series(series),
        "zone": series.timezone,
        "place": wording.place_text(series.mode, series.venue),
        "join_url": wording.join_url_for(series.mode, series.join_url),
        "next": [occurrence_view(series, o, group, with_join_url=True) for o in upcoming],
    }


async def _member_links(db: AsyncSession, member: GroupMember, *, now: datetime,
                        settings: Settings) -> dict[str, str | None]:
    page = await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_PAGE,
                                           secret_key=settings.secret_key, now=now)
    feed = await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_FEED,
                                           secret_key=settings.secret_key, now=now)
    return {"member_page_url": group_member_page_url(settings, page),
            "member_feed_url": group_member_feed_url(settings, feed)}


def _context(group: InterestGroup, member_name: str, settings: Settings, language: str,
             **extra: object) -> dict[str, object]:
    return {"recipient_name": member_name, "group_topic": group_text(group, "topic", language),
            "group_url": group_page_url(settings, group.slug),
            "group_zone_label": wording.zone_label(group.timezone), **extra}


async def send_series(
    db: AsyncSession, group: InterestGroup, series: Sequence[MeetingSeries],
    members: Sequence[GroupMember], *, method: str, kind: str, now: datetime,
    settings: Settings,
) -> None:
    """Each member gets one email with the whole of every series in `series` (one iTIP
    object each): kind "invitation" (REQUEST), "changed" (REQUEST: a series ended with
    UNTIL and the one that follows it), "withdrawn" (CANCEL)."""
    if not series or not members:
        return
    overrides = await overrides_of(db, [s.id for s in series])
    ordered = sorted(series, key=lambda s: (utc(s.starts_at), s.id))
    views: dict[str, list[dict[str, object]]] = {}
    entries: list[OutboxEntry] = []
    for member in members:
        # Someone who left gets no private links (nor a new feed token issued for them).
        links = ({"member_page_url": None, "member_feed_url": None} if kind == "withdrawn"
                 else await _member_links(db, member, now=now, settings=settings))
        # Each member's copy in their own language, whoever changed the series.
        with use_language(member.language) as language:
            if language not in views:
                views[language] = [series_view(s, overrides[s.id], group, now=now)
                                   for s in ordered]
            calendars = tuple(
                build_series_invite(series_entry(s, overrides[s.id], group, settings=settings,
                                                 private=True, attendee=_attendee(member)),
                                    now=now, method=method)
                for s in ordered)
            message = EmailMessage(
                template=SERIES_TEMPLATE, to_address=member.email, to_name=member.name,
                context=_context(group, member.name, settings, language, kind=kind,
                                 series=views[language], **links),
                calendar=calendars[0],
                calendar_method="CANCEL" if method == "CANCEL" else "REQUEST",
                more_calendars=calendars[1:], language=language)
        entries.append(OutboxEntry(message, group_member_id=member.id))
    await queue_emails(db, entries, settings=settings, now=now)


async def guests_of(db: AsyncSession, series_id: int, recurrence_id: datetime
                    ) -> list[MeetingGuest]:
    return list(await db.scalars(
        select(MeetingGuest)
        .where(MeetingGuest.series_id == series_id, MeetingGuest.recurrence_id == recurrence_id,
               is_reachable(MeetingGuest))
        .order_by(MeetingGuest.id)))


def guest_uid(series: MeetingSeries, recurrence_id: datetime) -> str:
    """A guest's copy of one occurrence: an event of its own, not the members' series."""
    local, domain = series.uid.split("@", 1)
    return f"{local}-{utc(recurrence_id):%Y%m%dT%H%M%SZ}-guest@{domain}"


def guest_entry(series: MeetingSeries, occurrence: Occurrence, group: InterestGroup,
                guest: MeetingGuest, *, settings: Settings) -> CalendarEntry:
    page = group_page_url(settings, group.slug)
    online = series.mode != SessionMode.IN_PERSON
    language = current_language()
    agenda = occurrence_agenda(series, occurrence, group.default_language, language).strip()
    return CalendarEntry(
        uid=guest_uid(series, occurrence.recurrence_id), sequence=occurrence.sequence,
        summary=series_title(series, group.default_language, language),
        description="\n\n".join(p for p in (agenda, _("Group page: %(url)s") % {"url": page})
                                if p),
        starts_at=occurrence.starts_at, ends_at=occurrence.ends_at, timezone=series.timezone,
        status="CANCELLED" if occurrence.is_cancelled else "CONFIRMED",
        location=wording.place_text(series.mode, series.venue), url=page,
        organizer_email=settings.organiser_email, organizer_name=settings.organiser_name,
        attendees=(CalendarAttendee(email=guest.email, name=guest.name),),
        conference_url=occurrence.join_url if online and occurrence.join_url else None)


async def send_guest_invites(
    db: AsyncSession, group: InterestGroup, series: MeetingSeries, occurrence: Occurrence,
    guests: Sequence[MeetingGuest], *, kind: str, now: datetime, settings: Settings,
) -> None:
    """Guests of one occurrence: invited (REQUEST), told of a change (REQUEST) or of its
    cancellation (CANCEL), each with their own copy of that occurrence."""
    method = "CANCEL" if occurrence.is_cancelled else "REQUEST"
    entries = []
    for guest in guests:
        # Each guest's copy in their own language, whoever invites them.
        with use_language(guest.language) as language:
            view = occurrence_view(series, occurrence, group, with_join_url=True)
            calendar = build_calendar([guest_entry(series, occurrence, group, guest,
                                                   settings=settings)], now=now, method=method)
            message = EmailMessage(
                template=GUEST_TEMPLATE, to_address=guest.email, to_name=guest.name,
                context=_context(group, guest.name, settings, language, kind=kind,
                                 title=series_title(series, group.default_language, language),
                                 occurrence=view),
                calendar=calendar, calendar_method="CANCEL" if method == "CANCEL" else "REQUEST",
                language=language)
            entries.append(OutboxEntry(message))
    await queue_emails(db, entries, settings=settings, now=now)


async def send_occurrence(
    db: AsyncSession, group: InterestGroup, series: MeetingSeries, row: MeetingOccurrence,
    members: Sequence[GroupMember], *, previous: Occurrence | None, now: datetime,
    settings: Settings,
) -> None:
    """One occurrence changed (REQUEST with its RECURRENCE-ID) or cancelled (CANCEL with
    it): to every member, and to its guests."""
    overrides = await overrides_of(db, [series.id])
    occurrence = apply_override(series, utc(row.recurrence_id), row)
    method = "CANCEL" if occurrence.is_cancelled else "REQUEST"
    kind = "cancelled" if occurrence.is_cancelled else "changed"
    entries: list[OutboxEntry] = []
    for member in members:
        links = await _member_links(db, member, now=now, settings=settings)
        # Each member's copy in their own language, whoever changed the occurrence.
        with use_language(member.language) as language:
            view = occurrence_view(series, occurrence, group, with_join_url=True)
            before = (None if previous is None
                      else occurrence_view(series, previous, group, with_join_url=True))
            attendee = _attendee(member)
            master: SeriesEntry = series_entry(series, overrides[series.id], group,
                                               settings=settings, private=True,
                                               attendee=attendee)
            override: OccurrenceOverride = occurrence_override(
                series, row, group, settings=settings, private=True, attendee=attendee)
            calendar = build_occurrence_invite(master, override, now=now, method=method)
            message = EmailMessage(
                template=OCCURRENCE_TEMPLATE, to_address=member.email, to_name=member.name,
                context=_context(group, member.name, settings, language, kind=kind,
                                 title=series_title(series, group.default_language, language),
                                 occurrence=view, previous=before, **links),
                calendar=calendar, calendar_method="CANCEL" if method == "CANCEL" else "REQUEST",
                language=language)
        entries.append(OutboxEntry(message, group_member_id=member.id))
    await queue_emails(db, entries, settings=settings, now=now)
    guests = await guests_of(db, series.id, utc(row.recurrence_id))
    if guests:
        await send_guest_invites(db, group, series, occurrence, guests, kind=kind, now=now,
                                 settings=settings)


def is_current(series: MeetingSeries, *, now: datetime) -> bool:
    """A series with an occurrence still to end (members' calendars still need it)."""
    starts = series_starts(series, until=now + timedelta(days=3660))
    return bool(starts) and starts[-1] + timedelta(minutes=series.duration_minutes) > now
