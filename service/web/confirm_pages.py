"""The page behind the "confirm your address" link (events that ask registrants for it).

Opening the link changes nothing: mail scanners and link previews open links before people
do. The page shows a button; pressing it (a POST with the same CSRF token as every other
form) files the registration, and answers like the registration form does. A link used
already, replaced by a newer one or lapsed says so and offers to register again. Thin: one
domain call per request; the token is in the path and never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_410_GONE,
)

from service.clock import utc_now
from service.db.models import EnrolmentStatus
from service.domain import programme, registration, wording
from service.domain.errors import ConflictError, NotFoundError
from service.i18n import gettext as _
from service.settings import Settings
from service.web import page_views as views
from service.web.page_render import html_response
from service.web.pages import (
    OUTCOME_HEADINGS,
    AnyRequest,
    PublicPages,
    _csrf,
    _csrf_ok,
    _error_page,
)
from service.web.params import DbSession, PathText, SettingsDep, TokenParam

_LINK_STATUS = {
    registration.LinkState.READY: 200,
    registration.LinkState.ALREADY: 200,
    registration.LinkState.REPLACED: HTTP_410_GONE,
    registration.LinkState.EXPIRED: HTTP_410_GONE,
}
_HOURS = int(registration.CONFIRMATION_PERIOD.total_seconds() // 3600)


class AddressConfirmationPages(Controller):
    include_in_schema = False
    exception_handlers = PublicPages.exception_handlers

    @get("/events/{slug:str}/confirm/{token:str}")
    async def confirm_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        slug: PathText, token: TokenParam,
    ) -> Response[str]:
        """Where the link stands; while it works, the button that confirms."""
        try:
            link = await registration.check_address_link(db_session, slug, token,
                                                         now=utc_now())
        except NotFoundError:
            return await _unknown_link_page(db_session, slug)
        return _link_page(request, settings, slug, token, link)

    @post("/events/{slug:str}/confirm/{token:str}", status_code=200)
    async def confirm(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        slug: PathText, token: TokenParam,
    ) -> Response[str]:
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _error_page(HTTP_403_FORBIDDEN, _("Please press the button again"),
                               _("Go back, reload the page and press the button again."),
                               cookies=_csrf(request, settings)[1])
        now = utc_now()
        try:
            link = await registration.confirm_address(db_session, slug, token, now=now,
                                                      settings=settings)
        except NotFoundError:
            return await _unknown_link_page(db_session, slug)
        except ConflictError as error:
            return _error_page(HTTP_409_CONFLICT, _("Your registration cannot be filed"),
                               error.message)
        if link.state != registration.LinkState.CONFIRMED:
            return _link_page(request, settings, slug, token, link)
        return await _filed_page(db_session, settings, link, now)


def _link_page(request: AnyRequest, settings: Settings, slug: str, token: str,
               link: registration.AddressLink) -> Response[str]:
    reg = link.registration
    csrf_token, cookies = _csrf(request, settings)
    return html_response("confirm_address.html", {
        "state": str(link.state),
        "event_title": reg.event.title,
        "slug": slug,
        "token": token,
        "name": reg.name,
        "email": reg.email,
        "status_label": _(wording.STATUS_LABELS[reg.status]),
        "position": link.waiting_position,
        "hours": _HOURS,
        "csrf_token": csrf_token,
        "robots": "noindex",
    }, status_code=_LINK_STATUS[link.state], cookies=cookies)


async def _unknown_link_page(db_session: DbSession, slug: str) -> Response[str]:
    """Unknown, or lapsed and deleted: for a real event, say so and offer the form again."""
    try:
        event = await programme.get_published_event(db_session, slug)
    except NotFoundError:
        return _error_page(HTTP_404_NOT_FOUND, _("Page not found"),
                           _("There is nothing at this address."))
    return html_response("confirm_address.html", {
        "state": "unknown", "event_title": event.title, "slug": event.slug,
        "hours": _HOURS, "robots": "noindex",
    }, status_code=HTTP_404_NOT_FOUND)


async def _filed_page(db_session: DbSession, settings: Settings,
                      link: registration.AddressLink, now: datetime) -> Response[str]:
    """Confirmed now: the same answer the form gives where no confirmation is asked for."""
    reg = link.registration
    event = await programme.get_event(db_session, reg.event_id)
    counts = await registration.count_confirmed_enrolments(db_session, [s.id for s in event.sessions])
    enrolments: list[views.EnrolmentView] = [
        e for e in views.enrolment_views(reg, reg.event, reg.enrolments, settings, counts,
                                         with_join_links=False)
        if e.status != str(EnrolmentStatus.CANCELLED)
    ]
    state = str(reg.status)
    return html_response("registered.html", {
        "event": await views.event_view(db_session, event, settings, now),
        "outcome": state,
        "heading": _(OUTCOME_HEADINGS.get(state, OUTCOME_HEADINGS["received"])),
        "email": reg.email,
        "position": link.waiting_position,
        "enrolments": enrolments,
        "robots": "noindex",
    })


ROUTE_HANDLERS: list[Any] = [AddressConfirmationPages]
