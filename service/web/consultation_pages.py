"""The public side of a Meet-your-Buyer market consultation: the section of the event page
(the buyer's profile, hosts, documents, the published questions and answers) and the
download of a shared file.

A file is sent as an attachment with the type of the documents' allow-list and `nosniff`,
so a browser never renders or guesses it; only the files of a published event are served.
Suppliers ask their questions from their private page (`pages.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, EventKind
from service.domain import consultation, programme
from service.domain.wording import date_text
from service.settings import Settings
from service.web.params import DbSession, IdParam, PathText, SettingsDep


@dataclass(frozen=True)
class ConsultationSection:
    """The "Market consultation" section of a Meet-your-Buyer event page."""

    profile: consultation.ProfileView
    value_text: str
    planned_text: str
    documents: list[tuple[str, str, str]]  # title, URL, shared on
    questions: list[tuple[consultation.PublishedQuestion, str]]  # with the answer's date


def _day(instant: datetime, zone: str) -> str:
    return date_text(instant.astimezone(ZoneInfo(zone)).date())


async def consultation_section(db: AsyncSession, event: Event, settings: Settings
                               ) -> ConsultationSection | None:
    """The section, or None for other kinds of event and a consultation not written yet."""
    if event.kind != EventKind.MEET_YOUR_BUYER:
        return None
    profile = await consultation.find_profile(db, event.id)
    if profile is None:
        return None
    documents = await consultation.list_documents(db, event.id)
    questions = await consultation.published_questions(db, event.id)
    return ConsultationSection(
        profile=profile,
        value_text=consultation.euro_text(profile.estimated_value_cents),
        planned_text=(date_text(profile.planned_publication_on)
                      if profile.planned_publication_on else ""),
        documents=[(d.title, consultation.document_url(settings, event.slug, d),
                    _day(d.shared_at, event.timezone)) for d in documents],
        questions=[(q, _day(q.answered_at, event.timezone)) for q in questions],
    )


@get("/events/{slug:str}/consultation/documents/{document_id:int}", include_in_schema=False)
async def download_document(db_session: DbSession, settings: SettingsDep, slug: PathText,
                            document_id: IdParam) -> Response[Any]:
    """A shared file, as an attachment (404 for a link, an unpublished event, or another's)."""
    event = await programme.get_published_event(db_session, slug)
    found = await consultation.read_document_file(db_session, event.id, document_id,
                                                  settings=settings)
    ascii_name = found.file_name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(content=found.content, media_type=found.media_type, headers={
        "Content-Disposition": (f'attachment; filename="{ascii_name}"; '
                                f"filename*=UTF-8''{quote(found.file_name)}"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    })


ROUTE_HANDLERS: list[Any] = [download_document]
