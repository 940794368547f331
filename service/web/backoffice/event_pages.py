"""What the emails, message and reminders pages share: the event they are about, checked
against the signed-in account, and instants shown in the event's zone and in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, Session
from service.domain import programme
from service.domain.accounts import SignedInAccount, can_edit_event, can_see_event
from service.domain.wording import short_date_text
from service.i18n import gettext as _
from service.web.backoffice.guards import BackofficeForbidden


@dataclass(frozen=True)
class EventHeading:
    """The event as the pages' heading and local navigation show it."""

    id: int
    title: str
    slug: str
    timezone: str
    can_edit: bool


async def event_for(db: AsyncSession, account: SignedInAccount, event_id: int, *,
                    editing: bool = False) -> Event:
    """The event (404 when unknown), refused (403) outside the account's teams, or for a
    change the account may not make."""
    event = await programme.get_event(db, event_id)
    if not can_see_event(account, event):
        raise BackofficeForbidden(_("This belongs to an event of another team."))
    if editing and not can_edit_event(account, event):
        raise BackofficeForbidden(_("Your account can look at this event but not change it."))
    return event


async def session_for(db: AsyncSession, account: SignedInAccount, session_id: int, *,
                      editing: bool = False) -> tuple[Session, Event]:
    """A session (404 when unknown) and its event, with `event_for`'s checks; the session
    is the one loaded with the event."""
    found = await programme.get_session(db, session_id)
    event = await event_for(db, account, found.event_id, editing=editing)
    return next(s for s in event.sessions if s.id == session_id), event


def heading(event: Event, account: SignedInAccount) -> EventHeading:
    return EventHeading(id=event.id, title=event.title, slug=event.slug,
                        timezone=event.timezone, can_edit=can_edit_event(account, event))


def local_and_utc(instant: datetime | None, zone_name: str) -> tuple[str, str]:
    """("Mon 09 Nov 2020 10:00 CET", "09:00 UTC"), or ("", "") for no instant; the UTC
    side names its day when that differs."""
    if instant is None:
        return "", ""
    local = instant.astimezone(ZoneInfo(zone_name))
    utc = instant.astimezone(UTC)
    utc_text = (f"{utc:%H:%M} UTC" if utc.date() == local.date()
                else f"{short_date_text(utc.date())} {utc:%H:%M} UTC")
    return f"{short_date_text(local.date())} {local.year} {local:%H:%M} {local.tzname()}", utc_text
