"""Copying an event to other days: next year's seminar from this year's, a webinar series
run again.

The copy is a new draft in the same team with the event's settings (a copy of sample data
is sample data), its sessions (those not cancelled) and their agendas, its own feedback
questions, and every translation of their texts. Each session and
agenda item keeps its wall-clock time in the event's zone and moves by the same number of
days, so that the first session falls on the day asked for (a time the clocks skip or
repeat on its new day is refused, naming the session); the registration window moves with
them. Not copied: registrations and everything they caused, join links (a new meeting has
new ones), a Meet-your-Buyer event's consultation and one-to-one meetings, and the
speakers unless asked for (each is then told of their new slots, as for any agenda).
Takes `db` and `now`, flushes, never commits, knows no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    ContentTranslation,
    Event,
    EventStatus,
    FeedbackQuestion,
    Session,
    SessionStatus,
)
from service.domain import signals
from service.domain.errors import ConflictError, FieldError, InvalidInputError
from service.domain.programme.events import TITLE_LIMIT, check_slug, free_slug, slugify
from service.domain.programme.feedback_questions import event_questions
from service.domain.programme.loading import get_event
from service.domain.programme.translations import EVENT_TARGET, target_key
from service.domain.text import clean_line
from service.domain.times import check_day, check_wall_time, local_date, zone_for
from service.i18n import gettext as _
from service.settings import Settings

Copied = Session | AgendaItem | FeedbackQuestion


@dataclass(frozen=True)
class EventCopy:
    """What the copy is called and when its first session is."""

    title: str
    first_day: date | None  # required when the event has sessions
    slug: str = ""  # "": from the title
    keeps_speakers: bool = False


def first_session_day(event: Event) -> date | None:
    """The day the event's first session (not cancelled) starts, in the event's zone."""
    sessions = _copied_sessions(event)
    return local_date(sessions[0].starts_at, event.timezone) if sessions else None


def proposed_copy(event: Event) -> EventCopy:
    """What a copy form offers first: the same weekday a year later (52 weeks), and the
    title with its year moved on where it names the first session's year."""
    first = first_session_day(event)
    if first is None:
        return EventCopy(title=event.title, first_day=None)
    day = first + timedelta(weeks=52)
    title = re.sub(rf"(?<!\d){first.year}(?!\d)", str(day.year), event.title)
    return EventCopy(title=title, first_day=day)


def _copied_sessions(event: Event) -> list[Session]:
    return [s for s in event.sessions if s.status != SessionStatus.CANCELLED]


def _moved(instant: datetime, days: int, zone_name: str, what: str) -> datetime:
    """The same wall-clock time `days` later in the event's zone; refused (naming
    "first_day") where that day's clock change skips or repeats it."""
    local = instant.astimezone(zone_for(zone_name))
    day = check_day(local.date() + timedelta(days=days), "first_day")
    wall = datetime.combine(day, local.time(), tzinfo=local.tzinfo)
    try:
        return check_wall_time(wall, "first_day")
    except InvalidInputError as error:
        raise InvalidInputError(
            _("%(what)s would be at %(time)s, which the clocks skip or repeat that day in "
              "%(zone)s: choose another first day.")
            % {"what": what, "time": wall.replace(tzinfo=None).isoformat(timespec="minutes"),
               "zone": zone_name}, "first_day") from error


async def copy_event(db: AsyncSession, event_id: int, copy: EventCopy, *, now: datetime,
                     settings: Settings) -> Event:
    """The new draft, loaded as `get_event` loads one. Refused as a whole, every problem
    with what was asked at once ("title", "slug", "first_day"), then a session or item
    whose new time the clocks skip or repeat ("first_day")."""
    original = await get_event(db, event_id)
    problems: list[FieldError] = []
    title = ""
    try:
        title = clean_line(copy.title, "title", max_length=TITLE_LIMIT) or ""
    except InvalidInputError as refused:
        problems.extend(refused.errors)
    else:
        if not title:
            problems.append(FieldError("title", _("Give the copy a title.")))
    try:
        if copy.slug:
            await check_slug(db, copy.slug)
    except (InvalidInputError, ConflictError) as refused:
        problems.extend(refused.errors)
    first = first_session_day(original)
    if first is not None and copy.first_day is None:
        problems.append(FieldError("first_day", _("Give the day of the copy's first session.")))
    if copy.first_day is not None:
        try:
            check_day(copy.first_day, "first_day")
        except InvalidInputError as refused:
            problems.extend(refused.errors)
    if problems:
        raise InvalidInputError.of(problems)
    slug = copy.slug or await free_slug(db, slugify(title))
    days = 0 if first is None or copy.first_day is None else (copy.first_day - first).days
    sessions = _copied_sessions(original)
    zone = original.timezone

    def moved(instant: datetime, what: str) -> datetime:
        return _moved(instant, days, zone, what)

    def moved_if_set(instant: datetime | None, what: str) -> datetime | None:
        return None if instant is None else moved(instant, what)

    event = Event(
        team_id=original.team_id, kind=original.kind, title=title, slug=slug,
        summary=original.summary, description=original.description, timezone=zone,
        status=EventStatus.DRAFT, host_organisation_id=original.host_organisation_id,
        registration_opens_at=moved_if_set(original.registration_opens_at,
                                           _("The opening of registration")),
        registration_closes_at=moved_if_set(original.registration_closes_at,
                                            _("The closing of registration")),
        capacity=original.capacity, is_approval_required=original.is_approval_required,
        allows_session_choice=original.allows_session_choice,
        is_address_confirmation_required=original.is_address_confirmation_required,
        venue_name=original.venue_name, venue_address=original.venue_address,
        venue_city=original.venue_city, venue_country=original.venue_country,
        contact_email=original.contact_email, registrant_note=original.registrant_note,
        reminder_offsets_minutes=original.reminder_offsets_minutes,
        retention_months=original.retention_months, default_language=original.default_language,
        is_sample_data=original.is_sample_data, created_at=now, updated_at=now)
    # Each copied session, agenda item and feedback question beside its copy (for their
    # translations).
    copied: list[tuple[Copied, Copied]] = []
    for session in sessions:
        what = _("The session “%(title)s”") % {"title": session.title}
        new_session = Session(
            title=session.title, description=session.description,
            starts_at=moved(session.starts_at, what), ends_at=moved(session.ends_at, what),
            mode=session.mode, join_url=None, capacity=session.capacity,
            status=SessionStatus.SCHEDULED, sequence=0, created_at=now, updated_at=now)
        copied.append((session, new_session))
        for item in session.agenda_items:
            what = _("The agenda item “%(title)s”") % {"title": item.title}
            new_item = AgendaItem(
                starts_at=moved(item.starts_at, what), ends_at=moved(item.ends_at, what),
                title=item.title, kind=item.kind, description=item.description, sequence=0,
                created_at=now, updated_at=now,
                speakers=[AgendaItemSpeaker(person_id=s.person_id,
                                            organisation_id=s.organisation_id,
                                            position=s.position)
                          for s in item.speakers] if copy.keeps_speakers else [])
            new_session.agenda_items.append(new_item)
            copied.append((item, new_item))
        event.sessions.append(new_session)
    db.add(event)
    await db.flush()
    for question in await event_questions(db, original.id):
        new_question = FeedbackQuestion(
            event_id=event.id, position=question.position, text=question.text,
            kind=question.kind, choices=question.choices,
            required=question.required, created_at=now, updated_at=now)
        db.add(new_question)
        copied.append((question, new_question))
    await db.flush()
    await _copy_translations(db, original, event, copied, now=now)
    copy_of = await get_event(db, event.id)
    if copy.keeps_speakers:
        # Each speaker hears of their slots in the copy, as when an agenda is written.
        for session in copy_of.sessions:
            for item in session.agenda_items:
                if item.speakers:
                    await signals.announce(db, signals.AgendaChanged(session, added=item),
                                           now=now, settings=settings)
    return copy_of


async def _copy_translations(
    db: AsyncSession, original: Event, event: Event,
    copied: list[tuple[Copied, Copied]], *, now: datetime,
) -> None:
    """The texts' translations, under the copy's own targets ("session-31" and so on); the
    consultation's stay with the original."""
    targets: dict[str, tuple[str, int | None, int | None]] = {
        EVENT_TARGET: (EVENT_TARGET, None, None)}
    for old, new in copied:
        if isinstance(new, Session):
            targets[target_key(old)] = (target_key(new), new.id, None)
        elif isinstance(new, AgendaItem):
            targets[target_key(old)] = (target_key(new), new.session_id, new.id)
        else:
            targets[target_key(old)] = (target_key(new), None, None)
    for row in original.content_translations:  # loaded with the event
        if row.target in targets:
            target, session_id, agenda_item_id = targets[row.target]
            db.add(ContentTranslation(
                event_id=event.id, session_id=session_id, agenda_item_id=agenda_item_id,
                target=target, language=row.language, field=row.field, text=row.text,
                updated_at=now))
    await db.flush()
