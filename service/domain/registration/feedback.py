"""What registrants thought of an event: the short evaluation organisers report to their
funders and learn from ("How useful was it for your work?", 1 to 5, and what helped and what
to change, both optional).

Asked of whoever held a confirmed place in a session that is over (they came or not: who
stayed away may say why), through their private page and the organisers' messages; one
answer per registration, which they may change. Organisers read the answers without names:
the figures, and the comments each with its rating. Erasing a registration (or the end of
its retention period) blanks its comments and keeps its rating, so the figures stand.
Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    EventStatus,
    Feedback,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError
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
MAX_COMMENT = 4_000
FIELDS = ("rating", "most_useful", "to_improve")
NOT_YET = N_("Feedback is asked for once a session you hold a place in is over.")


@dataclass(frozen=True)
class FeedbackForm:
    """The answers as given; `rating` None when none was chosen."""

    rating: int | None
    most_useful: str = ""
    to_improve: str = ""


def _over(enrolment: Enrolment, now: datetime) -> bool:
    return (enrolment.status == EnrolmentStatus.CONFIRMED
            and enrolment.session.status != SessionStatus.CANCELLED
            and enrolment.session.ends_at <= now)


def may_give_feedback(registration: Registration, now: datetime) -> bool:
    """Whether feedback is asked of them: a confirmed registration, of an event that was not
    cancelled, with a confirmed place in a session that is over (enrolments, their sessions
    and the event loaded)."""
    return (registration.status == RegistrationStatus.CONFIRMED
            and registration.erased_at is None
            and registration.event.status != EventStatus.CANCELLED
            and any(_over(e, now) for e in registration.enrolments))


def _asked(now: datetime) -> Select[int]:
    """The registrations feedback is asked of (`may_give_feedback`, in SQL), each once."""
    return (select(Registration.id)
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .join(Session, Session.id == Enrolment.session_id)
            .where(Registration.status == RegistrationStatus.CONFIRMED,
                   Registration.erased_at.is_(None),
                   Enrolment.status == EnrolmentStatus.CONFIRMED,
                   Session.status != SessionStatus.CANCELLED,
                   Session.ends_at <= now)
            .distinct())


async def asked_for_feedback(db: AsyncSession, registration_ids: Collection[int],
                             now: datetime) -> set[int]:
    """Which of these registrations feedback is asked of, and not given yet: whose copy of
    an organisers' message carries the link to the form."""
    if not registration_ids:
        return set()
    answered = select(Feedback.id).where(Feedback.registration_id == Registration.id).exists()
    return set(await db.scalars(
        _asked(now).where(Registration.id.in_(list(registration_ids)), ~answered)))


def check_feedback(form: FeedbackForm) -> FeedbackForm:
    """The answers as kept, or every problem at once (named `rating`, `most_useful`,
    `to_improve`)."""
    problems: list[FieldError] = []
    if form.rating not in RATINGS:
        problems.append(FieldError("rating", _("Choose how useful it was, from 1 to 5.")))
    comments: dict[str, str] = {}
    for field, value in (("most_useful", form.most_useful), ("to_improve", form.to_improve)):
        try:
            comments[field] = clean_text(value, field, max_length=MAX_COMMENT) or ""
        except InvalidInputError as error:
            problems.extend(error.errors)
    if problems:
        raise InvalidInputError.of(problems)
    return FeedbackForm(rating=form.rating, **comments)


async def feedback_of(db: AsyncSession, registration_id: int) -> Feedback | None:
    return await db.scalar(select(Feedback).where(Feedback.registration_id == registration_id))


async def give_feedback(db: AsyncSession, registration: Registration, form: FeedbackForm, *,
                        now: datetime) -> Feedback:
    """Record (or change) their answers; refused before a session of theirs is over
    (409 naming `rating`), and bad answers with every problem named."""
    if not may_give_feedback(registration, now):
        raise ConflictError(_(NOT_YET), "rating")
    answers = check_feedback(form)
    assert answers.rating is not None  # checked
    feedback = await feedback_of(db, registration.id)
    if feedback is None:
        feedback = Feedback(registration_id=registration.id, event_id=registration.event_id,
                            given_at=now)
        db.add(feedback)
    feedback.rating = answers.rating
    feedback.most_useful = answers.most_useful
    feedback.to_improve = answers.to_improve
    feedback.updated_at = now
    await db.flush()
    return feedback


@dataclass(frozen=True)
class Comment:
    """One answer's comments, without a name."""

    rating: int
    most_useful: str
    to_improve: str
    given_at: datetime


@dataclass(frozen=True)
class FeedbackSummary:
    """An event's feedback: how many answered of how many were asked, the average rating,
    how many gave each rating, and the comments, newest first."""

    answers: int
    asked: int
    average: float | None
    counts: dict[int, int]
    comments: Sequence[Comment]


async def feedback_summary(db: AsyncSession, event_id: int, now: datetime) -> FeedbackSummary:
    counts = dict.fromkeys(RATINGS, 0)
    counts.update({rating: n for rating, n in (await db.execute(
        select(Feedback.rating, func.count()).where(Feedback.event_id == event_id)
        .group_by(Feedback.rating))).all()})
    answers = sum(counts.values())
    # Who was asked, and who answered and was erased since.
    asked_ids = _asked(now).where(Registration.event_id == event_id)
    answered_ids = select(Feedback.registration_id).where(Feedback.event_id == event_id)
    asked = await db.scalar(
        select(func.count()).select_from(union(asked_ids, answered_ids).subquery())) or 0
    rows = await db.scalars(
        select(Feedback).where(Feedback.event_id == event_id,
                               (Feedback.most_useful != "") | (Feedback.to_improve != ""))
        .order_by(Feedback.given_at.desc(), Feedback.id.desc()))
    return FeedbackSummary(
        answers=answers, asked=asked,
        average=round(sum(r * n for r, n in counts.items()) / answers, 1) if answers else None,
        counts=counts,
        comments=[Comment(f.rating, f.most_useful, f.to_improve, f.given_at) for f in rows])


async def ratings_by_event(db: AsyncSession, event_ids: Collection[int]
                           ) -> dict[int, tuple[float, int]]:
    """Each event's average rating and how many answered (events without an answer left
    out): a year's programme as its figures show it."""
    rows = await db.execute(
        select(Feedback.event_id, func.avg(Feedback.rating), func.count())
        .where(Feedback.event_id.in_(list(event_ids))).group_by(Feedback.event_id))
    return {int(event_id): (round(float(average), 1), int(count))
            for event_id, average, count in rows.all()}
