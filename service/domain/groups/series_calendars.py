"""A group's meeting series as calendar data, and the group's and members' feeds.

`series_entry` is the one mapping from a series (and its differing occurrences) to what
`service.domain.calendars.group_series` writes, used by feeds and invites alike, so a series
has the same UID, times and text everywhere. Join links only where the reader is a member
(`private`). `group_feed` and `member_feed` decide a feed's content and validators (ETag,
Last-Modified) from the rows; the body is built only when asked for.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    MeetingDecline,
    MeetingOccurrence,
    MeetingSeries,
    MeetingStatus,
    SessionMode,
)
from service.domain import access
from service.domain.calendars.feeds import DEFAULT_FEED_TIMEZONE, REFRESH_INTERVAL, FeedPlan
from service.domain.calendars.group_series import (
    OccurrenceOverride,
    SeriesEntry,
    build_series_calendar,
    series_digest,
)
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry
from service.domain.errors import NotFoundError
from service.domain.groups.schedule import Occurrence, apply_override, series_starts, utc
from service.domain.urls import group_page_url
from service.domain.wording import place_text
from service.settings import Settings

# Bump when the feeds' bytes change for the same data.
GROUP_FEED_FORMAT = "1"


def _description(agenda: str, page_url: str) -> str:
    parts = [agenda.strip()] if agenda.strip() else []
    parts.append(f"Group page: {page_url}")
    return "\n\n".join(parts)


def _entry(series: MeetingSeries, group: InterestGroup, occurrence: Occurrence | None, *,
           settings: Settings, private: bool, attendee: CalendarAttendee | None) -> CalendarEntry:
    """The master VEVENT (occurrence None) or one occurrence's own."""
    page = group_page_url(settings, group.slug)
    starts_at = utc(series.starts_at) if occurrence is None else occurrence.starts_at
    ends_at = (starts_at + timedelta(minutes=series.duration_minutes) if occurrence is None
               else occurrence.ends_at)
    join_url = series.join_url if occurrence is None else occurrence.join_url
    agenda = series.agenda or "" if occurrence is None else occurrence.agenda
    online = series.mode != SessionMode.IN_PERSON
    return CalendarEntry(
        uid=series.uid,
        sequence=series.sequence if occurrence is None else occurrence.sequence,
        summary=series.title,
        description=_description(agenda, page),
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=series.timezone,
        status="CANCELLED" if series.status == MeetingStatus.CANCELLED else "CONFIRMED",
        location=place_text(series.mode, series.venue),
        url=page,
        categories=(group.topic,),
        organizer_email=settings.organiser_email,
        organizer_name=settings.organiser_name,
        attendees=(attendee,) if attendee is not None else (),
        conference_url=join_url if private and online and join_url else None,
    )


def series_entry(
    series: MeetingSeries, overrides: Sequence[MeetingOccurrence], group: InterestGroup, *,
    settings: Settings, private: bool, attendee: CalendarAttendee | None = None,
    declined: Collection[datetime] = (),
) -> SeriesEntry:
    """The series as calendars read it: its rule, cancelled occurrences (and those the
    reader declined) as EXDATEs, changed ones as overrides."""
    starts = series_starts(series)
    by_id = {utc(o.recurrence_id): o for o in overrides if o.series_id == series.id}
    exdates: list[datetime] = []
    changed: list[OccurrenceOverride] = []
    declined_ids = {utc(d) for d in declined}
    for rid in starts:
        row = by_id.get(rid)
        if row is None and rid not in declined_ids:
            continue
        occurrence = apply_override(series, rid, row)
        if occurrence.is_cancelled or rid in declined_ids:
            exdates.append(rid)
        elif occurrence.is_changed:
            changed.append(OccurrenceOverride(rid, _entry(
                series, group, occurrence, settings=settings, private=private,
                attendee=attendee)))
    return SeriesEntry(
        master=_entry(series, group, None, settings=settings, private=private, attendee=attendee),
        rrule=series.recurrence,
        exdates=tuple(exdates) if series.recurrence is not None else (),
        overrides=tuple(changed) if series.recurrence is not None else (),
        last_start=starts[-1] if starts else None,
    )


def occurrence_override(series: MeetingSeries, row: MeetingOccurrence, group: InterestGroup, *,
                        settings: Settings, private: bool,
                        attendee: CalendarAttendee | None = None) -> OccurrenceOverride:
    """One occurrence's own VEVENT (for a REQUEST or CANCEL with its RECURRENCE-ID)."""
    rid = utc(row.recurrence_id)
    occurrence = apply_override(series, rid, row)
    return OccurrenceOverride(rid, _entry(series, group, occurrence, settings=settings,
                                          private=private, attendee=attendee))


# --- feeds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFeed:
    """A feed's validators and content, decided from the rows; `body()` builds it."""

    plan: FeedPlan
    entries: tuple[SeriesEntry, ...]

    def body(self) -> bytes:
        stamp = self.plan.last_modified
        assert stamp is not None
        return build_series_calendar(self.entries, now=stamp, name=self.plan.name,
                                     refresh_interval=REFRESH_INTERVAL,
                                     default_timezone=self.plan.default_timezone)


async def _group_series(db: AsyncSession, group_id: int
                        ) -> list[tuple[MeetingSeries, list[MeetingOccurrence]]]:
    series = list(await db.scalars(
        select(MeetingSeries).where(MeetingSeries.group_id == group_id)
        .order_by(MeetingSeries.starts_at, MeetingSeries.id)))
    overrides: dict[int, list[MeetingOccurrence]] = {s.id: [] for s in series}
    if series:
        for row in await db.scalars(select(MeetingOccurrence).where(
                MeetingOccurrence.series_id.in_(list(overrides)))):
            overrides[row.series_id].append(row)
    return [(s, overrides[s.id]) for s in series]


def _feed(scope: str, group: InterestGroup, loaded: Sequence[tuple[MeetingSeries,
          list[MeetingOccurrence]]], *, settings: Settings, private: bool,
          declined: Collection[tuple[int, datetime]] = ()) -> GroupFeed:
    entries = tuple(
        series_entry(series, rows, group, settings=settings, private=private,
                     declined=[rid for sid, rid in declined if sid == series.id])
        for series, rows in loaded
    )
    stamps = [utc(group.updated_at)] + [utc(s.updated_at) for s, _ in loaded] + \
        [utc(r.updated_at) for _, rows in loaded for r in rows]
    digest = series_digest(entries)
    tag = f'"g{GROUP_FEED_FORMAT}-{scope}-{group.id}-{digest[:32]}"'
    plan = FeedPlan(scope=scope, name=f"{group.topic} – meetings", etag=tag,
                    last_modified=max(stamps).replace(microsecond=0), is_private=private,
                    session_ids=frozenset(), include_join_url=private,
                    default_timezone=group.timezone or DEFAULT_FEED_TIMEZONE)
    return GroupFeed(plan=plan, entries=entries)


async def _member_of(db: AsyncSession, token: str | None) -> GroupMember | None:
    if not token:
        return None
    found = await access.find_access(db, AccessPurpose.GROUP_MEMBER_FEED, token)
    if found is None or found.group_member_id is None:
        return None
    member = await db.get(GroupMember, found.group_member_id)
    if member is None or member.status != GroupMemberStatus.MEMBER:
        return None
    return member


async def group_feed(db: AsyncSession, slug: str, *, token: str | None, settings: Settings
                     ) -> GroupFeed:
    """`/groups/{slug}/calendar.ics`: a public group's meetings without join links; a
    members-only group's only with a member's feed token (then with them). Else 404."""
    group = await db.scalar(select(InterestGroup).where(InterestGroup.slug == slug))
    if group is None:
        raise NotFoundError("No such group.", "slug")
    member = await _member_of(db, token)
    if member is not None and member.group_id != group.id:
        member = None
    if group.visibility != GroupVisibility.PUBLIC and member is None:
        raise NotFoundError("No such group.", "slug")
    private = member is not None
    return _feed("group-members" if private else "group", group,
                 await _group_series(db, group.id), settings=settings, private=private)


async def member_feed(db: AsyncSession, token: str, *, settings: Settings) -> GroupFeed:
    """`/groups/feed/{token}.ics`: a member's own feed, join links included, occurrences
    they declined left out."""
    member = await _member_of(db, token)
    if member is None:
        raise NotFoundError("No such calendar feed.", "token")
    group = await db.get(InterestGroup, member.group_id)
    if group is None:  # pragma: no cover - cascades delete the member with the group
        raise NotFoundError("No such calendar feed.", "token")
    declined = [(row.series_id, utc(row.recurrence_id)) for row in await db.scalars(
        select(MeetingDecline).where(MeetingDecline.member_id == member.id))]
    feed = _feed(f"member-{member.id}", group, await _group_series(db, group.id),
                 settings=settings, private=True, declined=declined)
    return feed
