"""A registrant's feedback on an event, from their private page (and the link in the
organisers' messages): how useful it was, what helped, what to change.

Opening the form changes nothing; sending it records the answers (the CSRF token every
public form carries) and shows the form again, saved, to change if they like. Before a
session of theirs is over the page says feedback comes later. Thin: one domain call per
request; the token is in the path and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
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

from service.clock import utc_now
from service.db.models import Registration
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.registration import feedback, find_registration_by_token
from service.i18n import gettext as _
from service.settings import Settings
from service.web.erase_pages import erased_link_page
from service.web.page_render import html_response
from service.web.pages import (
    AnyRequest,
    PublicPages,
    _csrf,
    _csrf_ok,
    _form_expired_page,
    live_registration,
)
from service.web.params import DbSession, SettingsDep, TokenParam


def _answer(form: FormMultiDict, name: str, limit: int) -> str:
    """One answer as sent, read one past its limit (refused then, never cut)."""
    value = form.get(name)
    return value.strip()[:limit + 1] if isinstance(value, str) else ""


def _page(request: AnyRequest, settings: Settings, token: str, reg: Registration, *,
          values: Mapping[str, str], errors: Mapping[str, str] | None = None,
          saved: bool = False, status_code: int = 200) -> Response[str]:
    csrf_token, cookies = _csrf(request, settings)
    errors = dict(errors or {})
    order = {name: index for index, name in enumerate(feedback.FIELDS)}
    return html_response("feedback.html", {
        "token": token, "event_title": reg.event.title, "event_slug": reg.event.slug,
        "may_give": feedback.may_give_feedback(reg, utc_now()),
        "ratings": [(str(r), _(feedback.RATING_LABELS[r])) for r in feedback.RATINGS],
        "values": values, "errors": errors,
        "error_links": [(f"#{field}", message) for field, message
                        in sorted(errors.items(), key=lambda item: order.get(item[0], -1))],
        "limit": feedback.MAX_COMMENT, "saved": saved,
        "csrf_token": csrf_token, "robots": "noindex",
    }, status_code=status_code, cookies=cookies)


class FeedbackPages(Controller):
    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @get("/registrations/{token:str}/feedback")
    async def feedback_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        token: TokenParam,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[str]:
        reg = await live_registration(db_session, token)
        if reg is None:
            return erased_link_page()
        given = await feedback.feedback_of(db_session, reg.id)
        values = {"rating": str(given.rating), "most_useful": given.most_useful,
                  "to_improve": given.to_improve} if given else {}
        return _page(request, settings, token, reg, values=values,
                     saved=done == "saved" and given is not None)

    @post("/registrations/{token:str}/feedback", status_code=HTTP_303_SEE_OTHER)
    async def give_feedback(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        token: TokenParam,
    ) -> Response[Any]:
        form = await request.form()
        reg = await live_registration(db_session, token)
        if reg is None:
            return erased_link_page()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        values = {"rating": _answer(form, "rating", 1),
                  "most_useful": _answer(form, "most_useful", feedback.MAX_COMMENT),
                  "to_improve": _answer(form, "to_improve", feedback.MAX_COMMENT)}
        try:
            await feedback.give_feedback(db_session, reg, feedback.FeedbackForm(
                rating=int(values["rating"]) if values["rating"].isdigit() else None,
                most_useful=values["most_useful"], to_improve=values["to_improve"]),
                now=utc_now())
        except (InvalidInputError, ConflictError) as refused:
            await db_session.rollback()
            reg = await find_registration_by_token(db_session, token)
            return _page(request, settings, token, reg, values=values,
                         errors={e.field or "rating": e.message for e in refused.errors},
                         status_code=HTTP_409_CONFLICT if isinstance(refused, ConflictError)
                         else HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"/registrations/{token}/feedback?done=saved",
                        status_code=HTTP_303_SEE_OTHER)


ROUTE_HANDLERS: list[Any] = [FeedbackPages]
