"""The public side of a Meet-your-Buyer market consultation: the section of the event page
(the buyer's profile, hosts, documents, the published questions and answers) and the
download of a shared file (its route is among the public pages, `pages.py`).

A file is sent as an attachment with the type of the documents' allow-list and `nosniff`,
so a browser never renders or guesses it; only the files of a published event are served.
Suppliers ask their questions from their private page (`pages.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Response
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, EventKind
from service.domain import consultation
from service.domain.programme.translations import Localised, reader
from service.domain.wording import date_text
from service.i18n import current_language
from service.settings import Settings


@dataclass(frozen=True)
class ConsultationSection:
    """The "Market consultation" section of a Meet-your-Buyer event page."""

    profile: consultation.ProfileView
    value_text: str
    planned_text: str
    documents: list[tuple[Localised, str, str]]  # title, URL, shared on
    questions: list[tuple[consultation.PublishedQuestion, str]]  # with the answer's date


def _day(instant: datetime, zone: str) -> str:
    return date_text(instant.astimezone(ZoneInfo(zone)).date())


async def consultation_section(db: AsyncSession, event: Event, settings: Settings
                               ) -> ConsultationSection | None:
    """The section, or None for other kinds of event and a consultation not written yet."""
    if event.kind != EventKind.MEET_YOUR_BUYER:
        return None
    language = current_language()
    profile = await consultation.find_profile(db, event.id, language=language)
    if profile is None:
        return None
    documents = await consultation.list_documents(db, event.id)
    questions = await consultation.published_questions(db, event.id, language=language)
    read = await reader(db, event.id, language)
    return ConsultationSection(
        profile=profile,
        value_text=consultation.euro_text(profile.estimated_value_cents),
        planned_text=(date_text(profile.planned_publication_on)
                      if profile.planned_publication_on else ""),
        documents=[(read(d, "title"), consultation.document_url(settings, event.slug, d),
                    _day(d.shared_at, event.timezone)) for d in documents],
        questions=[(q, _day(q.answered_at, event.timezone)) for q in questions],
    )


def document_response(found: consultation.DocumentFile) -> Response[bytes]:
    """A shared file as an attachment, typed by the allow-list, never sniffed."""
    ascii_name = found.file_name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(content=found.content, media_type=found.media_type, headers={
        "Content-Disposition": (f'attachment; filename="{ascii_name}"; '
                                f"filename*=UTF-8''{quote(found.file_name)}"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    })
