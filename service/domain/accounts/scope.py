"""Which events an account may see and change: admins every event, organisers and viewers
those of their teams (viewers only read). An event naming no team is the default team's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import Event, Session
from service.domain.accounts.directory import SignedInAccount


def event_team_id(account: SignedInAccount, event: Event) -> int | None:
    return event.team_id if event.team_id is not None else account.default_team_id


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
