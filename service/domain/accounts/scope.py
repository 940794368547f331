"""Which events an account may see and change: admins every event, organisers and viewers
those of their teams (viewers only read). An event (or Interest Group) naming no team is
the default team's, and one put in the default team is stored naming none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    AgendaItem,
    ConsultationDocument,
    ConsultationQuestion,
    Event,
    GroupMember,
    InterestGroup,
    MeetingSeries,
    OutboxEmail,
    Registration,
    ScheduledMessage,
    Session,
    Team,
)
from service.domain.accounts.directory import SignedInAccount, default_team_id
from service.domain.errors import InvalidInputError
from service.i18n import gettext as _


def event_team_id(account: SignedInAccount, event: Event) -> int | None:
    return event.team_id if event.team_id is not None else account.default_team_id


def group_team_id(account: SignedInAccount, group: InterestGroup) -> int | None:
    return group.team_id if group.team_id is not None else account.default_team_id


def team_choices(account: SignedInAccount, teams: Sequence[Team]) -> list[Team]:
    """The teams an account may put an event or a group in: every team for an admin, else
    its own."""
    return [team for team in teams if account.is_admin or team.id in account.team_ids]


def new_work_team(account: SignedInAccount) -> int | None:
    """The team of a new event or group when its maker chooses none: the default team (None)
    when they belong to it (or belong to no team), else the first of theirs."""
    if not account.team_ids or account.default_team_id in account.team_ids:
        return None
    return min(account.team_ids)


def chosen_team(account: SignedInAccount, teams: Sequence[Team], team_id: int | None) -> int | None:
    """The team to store for a choice (None for the default team); one the account may not
    use is refused, naming the field."""
    allowed = {team.id: team for team in team_choices(account, teams)}
    team = allowed.get(team_id) if team_id is not None else None
    if team is None:
        raise InvalidInputError(_("Choose one of the teams in the list."), "team_id")
    return None if team.is_default else team.id


def can_see_event(account: SignedInAccount, event: Event) -> bool:
    return account.is_admin or event_team_id(account, event) in account.team_ids


def can_edit_event(account: SignedInAccount, event: Event) -> bool:
    return account.is_editor and can_see_event(account, event)


def visible_events_filter(account: SignedInAccount) -> ColumnElement[bool]:
    """A WHERE clause on Event for the events the account may see."""
    if account.is_admin:
        return true()
    if not account.team_ids:
        return false()
    clauses: list[ColumnElement[bool]] = [Event.team_id.in_(sorted(account.team_ids))]
    if account.default_team_id in account.team_ids:
        clauses.append(Event.team_id.is_(None))
    return or_(*clauses)


async def visible_event_ids(db: AsyncSession, account: SignedInAccount) -> list[int]:
    return list(await db.scalars(
        select(Event.id).where(visible_events_filter(account)).order_by(Event.id)))


async def list_visible_events(
    db: AsyncSession, account: SignedInAccount, *, now: datetime, upcoming: bool = True
) -> list[Event]:
    """The events the account may see, with their sessions, soonest first; `upcoming` keeps
    those with a session not yet over (or none yet)."""
    last_end = (select(func.max(Session.ends_at)).where(Session.event_id == Event.id)
                .correlate(Event).scalar_subquery())
    first_start = (select(func.min(Session.starts_at)).where(Session.event_id == Event.id)
                   .correlate(Event).scalar_subquery())
    query = select(Event).where(visible_events_filter(account)).options(
        selectinload(Event.sessions))
    if upcoming:
        query = query.where(or_(last_end.is_(None), last_end >= now))
    return list(await db.scalars(query.order_by(first_start.is_(None), first_start, Event.id)))


def team_events_filter(team_ids: Iterable[int], default_team_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on Event for the events of these teams (no team: the default's)."""
    wanted = sorted(set(team_ids))
    if not wanted:
        return false()
    clauses: list[ColumnElement[bool]] = [Event.team_id.in_(wanted)]
    if default_team_id in wanted:
        clauses.append(Event.team_id.is_(None))
    return or_(*clauses)


async def token_events_filter(db: AsyncSession, token_team_id: int | None) -> ColumnElement[bool]:
    """The events an API token may see: its team's, or every event for a token of no team."""
    if token_team_id is None:
        return true()
    return team_events_filter([token_team_id], await default_team_id(db))


# Path parameters that name something belonging to one event, and how to find that event.
_EVENT_OF: dict[str, Callable[[int], Select[Any]]] = {
    "event_id": lambda i: select(Event.id).where(Event.id == i),
    "session_id": lambda i: select(Session.event_id).where(Session.id == i),
    "agenda_item_id": lambda i: select(Session.event_id)
    .join(AgendaItem, AgendaItem.session_id == Session.id).where(AgendaItem.id == i),
    "registration_id": lambda i: select(Registration.event_id).where(Registration.id == i),
    "email_id": lambda i: select(OutboxEmail.event_id).where(OutboxEmail.id == i),
    "question_id": lambda i: select(ConsultationQuestion.event_id)
    .where(ConsultationQuestion.id == i),
    "document_id": lambda i: select(ConsultationDocument.event_id)
    .where(ConsultationDocument.id == i),
    "scheduled_message_id": lambda i: select(ScheduledMessage.event_id)
    .where(ScheduledMessage.id == i),
}
EVENT_OWNED_PARAMS = frozenset(_EVENT_OF)
# Path parameters that name something of one Interest Group (a group belongs to a team, as
# an event does), and how to find that group.
_GROUP_OF: dict[str, Callable[[int], Select[Any]]] = {
    "group_id": lambda i: select(InterestGroup.id).where(InterestGroup.id == i),
    "group_member_id": lambda i: select(GroupMember.group_id).where(GroupMember.id == i),
    "series_id": lambda i: select(MeetingSeries.group_id).where(MeetingSeries.id == i),
}
GROUP_OWNED_PARAMS = frozenset(_GROUP_OF)


async def group_owner_team(db: AsyncSession, param: str, value: int) -> tuple[bool, int | None]:
    """Whether the object a group path parameter names exists, and its group's team (the
    default team standing in for none)."""
    group_id = await db.scalar(_GROUP_OF[param](value))
    if group_id is None:
        return False, None
    team_id = await db.scalar(select(InterestGroup.team_id).where(InterestGroup.id == group_id))
    return True, team_id if team_id is not None else await default_team_id(db)


def can_see_group(account: SignedInAccount, group: InterestGroup) -> bool:
    return account.is_admin or group_team_id(account, group) in account.team_ids


@dataclass(frozen=True)
class Owner:
    """The event (and its team) that a path parameter's object belongs to."""

    exists: bool
    event_id: int | None  # None: it exists but belongs to no event (an account's email)
    team_id: int | None  # the event's team, the default team standing in for none


async def owner_of(db: AsyncSession, param: str, value: int) -> Owner:
    """Which event, and team, owns the object a path parameter names."""
    row = (await db.execute(_EVENT_OF[param](value))).first()
    if row is None:
        return Owner(exists=False, event_id=None, team_id=None)
    event_id: int | None = row[0]
    if event_id is None:
        return Owner(exists=True, event_id=None, team_id=None)
    team_id = await db.scalar(select(Event.team_id).where(Event.id == event_id))
    return Owner(exists=True, event_id=event_id,
                 team_id=team_id if team_id is not None else await default_team_id(db))


async def may_reach(db: AsyncSession, path_params: Mapping[str, Any], *,
                    team_ids: frozenset[int] | None) -> bool:
    """Whether every event-owned object a route's path names belongs to one of `team_ids`
    (None: every team, as for admins). Unknown ids pass: the handler answers 404."""
    if team_ids is None:
        return True
    for name, value in path_params.items():
        if name in _GROUP_OF and isinstance(value, int):
            exists, group_team_id = await group_owner_team(db, name, value)
            if exists and group_team_id not in team_ids:
                return False
            continue
        if name not in _EVENT_OF or not isinstance(value, int):
            continue
        owner = await owner_of(db, name, value)
        if owner.exists and owner.team_id not in team_ids:
            return False
    return True


async def place_event_in_team(db: AsyncSession, event: Event, team_id: int | None) -> None:
    """An event made by a team's API token (or account) belongs to that team."""
    if team_id is not None and event.team_id != team_id:
        event.team_id = team_id
        await db.flush()
