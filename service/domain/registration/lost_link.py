"""A registrant who lost their private link asks for it again, by the address they registered.

The link goes to the registered address only, never to whoever asks, and the caller answers
the same whether or not the address is registered: nothing here may be shown to the person
asking. Each registration gets few such emails (one per `LINK_EMAIL_GAP`, at most
`LINK_EMAILS_PER_DAY`), counted in the outbox, so the form cannot flood anyone's inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.addresses import AddressRefused, accept_address
from service.db.models import Event, EventStatus, OutboxEmail, Registration, RegistrationStatus
from service.domain.emails import registration as emails
from service.domain.errors import InvalidInputError, NotFoundError
from service.i18n import gettext as _
from service.settings import Settings

from .form import normalise_email
from .links import registrant_links
from .loading import get_registration

LINK_EMAIL_GAP = timedelta(minutes=10)
LINK_EMAILS_PER_DAY = 5
# Registrations whose private page is worth sending (not one whose address is unconfirmed).
_HAS_PRIVATE_PAGE = (RegistrationStatus.PENDING, RegistrationStatus.CONFIRMED,
                     RegistrationStatus.WAITING, RegistrationStatus.DECLINED,
                     RegistrationStatus.CANCELLED)


async def send_registration_link(
    db: AsyncSession, event_slug: str, email: str, *, now: datetime, settings: Settings,
) -> bool:
    """Queue the private link of the registration under `email` for this published event,
    to that address; whether one was queued (for tests and logs: never for the asker)."""
    try:
        key = normalise_email(accept_address(email))
    except AddressRefused as refused:
        raise InvalidInputError(str(refused), "email") from None
    event_id = await db.scalar(
        select(Event.id).where(Event.slug == event_slug, Event.status != EventStatus.DRAFT))
    if event_id is None:
        raise NotFoundError(_("No published event %(event_slug)r.") % {"event_slug": event_slug}, "slug")
    registration_id = await db.scalar(
        select(Registration.id).where(Registration.event_id == event_id,
                                      Registration.email_normalised == key,
                                      Registration.status.in_(_HAS_PRIVATE_PAGE)))
    if registration_id is None or not await _may_send(db, registration_id, now):
        return False
    registration = await get_registration(db, registration_id)
    links = await registrant_links(db, registration, now=now, settings=settings)
    await emails.send_private_link(db, registration, registration.event, links=links, now=now,
                                   settings=settings)
    return True


async def _may_send(db: AsyncSession, registration_id: int, now: datetime) -> bool:
    """Fewer than the day's limit, and none within the gap."""
    count, last = (await db.execute(
        select(func.count(OutboxEmail.id), func.max(OutboxEmail.created_at))
        .where(OutboxEmail.registration_id == registration_id,
               OutboxEmail.template == emails.PRIVATE_LINK_TEMPLATE,
               OutboxEmail.created_at > now - timedelta(days=1))
    )).one()
    if count >= LINK_EMAILS_PER_DAY:
        return False
    return last is None or last <= now - LINK_EMAIL_GAP
