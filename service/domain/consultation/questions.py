"""Questions to the buyer and their answers, published to every registered supplier.

A registered supplier asks from their private page; organisers record questions asked at
the event. The buyer's answer (written by the organisers) is published once: on the
consultation page and by one email to each registered supplier, in the same transaction,
naming the asker only when they agreed to it. A published answer is part of the record and
is not changed afterwards. Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ConsultationQuestion,
    Event,
    OrganisationKind,
    Registration,
)
from service.domain.errors import ConflictError, NotFoundError
from service.domain.programme.translations import reader
from service.domain.text import clean_line, clean_text
from service.i18n import gettext as _
from service.settings import Settings

from .profile import load_consultation_event
from .sharing import ANSWER_TEMPLATE, SUPPLIER_STATUSES, tell_every_supplier

MAX_QUESTION = 4_000
MAX_ANSWER = 20_000


@dataclass(frozen=True)
class PublishedQuestion:
    """A question as every supplier reads it: the asker named only with their agreement."""

    id: int
    question: str
    answer: str
    asked_by: str
    asked_at: datetime
    answered_at: datetime


def public_asker(question: ConsultationQuestion) -> str:
    if question.may_name_asker:
        return question.asked_by
    return _("asked at the event") if question.is_asked_at_event else _("a registered supplier")


async def ask_question(db: AsyncSession, registration: Registration, text: str, *,
                       may_name_asker: bool, now: datetime) -> ConsultationQuestion:
    """A registered supplier's question (409 for anyone else, 422 for an empty one)."""
    await load_consultation_event(db, registration.event_id)
    if (registration.organisation_kind != OrganisationKind.SUPPLIER
            or registration.status not in SUPPLIER_STATUSES):
        raise ConflictError(_("Only registered suppliers ask the buyer questions here."),
                            "question")
    question = clean_text(text, "question", required=True, max_length=MAX_QUESTION)
    label = ", ".join(part for part in (registration.name,
                                        registration.company or registration.organisation_name)
                      if part)
    row = ConsultationQuestion(
        event_id=registration.event_id, registration_id=registration.id, asked_by=label[:300],
        may_name_asker=may_name_asker, is_asked_at_event=False, question=question,
        asked_at=now)
    db.add(row)
    await db.flush()
    return row


async def record_question(db: AsyncSession, event_id: int, text: str, *, asked_by: str,
                          may_name_asker: bool, now: datetime) -> ConsultationQuestion:
    """A question asked at the event, as the organisers noted it."""
    await load_consultation_event(db, event_id)
    question = clean_text(text, "question", required=True, max_length=MAX_QUESTION)
    who = clean_line(asked_by, "asked_by", max_length=300) or "At the event"
    row = ConsultationQuestion(event_id=event_id, registration_id=None, asked_by=who,
                               may_name_asker=may_name_asker, is_asked_at_event=True,
                               question=question, asked_at=now)
    db.add(row)
    await db.flush()
    return row


async def publish_answer(db: AsyncSession, event_id: int, question_id: int, answer: str, *,
                         now: datetime, settings: Settings) -> ConsultationQuestion:
    """Answer once and tell every registered supplier; the outbox ids are not needed here."""
    event: Event = await load_consultation_event(db, event_id)
    row = await db.get(ConsultationQuestion, question_id)
    if row is None or row.event_id != event_id:
        raise NotFoundError(_("No such question."), "question_id")
    if row.answered_at is not None:
        raise ConflictError(_("This answer is published already: it stays as every supplier "
                            "received it."), "answer")
    text = clean_text(answer, "answer", required=True, max_length=MAX_ANSWER)
    row.answer = text
    row.answered_at = now
    await db.flush()
    # Worded per supplier, in their language ("a registered supplier").
    await tell_every_supplier(db, event, ANSWER_TEMPLATE, lambda: {
        "question": row.question, "answer": text, "asked_by": public_asker(row),
    }, now=now, settings=settings)
    return row


async def list_questions(db: AsyncSession, event_id: int) -> list[ConsultationQuestion]:
    """Every question of the event, answered or not, in the order asked."""
    return list(await db.scalars(select(ConsultationQuestion)
                                 .where(ConsultationQuestion.event_id == event_id)
                                 .order_by(ConsultationQuestion.asked_at,
                                           ConsultationQuestion.id)))


async def published_questions(db: AsyncSession, event_id: int, *,
                              language: str | None = None) -> list[PublishedQuestion]:
    """With a `language`, each question and answer in it where the organisers translated
    them (each knows its language, for `lang`); without, as written."""
    read = await reader(db, event_id, language)
    return [PublishedQuestion(id=q.id, question=read(q, "question"), answer=read(q, "answer"),
                              asked_by=public_asker(q), asked_at=q.asked_at,
                              answered_at=q.answered_at)
            for q in await list_questions(db, event_id)
            if q.answered_at is not None]


