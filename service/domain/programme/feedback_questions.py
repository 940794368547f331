"""An event's own feedback questions, asked with the fixed ones on the form about each
session once it is over (Indico's surveys, Zoom's post-webinar survey): "Which topic should
the next webinar cover?" in their own words, or "How well did the moderation work?" from 1
(lowest) to 5 (highest), or "Which should we cover next?" by one of the organiser's choices;
required or not.

Organisers write them as one list, which replaces the stored one whole, all or nothing: a
question kept (sent with its `id`) keeps its answers and its translations, and may be
reworded, but its kind cannot change once answered (the answers would no longer fit), and
an answered choice question keeps each of its choices (answers keep a choice's number:
reworded, or new ones added at the end); a question left out is removed with its answers
and translations. Their wording is translated with the event's texts (target
`feedback-question-N`, fields `text` and `choices`, one choice a line). Flushes, never
commits; knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ContentTranslation, FeedbackAnswer, FeedbackQuestion, QuestionKind
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme.loading import get_event
from service.domain.text import clean_line
from service.i18n import gettext as _

MAX_QUESTIONS = 10
MAX_QUESTION = 500
MIN_CHOICES, MAX_CHOICES = 2, 10
MAX_CHOICE = 200


@dataclass(frozen=True)
class QuestionDraft:
    """A question as written; `id` names a stored one that it keeps."""

    text: str
    kind: str
    required: bool = False
    id: int | None = None
    choices: Sequence[str] = ()  # a choice question's, in order


def choice_list(choices: str) -> list[str]:
    """A question's choices (stored, or translated: one a line) as a list, in order."""
    return [line.strip() for line in choices.splitlines() if line.strip()]


def question_key(question_id: int) -> str:
    """The translation target of a question's wording ("feedback-question-3")."""
    return f"feedback-question-{question_id}"


async def event_questions(db: AsyncSession, event_id: int) -> list[FeedbackQuestion]:
    """The event's questions, in the organisers' order."""
    return list(await db.scalars(
        select(FeedbackQuestion).where(FeedbackQuestion.event_id == event_id)
        .order_by(FeedbackQuestion.position, FeedbackQuestion.id)))


def _choices(typed: Sequence[str], name: str, problems: list[FieldError]) -> list[str]:
    """A choice question's choices as kept (empty lines left out), or its problem added."""
    choices: list[str] = []
    for choice in typed:
        try:
            cleaned = clean_line(choice, name, max_length=MAX_CHOICE)
        except InvalidInputError as refused:
            problems.extend(refused.errors)
            return []
        if cleaned:
            choices.append(cleaned)
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        problems.append(FieldError(name, _(
            "Give from %(least)s to %(most)s choices, one a line.")
            % {"least": MIN_CHOICES, "most": MAX_CHOICES}))
    elif len({choice.casefold() for choice in choices}) < len(choices):
        problems.append(FieldError(name, _("Give each choice once.")))
    return choices


async def _answered(db: AsyncSession, question_ids: Sequence[int]) -> set[int]:
    if not question_ids:
        return set()
    return set(await db.scalars(select(FeedbackAnswer.question_id).distinct()
                                .where(FeedbackAnswer.question_id.in_(question_ids))))


async def set_questions(db: AsyncSession, event_id: int, drafts: Sequence[QuestionDraft], *,
                        now: datetime) -> list[FeedbackQuestion]:
    """Replace the event's questions with `drafts`; every problem named at once
    (`questions[0].text`, `questions[1].kind`, ...) and nothing changed then."""
    event = await get_event(db, event_id)
    existing = {q.id: q for q in await event_questions(db, event.id)}
    answered = await _answered(db, list(existing))
    problems: list[FieldError] = []
    if len(drafts) > MAX_QUESTIONS:
        problems.append(FieldError("questions", _(
            "Ask at most %(count)s questions of your own.") % {"count": MAX_QUESTIONS}))
    checked: list[tuple[QuestionDraft, str, QuestionKind, str]] = []
    for index, draft in enumerate(drafts[:MAX_QUESTIONS]):
        name = f"questions[{index}]"
        try:
            text = clean_line(draft.text, f"{name}.text", required=True,
                              max_length=MAX_QUESTION)
        except InvalidInputError as refused:
            problems.extend(refused.errors)
            text = ""
        kind = next((k for k in QuestionKind if k.value == draft.kind), None)
        if kind is None:
            problems.append(FieldError(f"{name}.kind", _(
                "Choose how it is answered: a rating from 1 to 5, in their own words, or one "
                "of your choices.")))
        choices = (_choices(draft.choices, f"{name}.choices", problems)
                   if kind == QuestionKind.CHOICE else [])
        if kind is not None and kind != QuestionKind.CHOICE and any(
                choice.strip() for choice in draft.choices):
            problems.append(FieldError(f"{name}.choices", _(
                "Leave this empty: only a question answered by one of your choices has "
                "choices.")))
        if draft.id is not None:
            kept = existing.get(draft.id)
            if kept is None:
                problems.append(FieldError(f"{name}.id", _(
                    "This event has no such question: leave the id out for a new one.")))
            elif kind is not None and kind != kept.kind and kept.id in answered:
                problems.append(FieldError(f"{name}.kind", _(
                    "This question has answers: its kind cannot change. Add a new question "
                    "instead.")))
            elif kept.id in answered and len(choices) < len(choice_list(kept.choices)):
                problems.append(FieldError(f"{name}.choices", _(
                    "This question has answers: keep each of its %(count)s choices (reword "
                    "them, or add new ones at the end).")
                    % {"count": len(choice_list(kept.choices))}))
        if kind is not None:
            checked.append((draft, text, kind, "\n".join(choices)))
    if problems:
        raise InvalidInputError.of(problems)
    kept_ids: set[int] = set()
    for position, (draft, text, kind, lines) in enumerate(checked):
        question = existing.get(draft.id) if draft.id is not None else None
        if question is None or question.id in kept_ids:
            db.add(FeedbackQuestion(event_id=event.id, position=position, text=text,
                                    kind=kind, choices=lines, required=draft.required,
                                    created_at=now, updated_at=now))
            continue
        kept_ids.add(question.id)
        if (question.text, question.kind, question.choices, question.required,
                question.position) != (text, kind, lines, draft.required, position):
            question.text, question.kind, question.choices = text, kind, lines
            question.required, question.position = draft.required, position
            question.updated_at = now
    removed = [question for question_id, question in existing.items()
               if question_id not in kept_ids]
    if removed:
        # One by one through the ORM, so that the audit log records each removal.
        for row in await db.scalars(select(ContentTranslation).where(
                ContentTranslation.event_id == event.id,
                ContentTranslation.target.in_([question_key(q.id) for q in removed]))):
            await db.delete(row)
        for question in removed:
            await db.delete(question)
    await db.flush()
    return await event_questions(db, event.id)
