"""Organiser API: participation in figures (`registration.participation_figures`), for the
reports a network makes to its members and funders: an event's, and a year's programme's
(the published events the token sees starting that year); and what registrants
thought of an event (`registration.feedback`).

Read-only (organiser and viewer tokens); counts and comments, never names. The same as
the back office's figures and feedback pages and their spreadsheets.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from msgspec import Struct
from sqlalchemy import select

from service.clock import utc_now
from service.db.models import Event, QuestionKind
from service.domain import accounts, programme, registration
from service.domain.registration import feedback
from service.domain.times import iso_utc
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam

YearParam = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


class ShareOut(Struct):
    """One country's (ISO 3166 code) or kind of organisation's part; `key` null: not given."""

    key: str | None
    registered: int
    came: int


class FiguresOut(Struct, kw_only=True):
    """`registrations`: by state; `registered`: who hold a place (confirmed); `came`: who
    were checked in at the door of at least one session, whatever their state now;
    `people`, `people_came`: the same counting each address once (across a year's events,
    someone at three webinars is one person)."""

    registrations: dict[str, int]
    registered: int
    came: int
    people: int
    people_came: int
    by_country: list[ShareOut]
    by_organisation_kind: list[ShareOut]


class EventFiguresOut(FiguresOut, kw_only=True):
    event_id: int


class YearEventOut(Struct, kw_only=True):
    """`feedback_average`: the event's average rating (1 to 5), null before any answer."""

    event_id: int
    slug: str
    title: str
    registered: int
    came: int
    feedback_average: float | None
    feedback_answers: int


class YearFiguresOut(FiguresOut, kw_only=True):
    year: int
    events: list[YearEventOut]


class CommentOut(Struct):
    """One answer's comments (never whose), with its session, rating and when it was given."""

    session_id: int
    rating: int
    most_useful: str
    to_improve: str
    given_at: str


class TallyOut(Struct, kw_only=True):
    """`asked`: who held a confirmed place in a session that is over (per session);
    `ratings`: how many gave each rating, "1" (not useful) to "5" (extremely useful);
    `average`: null before the first answer."""

    answers: int
    asked: int
    average: float | None
    ratings: dict[str, int]


class SessionTallyOut(TallyOut, kw_only=True):
    session_id: int


class WordsOut(Struct):
    session_id: int
    text: str
    given_at: str


class ChoiceCountOut(Struct):
    choice: str
    answers: int


class QuestionResultOut(Struct):
    """One of the event's own questions: how many answered, and a `rating` question's
    `average` and `ratings`, a `choice` question's `choices` (each with how many chose it,
    in its order), or a `text` question's `words`, newest first."""

    question_id: int
    text: str
    kind: QuestionKind
    answers: int
    average: float | None
    ratings: dict[str, int] | None
    words: list[WordsOut]
    choices: list[ChoiceCountOut]


class FeedbackOut(TallyOut, kw_only=True):
    """The whole event's tally, each session's, the comments, newest first, and the
    answers to the event's own questions."""

    event_id: int
    sessions: list[SessionTallyOut]
    comments: list[CommentOut]
    questions: list[QuestionResultOut]


def _tally(tally: feedback.Tally) -> dict[str, Any]:
    return {"answers": tally.answers, "asked": tally.asked, "average": tally.average,
            "ratings": {str(rating): count for rating, count in tally.counts.items()}}


def _figures(figures: registration.ParticipationFigures) -> dict[str, Any]:
    def shares(found: list[registration.Share]) -> list[ShareOut]:
        return [ShareOut(key=s.key, registered=s.registered, came=s.came) for s in found]

    return {"registrations": {str(status): count for status, count in figures.by_status.items()},
            "registered": figures.registered, "came": figures.came,
            "people": figures.people, "people_came": figures.people_came,
            "by_country": shares(figures.by_country),
            "by_organisation_kind": shares(figures.by_organisation_kind)}


class FiguresController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/events/{event_id:int}/figures")
    async def event_figures(self, db_session: DbSession, event_id: IdParam) -> EventFiguresOut:
        """The event's participation in figures."""
        event = await programme.get_event(db_session, event_id)
        figures = await registration.participation_figures(db_session, [event.id])
        return EventFiguresOut(event_id=event.id, **_figures(figures))

    @get("/events/{event_id:int}/feedback")
    async def event_feedback(self, db_session: DbSession, event_id: IdParam) -> FeedbackOut:
        """What registrants thought of the event: the ratings and the comments."""
        event = await programme.get_event(db_session, event_id)
        summary = await feedback.feedback_summary(db_session, event.id, utc_now())
        ordered = sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
        return FeedbackOut(
            event_id=event.id, **_tally(summary.event),
            sessions=[SessionTallyOut(session_id=s.id, **_tally(summary.sessions[s.id]))
                      for s in ordered if s.id in summary.sessions],
            comments=[CommentOut(session_id=c.session_id, rating=c.rating,
                                 most_useful=c.most_useful, to_improve=c.to_improve,
                                 given_at=iso_utc(c.given_at)) for c in summary.comments],
            questions=[QuestionResultOut(
                question_id=r.question.id, text=r.question.text, kind=r.question.kind,
                answers=r.answers, average=r.tally.average if r.tally else None,
                ratings={str(rating): count for rating, count in r.tally.counts.items()}
                if r.tally else None,
                words=[WordsOut(session_id=w.session_id, text=w.text,
                                given_at=iso_utc(w.given_at)) for w in r.words],
                choices=[ChoiceCountOut(choice=choice, answers=count)
                         for choice, count in r.choices])
                for r in summary.questions])

    @get("/figures")
    async def year_figures(self, request: Request[Any, Any, Any], db_session: DbSession,
                           year: YearParam = None) -> YearFiguresOut:
        """A year's programme in figures (this year's by default): each event's and all of
        them together."""
        chosen = year if year is not None else utc_now().year
        seen = await accounts.token_events_filter(db_session, request.state.api_token_team_id)
        scope = list(await db_session.scalars(select(Event.id).where(seen)))
        events = await registration.events_of_year(db_session, chosen, scope)
        figures = await registration.participation_figures(db_session, [e.id for e in events])
        ratings = await feedback.ratings_by_event(db_session, [e.id for e in events])
        return YearFiguresOut(
            year=chosen, **_figures(figures),
            events=[YearEventOut(event_id=e.id, slug=e.slug, title=e.title,
                                 registered=figures.by_event.get(e.id, (0, 0))[0],
                                 came=figures.by_event.get(e.id, (0, 0))[1],
                                 feedback_average=ratings.get(e.id, (None, 0))[0],
                                 feedback_answers=ratings.get(e.id, (None, 0))[1])
                    for e in events])


ROUTE_HANDLERS = [FiguresController]
