"""An event's public pages before anyone else sees them (Indico's and pretix's preview): a
draft's page and its registration form, as visitors will see them once it is published,
with a notice that it is a preview. Editors may try the form: it is checked by the public
form's own rules and answered with every problem or "filled in correctly", and nothing is
stored or sent. The calendar links work once the event is published. Reading: any account
that sees the event; never indexed, never cached.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event, EventStatus
from service.domain.accounts import can_edit_event
from service.web import page_views as views
from service.web.backoffice.event_pages import event_for
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CSRF_FIELD,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.consultation_pages import consultation_section
from service.web.page_render import html_response
from service.web.pages import (
    AnyRequest,
    FormAnswers,
    read_registration_form,
    registration_form_context,
    submit_label,
    upcoming_session_ids,
)
from service.web.params import DbSession, IdParam, SettingsDep


def _preview(event: Event, request: AnyRequest, account: CurrentAccount, *,
             checked: bool = False) -> dict[str, Any]:
    """What the public templates need to show a preview: where its links go instead, and
    for an editor the back office's form token to try the form with."""
    base = f"{BACKOFFICE_PATH}/events/{event.id}"
    return {"event_url": f"{base}/preview", "register_url": f"{base}/preview/register",
            "back_url": base, "is_draft": event.status == EventStatus.DRAFT,
            "may_try": can_edit_event(account, event), "csrf_field": CSRF_FIELD,
            "csrf": request.state.csrf_token, "checked": checked}


class PreviewController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/preview")
    async def preview_event(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep, account: CurrentAccount,
                            event_id: IdParam) -> Response[str]:
        """The event's public page, as visitors will see it."""
        event = await event_for(db_session, account, event_id)
        now = utc_now()
        view = await views.event_view(db_session, event, settings, now, as_published=True)
        return html_response("event.html", {
            "event": view, "is_archive": views.is_past(event, now),
            "register_label": submit_label(event, view),
            "consultation": await consultation_section(db_session, event, settings),
            "preview": _preview(event, request, account), "robots": "noindex",
        })

    @get("/events/{event_id:int}/preview/register")
    async def preview_registration_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam,
    ) -> Response[str]:
        """The registration form as visitors will see it; it cannot be sent from here."""
        event = await event_for(db_session, account, event_id)
        now = utc_now()
        context, _cookies = await registration_form_context(
            request, db_session, settings, event, now=now, values={},
            chosen=upcoming_session_ids(event, now), errors={}, as_published=True)
        return html_response("register.html", {**context,
                                               "preview": _preview(event, request, account)})

    @post("/events/{event_id:int}/preview/register", guards=[require_editor], status_code=200)
    async def try_registration_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        account: CurrentAccount, event_id: IdParam,
    ) -> Response[str]:
        """The form as a visitor would send it, checked by the public form's rules: every
        problem beside its field, or "filled in correctly"; nothing stored, nothing sent."""
        event = await event_for(db_session, account, event_id, editing=True)
        now = utc_now()
        answers: FormAnswers = read_registration_form(await request.form(), event, now,
                                                      settings)
        context, _cookies = await registration_form_context(
            request, db_session, settings, event, now=now, values=answers.values,
            chosen=set(answers.chosen), errors=answers.errors, as_published=True)
        return html_response(
            "register.html",
            {**context, "preview": _preview(event, request, account,
                                            checked=not answers.errors)},
            status_code=HTTP_422_UNPROCESSABLE_ENTITY if answers.errors else 200)
