"""A registrant's feedback on each session of an event that is over, from their private
page (and the link in the organisers' messages): how useful it was, what helped, what to
change, and the event's own questions (in the reader's language where translated).

The page is about one session (the next one to answer, or the one chosen among those
listed); opening it changes nothing; sending it records the answers (the CSRF token every
public form carries) and shows the form again, saved, to change if they like. Before a
session of theirs is over the page says feedback comes later. Thin: one domain call per
request; the token is in the path and never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import Feedback, FeedbackQuestion, QuestionKind, Registration, Session
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.programme.feedback_questions import event_questions
from service.domain.programme.translations import Localised, Target, choices_read, reader
from service.domain.registration import feedback, find_registration_by_token
from service.domain.wording import period_text
from service.i18n import current_language
from service.i18n import gettext as _
from service.settings import Settings
from service.web.page_render import html_response, lang_attr
from service.web.pages import (
    AnyRequest,
    PublicPages,
    _csrf,
    erased_link_page,
    form_from_private_link,
    live_registration,
)
from service.web.params import DbSession, OptionalIdQuery, SettingsDep, TokenParam


def _answer(form: FormMultiDict, name: str, limit: int) -> str:
    """One answer as sent, read one past its limit (refused then, never cut)."""
    value = form.get(name)
    return value.strip()[:limit + 1] if isinstance(value, str) else ""


def _in_its_language(wording: Localised) -> Markup | str:
    """A question not translated into the page's language, marked as the language it is
    written in (a screen reader then reads it with the right voice)."""
    attribute = lang_attr(wording)
    return Markup("<span{}>{}</span>").format(attribute, str(wording)) if attribute \
        else str(wording)


def _options(question: FeedbackQuestion, read: Callable[[Target, str], Localised],
             default_language: str) -> list[tuple[str, Markup | str]] | None:
    """What an own question's answer is chosen from, as (value, label); None for words."""
    if question.kind == QuestionKind.RATING:
        return [(str(r), _(label)) for r, label in feedback.SCALE_LABELS.items()]
    if question.kind == QuestionKind.CHOICE:
        return [(str(number), _in_its_language(choice)) for number, choice in enumerate(
            choices_read(question, read, default_language), start=1)]
    return None


def _chosen(asked: list[Session], given: Mapping[int, Feedback], wanted: int | None
            ) -> Session | None:
    """The session the form is about: the one asked for, else the first without an
    answer, else the last one over."""
    for session in asked:
        if session.id == wanted:
            return session
    unanswered = [s for s in asked if s.id not in given]
    return unanswered[0] if unanswered else (asked[-1] if asked else None)


async def _page(request: AnyRequest, db: AsyncSession, settings: Settings, token: str,
                reg: Registration, *, wanted: int | None,
                values: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None,
                saved: bool = False, status_code: int = 200) -> Response[str]:
    """The form about one session (`wanted`, or the next to answer), the others linked;
    `values` as sent, else the answer given."""
    csrf_token, cookies = _csrf(request, settings)
    errors = dict(errors or {})
    questions = await event_questions(db, reg.event_id)
    order = {name: index for index, name in enumerate(
        [*feedback.FIELDS, *(feedback.answer_field(q.id) for q in questions)])}
    asked = feedback.sessions_asked(reg, utc_now())
    given = await feedback.feedback_of(db, reg.id)
    chosen = _chosen(asked, given, wanted)
    answer = given.get(chosen.id) if chosen else None
    read = await reader(db, reg.event_id, current_language())
    if values is None and answer is not None:
        own = (await feedback.own_answers(db, [answer.id])).get(answer.id, {})
        values = {"rating": str(answer.rating), "most_useful": answer.most_useful,
                  "to_improve": answer.to_improve,
                  **{feedback.answer_field(question_id): typed for question_id, typed
                     in feedback.typed_answers(own).items()}}
    zone = reg.event.timezone
    return html_response("feedback.html", {
        "token": token, "event_title": reg.event.title, "event_slug": reg.event.slug,
        # Each session asked about: its id, title, when, whether answered, whether shown.
        "sessions": [(s.id, read(s, "title"), period_text(s.starts_at, s.ends_at, zone),
                      s.id in given, chosen is not None and s.id == chosen.id)
                     for s in asked],
        "session": (chosen.id, read(chosen, "title"),
                    period_text(chosen.starts_at, chosen.ends_at, zone)) if chosen else None,
        "ratings": [(str(r), _(feedback.RATING_LABELS[r])) for r in feedback.RATINGS],
        # The event's own questions: field name, wording (localised), required, and what
        # to choose from (a rating's scale, a choice question's choices; None: in words).
        "questions": [(feedback.answer_field(q.id), _in_its_language(read(q, "text")),
                       q.required, _options(q, read, reg.event.default_language))
                      for q in questions],
        "values": dict(values or {}),
        "errors": errors,
        "error_links": [(f"#{field}", message) for field, message
                        in sorted(errors.items(), key=lambda item: order.get(item[0], -1))],
        "limit": feedback.MAX_COMMENT, "saved": saved and answer is not None,
        "csrf_token": csrf_token, "robots": "noindex",
    }, status_code=status_code, cookies=cookies)


class FeedbackPages(Controller):
    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @get("/registrations/{token:str}/feedback")
    async def feedback_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        token: TokenParam, session: OptionalIdQuery = None,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[str]:
        """The form about `session` (else the next one to answer)."""
        reg = await live_registration(db_session, token)
        if reg is None:
            return erased_link_page()
        return await _page(request, db_session, settings, token, reg, wanted=session,
                           saved=done == "saved")

    @post("/registrations/{token:str}/feedback", status_code=HTTP_303_SEE_OTHER)
    async def give_feedback(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        token: TokenParam,
    ) -> Response[Any]:
        sent = await form_from_private_link(request, db_session, settings, token)
        if isinstance(sent, Response):
            return sent
        form, reg = sent
        values = {"rating": _answer(form, "rating", 1),
                  "most_useful": _answer(form, "most_useful", feedback.MAX_COMMENT),
                  "to_improve": _answer(form, "to_improve", feedback.MAX_COMMENT)}
        own = {question.id: _answer(form, feedback.answer_field(question.id),
                                    feedback.MAX_COMMENT)
               for question in await event_questions(db_session, reg.event_id)}
        values.update({feedback.answer_field(question_id): typed
                       for question_id, typed in own.items()})
        session_text = _answer(form, "session_id", 9)
        session_id = int(session_text) if session_text.isdigit() else 0
        try:
            await feedback.give_feedback(db_session, reg, session_id, feedback.FeedbackForm(
                rating=int(values["rating"]) if values["rating"].isdigit() else None,
                most_useful=values["most_useful"], to_improve=values["to_improve"],
                answers=own), now=utc_now())
        except (InvalidInputError, ConflictError) as refused:
            await db_session.rollback()
            reg = await find_registration_by_token(db_session, token)
            return await _page(
                request, db_session, settings, token, reg, wanted=session_id, values=values,
                errors={e.field if e.field in values else "rating": e.message
                        for e in refused.errors},
                status_code=HTTP_409_CONFLICT if isinstance(refused, ConflictError)
                else HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"/registrations/{token}/feedback?session={session_id}&done=saved",
                        status_code=HTTP_303_SEE_OTHER)


ROUTE_HANDLERS: list[Any] = [FeedbackPages]
