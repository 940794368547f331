"""Finding people and organisations: search by name, email or organisation, a page at a time.

Every word typed must appear (in any case) in one of the searched columns, so "carla
barcelona" finds Carla Canal of Barcelona City Council. Case is folded with SQL `lower()`
on both databases, which folds every letter on PostgreSQL with a UTF-8 locale and ASCII
letters on SQLite (and on PostgreSQL in the C locale). Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import AgendaItemSpeaker, Event, Organisation, Person
from service.domain.errors import InvalidInputError
from service.domain.text import has_control
from service.i18n import gettext as _

MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class PersonRow:
    person: Person  # with its organisation loaded
    speaker_places: int  # agenda items they speak in


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    people: int
    hosted_events: int


T = TypeVar("T")


@dataclass(frozen=True)
class DirectoryPage(Generic[T]):
    rows: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _check_paging(query: str, page: int, page_size: int) -> list[str]:
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInputError(_("Search with at most %(max_query_length)s characters.")
                                    % {"max_query_length": MAX_QUERY_LENGTH}, "q")
    if has_control(query):
        raise InvalidInputError(_("Search with words, without control characters."), "q")
    if page < 1:
        raise InvalidInputError(_("Pages start at 1."), "page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInputError(_("Show between 1 and %(max_page_size)s per page.")
                                    % {"max_page_size": MAX_PAGE_SIZE}, "page_size")
    return query.split()


def _contains(column: Any, word: str) -> Any:
    """Case-insensitive `word in column`, with LIKE's wildcards taken literally."""
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


async def _page(db: AsyncSession, query: Select[Any], order: tuple[Any, ...], page: int,
                page_size: int) -> tuple[list[Any], int]:
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(*order).offset((page - 1) * page_size)
                            .limit(page_size))
    return list(rows), total


async def search_persons(db: AsyncSession, query: str = "", *, page: int = 1,
                         page_size: int = 25) -> DirectoryPage[PersonRow]:
    """People whose name, email or organisation contains every word of `query`, by name."""
    words = _check_paging(query, page, page_size)
    statement: Select[Any] = select(Person).outerjoin(
        Organisation, Organisation.id == Person.organisation_id)
    for word in words:
        statement = statement.where(or_(_contains(Person.name, word),
                                        _contains(Person.email, word),
                                        _contains(Organisation.name, word)))
    people, total = await _page(db, statement.options(selectinload(Person.organisation)),
                                (func.lower(Person.name), Person.id), page, page_size)
    counts: dict[int, int] = {}
    if people:
        rows = await db.execute(
            select(AgendaItemSpeaker.person_id, func.count(AgendaItemSpeaker.id))
            .where(AgendaItemSpeaker.person_id.in_([p.id for p in people]))
            .group_by(AgendaItemSpeaker.person_id))
        counts = dict(rows.all())
    return DirectoryPage([PersonRow(p, counts.get(p.id, 0)) for p in people], total, page,
                         page_size)


async def search_organisations(db: AsyncSession, query: str = "", *, page: int = 1,
                               page_size: int = 25) -> DirectoryPage[OrganisationRow]:
    """Organisations whose name or website contains every word of `query`, by name."""
    words = _check_paging(query, page, page_size)
    statement: Select[Any] = select(Organisation)
    for word in words:
        statement = statement.where(or_(_contains(Organisation.name, word),
                                        _contains(Organisation.website, word)))
    organisations, total = await _page(db, statement,
                                       (func.lower(Organisation.name), Organisation.id),
                                       page, page_size)
    ids = [o.id for o in organisations]
    people: dict[int, int] = {}
    hosted: dict[int, int] = {}
    if ids:
        people = {org_id: count for org_id, count in (await db.execute(
            select(Person.organisation_id, func.count(Person.id))
            .where(Person.organisation_id.in_(ids)).group_by(Person.organisation_id)
        )) if org_id is not None}
        hosted = {org_id: count for org_id, count in (await db.execute(
            select(Event.host_organisation_id, func.count(Event.id))
            .where(Event.host_organisation_id.in_(ids)).group_by(Event.host_organisation_id)
        )) if org_id is not None}
    return DirectoryPage(
        [OrganisationRow(o, people.get(o.id, 0), hosted.get(o.id, 0)) for o in organisations],
        total, page, page_size)
