"""The organisers' desk for an event's speakers: slots, notices, private links.

Private links are HMACs of a nonce kept in the database (service.domain.access), so the
link a speaker was emailed can be shown again at any time without issuing another: showing
it changes nothing. "Send the link again" emails that same link through the outbox; only
"issue a new link" revokes it, as an action of its own. Flushes, never commits, no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.addresses import AddressRefused, accept_address
from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    AccessToken,
    ChangeNoticeStatus,
    Event,
    OutboxEmail,
    OutboxStatus,
    Person,
    SessionStatus,
    SpeakerNotice,
)
from service.domain import access, programme
from service.domain.calendars import feeds
from service.domain.errors import InvalidInputError
from service.domain.urls import event_page_url, speaker_feed_url, speaker_page_url, webcal_url
from service.i18n import gettext as _
from service.i18n import supported
from service.settings import Settings

LINKS_TEMPLATE = "speaker_links_to_speaker"


@dataclass(frozen=True)
class SpeakerLinkUrls:
    page_url: str
    # None until the speaker's page or an organiser first shows it (slot emails carry
    # only the page, which shows the feed).
    feed_url: str | None
    webcal_url: str | None


def link_urls(settings: Settings, links: feeds.SpeakerLinks) -> SpeakerLinkUrls:
    feed = speaker_feed_url(settings, links.feed_token)
    return SpeakerLinkUrls(page_url=speaker_page_url(settings, links.page_token),
                           feed_url=feed, webcal_url=webcal_url(feed))


@dataclass(frozen=True)
class SlotView:
    """One of a speaker's agenda items, and where its notice stands."""

    agenda_item_id: int
    title: str
    session_title: str
    starts_at: datetime
    ends_at: datetime
    is_cancelled: bool
    # "sent" (with its email's delivery status), "pending" (gathering changes until
    # `notice_due_at`), "none" (nothing to tell, or nobody to write to).
    notice: str
    notice_at: datetime | None  # sent at, or due at
    email_status: OutboxStatus | None


@dataclass(frozen=True)
class EventSpeaker:
    person: Person  # with its organisation loaded
    organisation_name: str | None  # as they represent it in this event
    slots: tuple[SlotView, ...]
    links: SpeakerLinkUrls | None  # None: no link issued yet


async def live_speaker_links(
    db: AsyncSession, person_ids: Sequence[int], *, settings: Settings
) -> dict[int, SpeakerLinkUrls]:
    """The live page (and feed, where issued) links of many speakers in one query; never
    issues any."""
    if not person_ids:
        return {}
    rows = await db.scalars(
        select(AccessToken)
        .where(AccessToken.person_id.in_(person_ids),
               AccessToken.purpose.in_((AccessPurpose.SPEAKER_PAGE, AccessPurpose.SPEAKER_FEED)),
               AccessToken.revoked_at.is_(None))
        .order_by(AccessToken.id)
    )
    # The newest live token wins, as in `access.current_access_token`.
    tokens = {(row.person_id, row.purpose): access.token_for(row, settings.secret_key)
              for row in rows}
    links: dict[int, SpeakerLinkUrls] = {}
    for person_id in person_ids:
        page = tokens.get((person_id, AccessPurpose.SPEAKER_PAGE))
        feed = tokens.get((person_id, AccessPurpose.SPEAKER_FEED))
        if page is None:
            continue
        feed_url = None if feed is None else speaker_feed_url(settings, feed)
        links[person_id] = SpeakerLinkUrls(
            page_url=speaker_page_url(settings, page), feed_url=feed_url,
            webcal_url=None if feed_url is None else webcal_url(feed_url))
    return links


async def _notices(db: AsyncSession, item_ids: Sequence[int]
                   ) -> dict[tuple[int, int], tuple[SpeakerNotice, OutboxStatus | None]]:
    """The latest notice per (agenda item, person) that was sent or is pending, with the
    delivery status of the email it queued."""
    if not item_ids:
        return {}
    notices = list(await db.scalars(
        select(SpeakerNotice)
        .where(SpeakerNotice.agenda_item_id.in_(item_ids),
               SpeakerNotice.status.in_((ChangeNoticeStatus.SENT, ChangeNoticeStatus.PENDING)))
        .order_by(SpeakerNotice.id)
    ))
    keys = [f"speaker-notice:{n.id}" for n in notices if n.status == ChangeNoticeStatus.SENT]
    statuses: dict[str, OutboxStatus] = {}
    if keys:
        rows = await db.execute(select(OutboxEmail.dedupe_key, OutboxEmail.status)
                                .where(OutboxEmail.dedupe_key.in_(keys)))
        statuses = {key: status for key, status in rows if key is not None}
    return {(n.agenda_item_id, n.person_id): (n, statuses.get(f"speaker-notice:{n.id}"))
            for n in notices}


@dataclass(frozen=True)
class _Place:
    item_id: int
    title: str
    session_title: str
    starts_at: datetime
    ends_at: datetime
    is_cancelled: bool


def _slot(place: _Place, notice: tuple[SpeakerNotice, OutboxStatus | None] | None) -> SlotView:
    if notice is None:
        state, at, status = "none", None, None
    elif notice[0].status == ChangeNoticeStatus.PENDING:
        state, at, status = "pending", notice[0].send_after, None
    else:
        state, at, status = "sent", notice[0].sent_at, notice[1]
    return SlotView(agenda_item_id=place.item_id, title=place.title,
                    session_title=place.session_title, starts_at=place.starts_at,
                    ends_at=place.ends_at, is_cancelled=place.is_cancelled,
                    notice=state, notice_at=at, email_status=status)


async def list_event_speakers(db: AsyncSession, event_id: int, *, settings: Settings
                              ) -> list[EventSpeaker]:
    """Everyone speaking in the event, by name, with their slots in time order, whether
    each slot's notice went out, and their current private links (nothing is issued)."""
    event = await programme.get_event(db, event_id)
    places: dict[int, list[_Place]] = {}
    people: dict[int, Person] = {}
    organisations: dict[int, str | None] = {}
    item_ids: list[int] = []
    for session in event.sessions:
        for item in session.agenda_items:
            item_ids.append(item.id)
            for speaker in item.speakers:
                people[speaker.person_id] = speaker.person
                organisation = speaker.organisation or speaker.person.organisation
                organisations.setdefault(speaker.person_id,
                                         organisation.name if organisation else None)
                places.setdefault(speaker.person_id, []).append(_Place(
                    item.id, item.title, session.title, item.starts_at, item.ends_at,
                    session.status == SessionStatus.CANCELLED))
    notices = await _notices(db, item_ids)
    links = await live_speaker_links(db, list(people), settings=settings)
    speakers = [
        EventSpeaker(
            person=person, organisation_name=organisations[person_id],
            slots=tuple(sorted((_slot(place, notices.get((place.item_id, person_id)))
                                for place in places[person_id]),
                               key=lambda slot: (slot.starts_at, slot.agenda_item_id))),
            links=links.get(person_id),
        )
        for person_id, person in people.items()
    ]
    return sorted(speakers, key=lambda s: (s.person.name.casefold(), s.person.id))


async def _speaker_of(db: AsyncSession, event_id: int, person_id: int) -> tuple[Event, Person]:
    """The event and one of its speakers; refused (naming the field) for anyone else."""
    event = await programme.get_event(db, event_id)
    for session in event.sessions:
        for item in session.agenda_items:
            for speaker in item.speakers:
                if speaker.person_id == person_id:
                    return event, speaker.person
    raise InvalidInputError(_("This person does not speak in this event."), "person_id")


async def send_speaker_links(
    db: AsyncSession, event_id: int, person_id: int, *, now: datetime, settings: Settings
) -> int:
    """Email a speaker of the event their current page and feed links (the same links as
    before: nothing is revoked); returns the outbox email's id."""
    event, person = await _speaker_of(db, event_id, person_id)
    if not person.email:
        raise InvalidInputError(_("%(name)s has no email address: add one first.")
                                    % {"name": person.name}, "email")
    try:
        address = accept_address(person.email)
    except AddressRefused as refused:
        raise InvalidInputError(str(refused), "email") from None
    urls = link_urls(settings, await feeds.current_speaker_links(db, person.id, now=now,
                                                                 settings=settings))
    message = EmailMessage(
        template=LINKS_TEMPLATE, to_address=address, to_name=person.name,
        context={"recipient_name": person.name, "event_title": event.title,
                 "speaker_page_url": urls.page_url, "speaker_feed_url": urls.feed_url,
                 "speaker_webcal_url": urls.webcal_url,
                 "event_url": event_page_url(settings, event.slug)},
        reply_to=event.contact_email,
        language=supported(person.language),
    )
    [email_id] = await queue_emails(
        db, [OutboxEntry(message, event_id=event.id, person_id=person.id)], settings=settings,
        now=now)
    assert email_id is not None  # no dedupe key: every request is its own email
    return email_id


async def replace_speaker_links(
    db: AsyncSession, event_id: int, person_id: int, *, now: datetime, settings: Settings
) -> SpeakerLinkUrls:
    """New page and feed links for a speaker of the event; the old ones stop working."""
    await _speaker_of(db, event_id, person_id)
    return link_urls(settings, await feeds.issue_speaker_links(db, person_id, now=now,
                                                               settings=settings))
