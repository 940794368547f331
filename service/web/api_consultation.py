"""Meet-your-Buyer consultations through the API: the public consultation, a supplier's own
meeting requests and questions (through their private link), and organisers' meetings.

Thin handlers: parse, call the domain (service/domain/consultation), present. The public
answer names the buyer's hosts but never their addresses; a supplier sees only their own
requests and meetings; answers to private links are marked `no-store`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.params import JSONBody
from msgspec import Meta, Struct

from service.clock import utc_now
from service.db.models import EventKind, Registration
from service.domain import consultation, programme
from service.domain import registration as registrations
from service.domain.consultation import meetings
from service.domain.errors import NotFoundError
from service.domain.programme.translations import reader
from service.domain.times import iso_utc
from service.i18n import N_, current_language
from service.i18n import gettext as _
from service.web.api_public import SlugParam
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam, SettingsDep, TokenParam
from service.web.schemas import Input

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NO_MEETINGS = N_("This registration has no one-to-one meetings.")


class CpvCodeOut(Struct):
    code: str
    label: str | None


class HostOut(Struct):
    name: str
    job_title: str | None


class DocumentOut(Struct):
    title: str
    url: str
    shared_at: str


class QuestionOut(Struct):
    question: str
    answer: str
    asked_by: str  # "a supplier" unless the asker agreed to be named
    asked_at: str
    answered_at: str


class ConsultationOut(Struct):
    event_slug: str
    buyer: str
    subject: str
    language: str  # the subject's, as `language` of an event
    cpv_codes: list[CpvCodeOut]
    estimated_value_eur: str | None  # "250000.00"
    planned_publication_on: date | None
    procedure: str | None
    procedure_label: str
    market_questions: str
    notice_text: str
    hosts: list[HostOut]
    documents: list[DocumentOut]
    questions: list[QuestionOut]


class MeetingRequestIn(Input):
    host_ids: Annotated[list[Annotated[int, Meta(ge=1, le=2_147_483_647)]],
                        Meta(min_length=1, max_length=20,
                             description="Hosts to meet, in order of preference.")]
    topic: Annotated[str, Meta(max_length=2000)]


class QuestionIn(Input):
    question: Annotated[str, Meta(max_length=4000)]
    may_name_asker: bool = False


class AskedOut(Struct):
    id: int
    question: str
    asked_at: str
    detail: str


class RequestOut(Struct):
    id: int
    host: str
    rank: int
    topic: str
    status: str
    meeting: str | None  # its time in the event's zone, once placed


class MeetingOut(Struct):
    id: int
    request_id: int
    starts_at: str
    ends_at: str
    timezone: str
    table: str
    join_url: str | None
    host: str
    host_organisation: str | None
    supplier: str
    supplier_company: str
    topic: str
    status: str
    is_locked: bool
    uid: str
    sequence: int


class HostChoiceOut(Struct):
    id: int
    name: str


class SupplierMeetingsOut(Struct):
    hosts: list[HostChoiceOut]
    requests: list[RequestOut]
    meetings: list[MeetingOut]
    can_pick_slots: bool


class ScheduleOut(Struct):
    placed: int
    requested: int
    new: int
    moved: int
    cancelled: int
    unplaced_request_ids: list[int]
    idle_gaps: int


def _euros(cents: int | None) -> str | None:
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}"


def meeting_out(view: meetings.MeetingView) -> MeetingOut:
    return MeetingOut(
        id=view.id, request_id=view.request_id, starts_at=iso_utc(view.starts_at),
        ends_at=iso_utc(view.ends_at), timezone=view.timezone, table=view.table_name,
        join_url=view.join_url, host=view.host_name, host_organisation=view.host_organisation,
        supplier=view.supplier_name, supplier_company=view.supplier_company, topic=view.topic,
        status=str(view.status), is_locked=view.is_locked, uid=view.uid,
        sequence=view.sequence)


async def _supplier_meetings(db: DbSession, registration: Registration) -> SupplierMeetingsOut:
    desk = await meetings.supplier_desk(db, registration)
    if desk is None:
        raise NotFoundError(_(NO_MEETINGS), "token")
    return SupplierMeetingsOut(
        hosts=[HostChoiceOut(id=host_id, name=name) for host_id, name in desk.hosts],
        requests=[RequestOut(id=r.id, host=r.host_name, rank=r.rank, topic=r.topic,
                             status=r.status, meeting=r.meeting) for r in desk.requests],
        meetings=[meeting_out(view) for view in desk.meetings],
        can_pick_slots=desk.can_pick)


class ConsultationController(Controller):
    path = "/api"
    tags = ["consultation"]

    @get("/events/{slug:str}/consultation")
    async def get_consultation(
        self, db_session: DbSession, settings: SettingsDep, slug: SlugParam
    ) -> ConsultationOut:
        """A published Meet-your-Buyer event's market consultation: the buyer's profile,
        the hosts (by name), the documents shared with every supplier and the published
        questions and answers. The subject, notice and questions to the market, the
        documents' titles and the questions and answers are in the language of the request
        where the organisers gave them (`language` says the subject's), else as written.
        404 for other events and a consultation not written yet."""
        event = await programme.get_published_event(db_session, slug)
        language = current_language()
        profile = (await consultation.find_profile(db_session, event.id, language=language)
                   if event.kind == EventKind.MEET_YOUR_BUYER else None)
        if profile is None:
            raise NotFoundError(_("This event has no market consultation."), "slug")
        documents = await consultation.list_documents(db_session, event.id)
        questions = await consultation.published_questions(db_session, event.id,
                                                           language=language)
        read = await reader(db_session, event.id, language)
        return ConsultationOut(
            event_slug=event.slug, buyer=profile.buyer_name, subject=profile.subject,
            language=profile.language,
            cpv_codes=[CpvCodeOut(code=c.code, label=c.label) for c in profile.cpv_codes],
            estimated_value_eur=_euros(profile.estimated_value_cents),
            planned_publication_on=profile.planned_publication_on,
            procedure=str(profile.procedure) if profile.procedure else None,
            procedure_label=profile.procedure_label,
            market_questions=profile.market_questions, notice_text=profile.notice_text,
            hosts=[HostOut(name=h.name, job_title=h.job_title) for h in profile.hosts],
            documents=[DocumentOut(title=read(d, "title"),
                                   url=consultation.document_url(settings, event.slug, d),
                                   shared_at=iso_utc(d.shared_at)) for d in documents],
            questions=[QuestionOut(question=q.question, answer=q.answer, asked_by=q.asked_by,
                                   asked_at=iso_utc(q.asked_at),
                                   answered_at=iso_utc(q.answered_at)) for q in questions],
        )

    @get("/registrations/{token:str}/meetings")
    async def get_my_meetings(
        self, db_session: DbSession, token: TokenParam
    ) -> Response[SupplierMeetingsOut]:
        """A supplier's own meeting requests and meetings, and the hosts they may ask."""
        registration = await registrations.find_registration_by_token(db_session, token)
        return Response(await _supplier_meetings(db_session, registration), headers=PRIVATE)

    @post("/registrations/{token:str}/meeting-requests", status_code=201)
    async def request_meetings(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        data: JSONBody[MeetingRequestIn],
    ) -> Response[SupplierMeetingsOut]:
        """Ask to meet hosts, in order of preference, about a topic (asking a host again
        replaces that request's topic and rank)."""
        registration = await registrations.find_registration_by_token(db_session, token)
        await meetings.request_meetings(db_session, registration.id, data.host_ids, data.topic,
                                        now=utc_now(), settings=settings)
        return Response(await _supplier_meetings(db_session, registration), status_code=201,
                        headers=PRIVATE)

    @delete("/registrations/{token:str}/meeting-requests/{request_id:int}", status_code=200)
    async def withdraw_request(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        request_id: IdParam,
    ) -> Response[SupplierMeetingsOut]:
        """Withdraw one of the supplier's requests; a meeting it has is cancelled, and both
        sides get the cancellation. Withdrawing again changes nothing."""
        registration = await registrations.find_registration_by_token(db_session, token)
        await meetings.supplier_registration(db_session, registration.id)
        await meetings.withdraw_request(db_session, registration.id, request_id, now=utc_now(),
                                        settings=settings)
        return Response(await _supplier_meetings(db_session, registration), headers=PRIVATE)

    @post("/registrations/{token:str}/questions", status_code=201)
    async def ask_question(
        self, db_session: DbSession, token: TokenParam, data: JSONBody[QuestionIn],
    ) -> Response[AskedOut]:
        """A registered supplier asks the buyer a question. The answer is published to every
        supplier, naming the asker only if `may_name_asker` is true."""
        registration = await registrations.find_registration_by_token(db_session, token)
        asked = await consultation.ask_question(db_session, registration, data.question,
                                                may_name_asker=data.may_name_asker,
                                                now=utc_now())
        return Response(AskedOut(id=asked.id, question=asked.question,
                                 asked_at=iso_utc(asked.asked_at),
                                 detail=_("Your question is with the buyer. The answer will be "
                                          "published to every registered supplier.")),
                        status_code=201, headers=PRIVATE)


class OrganiserConsultationController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/events/{event_id:int}/meetings")
    async def list_meetings(self, db_session: DbSession, event_id: IdParam) -> list[MeetingOut]:
        """The event's one-to-one meetings (cancelled ones included), in time order."""
        await consultation.load_consultation_event(db_session, event_id)
        return [meeting_out(view) for view in await meetings.meeting_views(db_session, event_id)]

    @post("/events/{event_id:int}/meetings/schedule", status_code=200)
    async def schedule_all(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam
    ) -> ScheduleOut:
        """"Schedule all": place the accepted requests (locked meetings stay), invite,
        update or cancel each side, and say what was done."""
        outcome = await meetings.schedule_all_meetings(db_session, event_id, now=utc_now(),
                                                       settings=settings)
        return ScheduleOut(placed=outcome.placed, requested=outcome.requested, new=outcome.new,
                           moved=outcome.moved, cancelled=outcome.cancelled,
                           unplaced_request_ids=outcome.unplaced_request_ids,
                           idle_gaps=outcome.idle_gaps)


ROUTE_HANDLERS = [ConsultationController, OrganiserConsultationController]
