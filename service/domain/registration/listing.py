"""The organisers' list of an event's registrations: filter, search, sort, one page at a time.

Built for events with thousands of registrants: the database filters, sorts, counts and cuts
the page, and only the columns the list shows come back, as plain rows (no ORM objects, no
enrolments loaded). The export (`list_registrations_to_export`) reads the same filter in
full, as the CSV needs it. Queries only: nothing here changes a registration.

Search is case-insensitive on both databases, non-ASCII letters included (É finds é): an
ASCII term uses the database's own `lower()`, which folds ASCII alike everywhere; any
other term a Unicode-aware lower case (a function registered on each SQLite connection,
`service.db.engine`; the ICU collation on PostgreSQL where the server has it), after the
term's ASCII part has ruled out most rows cheaply.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
)
from service.domain.errors import InvalidInputError, NotFoundError
from service.domain.text import has_control
from service.i18n import gettext as _

from .loading import attach, load_event

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_SEARCH = 200
# The order a "by status" list reads in: who needs a decision first, who has left last.
STATUS_ORDER = (
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITING,
    RegistrationStatus.UNCONFIRMED,
    RegistrationStatus.DECLINED,
    RegistrationStatus.CANCELLED,
)
# The SQLite function `service.db.engine` registers on every connection.
SQLITE_UNICODE_LOWER = "unicode_lower"


class RegistrationSort(enum.StrEnum):
    NAME = "name"
    ORGANISATION = "organisation"
    REGISTERED_AT = "registered_at"
    STATUS = "status"


@dataclass(frozen=True)
class RegistrationQuery:
    """Which registrations of one event, in which order. No status: every registration
    but the unconfirmed ones (addresses nobody confirmed yet are requests, not
    registrations), as in the organisers' API."""

    event_id: int
    session_id: int | None = None
    statuses: tuple[RegistrationStatus, ...] = ()
    search: str = ""
    sort: RegistrationSort = RegistrationSort.REGISTERED_AT
    descending: bool = False


@dataclass(frozen=True)
class RegistrationRow:
    """One line of the list: what the page shows, nothing more."""

    id: int
    name: str
    email: str
    organisation_name: str
    status: RegistrationStatus
    registered_at: datetime
    # With a session chosen: the registrant's place in that session (confirmed or waiting).
    session_status: EnrolmentStatus | None = None


@dataclass(frozen=True)
class RegistrationPage:
    rows: list[RegistrationRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first_number(self) -> int:
        """1-based number of the page's first row (0 when the list is empty)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


@dataclass(frozen=True)
class WaitingRow:
    """A person on a waiting list, with their place in the queue (1 = next in line)."""

    position: int
    id: int
    name: str
    email: str
    organisation_name: str
    waiting_since: datetime | None


def clean_search(value: str | None) -> str:
    """The search as typed, stripped, inner spaces folded; too long a search, or one with
    control characters (which no name holds, and PostgreSQL refuses), is refused."""
    term = " ".join((value or "").split())
    if len(term) > MAX_SEARCH:
        raise InvalidInputError(_("At most %(max_search)s characters.") % {"max_search": MAX_SEARCH}, "q")
    if has_control(term):
        raise InvalidInputError(_("Search with words, without control characters."), "q")
    return term


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_ICU_BY_DATABASE: dict[str, bool] = {}


async def _has_icu(db: AsyncSession) -> bool:
    """Whether this PostgreSQL server has the ICU root collation (asked once per database)."""
    key = db.get_bind().engine.url.render_as_string(hide_password=True)
    if key not in _ICU_BY_DATABASE:
        _ICU_BY_DATABASE[key] = bool(await db.scalar(
            text("SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'")))
    return _ICU_BY_DATABASE[key]


async def search_condition(db: AsyncSession, term: str) -> ColumnElement[bool]:
    """Name, email or organisation contains `term`, whatever the case of either."""
    columns = (Registration.name, Registration.email, Registration.organisation_name)
    pattern = f"%{_escape_like(term.lower())}%"
    dialect = db.get_bind().dialect.name
    lowered: list[ColumnElement[Any]]
    if term.isascii():
        # Both fold ASCII letters without a function call per row: SQLite's LIKE ignores
        # their case already, PostgreSQL's ILIKE does.
        if dialect == "sqlite":
            return or_(*(c.like(pattern, escape="\\") for c in columns))
        return or_(*(c.ilike(pattern, escape="\\") for c in columns))
    if dialect == "sqlite":
        lowered = [getattr(func, SQLITE_UNICODE_LOWER)(c) for c in columns]
    elif await _has_icu(db):
        lowered = [func.lower(c.collate("und-x-icu")) for c in columns]
    else:  # The server's own locale decides.
        lowered = [func.lower(c) for c in columns]
    # A Unicode lower case per row is slow: the term's longest ASCII run, which the plain
    # case-insensitive match finds as fast as an ASCII search, rules out most rows first.
    run = max(re.findall(r"[\x20-\x7e]+", term.lower()), key=len, default="").strip()
    if not run:
        return or_(*(c.like(pattern, escape="\\") for c in lowered))
    near = f"%{_escape_like(run)}%"
    return or_(*(
        and_(c.like(near, escape="\\") if dialect == "sqlite" else c.ilike(near, escape="\\"),
             low.like(pattern, escape="\\"))
        for c, low in zip(columns, lowered, strict=True)))


async def _conditions(db: AsyncSession, query: RegistrationQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Registration.event_id == query.event_id]
    if query.statuses:
        conditions.append(Registration.status.in_(query.statuses))
    else:
        conditions.append(Registration.status != RegistrationStatus.UNCONFIRMED)
    if query.session_id is not None:
        conditions += [Enrolment.session_id == query.session_id,
                       Enrolment.status != EnrolmentStatus.CANCELLED]
    if query.search:
        conditions.append(await search_condition(db, query.search))
    return conditions


def _from(statement: Select[Any], query: RegistrationQuery) -> Select[Any]:
    if query.session_id is None:
        return statement.select_from(Registration)
    return statement.select_from(Registration).join(
        Enrolment, and_(Enrolment.registration_id == Registration.id,
                        Enrolment.session_id == query.session_id))


def _order(query: RegistrationQuery) -> list[ColumnElement[Any]]:
    keys: list[Any]
    if query.sort == RegistrationSort.NAME:
        keys = [func.lower(Registration.name)]
    elif query.sort == RegistrationSort.ORGANISATION:
        keys = [func.lower(Registration.organisation_name), func.lower(Registration.name)]
    elif query.sort == RegistrationSort.STATUS:
        keys = [case({s.value: i for i, s in enumerate(STATUS_ORDER)},
                     value=Registration.status, else_=literal(len(STATUS_ORDER))),
                func.lower(Registration.name)]
    else:
        keys = [Registration.created_at]
    # The id breaks ties, in the same direction, so pages never overlap or skip a row.
    keys.append(Registration.id)
    return [k.desc() for k in keys] if query.descending else [k.asc() for k in keys]


async def _check_session(db: AsyncSession, query: RegistrationQuery) -> None:
    if query.session_id is None:
        return
    event = await load_event(db, query.event_id)
    if query.session_id not in {s.id for s in event.sessions}:
        raise NotFoundError(_("No session %(session_id)s in this event.")
                                % {"session_id": query.session_id}, "session")


async def list_registration_page(
    db: AsyncSession, query: RegistrationQuery, *, page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE, counts: Mapping[RegistrationStatus, int] | None = None,
    check_session: bool = True,
) -> RegistrationPage:
    """One page of the event's registrations (a page past the last gives the last one).

    `counts`, the event's (or session's) `count_registrations_by_status` read in the same
    transaction, saves counting again when there is no search. `check_session=False` when
    the caller has checked the session belongs to the event already."""
    if page < 1:
        raise InvalidInputError(_("Must be 1 or more."), "page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInputError(_("Must be between 1 and %(max_page_size)s.")
                                    % {"max_page_size": MAX_PAGE_SIZE}, "page_size")
    if check_session:
        await _check_session(db, query)
    conditions = await _conditions(db, query)
    if counts is not None and not query.search:
        chosen = query.statuses or [s for s in RegistrationStatus
                                    if s != RegistrationStatus.UNCONFIRMED]
        total = sum(counts.get(status, 0) for status in set(chosen))
    else:
        total = await db.scalar(
            _from(select(func.count(Registration.id)), query).where(*conditions)) or 0
    page = min(page, max(1, math.ceil(total / page_size)))
    columns: list[Any] = [Registration.id, Registration.name, Registration.email,
                          Registration.organisation_name, Registration.status,
                          Registration.created_at]
    if query.session_id is not None:
        columns.append(Enrolment.status)
    result = await db.execute(
        _from(select(*columns), query).where(*conditions).order_by(*_order(query))
        .limit(page_size).offset((page - 1) * page_size)
    )
    rows = [
        RegistrationRow(id=r[0], name=r[1], email=r[2], organisation_name=r[3], status=r[4],
                        registered_at=r[5],
                        session_status=r[6] if query.session_id is not None else None)
        for r in result.all()
    ]
    return RegistrationPage(rows=rows, total=total, page=page, page_size=page_size)


async def count_registrations_by_status(
    db: AsyncSession, event_id: int, *, session_id: int | None = None,
) -> dict[RegistrationStatus, int]:
    """How many registrations of the event (or session) have each status; every status
    present, zero included, for the filter's counts."""
    statement = select(Registration.status, func.count(Registration.id)).select_from(
        Registration).where(Registration.event_id == event_id)
    if session_id is not None:
        statement = statement.join(
            Enrolment, and_(Enrolment.registration_id == Registration.id,
                            Enrolment.session_id == session_id,
                            Enrolment.status != EnrolmentStatus.CANCELLED))
    rows = await db.execute(statement.group_by(Registration.status))
    counts = dict.fromkeys(RegistrationStatus, 0)
    counts.update({RegistrationStatus(status): count for status, count in rows.all()})
    return counts


async def list_registrations_to_export(
    db: AsyncSession, query: RegistrationQuery
) -> tuple[list[Registration], dict[int, int]]:
    """Every registration the filter finds, in its order, with enrolments and sessions
    loaded (for the CSV), and the event's waiting-list positions by registration id."""
    await _check_session(db, query)
    event = await load_event(db, query.event_id)
    conditions = await _conditions(db, query)
    rows = list(await db.scalars(
        _from(select(Registration), query).where(*conditions).order_by(*_order(query))
        .options(selectinload(Registration.enrolments))
    ))
    for registration in rows:
        attach(registration, event)
    waiting = await list_waiting(db, query.event_id)
    return rows, {row.id: row.position for row in waiting}


async def list_waiting(
    db: AsyncSession, event_id: int, *, session_id: int | None = None
) -> list[WaitingRow]:
    """A waiting list in the order places are given (`places.fill_places`): the event's by
    `waiting_since`; a session's, among people with a place at the event, by the time
    their enrolment joined it."""
    columns = (Registration.id, Registration.name, Registration.email,
               Registration.organisation_name)
    if session_id is None:
        result = await db.execute(
            select(*columns, Registration.waiting_since)
            .where(Registration.event_id == event_id,
                   Registration.status == RegistrationStatus.WAITING)
            .order_by(Registration.waiting_since, Registration.id)
        )
    else:
        await _check_session(db, RegistrationQuery(event_id=event_id, session_id=session_id))
        result = await db.execute(
            select(*columns, Enrolment.updated_at)
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .where(Registration.event_id == event_id,
                   Enrolment.session_id == session_id,
                   Enrolment.status == EnrolmentStatus.WAITING,
                   Registration.status == RegistrationStatus.CONFIRMED)
            .order_by(Enrolment.updated_at, Enrolment.id)
        )
    return [
        WaitingRow(position=index, id=r[0], name=r[1], email=r[2], organisation_name=r[3],
                   waiting_since=r[4])
        for index, r in enumerate(result.all(), start=1)
    ]



async def get_event_outline(db: AsyncSession, event_id: int) -> Event:
    """The event with its sessions only (no agenda): what a list of its registrations needs."""
    event = await db.scalar(
        select(Event).where(Event.id == event_id).options(selectinload(Event.sessions)))
    if event is None:
        raise NotFoundError(_("No event with id %(event_id)s.") % {"event_id": event_id}, "event_id")
    return event


async def find_registration_rows(
    db: AsyncSession, event_id: int, ids: Sequence[int]
) -> list[RegistrationRow]:
    """The event's registrations among `ids`, in the order of `ids` (others are left out)."""
    if not ids:
        return []
    result = await db.execute(
        select(Registration.id, Registration.name, Registration.email,
               Registration.organisation_name, Registration.status, Registration.created_at)
        .where(Registration.event_id == event_id, Registration.id.in_(list(ids))))
    found = {r[0]: RegistrationRow(id=r[0], name=r[1], email=r[2], organisation_name=r[3],
                                   status=r[4], registered_at=r[5]) for r in result.all()}
    return [found[i] for i in dict.fromkeys(ids) if i in found]
