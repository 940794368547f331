"""Events: creating and editing them, their slugs and registration window, and their life
from draft to published to cancelled.

Changes that matter to registrants and speakers are announced as signals (a session seen
differently, a new reminder policy, more places); what follows is decided in
service/operations/consequences.py, never here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from msgspec import UNSET, UnsetType
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, EventStatus, Registration, SessionStatus
from service.domain import signals
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.programme.checks import (
    check_organisation_exists,
    check_places,
    country_code,
    lets_more_in,
)
from service.domain.programme.inputs import EventCreate, EventUpdate
from service.domain.programme.loading import get_event
from service.domain.programme.sessions import mark_session_cancelled
from service.domain.programme.translations import check_language
from service.domain.snapshots import snapshot_session
from service.domain.text import clean_line, clean_text
from service.domain.times import parse_instant, zone_for
from service.i18n import gettext as _
from service.settings import Settings

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_LIMIT = 120  # the column's length
# The longest texts, as the columns (or, for long texts, the API's shapes) allow: the back
# office builds the inputs itself, so the limits are checked here too.
TITLE_LIMIT, SUMMARY_LIMIT, DESCRIPTION_LIMIT = 300, 2_000, 20_000
REGISTRANT_NOTE_LIMIT = 4_000
VENUE_LIMITS = {"venue_name": 200, "venue_address": 300, "venue_city": 120}


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].strip("-") or "event"


async def free_slug(db: AsyncSession, base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever no event has yet."""
    candidate, number = base, 2
    while await db.scalar(select(Event.id).where(Event.slug == candidate)) is not None:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


async def check_slug(db: AsyncSession, slug: str, *, event_id: int | None = None) -> None:
    """A slug an organiser chose: well formed and not too long (422), and not another
    event's (409)."""
    if not SLUG_PATTERN.match(slug):
        raise InvalidInputError(_("Use lower-case letters, digits and single hyphens."), "slug")
    if len(slug) > SLUG_LIMIT:
        raise InvalidInputError(_("At most %(count)s characters.") % {"count": SLUG_LIMIT},
                                "slug")
    query = select(Event.id).where(Event.slug == slug)
    if event_id is not None:
        query = query.where(Event.id != event_id)
    if await db.scalar(query) is not None:
        raise ConflictError(_("The slug %(slug)r is taken by another event.") % {"slug": slug}, "slug")


def _venue(value: str | None, field: str) -> str | None:
    return clean_line(value, field, max_length=VENUE_LIMITS[field])


def _check_reminder_offsets(value: Sequence[int] | None) -> list[int] | None:
    if value is None:
        return None
    offsets = sorted(set(value), reverse=True)
    for index, minutes in enumerate(offsets):
        if not 1 <= minutes <= 60 * 24 * 60:
            raise InvalidInputError(
                _("Each reminder is 1 minute to 60 days before the session."),
                f"reminder_offsets_minutes[{index}]",
            )
    return offsets


def _set_registration_window(
    event: Event, opens_at: str | UnsetType | None, closes_at: str | UnsetType | None,
    zone_name: str,
) -> None:
    """Set the ends that were given (None or "" clears one) and check they are in order."""
    if opens_at is not UNSET:
        event.registration_opens_at = (
            parse_instant(opens_at, zone_name, "registration_opens_at") if opens_at else None
        )
    if closes_at is not UNSET:
        event.registration_closes_at = (
            parse_instant(closes_at, zone_name, "registration_closes_at") if closes_at else None
        )
    if (
        event.registration_opens_at is not None
        and event.registration_closes_at is not None
        and event.registration_closes_at <= event.registration_opens_at
    ):
        raise InvalidInputError(_("Registration must close after it opens."), "registration_closes_at")


async def create_event(db: AsyncSession, data: EventCreate, *, now: datetime) -> Event:
    zone_name = data.timezone or "Europe/Brussels"
    zone_for(zone_name)
    title = clean_line(data.title, "title", required=True, max_length=TITLE_LIMIT)
    if data.slug:
        slug = data.slug
        await check_slug(db, slug)
    else:
        slug = await free_slug(db, slugify(title))
    await check_organisation_exists(db, data.host_organisation_id, "host_organisation_id")
    event = Event(
        kind=data.kind,
        title=title,
        slug=slug,
        summary=clean_text(data.summary, "summary", max_length=SUMMARY_LIMIT) or "",
        description=clean_text(data.description, "description",
                               max_length=DESCRIPTION_LIMIT) or "",
        timezone=zone_name,
        status=EventStatus.DRAFT,
        host_organisation_id=data.host_organisation_id,
        capacity=check_places(data.capacity, "capacity"),
        is_approval_required=bool(data.is_approval_required),
        allows_session_choice=bool(data.allows_session_choice),
        is_address_confirmation_required=bool(data.is_address_confirmation_required),
        venue_name=_venue(data.venue_name, "venue_name"),
        venue_address=_venue(data.venue_address, "venue_address"),
        venue_city=_venue(data.venue_city, "venue_city"),
        venue_country=country_code(data.venue_country, "venue_country"),
        contact_email=data.contact_email,
        registrant_note=clean_text(data.registrant_note, "registrant_note",
                                   max_length=REGISTRANT_NOTE_LIMIT) or "",
        reminder_offsets_minutes=_check_reminder_offsets(data.reminder_offsets_minutes),
        is_sample_data=bool(data.is_sample_data),
        default_language=check_language(data.default_language),
        created_at=now,
        updated_at=now,
    )
    _set_registration_window(
        event, data.registration_opens_at, data.registration_closes_at, zone_name
    )
    db.add(event)
    await db.flush()
    return await get_event(db, event.id)


async def update_event(
    db: AsyncSession, event_id: int, changes: EventUpdate, *, now: datetime,
    settings: Settings,
) -> Event:
    event = await get_event(db, event_id)
    before = {s.id: snapshot_session(s, event) for s in event.sessions}
    if changes.timezone is not UNSET:
        zone_for(changes.timezone)
        event.timezone = changes.timezone
    if changes.title is not UNSET:
        event.title = clean_line(changes.title, "title", required=True,
                                 max_length=TITLE_LIMIT)
    if changes.slug is not UNSET and changes.slug != event.slug:
        await check_slug(db, changes.slug, event_id=event.id)
        event.slug = changes.slug
    if changes.summary is not UNSET:
        event.summary = clean_text(changes.summary, "summary", max_length=SUMMARY_LIMIT) or ""
    if changes.description is not UNSET:
        event.description = clean_text(changes.description, "description",
                                       max_length=DESCRIPTION_LIMIT) or ""
    if changes.venue_name is not UNSET:
        event.venue_name = _venue(changes.venue_name, "venue_name")
    if changes.venue_address is not UNSET:
        event.venue_address = _venue(changes.venue_address, "venue_address")
    if changes.venue_city is not UNSET:
        event.venue_city = _venue(changes.venue_city, "venue_city")
    if changes.contact_email is not UNSET:
        event.contact_email = clean_line(changes.contact_email, "contact_email")
    if changes.registrant_note is not UNSET:
        event.registrant_note = clean_text(changes.registrant_note, "registrant_note",
                                           max_length=REGISTRANT_NOTE_LIMIT) or ""
    if changes.kind is not UNSET:
        event.kind = changes.kind
    if changes.venue_country is not UNSET:
        event.venue_country = country_code(changes.venue_country, "venue_country")
    if changes.host_organisation_id is not UNSET:
        await check_organisation_exists(db, changes.host_organisation_id, "host_organisation_id")
        event.host_organisation_id = changes.host_organisation_id
    places_added = changes.capacity is not UNSET and lets_more_in(event.capacity, changes.capacity)
    if changes.capacity is not UNSET:
        event.capacity = check_places(changes.capacity, "capacity")
    if changes.is_approval_required is not UNSET:
        event.is_approval_required = bool(changes.is_approval_required)
    if changes.allows_session_choice is not UNSET:
        event.allows_session_choice = bool(changes.allows_session_choice)
    if changes.is_address_confirmation_required is not UNSET:
        # Registrations already made stay as they are; only new ones follow the change.
        event.is_address_confirmation_required = bool(changes.is_address_confirmation_required)
    if changes.is_sample_data is not UNSET:
        event.is_sample_data = bool(changes.is_sample_data)
    if changes.reminder_offsets_minutes is not UNSET:
        event.reminder_offsets_minutes = _check_reminder_offsets(changes.reminder_offsets_minutes)
    _set_registration_window(
        event, changes.registration_opens_at, changes.registration_closes_at, event.timezone
    )
    event.updated_at = now
    await db.flush()
    event = await get_event(db, event_id)
    for session in event.sessions:
        await signals.announce(db, signals.SessionChanged(session, event, before[session.id]),
                               now=now, settings=settings)
    if changes.reminder_offsets_minutes is not UNSET:
        await signals.announce(db, signals.ReminderPolicyChanged(event), now=now,
                               settings=settings)
    if places_added:
        await signals.announce(db, signals.PlacesAdded(event), now=now, settings=settings)
        event = await get_event(db, event_id)
    return event


async def assign_event_team(
    db: AsyncSession, event_id: int, team_id: int | None, *, now: datetime
) -> Event:
    """The team whose organisers may see and edit the event (None: the default team)."""
    event = await get_event(db, event_id)
    event.team_id = team_id
    event.updated_at = now
    await db.flush()
    return event


async def delete_event(db: AsyncSession, event_id: int) -> None:
    event = await get_event(db, event_id)
    if event.status != EventStatus.DRAFT:
        has_registrations = await db.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == event.id)
        )
        if has_registrations:
            raise ConflictError(
                _("This event has registrations: cancel it instead of deleting it."), "status"
            )
    await db.delete(event)
    await db.flush()


async def publish_event(db: AsyncSession, event_id: int, *, now: datetime) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError(_("A cancelled event cannot be published again."), "status")
    if not event.sessions:
        raise ConflictError(_("Add at least one session before publishing."), "sessions")
    if event.status != EventStatus.PUBLISHED:
        event.status = EventStatus.PUBLISHED
        event.published_at = event.published_at or now
        event.updated_at = now
        await db.flush()
    return await get_event(db, event_id)


async def unpublish_event(db: AsyncSession, event_id: int, *, now: datetime) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError(_("A cancelled event stays cancelled."), "status")
    registered = await db.scalar(
        select(func.count(Registration.id)).where(Registration.event_id == event.id)
    )
    if registered:
        raise ConflictError(
            _("People have registered: cancel the event instead of unpublishing it."), "status"
        )
    event.status = EventStatus.DRAFT
    event.updated_at = now
    await db.flush()
    return await get_event(db, event_id)


async def cancel_event(
    db: AsyncSession, event_id: int, *, now: datetime, settings: Settings
) -> Event:
    event = await get_event(db, event_id)
    if event.status == EventStatus.CANCELLED:
        return event
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.updated_at = now
    for session in event.sessions:
        if session.status != SessionStatus.CANCELLED:
            await mark_session_cancelled(db, session, event, now=now, settings=settings)
    await db.flush()
    return await get_event(db, event_id)
