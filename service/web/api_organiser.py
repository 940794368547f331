"""Organiser API: the whole programme, read and written with a bearer token.

Handlers translate: parse, call one domain function, present the result. The request's
transaction is committed by the plugin when the response is 2xx and rolled back otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import JSONBody, QueryParameter
from msgspec import UNSET, UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import EventKind, EventStatus, FeedbackQuestion, Session
from service.domain import accounts, programme
from service.domain.link_lists import Link
from service.domain.programme import feedback_questions, materials, translations
from service.domain.programme.inputs import Translations
from service.domain.registration.attendance_lists import (
    record_attendance_list,
    take_back_attendance,
)
from service.settings import Settings
from service.web import presenters, schemas
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam, SettingsDep


async def _session_out(db: AsyncSession, settings: Settings, session: Session,
                       texts: Translations | UnsetType) -> schemas.OrganiserSessionOut:
    """The session after its payload's `translations` (if any) are stored."""
    if texts is not UNSET:
        await translations.apply_payload(db, session.event_id, session, texts, now=utc_now())
    session = await programme.get_session(db, session.id)
    return presenters.organiser_session_out(
        session, session.event.timezone, settings,
        translations.payload_translations(session.event, session))


async def _agenda_item_out(db: AsyncSession, agenda_item_id: int,
                           texts: Translations | UnsetType) -> schemas.OrganiserAgendaItemOut:
    """The agenda item after its payload's `translations` (if any) are stored."""
    item = await programme.get_agenda_item(db, agenda_item_id)
    if texts is not UNSET:
        await translations.apply_payload(db, item.session.event_id, item, texts, now=utc_now())
        item = await programme.get_agenda_item(db, agenda_item_id)
    return presenters.organiser_agenda_item_out(item, item.session.event)


def _questions_out(questions: list[FeedbackQuestion]) -> schemas.FeedbackQuestionsOut:
    return schemas.FeedbackQuestionsOut(questions=[
        schemas.FeedbackQuestionOut(id=q.id, text=q.text, kind=q.kind, required=q.required,
                                    choices=feedback_questions.choice_list(q.choices))
        for q in questions])


class OrganiserController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    # --- organisations ---

    @get("/organisations")
    async def list_organisations(
        self, db_session: DbSession
    ) -> list[schemas.OrganiserOrganisationOut]:
        return [presenters.organiser_organisation_out(o)
                for o in await programme.list_organisations(db_session)]

    @post("/organisations")
    async def create_organisation(
        self, db_session: DbSession, data: JSONBody[schemas.OrganisationCreate]
    ) -> schemas.OrganiserOrganisationOut:
        organisation = await programme.create_organisation(db_session, data, now=utc_now())
        return presenters.organiser_organisation_out(organisation)

    @get("/organisations/{organisation_id:int}")
    async def get_organisation(
        self, db_session: DbSession, organisation_id: IdParam
    ) -> schemas.OrganiserOrganisationOut:
        return presenters.organiser_organisation_out(
            await programme.get_organisation(db_session, organisation_id)
        )

    @patch("/organisations/{organisation_id:int}")
    async def update_organisation(
        self, db_session: DbSession, settings: SettingsDep, organisation_id: IdParam,
        data: JSONBody[schemas.OrganisationUpdate],
    ) -> schemas.OrganiserOrganisationOut:
        organisation = await programme.update_organisation(
            db_session, organisation_id, data, now=utc_now(), settings=settings
        )
        return presenters.organiser_organisation_out(organisation)

    @delete("/organisations/{organisation_id:int}")
    async def delete_organisation(self, db_session: DbSession, organisation_id: IdParam) -> None:
        await programme.delete_organisation(db_session, organisation_id)

    # --- people (speakers, hosts, buyers) ---

    @get("/persons")
    async def list_persons(self, db_session: DbSession) -> list[schemas.PersonOut]:
        return [presenters.person_out(p) for p in await programme.list_persons(db_session)]

    @post("/persons")
    async def create_person(
        self, db_session: DbSession, data: JSONBody[schemas.PersonCreate]
    ) -> schemas.PersonOut:
        person = await programme.create_person(db_session, data, now=utc_now())
        return presenters.person_out(await programme.get_person(db_session, person.id))

    @get("/persons/{person_id:int}")
    async def get_person(self, db_session: DbSession, person_id: IdParam) -> schemas.PersonOut:
        return presenters.person_out(await programme.get_person(db_session, person_id))

    @patch("/persons/{person_id:int}")
    async def update_person(
        self, db_session: DbSession, settings: SettingsDep, person_id: IdParam,
        data: JSONBody[schemas.PersonUpdate],
    ) -> schemas.PersonOut:
        person = await programme.update_person(
            db_session, person_id, data, now=utc_now(), settings=settings
        )
        return presenters.person_out(person)

    @delete("/persons/{person_id:int}")
    async def delete_person(self, db_session: DbSession, person_id: IdParam) -> None:
        await programme.delete_person(db_session, person_id)

    # --- events ---

    @get("/events")
    async def list_events(
        self, request: Request[Any, Any, Any], db_session: DbSession, settings: SettingsDep,
        kind: Annotated[list[EventKind] | None, QueryParameter(name="kind")] = None,
        status: Annotated[list[EventStatus] | None, QueryParameter(name="status")] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> list[schemas.OrganiserEventOut]:
        result = await programme.list_events(
            db_session,
            programme.EventFilter(
                kinds=kind or (), statuses=status or tuple(EventStatus),
                only=await accounts.token_events_filter(db_session,
                                                        request.state.api_token_team_id)),
            page=page, page_size=page_size,
        )
        return [presenters.organiser_event_out(e, settings) for e in result.events]

    @post("/events")
    async def create_event(
        self, request: Request[Any, Any, Any], db_session: DbSession, settings: SettingsDep,
        data: JSONBody[schemas.EventCreate],
    ) -> schemas.OrganiserEventOut:
        event = await programme.create_event(db_session, data, now=utc_now())
        await accounts.place_event_in_team(db_session, event, request.state.api_token_team_id)
        if data.translations is not UNSET:
            event = await translations.apply_payload(db_session, event.id, event,
                                                     data.translations, now=utc_now())
        return presenters.organiser_event_out(event, settings)

    @post("/events/{event_id:int}/copy")
    async def copy_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam,
        data: JSONBody[schemas.EventCopyIn],
    ) -> schemas.OrganiserEventOut:
        """A new draft from the event, on other days (see `programme.copy_event`)."""
        event = await programme.copy_event(db_session, event_id, programme.EventCopy(
            title=data.title, first_day=data.first_day, slug=data.slug or "",
            keeps_speakers=data.keeps_speakers), now=utc_now(), settings=settings)
        return presenters.organiser_event_out(event, settings)

    @get("/events/{event_id:int}")
    async def get_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam
    ) -> schemas.OrganiserEventOut:
        return presenters.organiser_event_out(
            await programme.get_event(db_session, event_id), settings
        )

    @patch("/events/{event_id:int}")
    async def update_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam,
        data: JSONBody[schemas.EventUpdate],
    ) -> schemas.OrganiserEventOut:
        event = await programme.update_event(
            db_session, event_id, data, now=utc_now(), settings=settings
        )
        if data.default_language is not UNSET or data.translations is not UNSET:
            event = await translations.apply_payload(
                db_session, event_id, event,
                data.translations if data.translations is not UNSET else None, now=utc_now(),
                default_language=data.default_language
                if data.default_language is not UNSET else None)
        return presenters.organiser_event_out(event, settings)

    @delete("/events/{event_id:int}")
    async def delete_event(self, db_session: DbSession, event_id: IdParam) -> None:
        await programme.delete_event(db_session, event_id)

    @post("/events/{event_id:int}/publish", status_code=200)
    async def publish_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam
    ) -> schemas.OrganiserEventOut:
        event = await programme.publish_event(db_session, event_id, now=utc_now())
        return presenters.organiser_event_out(event, settings)

    @post("/events/{event_id:int}/unpublish", status_code=200)
    async def unpublish_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam
    ) -> schemas.OrganiserEventOut:
        event = await programme.unpublish_event(db_session, event_id, now=utc_now())
        return presenters.organiser_event_out(event, settings)

    @post("/events/{event_id:int}/cancel", status_code=200)
    async def cancel_event(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam
    ) -> schemas.OrganiserEventOut:
        event = await programme.cancel_event(db_session, event_id, now=utc_now(), settings=settings)
        return presenters.organiser_event_out(event, settings)

    # --- sessions ---

    @post("/events/{event_id:int}/sessions")
    async def add_session(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam,
        data: JSONBody[schemas.SessionCreate],
    ) -> schemas.OrganiserSessionOut:
        session = await programme.add_session(
            db_session, event_id, data, now=utc_now(), settings=settings
        )
        return await _session_out(db_session, settings, session, data.translations)

    @get("/sessions/{session_id:int}")
    async def get_session(
        self, db_session: DbSession, settings: SettingsDep, session_id: IdParam
    ) -> schemas.OrganiserSessionOut:
        session = await programme.get_session(db_session, session_id)
        return await _session_out(db_session, settings, session, UNSET)

    @patch("/sessions/{session_id:int}")
    async def update_session(
        self, db_session: DbSession, settings: SettingsDep, session_id: IdParam,
        data: JSONBody[schemas.SessionUpdate],
    ) -> schemas.OrganiserSessionOut:
        session = await programme.update_session(
            db_session, session_id, data, now=utc_now(), settings=settings
        )
        return await _session_out(db_session, settings, session, data.translations)

    @post("/sessions/{session_id:int}/cancel", status_code=200)
    async def cancel_session(
        self, db_session: DbSession, settings: SettingsDep, session_id: IdParam
    ) -> schemas.OrganiserSessionOut:
        session = await programme.cancel_session(
            db_session, session_id, now=utc_now(), settings=settings
        )
        return presenters.organiser_session_out(session, session.event.timezone, settings)

    @delete("/sessions/{session_id:int}")
    async def delete_session(self, db_session: DbSession, session_id: IdParam) -> None:
        await programme.delete_session(db_session, session_id)

    # --- materials ---

    @get("/sessions/{session_id:int}/materials")
    async def get_materials(self, db_session: DbSession, session_id: IdParam
                            ) -> schemas.MaterialsOut:
        """The session's materials: for everyone, and for registrants only."""
        session = await programme.get_session(db_session, session_id)
        found = await materials.session_materials(db_session, [session.id],
                                                  for_registrants=True)
        return presenters.materials_out(found[session.id])

    @put("/sessions/{session_id:int}/materials")
    async def set_materials(self, db_session: DbSession, session_id: IdParam,
                            data: JSONBody[schemas.MaterialsIn]) -> schemas.MaterialsOut:
        """Replace both lists (all or nothing; every problem at once, named `public[0].url`
        and so on). A link kept for the same readers keeps its title's translations."""
        found = await materials.set_materials(
            db_session, session_id, now=utc_now(),
            public=[Link(title=m.title, url=m.url) for m in data.public],
            for_registrants=[Link(title=m.title, url=m.url) for m in data.for_registrants])
        return presenters.materials_out(found[session_id])

    # --- feedback questions ---

    @get("/events/{event_id:int}/feedback/questions")
    async def get_feedback_questions(self, db_session: DbSession, event_id: IdParam
                                     ) -> schemas.FeedbackQuestionsOut:
        """The event's own feedback questions, in order."""
        event = await programme.get_event(db_session, event_id)
        return _questions_out(await feedback_questions.event_questions(db_session, event.id))

    @put("/events/{event_id:int}/feedback/questions")
    async def set_feedback_questions(self, db_session: DbSession, event_id: IdParam,
                                     data: JSONBody[schemas.FeedbackQuestionsIn]
                                     ) -> schemas.FeedbackQuestionsOut:
        """Replace them all, all or nothing (every problem named: `questions[0].text`); a
        question sent with its `id` keeps its answers and translations, one left out is
        removed with them."""
        return _questions_out(await feedback_questions.set_questions(
            db_session, event_id, [feedback_questions.QuestionDraft(
                text=q.text, kind=q.kind, required=q.required, id=q.id, choices=q.choices)
                for q in data.questions], now=utc_now()))

    # --- attendance ---

    @post("/sessions/{session_id:int}/attendance", status_code=200)
    async def record_attendance(self, db_session: DbSession, session_id: IdParam,
                                data: JSONBody[schemas.AttendanceReportIn]
                                ) -> schemas.AttendanceRecordedOut:
        """Record who attended an online session from its attendee report (every address in
        `report` is read); the session must have started. A second report changes only who
        was not marked yet."""
        recorded = await record_attendance_list(db_session, session_id, data.report,
                                                now=utc_now())
        return schemas.AttendanceRecordedOut(marked=recorded.marked, already=recorded.already,
                                             unknown=recorded.unknown)

    @delete("/sessions/{session_id:int}/attendance/{registration_id:int}")
    async def take_back_attendance(self, db_session: DbSession, session_id: IdParam,
                                   registration_id: IdParam) -> None:
        """A mark made by mistake: the registrant no longer counts as having attended."""
        await take_back_attendance(db_session, session_id, registration_id, now=utc_now())

    # --- agenda items ---

    @post("/sessions/{session_id:int}/agenda-items")
    async def add_agenda_item(
        self, db_session: DbSession, settings: SettingsDep, session_id: IdParam,
        data: JSONBody[schemas.AgendaItemCreate],
    ) -> schemas.OrganiserAgendaItemOut:
        item = await programme.add_agenda_item(
            db_session, session_id, data, now=utc_now(), settings=settings
        )
        return await _agenda_item_out(db_session, item.id, data.translations)

    @get("/agenda-items/{agenda_item_id:int}")
    async def get_agenda_item(
        self, db_session: DbSession, agenda_item_id: IdParam
    ) -> schemas.OrganiserAgendaItemOut:
        return await _agenda_item_out(db_session, agenda_item_id, UNSET)

    @patch("/agenda-items/{agenda_item_id:int}")
    async def update_agenda_item(
        self, db_session: DbSession, settings: SettingsDep, agenda_item_id: IdParam,
        data: JSONBody[schemas.AgendaItemUpdate],
    ) -> schemas.OrganiserAgendaItemOut:
        item = await programme.update_agenda_item(
            db_session, agenda_item_id, data, now=utc_now(), settings=settings
        )
        return await _agenda_item_out(db_session, item.id, data.translations)

    @delete("/agenda-items/{agenda_item_id:int}")
    async def delete_agenda_item(
        self, db_session: DbSession, settings: SettingsDep, agenda_item_id: IdParam
    ) -> None:
        await programme.delete_agenda_item(
            db_session, agenda_item_id, now=utc_now(), settings=settings
        )

