"""Interest Groups themselves: create and edit, facilitators, lists, and who sees what.

A group is a few member authorities working on one topic for about two years, led by one or
more facilitators (people of the directory). A public group shows its page, its member
organisations and its meeting dates to everyone; a members-only group shows its topic and
summary (so people can express interest) and keeps the rest for its members' private pages.
Takes `db` and `now`, flushes, never commits; knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    GroupFacilitator,
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    Organisation,
    Person,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.text import clean_line, clean_text
from service.domain.times import check_day, zone_for
from service.i18n import gettext as _

_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class GroupInput:
    """What an organiser gives for a group (create or a full edit)."""

    slug: str
    topic: str
    starts_on: date
    summary: str = ""
    description: str = ""
    visibility: GroupVisibility = GroupVisibility.PUBLIC
    timezone: str = "Europe/Brussels"
    ends_on: date | None = None
    team_id: int | None = None
    is_sample_data: bool = False


@dataclass(frozen=True)
class CleanGroup:
    slug: str
    topic: str
    summary: str
    description: str


def _checked(data: GroupInput) -> CleanGroup:
    """Every rule broken at once, or the cleaned texts."""
    problems: list[FieldError] = []
    slug = data.slug.strip().lower()
    if not slug or len(slug) > 120 or not set(slug) <= _SLUG_CHARS or slug.startswith("-") \
            or slug.endswith("-") or "--" in slug or slug in {"me", "feed"}:
        problems.append(FieldError("slug", _("Use lower-case letters, digits and single hyphens "
                                           "(at most 120), such as circular-procurement.")))
    texts: dict[str, str] = {}
    for name, value, limit, required, line in (
            ("topic", data.topic, 300, True, True), ("summary", data.summary, 2_000, False, False),
            ("description", data.description, 20_000, False, False)):
        try:
            cleaned = (clean_line(value, name, required=required, max_length=limit) if line
                       else clean_text(value, name, required=required, max_length=limit))
            texts[name] = cleaned or ""
        except InvalidInputError as error:
            problems.extend(error.errors)
    for field, check in (("timezone", lambda: zone_for(data.timezone, "timezone")),
                         ("starts_on", lambda: check_day(data.starts_on, "starts_on")),
                         ("ends_on", lambda: data.ends_on and check_day(data.ends_on, "ends_on"))):
        try:
            check()
        except InvalidInputError as error:
            problems.append(FieldError(field, error.message))
    if data.ends_on is not None and data.ends_on < data.starts_on:
        problems.append(FieldError("ends_on", _("The end must be on or after the start.")))
    if problems:
        raise InvalidInputError.of(problems)
    return CleanGroup(slug=slug, topic=texts["topic"], summary=texts["summary"],
                      description=texts["description"])


def check_group(data: GroupInput) -> None:
    """The rules that need no database, every one broken at once (InvalidInputError)."""
    _checked(data)


async def _check_slug_free(db: AsyncSession, slug: str, group_id: int | None) -> None:
    query = select(InterestGroup.id).where(InterestGroup.slug == slug)
    if group_id is not None:
        query = query.where(InterestGroup.id != group_id)
    if await db.scalar(query) is not None:
        raise ConflictError(_("Another group has the address %(slug)r: choose another.")
                                % {"slug": slug}, "slug")


async def create_group(db: AsyncSession, data: GroupInput, *, now: datetime) -> InterestGroup:
    clean = _checked(data)
    await _check_slug_free(db, clean.slug, None)
    group = InterestGroup(
        slug=clean.slug, topic=clean.topic, summary=clean.summary,
        description=clean.description, visibility=data.visibility, timezone=data.timezone,
        starts_on=data.starts_on, ends_on=data.ends_on, team_id=data.team_id,
        is_sample_data=data.is_sample_data, created_at=now, updated_at=now)
    db.add(group)
    await db.flush()
    return group


async def update_group(db: AsyncSession, group_id: int, data: GroupInput, *,
                       now: datetime) -> InterestGroup:
    """A full edit (the editor sends every field); the team is kept when none is given."""
    group = await get_group(db, group_id)
    clean = _checked(data)
    await _check_slug_free(db, clean.slug, group.id)
    group.slug, group.topic = clean.slug, clean.topic
    group.summary, group.description = clean.summary, clean.description
    group.visibility, group.timezone = data.visibility, data.timezone
    group.starts_on, group.ends_on = data.starts_on, data.ends_on
    if data.team_id is not None:
        group.team_id = data.team_id
    group.updated_at = now
    await db.flush()
    return group


async def assign_group_team(db: AsyncSession, group_id: int, team_id: int | None, *,
                            now: datetime) -> InterestGroup:
    """The team whose organisers may see and run the group (None: the default team)."""
    group = await get_group(db, group_id)
    if group.team_id != team_id:
        group.team_id = team_id
        group.updated_at = now
        await db.flush()
    return group


async def get_group(db: AsyncSession, group_id: int) -> InterestGroup:
    group = await db.get(InterestGroup, group_id)
    if group is None:
        raise NotFoundError(_("No Interest Group with id %(group_id)s.") % {"group_id": group_id}, "group_id")
    return group


async def get_group_by_slug(db: AsyncSession, slug: str) -> InterestGroup:
    group = await db.scalar(select(InterestGroup).where(InterestGroup.slug == slug))
    if group is None:
        raise NotFoundError(_("There is no Interest Group at this address."), "slug")
    return group


async def list_groups(db: AsyncSession) -> list[InterestGroup]:
    """Every group, by topic (the public list shows them all: a members-only group's topic
    and summary are public, so that people can ask to join)."""
    return list(await db.scalars(select(InterestGroup).order_by(InterestGroup.topic,
                                                                InterestGroup.id)))


def shows_everything(group: InterestGroup) -> bool:
    """Whether anyone may see the group's members and meeting dates (not only its members)."""
    return group.visibility == GroupVisibility.PUBLIC


# --- facilitators ------------------------------------------------------------------------------


async def list_facilitators(db: AsyncSession, group_id: int) -> list[Person]:
    return list(await db.scalars(
        select(Person).join(GroupFacilitator, GroupFacilitator.person_id == Person.id)
        .where(GroupFacilitator.group_id == group_id).order_by(Person.name, Person.id)))


async def add_facilitator(db: AsyncSession, group_id: int, person_id: int, *,
                          now: datetime) -> None:
    """A person of the directory leads the group (nothing happens if they do already)."""
    await get_group(db, group_id)
    if await db.get(Person, person_id) is None:
        raise NotFoundError(_("Choose a person from the directory."), "person_id")
    if await db.get(GroupFacilitator, (group_id, person_id)) is None:
        db.add(GroupFacilitator(group_id=group_id, person_id=person_id, created_at=now))
        await db.flush()


async def remove_facilitator(db: AsyncSession, group_id: int, person_id: int) -> None:
    found = await db.get(GroupFacilitator, (group_id, person_id))
    if found is None:
        raise NotFoundError(_("This person does not facilitate the group."), "person_id")
    await db.delete(found)
    await db.flush()


# --- what the pages show ----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSummary:
    """A group with what its card shows: facilitators' names and how many organisations."""

    group: InterestGroup
    facilitators: list[str]
    member_organisations: int
    interested: int


async def member_organisation_names(db: AsyncSession, group_id: int) -> list[str]:
    """The member organisations, each once, by name (members of no known organisation by
    the name they typed)."""
    rows = await db.execute(
        select(func.coalesce(Organisation.name, GroupMember.organisation_name))
        .select_from(GroupMember)
        .outerjoin(Organisation, Organisation.id == GroupMember.organisation_id)
        .where(GroupMember.group_id == group_id, GroupMember.status == GroupMemberStatus.MEMBER))
    return sorted({name for (name,) in rows if name})


async def group_summaries(db: AsyncSession) -> list[GroupSummary]:
    groups = await list_groups(db)
    summaries = []
    for group in groups:
        interested = await db.scalar(select(func.count(GroupMember.id)).where(
            GroupMember.group_id == group.id,
            GroupMember.status == GroupMemberStatus.INTERESTED)) or 0
        summaries.append(GroupSummary(
            group=group, facilitators=[p.name for p in await list_facilitators(db, group.id)],
            member_organisations=len(await member_organisation_names(db, group.id)),
            interested=interested))
    return summaries
