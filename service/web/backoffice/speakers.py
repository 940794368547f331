"""An event's speakers in the back office: their slots, whether each slot's notice went
out, and their private link, shown and copied without replacing it.

"Send the link again" emails the same link; "issue a new link" revokes the old one and
asks for a confirmation first, since the link already emailed then stops working. Events
of other teams are not found (404); a viewer reads but changes nothing (403).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.clock import utc_now
from service.db.models import Event
from service.domain import programme
from service.domain.accounts import SignedInAccount, can_edit_event, can_see_event
from service.domain.errors import NotFoundError
from service.domain.notices import speaker_desk
from service.domain.wording import period_text, start_text
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    BackofficeForbidden,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

DONE = {"sent": N_("The link was emailed again to %(name)s."),
        "replaced": N_("%(name)s has a new link; the old one no longer works."),
        "made": N_("%(name)s has a private link now: copy it or send it.")}
NOTICE_LABELS = {"sent": N_("Notice sent"), "pending": N_("Notice due"), "none": N_("No notice")}


async def visible_event(db: DbSession, account: SignedInAccount, event_id: int, *,
                        editing: bool = False) -> Event:
    """The event if the account may see it (404 otherwise: other teams' events are not
    shown to exist), and change it when `editing` (403)."""
    event = await programme.get_event(db, event_id)
    if not can_see_event(account, event):
        raise NotFoundError(_("No event with id %(id)s.") % {"id": event_id}, "event_id")
    if editing and not can_edit_event(account, event):
        raise BackofficeForbidden(_("Your account can look at this event but not change it."))
    return event


class SpeakersController(Controller):
    path = BACKOFFICE_PATH + "/events/{event_id:int}/speakers"
    include_in_schema = False

    @get("/", guards=[require_account])
    async def speakers(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                       account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await visible_event(db_session, account, event_id)
        speakers = await speaker_desk.list_event_speakers(db_session, event_id,
                                                          settings=settings)
        done = request.query_params.get("done")
        person = request.query_params.get("person", "")
        names = {str(s.person.id): s.person.name for s in speakers}
        message = (_(DONE[done]) % {"name": names[person]}
                   if done in DONE and person in names else None)
        return organiser_page(request, "speakers.html", {
            "title": _("Speakers: %(title)s") % {"title": event.title}, "nav": "events",
            "event": event, "speakers": speakers, "message": message,
            "notice_labels": {key: _(label) for key, label in NOTICE_LABELS.items()},
            "period": lambda slot: period_text(slot.starts_at, slot.ends_at, event.timezone),
            "moment": lambda instant: start_text(instant, event.timezone),
            "can_edit": can_edit_event(account, event)})

    @post("/{person_id:int}/send-link", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def send_link(self, db_session: DbSession, settings: SettingsDep,
                        account: CurrentAccount, event_id: IdParam,
                        person_id: IdParam) -> Redirect:
        await visible_event(db_session, account, event_id, editing=True)
        await speaker_desk.send_speaker_links(db_session, event_id, person_id, now=utc_now(),
                                              settings=settings)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/speakers?done=sent"
                        f"&person={person_id}#speaker-{person_id}",
                        status_code=HTTP_303_SEE_OTHER)

    @get("/{person_id:int}/new-link", guards=[require_editor])
    async def confirm_new_link(self, request: AnyRequest, db_session: DbSession,
                               settings: SettingsDep, account: CurrentAccount,
                               event_id: IdParam, person_id: IdParam) -> Response[Any]:
        event = await visible_event(db_session, account, event_id, editing=True)
        speakers = await speaker_desk.list_event_speakers(db_session, event_id,
                                                          settings=settings)
        speaker = next((s for s in speakers if s.person.id == person_id), None)
        if speaker is None:
            raise NotFoundError(_("This person does not speak in this event."), "person_id")
        return organiser_page(request, "speaker_new_link.html", {
            "title": _("A new link for %(name)s") % {"name": speaker.person.name}, "nav": "events",
            "event": event, "speaker": speaker})

    @post("/{person_id:int}/new-link", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def new_link(self, db_session: DbSession, settings: SettingsDep,
                       account: CurrentAccount, event_id: IdParam,
                       person_id: IdParam) -> Redirect:
        await visible_event(db_session, account, event_id, editing=True)
        had_link = bool(await speaker_desk.live_speaker_links(db_session, [person_id],
                                                              settings=settings))
        await speaker_desk.replace_speaker_links(db_session, event_id, person_id,
                                                 now=utc_now(), settings=settings)
        done = "replaced" if had_link else "made"
        return Redirect(f"{BACKOFFICE_PATH}/events/{event_id}/speakers?done={done}"
                        f"&person={person_id}#speaker-{person_id}",
                        status_code=HTTP_303_SEE_OTHER)
