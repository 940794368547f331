"""The timed agenda of a session: its items, their times and their speakers.

Items are written in the event's local time ("10:10" on the session's date, or a full
timestamp), lie inside their session and never overlap. Every change is announced with the
item as it was; speakers' notices and invites are decided in
service/operations/consequences.py, never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, AgendaItemKind, AgendaItemSpeaker, Person, Session
from service.domain import signals
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme.checks import check_organisation_exists
from service.domain.programme.inputs import AgendaItemCreate, AgendaItemUpdate, SpeakerRef
from service.domain.programme.loading import get_agenda_item, get_session
from service.domain.snapshots import snapshot_agenda_item
from service.domain.text import clean_line, clean_text
from service.domain.times import local_date, parse_instant
from service.i18n import gettext as _
from service.settings import Settings

# As long as the column allows, and as the API's shapes do.
TITLE_LIMIT, DESCRIPTION_LIMIT = 500, 20_000


async def _check_agenda_slot(
    db: AsyncSession, session: Session, starts_at: datetime, ends_at: datetime,
    *, ignore_item_id: int | None = None,
) -> None:
    if ends_at <= starts_at:
        raise InvalidInputError(_("An agenda item must end after it starts."), "ends_at")
    if starts_at < session.starts_at:
        raise InvalidInputError(_("The agenda item starts before its session."), "starts_at")
    if ends_at > session.ends_at:
        raise InvalidInputError(_("The agenda item ends after its session."), "ends_at")
    for other in session.agenda_items:
        if other.id == ignore_item_id:
            continue
        if starts_at < other.ends_at and other.starts_at < ends_at:
            raise InvalidInputError(
                _("Overlaps the agenda item %(title)r in the same session.")
                    % {"title": other.title}, "starts_at"
            )


async def _speakers(db: AsyncSession, speakers: Sequence[SpeakerRef]) -> list[AgendaItemSpeaker]:
    rows: list[AgendaItemSpeaker] = []
    seen: set[int] = set()
    for index, speaker in enumerate(speakers):
        person = await db.get(Person, speaker.person_id)
        if person is None:
            raise InvalidInputError(
                _("No person with id %(person_id)s.")
                    % {"person_id": speaker.person_id}, f"speakers[{index}].person_id"
            )
        if speaker.person_id in seen:
            raise InvalidInputError(_("Listed twice."), f"speakers[{index}].person_id")
        seen.add(speaker.person_id)
        await check_organisation_exists(
            db, speaker.organisation_id, f"speakers[{index}].organisation_id"
        )
        rows.append(
            AgendaItemSpeaker(
                person_id=speaker.person_id,
                organisation_id=speaker.organisation_id or person.organisation_id,
                position=index,
            )
        )
    return rows


def agenda_item_text_problems(title: str, description: str) -> list[FieldError]:
    """What is wrong with an item's title and description, both at once: a form reports them
    beside its other fields' problems, before anything is saved."""
    problems: list[FieldError] = []
    try:
        clean_line(title, "title", required=True, max_length=TITLE_LIMIT)
    except InvalidInputError as refused:
        problems += refused.errors
    try:
        clean_text(description, "description", max_length=DESCRIPTION_LIMIT)
    except InvalidInputError as refused:
        problems += refused.errors
    return problems


def _agenda_time(value: str, session: Session, field: str) -> datetime:
    zone_name = session.event.timezone
    return parse_instant(value, zone_name, field, on_date=local_date(session.starts_at, zone_name))


async def add_agenda_item(
    db: AsyncSession, session_id: int, data: AgendaItemCreate, *, now: datetime,
    settings: Settings,
) -> AgendaItem:
    """Times may be "10:10" (on the session's local date), a local or an offset timestamp."""
    session = await get_session(db, session_id)
    starts_at = _agenda_time(data.starts_at, session, "starts_at")
    ends_at = _agenda_time(data.ends_at, session, "ends_at")
    await _check_agenda_slot(db, session, starts_at, ends_at)
    item = AgendaItem(
        session_id=session.id,
        starts_at=starts_at,
        ends_at=ends_at,
        title=clean_line(data.title, "title", required=True, max_length=TITLE_LIMIT),
        kind=data.kind or AgendaItemKind.TALK,
        description=clean_text(data.description, "description",
                               max_length=DESCRIPTION_LIMIT) or "",
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    item.speakers = await _speakers(db, data.speakers)
    db.add(item)
    await db.flush()
    item = await get_agenda_item(db, item.id)
    await signals.announce(db, signals.AgendaChanged(item.session, added=item), now=now,
                           settings=settings)
    return item


async def update_agenda_item(
    db: AsyncSession, agenda_item_id: int, changes: AgendaItemUpdate, *, now: datetime,
    settings: Settings,
) -> AgendaItem:
    item = await get_agenda_item(db, agenda_item_id)
    session = await get_session(db, item.session_id)
    previous = snapshot_agenda_item(item)
    starts_at = (
        _agenda_time(changes.starts_at, session, "starts_at")
        if changes.starts_at is not UNSET else item.starts_at
    )
    ends_at = (
        _agenda_time(changes.ends_at, session, "ends_at")
        if changes.ends_at is not UNSET else item.ends_at
    )
    await _check_agenda_slot(db, session, starts_at, ends_at, ignore_item_id=item.id)
    moved = (starts_at, ends_at) != (item.starts_at, item.ends_at)
    item.starts_at, item.ends_at = starts_at, ends_at
    if changes.title is not UNSET:
        item.title = clean_line(changes.title, "title", required=True, max_length=TITLE_LIMIT)
    if changes.kind is not UNSET:
        item.kind = changes.kind
    if changes.description is not UNSET:
        item.description = clean_text(changes.description, "description",
                                      max_length=DESCRIPTION_LIMIT) or ""
    if changes.speakers is not UNSET:
        new_speakers = await _speakers(db, changes.speakers)
        item.speakers.clear()
        await db.flush()
        item.speakers.extend(new_speakers)
    if moved:
        item.sequence += 1
    item.updated_at = now
    await db.flush()
    db.expire(item)
    item = await get_agenda_item(db, agenda_item_id)
    await signals.announce(db, signals.AgendaChanged(item.session, moved_from=previous, item=item),
                           now=now, settings=settings)
    return item


async def delete_agenda_item(
    db: AsyncSession, agenda_item_id: int, *, now: datetime, settings: Settings
) -> None:
    item = await get_agenda_item(db, agenda_item_id)
    previous = snapshot_agenda_item(item)
    session = item.session
    await db.delete(item)
    await db.flush()
    await signals.announce(db, signals.AgendaChanged(session, removed=previous), now=now,
                           settings=settings)


def agenda_day(session: Session) -> date:
    return local_date(session.starts_at, session.event.timezone)


async def move_agenda_item(
    db: AsyncSession, agenda_item_id: int, *, earlier: bool, now: datetime, settings: Settings,
) -> AgendaItem:
    """Swap an item with the one before it (or after it): the pair keeps the time it took,
    each item keeps its length, and the gap between them stays where it was."""
    item = await get_agenda_item(db, agenda_item_id)
    session = await get_session(db, item.session_id)
    ordered = sorted(session.agenda_items, key=lambda i: (i.starts_at, i.id))
    index = next(n for n, other in enumerate(ordered) if other.id == item.id)
    neighbour_index = index - 1 if earlier else index + 1
    if not 0 <= neighbour_index < len(ordered):
        already = (_("%(title)r is the first item already.") if earlier
                   else _("%(title)r is the last item already."))
        raise InvalidInputError(already % {"title": item.title}, "position")
    first, second = sorted((ordered[index], ordered[neighbour_index]), key=lambda i: i.starts_at)
    gap = second.starts_at - first.ends_at
    new_second_start = first.starts_at  # the later item moves up to where the pair began
    new_second_end = new_second_start + (second.ends_at - second.starts_at)
    new_first_start = new_second_end + gap
    new_first_end = new_first_start + (first.ends_at - first.starts_at)
    moves = ((second, new_second_start, new_second_end), (first, new_first_start, new_first_end))
    previous = {moved.id: snapshot_agenda_item(moved) for moved, _, _ in moves}
    for moved, starts_at, ends_at in moves:
        moved.starts_at, moved.ends_at = starts_at, ends_at
        moved.sequence += 1
        moved.updated_at = now
    await db.flush()
    for moved_id in (second.id, first.id):
        reloaded = await get_agenda_item(db, moved_id)
        await signals.announce(
            db, signals.AgendaChanged(reloaded.session, moved_from=previous[moved_id],
                                      item=reloaded),
            now=now, settings=settings)
    return await get_agenda_item(db, agenda_item_id)
