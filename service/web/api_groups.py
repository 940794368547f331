"""Public JSON API of the Interest Groups: what their public pages show, for the network's
own website and other readers.

A public group gives its member organisations and its upcoming meetings (times, place,
cancelled or moved); a members-only group gives only its topic, summary, period and
facilitators, as its page does. No join link, email address or member's name is ever in it.
Texts are in the language of the request where the organisers gave them (`language` says the
topic's), else as written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import PathParameter
from msgspec import Struct

from service.clock import utc_now
from service.db.models import InterestGroup
from service.domain import groups, urls, wording
from service.domain.groups import meetings
from service.domain.groups.translations import group_text, series_title
from service.domain.text import reading_order
from service.i18n import current_language
from service.settings import Settings
from service.web import schemas
from service.web.params import DbSession, SettingsDep
from service.web.presenters import time_out

GroupSlug = Annotated[str, PathParameter(min_length=1, max_length=120,
                                         pattern=r"^[a-z0-9-]+$")]
# How far ahead a group lists its meetings, and at most how many (as its page).
UPCOMING = timedelta(days=400)
MAX_MEETINGS = 24


class GroupSummaryOut(Struct):
    slug: str
    topic: str
    summary: str
    language: str  # the topic's
    default_language: str
    visibility: str  # "public" or "members"
    starts_on: str
    ends_on: str | None
    facilitators: list[str]
    member_organisations: int | None  # None: a members-only group does not say
    page_url: str


class GroupMeetingOut(Struct):
    title: str
    starts_at: schemas.TimeOut
    ends_at: schemas.TimeOut
    place: str
    is_cancelled: bool
    moved_from: schemas.TimeOut | None


class GroupOut(GroupSummaryOut):
    description: str
    timezone: str
    organisations: list[str]
    meetings: list[GroupMeetingOut]
    calendar_url: str | None


def _summary_fields(group: InterestGroup, facilitators: list[str],
                    member_organisations: int, settings: Settings) -> dict[str, Any]:
    language = current_language()
    topic = group_text(group, "topic", language)
    public = groups.shows_everything(group)
    return {
        "slug": group.slug, "topic": str(topic),
        "summary": str(group_text(group, "summary", language)), "language": topic.language,
        "default_language": group.default_language, "visibility": group.visibility.value,
        "starts_on": group.starts_on.isoformat(),
        "ends_on": group.ends_on.isoformat() if group.ends_on else None,
        "facilitators": facilitators,
        "member_organisations": member_organisations if public else None,
        "page_url": urls.group_page_url(settings, group.slug),
    }


class GroupsApi(Controller):
    path = "/api/groups"
    tags = ["public"]

    @get("/")
    async def list_groups(self, db_session: DbSession,
                          settings: SettingsDep) -> list[GroupSummaryOut]:
        """Every Interest Group, sorted by topic in the language of the request."""
        listed = [GroupSummaryOut(**_summary_fields(s.group, s.facilitators,
                                                    s.member_organisations, settings))
                  for s in await groups.group_summaries(db_session)]
        return sorted(listed, key=lambda group: reading_order(group.topic))

    @get("/{slug:str}")
    async def get_group(self, db_session: DbSession, settings: SettingsDep,
                        slug: GroupSlug) -> GroupOut:
        """One group; a members-only group's organisations and meetings stay with its
        members (empty here)."""
        group = await groups.get_group_by_slug(db_session, slug)
        public = groups.shows_everything(group)
        language = current_language()
        organisations = await groups.member_organisation_names(db_session, group.id)
        facilitators = [p.name for p in await groups.list_facilitators(db_session, group.id)]
        found = []
        if public:
            now = utc_now()
            for series, occurrence in (await meetings.list_occurrences(
                    db_session, group.id, start=now, end=now + UPCOMING))[:MAX_MEETINGS]:
                found.append(GroupMeetingOut(
                    title=str(series_title(series, group.default_language, language)),
                    starts_at=time_out(occurrence.starts_at, series.timezone),
                    ends_at=time_out(occurrence.ends_at, series.timezone),
                    place=wording.place_text(series.mode, series.venue),
                    is_cancelled=occurrence.is_cancelled,
                    moved_from=time_out(occurrence.recurrence_id, series.timezone)
                    if occurrence.is_moved else None))
        return GroupOut(
            **_summary_fields(group, facilitators, len(organisations), settings),
            description=str(group_text(group, "description", language)) if public else "",
            timezone=group.timezone,
            organisations=organisations if public else [],
            meetings=found,
            calendar_url=urls.group_feed_url(settings, group.slug) if public else None,
        )


ROUTE_HANDLERS: list[Any] = [GroupsApi]
