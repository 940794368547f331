"""What registrants thought of each session of an event: the short evaluation organisers
report to their funders and learn from ("How useful was it for your work?", 1 to 5, and
what helped and what to change, both optional).

Asked, session by session, of whoever held a confirmed place in it once it is over (they
came or not: who stayed away may say why), through their private page and the organisers'
messages (until every session of theirs that is over has an answer); one answer per
registration and session, which they may change. The event's own questions
(`programme.feedback_questions`: a rating, words, or one of the organiser's choices) are
asked on the same form, each answer a row of its own.
Organisers read the answers without names: the figures, by session and for the event, and
the comments each with its rating and session, and each own question's average, words or
count of each choice.
Erasing a registration (or the end of its retention period) blanks its comments and words
and keeps its ratings, so the figures stand. Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    EventStatus,
    Feedback,
    FeedbackAnswer,
    FeedbackQuestion,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError
from service.domain.programme.feedback_questions import choice_list, event_questions
from service.domain.text import clean_text
from service.i18n import N_
from service.i18n import gettext as _

RATINGS = (1, 2, 3, 4, 5)
# What each rating means, as the form says it (its ends, at least: 1 and 5).
RATING_LABELS = {
    1: N_("1: not useful"),
    2: N_("2: a little useful"),
    3: N_("3: useful"),
    4: N_("4: very useful"),
    5: N_("5: extremely useful"),
}
# An own question's rating: only its ends are worded.
SCALE_LABELS = {1: N_("1: lowest"), 2: "2", 3: "3", 4: "4", 5: N_("5: highest")}
MAX_COMMENT = 4_000
FIELDS = ("rating", "most_useful", "to_improve")
NOT_YET = N_("Feedback is asked for once a session you hold a place in is over.")


@dataclass(frozen=True)
class FeedbackForm:
    """The answers as given; `rating` None when none was chosen; `answers` to the event's
    own questions by question id, as typed ("" when not answered)."""

    rating: int | None
    most_useful: str = ""
    to_improve: str = ""
    answers: Mapping[int, str] = field(default_factory=dict)


def answer_field(question_id: int) -> str:
    """The name of the answer to an own question, in forms and refusals."""
    return f"question-{question_id}"


def sessions_asked(registration: Registration, now: datetime) -> list[Session]:
    """The sessions feedback is asked about, earliest first: those that are over where the
    registration (confirmed, of an event that was not cancelled) holds a confirmed place
    (enrolments, their sessions and the event loaded)."""
    if (registration.status != RegistrationStatus.CONFIRMED or registration.erased_at
            or registration.event.status == EventStatus.CANCELLED):
        return []
    return sorted((e.session for e in registration.enrolments
                   if e.status == EnrolmentStatus.CONFIRMED
                   and e.session.status != SessionStatus.CANCELLED
                   and e.session.ends_at <= now), key=lambda s: (s.starts_at, s.id))


def may_give_feedback(registration: Registration, now: datetime) -> bool:
    """Whether feedback is asked of them about at least one session."""
    return bool(sessions_asked(registration, now))


def _asked(now: datetime) -> Select[int, int]:
    """Each (registration, session) feedback is asked about (`sessions_asked`, in SQL)."""
    return (select(Registration.id, Session.id)
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .join(Session, Session.id == Enrolment.session_id)
            .where(Registration.status == RegistrationStatus.CONFIRMED,
                   Registration.erased_at.is_(None),
                   Enrolment.status == EnrolmentStatus.CONFIRMED,
                   Session.status != SessionStatus.CANCELLED,
                   Session.ends_at <= now))


async def asked_for_feedback(db: AsyncSession, registration_ids: Collection[int],
                             now: datetime) -> set[int]:
    """Which of these registrations are asked about a session they have not answered for:
    whose copy of an organisers' message carries the link to the form."""
    if not registration_ids:
        return set()
    answered = (select(Feedback.id)
                .where(Feedback.registration_id == Registration.id,
                       Feedback.session_id == Session.id).exists())
    rows = await db.execute(
        _asked(now).where(Registration.id.in_(list(registration_ids)), ~answered))
    return {registration_id for registration_id, _session_id in rows.all()}


def _own_answer(question: FeedbackQuestion, typed: str, problems: list[FieldError]
                ) -> int | str | None:
    """One own question's answer as kept (None: not answered): a rating or a choice's
    number, or words; or its problem added."""
    name = answer_field(question.id)
    typed = typed.strip()
    if question.kind == QuestionKind.RATING:
        if typed in {str(r) for r in RATINGS}:
            return int(typed)
        if typed or question.required:
            problems.append(FieldError(name, _("Choose from 1 to 5.")))
        return None
    if question.kind == QuestionKind.CHOICE:
        if typed in {str(n) for n in range(1, len(choice_list(question.choices)) + 1)}:
            return int(typed)
        if typed or question.required:
            problems.append(FieldError(name, _("Choose one of the answers.")))
        return None
    try:
        words = clean_text(typed, name, max_length=MAX_COMMENT) or ""
    except InvalidInputError as error:
        problems.extend(error.errors)
        return None
    if not words and question.required:
        problems.append(FieldError(name, _("Write your answer to this question.")))
    return words or None


def check_feedback(form: FeedbackForm, questions: Sequence[FeedbackQuestion] = ()
                   ) -> tuple[FeedbackForm, dict[int, int | str]]:
    """The answers as kept, with the own questions' (by id, those answered), or every
    problem at once (named `rating`, `most_useful`, `to_improve`, `question-<id>`)."""
    problems: list[FieldError] = []
    if form.rating not in RATINGS:
        problems.append(FieldError("rating", _("Choose how useful it was, from 1 to 5.")))
    comments: dict[str, str] = {}
    for name, value in (("most_useful", form.most_useful), ("to_improve", form.to_improve)):
        try:
            comments[name] = clean_text(value, name, max_length=MAX_COMMENT) or ""
        except InvalidInputError as error:
            problems.extend(error.errors)
    own: dict[int, int | str] = {}
    for question_id in sorted(set(form.answers) - {q.id for q in questions}):
        problems.append(FieldError(answer_field(question_id), _(
            "The event asks no such question.")))
    for question in questions:
        answer = _own_answer(question, form.answers.get(question.id, ""), problems)
        if answer is not None:
            own[question.id] = answer
    if problems:
        raise InvalidInputError.of(problems)
    return FeedbackForm(rating=form.rating, most_useful=comments["most_useful"],
                        to_improve=comments["to_improve"]), own


async def feedback_of(db: AsyncSession, registration_id: int) -> dict[int, Feedback]:
    """Their answers, by session."""
    return {f.session_id: f for f in await db.scalars(
        select(Feedback).where(Feedback.registration_id == registration_id))}


async def give_feedback(db: AsyncSession, registration: Registration, session_id: int,
                        form: FeedbackForm, *, now: datetime) -> Feedback:
    """Record (or change) their answers about one session; refused for a session they are
    not asked about, not over yet, say (409 naming `session_id`), and bad answers with
    every problem named."""
    if session_id not in {s.id for s in sessions_asked(registration, now)}:
        raise ConflictError(_(NOT_YET), "session_id")
    questions = await event_questions(db, registration.event_id)
    answers, own = check_feedback(form, questions)
    assert answers.rating is not None  # checked
    feedback = (await feedback_of(db, registration.id)).get(session_id)
    if feedback is None:
        feedback = Feedback(registration_id=registration.id, session_id=session_id,
                            event_id=registration.event_id, given_at=now)
        db.add(feedback)
    feedback.rating = answers.rating
    feedback.most_useful = answers.most_useful
    feedback.to_improve = answers.to_improve
    feedback.updated_at = now
    await db.flush()
    stored = (await own_answers(db, [feedback.id])).get(feedback.id, {})
    for question in questions:
        row, answer = stored.get(question.id), own.get(question.id)
        if answer is None:
            if row is not None:
                await db.delete(row)
            continue
        if row is None:
            row = FeedbackAnswer(feedback_id=feedback.id, question_id=question.id)
            db.add(row)
        number = answer if isinstance(answer, int) else None
        row.rating = number if question.kind == QuestionKind.RATING else None
        row.choice = number if question.kind == QuestionKind.CHOICE else None
        row.text = answer if isinstance(answer, str) else ""
    await db.flush()
    return feedback


async def own_answers(db: AsyncSession, feedback_ids: Collection[int]
                      ) -> dict[int, dict[int, FeedbackAnswer]]:
    """The answers to the event's own questions, by feedback and question."""
    found: dict[int, dict[int, FeedbackAnswer]] = {}
    if feedback_ids:
        for row in await db.scalars(select(FeedbackAnswer).where(
                FeedbackAnswer.feedback_id.in_(list(feedback_ids)))):
            found.setdefault(row.feedback_id, {})[row.question_id] = row
    return found


def typed_answers(answers: Mapping[int, FeedbackAnswer]) -> dict[int, str]:
    """Stored answers as a form shows them again."""
    return {question_id: str(row.rating) if row.rating is not None
            else str(row.choice) if row.choice is not None else row.text
            for question_id, row in answers.items()}


@dataclass(frozen=True)
class Comment:
    """One answer's comments, without a name."""

    session_id: int
    rating: int
    most_useful: str
    to_improve: str
    given_at: datetime


@dataclass(frozen=True)
class Tally:
    """How many answered (of how many were asked), their average, and how many gave each
    rating."""

    answers: int
    asked: int
    average: float | None
    counts: dict[int, int]


@dataclass(frozen=True)
class Words:
    """One answer in someone's own words, without a name."""

    session_id: int
    text: str
    given_at: datetime


@dataclass(frozen=True)
class QuestionResult:
    """What the answers to one of the event's own questions say: a rating question's tally,
    a choice question's count of each choice (in its order), or a words question's answers,
    newest first."""

    question: FeedbackQuestion
    answers: int
    tally: Tally | None
    words: Sequence[Words]
    choices: Sequence[tuple[str, int]] = ()


@dataclass(frozen=True)
class FeedbackSummary:
    """An event's feedback: for the whole event and for each session (by id; sessions that
    were never asked about left out), the comments, newest first, and each own question's
    answers."""

    event: Tally
    sessions: dict[int, Tally]
    comments: Sequence[Comment]
    questions: Sequence[QuestionResult] = ()


def _tally(counts: dict[int, int], asked: int) -> Tally:
    answers = sum(counts.values())
    return Tally(answers=answers, asked=asked, counts=counts,
                 average=round(sum(r * n for r, n in counts.items()) / answers, 1)
                 if answers else None)


async def feedback_summary(db: AsyncSession, event_id: int, now: datetime) -> FeedbackSummary:
    by_session: dict[int, dict[int, int]] = {}
    for session_id, rating, count in (await db.execute(
            select(Feedback.session_id, Feedback.rating, func.count())
            .where(Feedback.event_id == event_id)
            .group_by(Feedback.session_id, Feedback.rating))).all():
        by_session.setdefault(session_id, dict.fromkeys(RATINGS, 0))[rating] = count
    # Who was asked about each session, and who answered and was erased since.
    pairs = union(_asked(now).where(Registration.event_id == event_id),
                  select(Feedback.registration_id, Feedback.session_id)
                  .where(Feedback.event_id == event_id)).subquery()
    asked: dict[int, int] = {int(session_id): int(count) for session_id, count in (
        await db.execute(select(pairs.c[1], func.count()).group_by(pairs.c[1]))).all()}
    total = dict.fromkeys(RATINGS, 0)
    for counts in by_session.values():
        for rating, count in counts.items():
            total[rating] += count
    rows = await db.scalars(
        select(Feedback).where(Feedback.event_id == event_id,
                               (Feedback.most_useful != "") | (Feedback.to_improve != ""))
        .order_by(Feedback.given_at.desc(), Feedback.id.desc()))
    return FeedbackSummary(
        event=_tally(total, sum(asked.values())),
        sessions={session_id: _tally(by_session.get(session_id, dict.fromkeys(RATINGS, 0)),
                                     count) for session_id, count in asked.items()},
        comments=[Comment(f.session_id, f.rating, f.most_useful, f.to_improve, f.given_at)
                  for f in rows],
        questions=await _question_results(db, event_id, sum(asked.values())))


async def _question_results(db: AsyncSession, event_id: int, asked: int
                            ) -> list[QuestionResult]:
    questions = await event_questions(db, event_id)
    if not questions:
        return []
    rows = (await db.execute(
        select(FeedbackAnswer.question_id, FeedbackAnswer.rating, FeedbackAnswer.choice,
               FeedbackAnswer.text, Feedback.session_id, Feedback.given_at)
        .join(Feedback, Feedback.id == FeedbackAnswer.feedback_id)
        .where(Feedback.event_id == event_id)
        .order_by(Feedback.given_at.desc(), Feedback.id.desc()))).all()
    by_question: dict[int, list[Any]] = {}
    for row in rows:
        by_question.setdefault(row.question_id, []).append(row)
    results = []
    for question in questions:
        mine = by_question.get(question.id, [])
        if question.kind == QuestionKind.RATING:
            counts = dict.fromkeys(RATINGS, 0)
            for row in mine:
                if row.rating in counts:
                    counts[row.rating] += 1
            results.append(QuestionResult(question, len(mine), _tally(counts, asked), []))
        elif question.kind == QuestionKind.CHOICE:
            chosen = Counter(row.choice for row in mine)
            results.append(QuestionResult(
                question, len(mine), None, [],
                [(choice, chosen[number]) for number, choice
                 in enumerate(choice_list(question.choices), start=1)]))
        else:
            words = [Words(row.session_id, row.text, row.given_at) for row in mine if row.text]
            results.append(QuestionResult(question, len(mine), None, words))
    return results


async def ratings_by_event(db: AsyncSession, event_ids: Collection[int]
                           ) -> dict[int, tuple[float, int]]:
    """Each event's average rating and how many answered (events without an answer left
    out): a year's programme as its figures show it."""
    rows = await db.execute(
        select(Feedback.event_id, func.avg(Feedback.rating), func.count())
        .where(Feedback.event_id.in_(list(event_ids))).group_by(Feedback.event_id))
    return {int(event_id): (round(float(average), 1), int(count))
            for event_id, average, count in rows.all()}
