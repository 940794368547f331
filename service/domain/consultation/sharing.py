"""Whatever is shared with one supplier is shared with all (Directive 2014/24/EU, Art. 40
and 41): the registered suppliers of a consultation, and one email each through the outbox
for a published answer or a new document, in the transaction of the change.

Registered suppliers are the registrations of the event as a supplier that hold or wait
for a place (confirmed, waiting, pending): cancelled, declined and unconfirmed ones hear
nothing. Builds and queues messages; flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    Event,
    OrganisationKind,
    Registration,
    RegistrationStatus,
)
from service.domain import access
from service.domain.emails.registration import registrant_context
from service.domain.registration.links import links_from_tokens
from service.domain.urls import event_page_url
from service.i18n import use_language
from service.settings import Settings

ANSWER_TEMPLATE = "consultation_answer_to_supplier"
DOCUMENT_TEMPLATE = "consultation_document_to_supplier"
SUPPLIER_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING,
                     RegistrationStatus.PENDING)
_PURPOSES = (AccessPurpose.REGISTRATION_MANAGE, AccessPurpose.REGISTRATION_FEED)


async def registered_suppliers(db: AsyncSession, event_id: int) -> list[Registration]:
    """The event's registered suppliers, in registration order."""
    return list(await db.scalars(
        select(Registration)
        .where(Registration.event_id == event_id,
               Registration.organisation_kind == OrganisationKind.SUPPLIER,
               Registration.status.in_(SUPPLIER_STATUSES))
        .order_by(Registration.id)))


async def tell_every_supplier(
    db: AsyncSession, event: Event, template: str,
    extra: dict[str, object] | Callable[[], dict[str, object]], *,
    now: datetime, settings: Settings,
) -> list[int]:
    """One email per registered supplier (with their private links); the outbox ids."""
    suppliers = await registered_suppliers(db, event.id)
    if not suppliers:
        return []
    await db.refresh(event, ["sessions"])  # the emails offer what the sessions allow
    tokens = await access.registration_tokens(db, _PURPOSES, [r.id for r in suppliers],
                                              secret_key=settings.secret_key, now=now)
    consultation_url = event_page_url(settings, event.slug) + "#market-consultation"
    entries: list[OutboxEntry] = []
    for supplier in suppliers:
        # Each supplier's copy in their own language (`extra` worded in it when a function).
        with use_language(supplier.language) as language:
            context = registrant_context(
                supplier, event,
                links_from_tokens(settings, tokens[(supplier.id, _PURPOSES[0])],
                                  tokens[(supplier.id, _PURPOSES[1])]),
                settings, consultation_url=consultation_url,
                **(extra() if callable(extra) else extra))
        entries.append(OutboxEntry(
            email=EmailMessage(template=template, to_address=supplier.email,
                               to_name=supplier.name, context=context, language=language),
            event_id=event.id, registration_id=supplier.id))
    return [i for i in await queue_emails(db, entries, settings=settings, now=now)
            if i is not None]
