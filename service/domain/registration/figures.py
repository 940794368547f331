"""Participation in figures, as organisers report it to their network and funders: for one
event or a year's programme, how many registered (by state), how many came, and from which
countries and kinds of organisation.

Counts only, never names. "Registered" counts the confirmed registrations (who hold a
place); "came" counts everyone checked in at the door of at least one session, whatever
their registration's state now. Registrations whose address was never confirmed are left
out: they are not registrations yet. Across several events, "people" counts each address
once (someone at three webinars is one person reached, three registrations). Reads only;
knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, EventStatus, Registration, RegistrationStatus, Session


@dataclass(frozen=True)
class Share:
    """One country's (or kind of organisation's) part: None when the people did not say."""

    key: str | None
    registered: int
    came: int


@dataclass(frozen=True)
class ParticipationFigures:
    by_status: dict[RegistrationStatus, int]
    registered: int
    came: int
    by_country: list[Share]  # most registered first, then by key; "not given" last
    by_organisation_kind: list[Share]
    by_event: dict[int, tuple[int, int]]  # event id: (registered, came)
    people: int = 0  # different addresses among the registered
    people_came: int = 0  # different addresses among who came


def _shares(rows: Sequence[Any]) -> list[Share]:
    """One share per key (an empty one is "not given", as a missing one), the biggest first."""
    totals: dict[str | None, tuple[int, int]] = {}
    for key, registered, came in rows:
        name = str(key) if key else None
        before = totals.get(name, (0, 0))
        totals[name] = (before[0] + int(registered or 0), before[1] + int(came or 0))
    shares = [Share(key, registered, came) for key, (registered, came) in totals.items()]
    return sorted(shares, key=lambda s: (s.key is None, -s.registered, -s.came, s.key or ""))


async def participation_figures(db: AsyncSession, event_ids: Collection[int]
                                ) -> ParticipationFigures:
    """The figures of these events together (their registrations as they stand now)."""
    counted = (Registration.event_id.in_(list(event_ids)),
               Registration.status != RegistrationStatus.UNCONFIRMED)
    registered = func.sum(case((Registration.status == RegistrationStatus.CONFIRMED, 1),
                               else_=0))
    came = func.count(Registration.checked_in_at)
    by_status = {RegistrationStatus(status): int(count) for status, count in await db.execute(
        select(Registration.status, func.count()).where(*counted)
        .group_by(Registration.status))}

    async def shares(column: Any) -> list[Share]:
        rows = (await db.execute(select(column, registered, came).where(*counted)
                                 .group_by(column))).all()
        return [s for s in _shares(rows) if s.registered or s.came]

    by_country = await shares(Registration.country)
    people, people_came = (await db.execute(select(
        func.count(func.distinct(case((Registration.status == RegistrationStatus.CONFIRMED,
                                       Registration.email_normalised)))),
        func.count(func.distinct(case((Registration.checked_in_at.is_not(None),
                                       Registration.email_normalised))))).where(*counted))).one()
    by_event = {int(event_id): (int(registered_count or 0), int(came_count))
                for event_id, registered_count, came_count in await db.execute(
                    select(Registration.event_id, registered, came).where(*counted)
                    .group_by(Registration.event_id))}
    return ParticipationFigures(
        by_status=by_status,
        registered=sum(s.registered for s in by_country),
        came=sum(s.came for s in by_country),
        by_country=by_country,
        by_organisation_kind=await shares(Registration.organisation_kind),
        by_event=by_event,
        people=int(people or 0),
        people_came=int(people_came or 0),
    )


async def events_of_year(db: AsyncSession, year: int, event_ids: Collection[int] | None
                         ) -> list[Event]:
    """The published events (of `event_ids`, or all) whose first session starts in `year`
    (UTC), by their first session: a year's programme as reported (not drafts, not
    cancelled events). A series running into the next year counts in the year it starts
    only, so that years' figures add up."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    first = (select(func.min(Session.starts_at)).where(Session.event_id == Event.id)
             .scalar_subquery())
    query = (select(Event).where(Event.status == EventStatus.PUBLISHED,
                                 first >= start, first < end)
             .order_by(first, Event.id))
    if event_ids is not None:
        query = query.where(Event.id.in_(list(event_ids)))
    return list(await db.scalars(query))

