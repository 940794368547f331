"""The consultation report for the procurement file: the profile, who registered and who
attended, the one-to-one meetings held, every question and answer, the documents shared,
each with its date, and the retention rule. Reads only; the web layer renders it as a
printable page and as CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ConsultationDocument, ConsultationQuestion, Event, Registration
from service.domain.registration import attendance_list

from .documents import list_documents
from .meetings import ReportMeeting, meetings_for_report
from .profile import ProfileView, find_profile, load_consultation_event
from .questions import list_questions

RETENTION_NOTE = (
    "These records of the market consultation (profile, participants and attendance, "
    "meetings, questions and answers, documents shared) are kept for at least three years "
    "after the event, whatever the ordinary retention period of personal data is "
    "(Directive 2014/24/EU, Art. 84).")


@dataclass(frozen=True)
class ConsultationReport:
    event: Event
    profile: ProfileView | None
    participants: list[Registration]
    attended: int
    meetings: list[ReportMeeting]
    questions: list[ConsultationQuestion]
    documents: list[ConsultationDocument]
    retention_note: str
    made_at: datetime


async def consultation_report(db: AsyncSession, event_id: int, *,
                              now: datetime) -> ConsultationReport:
    event = await load_consultation_event(db, event_id)
    participants = await attendance_list(db, event_id)
    return ConsultationReport(
        event=event,
        profile=await find_profile(db, event_id),
        participants=participants,
        attended=sum(1 for p in participants if p.checked_in_at is not None),
        meetings=await meetings_for_report(db, event),
        questions=await list_questions(db, event_id),
        documents=await list_documents(db, event_id, include_withdrawn=True),
        retention_note=RETENTION_NOTE,
        made_at=now,
    )
