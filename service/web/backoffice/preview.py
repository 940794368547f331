"""An event's public pages before anyone else sees them (Indico's and pretix's preview): a
draft's page and its registration form, as visitors will see them once it is published,
with a notice that it is a preview. The form cannot be sent from the preview, and the
calendar links work once the event is published. Any account that sees the event; never
indexed, never cached.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get

from service.clock import utc_now
from service.db.models import Event, EventStatus
from service.web import page_views as views
from service.web.backoffice.event_pages import event_for
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.consultation_pages import consultation_section
from service.web.page_render import html_response
from service.web.pages import (
    AnyRequest,
    registration_form_context,
    submit_label,
    upcoming_session_ids,
)
from service.web.params import DbSession, IdParam, SettingsDep


def _preview(event: Event) -> dict[str, Any]:
    """What the public templates need to show a preview: where its links go instead."""
    base = f"{BACKOFFICE_PATH}/events/{event.id}"
    return {"event_url": f"{base}/preview", "register_url": f"{base}/preview/register",
            "back_url": base, "is_draft": event.status == EventStatus.DRAFT}


class PreviewController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/preview")
    async def preview_event(self, db_session: DbSession, settings: SettingsDep,
                            account: CurrentAccount, event_id: IdParam) -> Response[str]:
        """The event's public page, as visitors will see it."""
        event = await event_for(db_session, account, event_id)
        now = utc_now()
        view = await views.event_view(db_session, event, settings, now, as_published=True)
        return html_response("event.html", {
            "event": view, "is_archive": views.is_past(event, now),
            "register_label": submit_label(event, view),
            "consultation": await consultation_section(db_session, event, settings),
            "preview": _preview(event), "robots": "noindex",
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
        return html_response("register.html", {**context, "preview": _preview(event)})
