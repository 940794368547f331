"""Minutes of a group's meeting: written by the facilitator after an occurrence, with links
to documents; publishing them emails every current member once, and their private pages
show them. The minutes live on the occurrence's row (MeetingOccurrence, keyed by the start
its series gives it), made by `meetings.occurrence_row` when the occurrence did not differ
before: such a row changes nothing calendars see. Takes `db` and `now`, flushes, never
commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import InterestGroup, MeetingOccurrence, MeetingSeries
from service.domain import wording
from service.domain.errors import FieldError, InvalidInputError, NotFoundError
from service.domain.groups.groups import get_group
from service.domain.groups.meetings import occurrence_row
from service.domain.groups.membership import current_members, member_links
from service.domain.groups.schedule import series_starts
from service.domain.groups.translations import (
    group_text,
    meeting_minutes,
    series_title,
    without_translations_of,
)
from service.domain.link_lists import Link, check_links
from service.domain.text import clean_text
from service.i18n import gettext as _
from service.i18n import use_language
from service.settings import Settings

MINUTES_TEMPLATE = "group_minutes_published_to_member"
MAX_DOCUMENTS = 20
# A document of the minutes: a titled link, written one a line (`link_lists.read_lines`).
MinutesDocument = Link


@dataclass(frozen=True)
class PublishedMinutes:
    """Minutes as the member page shows them."""

    series_id: int
    series_title: str
    starts_at: datetime
    timezone: str
    minutes: str  # a `Localised` where a language was asked for
    documents: list[MinutesDocument]
    published_at: datetime

    @property
    def when(self) -> str:
        return wording.start_text(self.starts_at, self.timezone)


def check_minutes(minutes: str, documents: Sequence[MinutesDocument]
                  ) -> tuple[str, list[dict[str, str]]]:
    """The minutes' text and documents as stored, or every problem with them at once."""
    problems: list[FieldError] = []
    text = ""
    try:
        text = clean_text(minutes, "minutes", required=True, max_length=50_000)
    except InvalidInputError:
        problems.append(FieldError("minutes", _("Write the minutes (at most 50,000 characters).")))
    kept, link_problems = check_links(
        documents, "documents", most=MAX_DOCUMENTS,
        too_many=_("At most %(max_documents)s documents.") % {"max_documents": MAX_DOCUMENTS},
        bad_address=_("Give each document's address, starting with https://."))
    problems.extend(link_problems)
    if problems:
        raise InvalidInputError.of(problems)
    return text, [{"title": link.title, "url": link.url} for link in kept]


async def _series(db: AsyncSession, series_id: int) -> MeetingSeries:
    series = await db.get(MeetingSeries, series_id)
    if series is None:
        raise NotFoundError(_("No meeting series with id %(series_id)s.")
                                % {"series_id": series_id}, "series_id")
    return series


async def publish_minutes(
    db: AsyncSession, series_id: int, recurrence_id: datetime, *, minutes: str,
    documents: Sequence[MinutesDocument] = (), now: datetime, settings: Settings,
) -> MeetingOccurrence:
    """Store the minutes of one occurrence; the first publication emails every current
    member (once each: a dedupe key per member and occurrence), a correction does not."""
    series = await _series(db, series_id)
    recurrence_id = recurrence_id.astimezone(UTC)
    problems: list[FieldError] = []
    try:
        text, kept = check_minutes(minutes, documents)
    except InvalidInputError as refused:
        problems.extend(refused.errors)
    occurrence = None
    if recurrence_id not in set(series_starts(series, until=recurrence_id + timedelta(days=1))):
        problems.insert(0, FieldError("recurrence_id",
                                      _("This series has no meeting at that time.")))
    else:
        occurrence = await db.scalar(select(MeetingOccurrence).where(
            MeetingOccurrence.series_id == series.id,
            MeetingOccurrence.recurrence_id == recurrence_id))
        if (occurrence.starts_at if occurrence is not None else recurrence_id) > now:
            problems.insert(0, FieldError("recurrence_id", _(
                "Minutes are written after the meeting: this one has not taken place yet.")))
    if problems:
        raise InvalidInputError.of(problems)
    if occurrence is None:
        occurrence = await occurrence_row(db, series, recurrence_id, now=now)
    first = occurrence.minutes_published_at is None
    if not first and text != occurrence.minutes:
        # Corrected minutes have no translations yet (its agenda's stay).
        occurrence.translations = without_translations_of(occurrence.translations, "minutes")
    occurrence.minutes, occurrence.minutes_documents = text, kept
    occurrence.minutes_published_at = occurrence.minutes_published_at or now
    occurrence.updated_at = now
    await db.flush()
    if first:
        group = await get_group(db, series.group_id)
        await _email_members(db, group, series, occurrence, now=now, settings=settings)
    return occurrence


async def _email_members(db: AsyncSession, group: InterestGroup, series: MeetingSeries,
                         occurrence: MeetingOccurrence, *, now: datetime,
                         settings: Settings) -> None:
    entries = []
    for member in await current_members(db, group.id):
        links = await member_links(db, member, now=now, settings=settings)
        # In the member's language, whoever published the minutes.
        with use_language(member.language) as language:
            # As written at a first publication: translations are added afterwards.
            minutes = meeting_minutes(occurrence, group.default_language, language)
            message = EmailMessage(
                template=MINUTES_TEMPLATE, to_address=member.email, to_name=member.name,
                context={"recipient_name": member.name,
                         "group_topic": group_text(group, "topic", language),
                         "meeting_title": series_title(series, group.default_language,
                                                       language),
                         "meeting_when": wording.start_text(occurrence.starts_at,
                                                            series.timezone),
                         "minutes": minutes,
                         "minutes_language": minutes.language
                         if minutes.language != language else None,
                         "documents": list(occurrence.minutes_documents or []),
                         "page_url": links.page_url},
                language=language)
        entries.append(OutboxEntry(
            message,
            group_member_id=member.id,
            dedupe_key=f"group-minutes:{occurrence.id}:{member.id}"))
    await queue_emails(db, entries, settings=settings, now=now)


async def list_published_minutes(db: AsyncSession, group_id: int, *,
                                 language: str | None = None) -> list[PublishedMinutes]:
    """The group's published minutes, newest meeting first; the series' titles and the
    minutes in `language` where they have one (None: as written)."""
    rows = (await db.execute(
        select(MeetingOccurrence, MeetingSeries, InterestGroup.default_language)
        .join(MeetingSeries, MeetingSeries.id == MeetingOccurrence.series_id)
        .join(InterestGroup, InterestGroup.id == MeetingSeries.group_id)
        .where(MeetingSeries.group_id == group_id,
               MeetingOccurrence.minutes_published_at.is_not(None))
        .order_by(MeetingOccurrence.starts_at.desc()))).all()
    return [PublishedMinutes(
        series_id=series.id, series_title=series.title if language is None
        else series_title(series, default_language, language),
        starts_at=occurrence.starts_at, timezone=series.timezone,
        minutes=occurrence.minutes or "" if language is None
        else meeting_minutes(occurrence, default_language, language),
        documents=[MinutesDocument(title=d.get("title", ""), url=d.get("url", ""))
                   for d in occurrence.minutes_documents or []],
        published_at=occurrence.minutes_published_at or occurrence.updated_at)
        for occurrence, series, default_language in rows]
