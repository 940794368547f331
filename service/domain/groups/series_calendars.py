"""A group's meeting series as calendar data, and the group's and members' feeds.

`series_entry` is the one mapping from a series (and its differing occurrences) to what
`service.domain.calendars.group_series` writes, used by feeds and invites alike, so a series
has the same UID, times and text everywhere. Join links only where the reader is a member
(`private`). `group_feed` and `member_feed` decide a feed's content and validators (ETag,
Last-Modified) from the rows; the body is built only when asked for.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    AccessToken,
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
)
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry
from service.domain.errors import NotFoundError
from service.domain.groups.schedule import Occurrence, apply_override, series_starts, utc
from service.domain.groups.translations import (
    group_text,
    occurrence_agenda,
    series_agenda,
    series_title,
)
from service.domain.urls import group_page_url
from service.domain.wording import place_text
from service.i18n import current_language
from service.i18n import gettext as _
from service.settings import Settings

# Bump when the feeds' bytes change for the same data.
GROUP_FEED_FORMAT = "2"


def _description(agenda: str, page_url: str) -> str:
    parts = [agenda.strip()] if agenda.strip() else []
    parts.append(_("Group page: %(url)s") % {"url": page_url})
    return "\n\n".join(parts)


def _entry(series: MeetingSeries, group: InterestGroup, occurrence: Occurrence | None, *,
           settings: Settings, private: bool, attendee: CalendarAttendee | None) -> CalendarEntry:
    """The master VEVENT (occurrence None) or one occurrence's own."""
    page = group_page_url(settings, group.slug)
    starts_at = utc(series.starts_at) if occurrence is None else occurrence.starts_at
    ends_at = (starts_at + timedelta(minutes=series.duration_minutes) if occurrence is None
               else occurrence.ends_at)
    join_url = series.join_url if occurrence is None else occurrence.join_url
    language = current_language()
    agenda = (series_agenda(series, group.default_language, language) if occurrence is None
              else occurrence_agenda(series, occurrence, group.default_language, language))
    online = series.mode != SessionMode.IN_PERSON
    return CalendarEntry(
        uid=series.uid,
        sequence=series.sequence if occurrence is None else occurrence.sequence,
        summary=series_title(series, group.default_language, language),
        description=_description(agenda, page),
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=series.timezone,
        status="CANCELLED" if series.status == MeetingStatus.CANCELLED else "CONFIRMED",
        location=place_text(series.mode, series.venue),
        url=page,
        categories=(group_text(group, "topic", current_language()),),
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


_Loaded = Sequence[tuple[MeetingSeries, list[MeetingOccurrence]]]


@dataclass(frozen=True)
class GroupFeed:
    """A feed's validators, decided from the rows' change markers; `body()` builds it (a
    conditional request answered 304 builds nothing)."""

    plan: FeedPlan
    group: InterestGroup
    loaded: _Loaded
    settings: Settings
    declined: tuple[tuple[int, datetime], ...] = ()

    @property
    def entries(self) -> tuple[SeriesEntry, ...]:
        return tuple(
            _remembered_entry(series, rows, self.group, settings=self.settings,
                              private=self.plan.is_private,
                              declined=tuple(rid for sid, rid in self.declined
                                             if sid == series.id))
            for series, rows in self.loaded)

    def body(self) -> bytes:
        stamp = self.plan.last_modified
        assert stamp is not None
        return build_series_calendar(self.entries, now=stamp, name=self.plan.name,
                                     refresh_interval=REFRESH_INTERVAL,
                                     default_timezone=self.plan.default_timezone)


# A series' calendar data is worked out once per content (its own, its occurrences', the
# group's), not on every poll of every feed.
_ENTRIES: OrderedDict[tuple[object, ...], SeriesEntry] = OrderedDict()
_ENTRIES_KEPT = 4096


def _remembered_entry(series: MeetingSeries, rows: Sequence[MeetingOccurrence],
                      group: InterestGroup, *, settings: Settings, private: bool,
                      declined: tuple[datetime, ...]) -> SeriesEntry:
    # The entry's words are in the language in force (the group's texts and the service's).
    key = (*_series_key(series, rows), current_language(), group.slug, group.default_language,
           _translations_marker(group.translations), group.topic, private, declined,
           settings.public_base_url, settings.uid_domain, settings.organiser_email,
           settings.organiser_name)
    found = _ENTRIES.get(key)
    if found is None:
        found = series_entry(series, rows, group, settings=settings, private=private,
                             declined=declined)
        _ENTRIES[key] = found
        if len(_ENTRIES) > _ENTRIES_KEPT:
            _ENTRIES.popitem(last=False)
    else:
        _ENTRIES.move_to_end(key)
    return found


async def _group_series(db: AsyncSession, group_id: int
                        ) -> list[tuple[MeetingSeries, list[MeetingOccurrence]]]:
    """The group's series with their differing occurrences, in one query."""
    loaded: dict[int, tuple[MeetingSeries, list[MeetingOccurrence]]] = {}
    for series, row in (await db.execute(
        select(MeetingSeries, MeetingOccurrence)
        .outerjoin(MeetingOccurrence, MeetingOccurrence.series_id == MeetingSeries.id)
        .where(MeetingSeries.group_id == group_id)
        .order_by(MeetingSeries.starts_at, MeetingSeries.id, MeetingOccurrence.recurrence_id)
    )).all():
        held = loaded.setdefault(series.id, (series, []))
        if row is not None:
            held[1].append(row)
    return list(loaded.values())


def _marker(value: datetime | None) -> str:
    return "" if value is None else utc(value).isoformat()


def _translations_marker(translations: Mapping[str, Any] | None) -> str:
    return json.dumps(translations or {}, sort_keys=True, ensure_ascii=False)


def _series_key(series: MeetingSeries, rows: Sequence[MeetingOccurrence]) -> tuple[object, ...]:
    """Everything of a series and its occurrences that its calendar data says."""
    return (series.id, series.uid, series.sequence, series.title,
            _translations_marker(series.translations),
            _marker(series.starts_at),
            series.duration_minutes, series.timezone, series.recurrence, str(series.mode),
            series.join_url, series.venue, series.agenda, str(series.status),
            tuple((_marker(r.recurrence_id), _marker(r.starts_at), r.duration_minutes,
                   str(r.status), r.join_url, r.agenda, _translations_marker(r.translations),
                   r.sequence) for r in rows))


def _feed(scope: str, group: InterestGroup, loaded: _Loaded, *, settings: Settings,
          private: bool, declined: Collection[tuple[int, datetime]] = (),
          changed_at: Collection[datetime] = ()) -> GroupFeed:
    """The feed's ETag from everything its content depends on (the rows' own fields, no
    calendar built); Last-Modified from their `updated_at`."""
    topic = str(group_text(group, "topic", current_language()))
    markers = [GROUP_FEED_FORMAT, scope, str(private), settings.public_base_url,
               settings.uid_domain, settings.organiser_email, settings.organiser_name,
               current_language(), group.slug, topic, group.timezone,
               _marker(group.updated_at)]
    markers += [repr(_series_key(series, rows)) for series, rows in loaded]
    markers += sorted(f"d{sid}:{_marker(rid)}" for sid, rid in declined)
    digest = hashlib.sha256("\n".join(markers).encode("utf-8")).hexdigest()
    stamps = [utc(group.updated_at)] + [utc(s.updated_at) for s, _ in loaded] + \
        [utc(r.updated_at) for _, rows in loaded for r in rows] + [utc(d) for d in changed_at]
    plan = FeedPlan(scope=scope, name=_("%(topic)s – meetings") % {"topic": topic},
                    etag=f'"g{GROUP_FEED_FORMAT}-{group.id}-{digest[:32]}"',
                    last_modified=max(stamps).replace(microsecond=0), is_private=private,
                    session_ids=frozenset(), include_join_url=private,
                    default_timezone=group.timezone or DEFAULT_FEED_TIMEZONE)
    return GroupFeed(plan=plan, group=group, loaded=loaded, settings=settings,
                     declined=tuple(declined))


async def _member_of(db: AsyncSession, token: str | None
                     ) -> tuple[GroupMember, InterestGroup] | None:
    """The member (still a member) whose feed token this is, with their group: one query."""
    if not token or len(token) > 100:
        return None
    found = (await db.execute(
        select(GroupMember, InterestGroup)
        .join(AccessToken, AccessToken.group_member_id == GroupMember.id)
        .join(InterestGroup, InterestGroup.id == GroupMember.group_id)
        .where(AccessToken.token_hash == access.token_hash(token),
               AccessToken.purpose == AccessPurpose.GROUP_MEMBER_FEED,
               AccessToken.revoked_at.is_(None),
               GroupMember.status == GroupMemberStatus.MEMBER)
    )).first()
    return None if found is None else (found[0], found[1])


async def group_feed(db: AsyncSession, slug: str, *, token: str | None, settings: Settings
                     ) -> GroupFeed:
    """`/groups/{slug}/calendar.ics`: a public group's meetings without join links; a
    members-only group's only with a member's feed token (then with them). Else 404."""
    group = await db.scalar(select(InterestGroup).where(InterestGroup.slug == slug))
    if group is None:
        raise NotFoundError(_("No such group."), "slug")
    found = await _member_of(db, token)
    member = found[0] if found is not None and found[0].group_id == group.id else None
    if group.visibility != GroupVisibility.PUBLIC and member is None:
        raise NotFoundError(_("No such group."), "slug")
    private = member is not None
    return _feed("group-members" if private else "group", group,
                 await _group_series(db, group.id), settings=settings, private=private)


async def member_feed(db: AsyncSession, token: str, *, settings: Settings) -> GroupFeed:
    """`/groups/feed/{token}.ics`: a member's own feed, join links included, occurrences
    they declined left out."""
    found = await _member_of(db, token)
    if found is None:
        raise NotFoundError(_("No such calendar feed."), "token")
    member, group = found
    declines = list(await db.scalars(
        select(MeetingDecline).where(MeetingDecline.member_id == member.id)))
    return _feed(f"member-{member.id}", group, await _group_series(db, group.id),
                 settings=settings, private=True,
                 declined=[(row.series_id, utc(row.recurrence_id)) for row in declines],
                 changed_at=[row.created_at for row in declines])
