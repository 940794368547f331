"""A person asks, without an account, for what is held about their email address.

They give the address; if we hold anything about it (a registration of any event, or a
person record as speaker or host), a link valid for `LINK_VALID_FOR` is emailed to that
address through the outbox, and only there. The caller answers the same whatever happened,
so the form tells nobody whether an address is known. Each address gets few such emails
(one per `REQUEST_GAP`, at most `REQUESTS_PER_DAY`), counted in `data_requests`.

The link's page offers the export (`export.py`) as often as wanted until it lapses, and
erasing everything, once: after that the link only says that it was used. Only the
SHA-256 of the token is stored; lapsed requests are deleted by a scheduled job. Nothing
here logs an address or a token. Flushes, never commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.addresses import AddressRefused, accept_address
from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import DataRequest, GroupMember, MeetingGuest, Person, Registration
from service.domain import wording
from service.domain.errors import InvalidInputError, NotFoundError
from service.i18n import current_language, use_language
from service.i18n import gettext as _
from service.settings import Settings

from .erasure import ErasureSummary, erase_person
from .export import address_hash, normalise_address

LINK_VALID_FOR = timedelta(hours=24)
REQUEST_GAP = timedelta(minutes=10)
REQUESTS_PER_DAY = 5
DATA_LINK_TEMPLATE = "data_request_link_to_person"
# Times in these emails: the network's home zone (the address belongs to no one event).
EMAIL_ZONE = "Europe/Brussels"
_MAX_TOKEN = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def data_link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/privacy/my-data/{token}"


async def holds_data_about(db: AsyncSession, key: str) -> bool:
    """Whether anything is held under this (normalised) address."""
    found = await db.scalar(select(or_(
        exists().where(Registration.email_normalised == key),
        exists().where(func.lower(func.trim(Person.email)) == key),
        exists().where(GroupMember.email_normalised == key),
        exists().where(MeetingGuest.email_normalised == key))))
    return bool(found)


async def request_data_link(db: AsyncSession, email: str, *, now: datetime,
                            settings: Settings, language: str | None = None) -> bool:
    """Email a link to what is held about `email`, to that address; whether one was queued
    (for tests: never for the asker). InvalidInputError ("email") for an address mail
    cannot reach."""
    try:
        address = accept_address(email)
    except AddressRefused as refused:
        raise InvalidInputError(str(refused), "email") from None
    key = normalise_address(address)
    if not await holds_data_about(db, key) or not await _may_send(db, key, now):
        return False
    token = secrets.token_urlsafe(32)
    expires_at = now + LINK_VALID_FOR
    db.add(DataRequest(email_normalised=key, token_hash=_hash(token), created_at=now,
                       expires_at=expires_at))
    await db.flush()
    # In the language of the page they asked from (the one in force), unless told.
    with use_language(language or current_language()) as worded_in:
        message = EmailMessage(template=DATA_LINK_TEMPLATE, to_address=address, to_name="",
                               context={"link_url": data_link_url(settings, token),
                                        "recipient_email": address,
                                        "expires": wording.start_text(expires_at, EMAIL_ZONE),
                                        "hours": int(LINK_VALID_FOR.total_seconds() // 3600)},
                               language=worded_in)
    await queue_emails(db, [OutboxEntry(message)], settings=settings, now=now)
    return True


async def _may_send(db: AsyncSession, key: str, now: datetime) -> bool:
    """Fewer than the day's limit for this address, and none within the gap."""
    count, last = (await db.execute(
        select(func.count(DataRequest.id), func.max(DataRequest.created_at))
        .where(DataRequest.email_normalised == key,
               DataRequest.created_at > now - timedelta(days=1)))).one()
    if count >= REQUESTS_PER_DAY:
        return False
    return last is None or last <= now - REQUEST_GAP


@dataclass(frozen=True)
class DataLink:
    request: DataRequest
    state: str  # "ready", "expired" or "used"

    @property
    def email(self) -> str:
        return self.request.email_normalised


async def check_data_link(db: AsyncSession, token: str, *, now: datetime) -> DataLink:
    """Where a link stands; NotFoundError for a token never issued (or lapsed and deleted)."""
    if not token or len(token) > _MAX_TOKEN:
        raise NotFoundError(_("This link is not valid."), "token")
    request = await db.scalar(select(DataRequest).where(
        DataRequest.token_hash == _hash(token)))
    if request is None:
        raise NotFoundError(_("This link is not valid."), "token")
    if request.used_at is not None:
        return DataLink(request, "used")
    if request.expires_at <= now:
        return DataLink(request, "expired")
    return DataLink(request, "ready")


async def live_data_link(db: AsyncSession, token: str, *, now: datetime) -> DataLink:
    """A link that still works; NotFoundError otherwise (for the export and the erasure)."""
    link = await check_data_link(db, token, now=now)
    if link.state != "ready":
        raise NotFoundError(_("This link no longer works."), "token")
    return link


async def forget_data_requests(db: AsyncSession, email: str, *, now: datetime,
                               settings: Settings) -> None:
    """After erasure: the address's requests keep only a keyed hash of it, and are used, so
    that the link says what happened until it lapses and nothing readable is left."""
    key = normalise_address(email)
    await db.execute(
        update(DataRequest).where(DataRequest.email_normalised == key)
        .values(email_normalised=address_hash(settings, key),
                used_at=func.coalesce(DataRequest.used_at, now))
        .execution_options(synchronize_session="fetch"))


async def expire_data_requests(db: AsyncSession, *, now: datetime) -> int:
    """Delete requests whose link has lapsed; how many went."""
    result = await db.execute(delete(DataRequest).where(DataRequest.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


SELF_ERASURE_REASON = "the person's own request (emailed link)"
ADMIN_ERASURE_REASON = "an administrator, at the person's request"


async def erase_everything_held(db: AsyncSession, email: str, *, now: datetime, reason: str,
                                settings: Settings) -> ErasureSummary:
    """Everything held about `email` erased (`erasure.erase_person`), and its requests for
    its own copy keep only a keyed hash of it (their links then say the data was erased)."""
    summary = await erase_person(db, email, now=now, reason=reason, settings=settings)
    await forget_data_requests(db, email, now=now, settings=settings)
    return summary


async def erase_by_link(db: AsyncSession, token: str, *, now: datetime, settings: Settings
                        ) -> ErasureSummary:
    """The link's holder erases everything held about its address: once; NotFoundError when
    the link does not work (unknown, lapsed, or used already)."""
    link = await live_data_link(db, token, now=now)
    return await erase_everything_held(db, link.email, now=now, reason=SELF_ERASURE_REASON,
                                       settings=settings)
