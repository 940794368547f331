"""Registration API: the public form, the registrant's private link, and organisers' views.

Handlers translate: parse, call the domain, present. Private links carry a token in the
path; it is never logged here, and answers to token requests are marked `no-store`. An
unknown or revoked token gets the same 404 as any other unknown link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import (
    Enrolment,
    EnrolmentStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    Session,
    SessionMaterial,
    SessionMode,
    SessionStatus,
)
from service.domain import programme, urls
from service.domain import registration as registrations
from service.domain.accounts import audit
from service.domain.accounts.audit import actor_of, record_export
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme.feedback_questions import event_questions
from service.domain.programme.materials import holds_a_place, session_materials
from service.domain.programme.translations import choices_read, localised, reader
from service.domain.registration import feedback
from service.domain.times import iso_utc
from service.i18n import N_, current_language, is_language
from service.i18n import gettext as _
from service.settings import Settings
from service.web import api_privacy
from service.web import registration_schemas as rs
from service.web.api_public import SlugParam
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam, SettingsDep, TokenParam
from service.web.presenters import time_out
from service.web.rate_limit import (
    client_address,
    count_request,
    link_request_limit,
    registration_limit,
)
from service.web.registration_desk import RegistrationDesk
from service.web.schemas import MaterialOut, RateLimitedOut

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
LINK_SENT = N_("If this address is registered for this event, its private link is on its way to "
             "it.")
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id", "status", "waiting_position", "name", "email", "organisation", "organisation_kind",
    "country", "job_title", "access_note", "company", "sector", "offer_note", "whole_event",
    "confirmed_sessions", "waiting_sessions", "consent_at", "registered_at", "decided_at",
    "cancelled_at", "attendance", "checked_in_at", "checked_in_sessions",
)


# --- presenting ----------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def _by_start(registration: Registration) -> list[Enrolment]:
    return sorted(registration.enrolments, key=lambda e: (e.session.starts_at, e.session_id))


def receipt_out(outcome: registrations.RegistrationOutcome, slug: str,
                settings: Settings) -> rs.RegistrationReceiptOut:
    if outcome.registration.status == RegistrationStatus.UNCONFIRMED:
        # The same answer whether the address asked just now or before: it reveals nothing.
        return rs.RegistrationReceiptOut(
            is_new=True, event_slug=slug,
            detail=_("Check your inbox: we sent a link to confirm your email address. Your "
                     "registration counts once you have confirmed it, within 48 hours."),
            status=RegistrationStatus.UNCONFIRMED, waiting_position=None, sessions=[],
            manage_url=None,
        )
    if not outcome.is_new:
        return rs.RegistrationReceiptOut(
            is_new=False, event_slug=slug,
            detail=_("This email address is registered for this event already. Your "
                     "confirmation email has the link to see, change or cancel your "
                     "registration."),
            status=None, waiting_position=None, sessions=[], manage_url=None,
        )
    registration = outcome.registration
    details = {
        RegistrationStatus.CONFIRMED: _("You are registered. A confirmation with a calendar "
                                        "invite is on its way to your inbox."),
        RegistrationStatus.WAITING: _("All places are taken: you are on the waiting list. "
                                      "We will email you if a place becomes free."),
        RegistrationStatus.PENDING: _("Your application is received. The organisers will "
                                      "review it and email you their decision."),
    }
    return rs.RegistrationReceiptOut(
        is_new=True, event_slug=slug,
        detail=details.get(registration.status, _("Registration received.")),
        status=registration.status,
        waiting_position=outcome.waiting_position,
        sessions=[
            rs.ReceiptSessionOut(id=e.session_id, title=e.session.title, status=e.status)
            for e in _by_start(registration)
            if e.status != EnrolmentStatus.CANCELLED
        ],
        manage_url=urls.manage_url(settings, outcome.manage_token)
        if outcome.manage_token else None,
    )


def registration_out(
    registration: Registration, *, position: int | None, manage_token: str,
    links_feed_url: str, settings: Settings,
    materials: Mapping[int, Sequence[SessionMaterial]] | None = None,
) -> rs.RegistrationOut:
    """`materials`: the sessions' materials, those for registrants only included."""
    event = registration.event
    zone = event.timezone
    sessions = []
    for enrolment in _by_start(registration):
        session = enrolment.session
        confirmed = (enrolment.status == EnrolmentStatus.CONFIRMED
                     and session.status == SessionStatus.SCHEDULED)
        shared = [MaterialOut(title=m.title, url=m.url)
                  for m in (materials or {}).get(session.id, ())
                  if not m.is_for_registrants or holds_a_place(registration, enrolment)]
        sessions.append(
            rs.RegistrationSessionOut(
                id=session.id, title=session.title, status=enrolment.status,
                session_status=session.status, mode=session.mode,
                starts=time_out(session.starts_at, zone), ends=time_out(session.ends_at, zone),
                join_url=session.join_url
                if confirmed and session.mode != SessionMode.IN_PERSON else None,
                materials=shared,
                attended_at=iso_utc(enrolment.checked_in_at) if enrolment.checked_in_at
                else None,
            )
        )
    return rs.RegistrationOut(
        **_registrant_fields(registration, position),
        created_at=iso_utc(registration.created_at),
        event=rs.RegistrationEventOut(
            slug=event.slug, title=event.title, kind=event.kind, timezone=zone,
            url=urls.event_page_url(settings, event.slug),
            registrant_note=str(localised(event, "registrant_note", current_language())),
        ),
        sessions=sessions,
        manage_url=urls.manage_url(settings, manage_token),
        feed_url=links_feed_url,
        invite_url=urls.invite_url(settings, manage_token),
    )


def _registrant_fields(registration: Registration, position: int | None) -> dict[str, Any]:
    """What the registrant told us and where they stand: shown to them and to organisers."""
    return {
        "status": registration.status,
        "waiting_position": position,
        "name": registration.name,
        "email": registration.email,
        "organisation_name": registration.organisation_name,
        "organisation_kind": registration.organisation_kind,
        "country": registration.country,
        "job_title": registration.job_title,
        "access_note": registration.access_note,
        "company": registration.company,
        "sector": registration.sector,
        "offer_note": registration.offer_note,
        "attendance": registration.attendance,
        "is_whole_event": registration.is_whole_event,
        "consent_at": iso_utc(registration.consent_at),
        "privacy_notice_version_id": registration.privacy_notice_version_id,
        "keep_informed_at": _iso(registration.keep_informed_at),
    }


def organiser_registration_out(registration: Registration, position: int | None
                               ) -> rs.OrganiserRegistrationOut:
    return rs.OrganiserRegistrationOut(
        id=registration.id,
        event_id=registration.event_id,
        **_registrant_fields(registration, position),
        waiting_since=_iso(registration.waiting_since),
        address_confirmed_at=_iso(registration.address_confirmed_at),
        confirmation_expires_at=_iso(registration.confirmation_expires_at),
        decided_at=_iso(registration.decided_at),
        cancelled_at=_iso(registration.cancelled_at),
        checked_in_at=_iso(registration.checked_in_at),
        created_at=iso_utc(registration.created_at),
        updated_at=iso_utc(registration.updated_at),
        sessions=[
            rs.EnrolmentOut(session_id=e.session_id, title=e.session.title, status=e.status,
                            checked_in_at=_iso(e.checked_in_at))
            for e in _by_start(registration)
        ],
    )


def email_history_out(email: OutboxEmail) -> rs.EmailHistoryOut:
    return rs.EmailHistoryOut(
        id=email.id,
        template=email.template,
        subject=email.subject,
        to_address=email.to_address,
        status=email.status,
        attempts=email.attempts,
        last_error=email.last_error,
        created_at=iso_utc(email.created_at),
        next_attempt_at=iso_utc(email.next_attempt_at),
        sent_at=_iso(email.sent_at),
    )


CSV_EXPORT_SUBJECT = "registrations_export"


async def record_csv_export(db: AsyncSession, event_id: int, rows: int,
                            query: dict[str, Any]) -> None:
    """Registrations leaving as CSV are recorded in the audit log: by whom, how many, which."""
    actor = actor_of(db)
    if actor is not None:
        await record_export(db, actor, what=CSV_EXPORT_SUBJECT, rows=rows, now=utc_now(),
                            event_id=event_id, details={"format": "csv", "filter": {
                                key: str(value) for key, value in query.items()
                                if value is not None}})


def neutralise_cell(value: object) -> object:
    """Spreadsheet formula injection: text starting like a formula is prefixed with '."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte order mark and CRLF rows, so that Excel opens it as it should;
    formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def registrations_csv(rows: Sequence[Registration], positions: dict[int, int]) -> bytes:
    """One row per registration, under `CSV_COLUMNS`."""
    lines: list[Sequence[object]] = [CSV_COLUMNS]
    for registration in rows:
        enrolments = _by_start(registration)
        confirmed = "; ".join(
            e.session.title for e in enrolments if e.status == EnrolmentStatus.CONFIRMED
        )
        waiting = "; ".join(
            e.session.title for e in enrolments if e.status == EnrolmentStatus.WAITING
        )
        came = "; ".join(e.session.title for e in enrolments if e.checked_in_at is not None)
        cells: list[object] = [
            registration.id, str(registration.status), positions.get(registration.id, ""),
            registration.name, registration.email, registration.organisation_name,
            str(registration.organisation_kind or ""), registration.country or "",
            registration.job_title or "", registration.access_note or "",
            registration.company or "", registration.sector or "", registration.offer_note or "",
            "yes" if registration.is_whole_event else "no",
            confirmed, waiting,
            iso_utc(registration.consent_at), iso_utc(registration.created_at),
            _iso(registration.decided_at) or "", _iso(registration.cancelled_at) or "",
            str(registration.attendance or ""), _iso(registration.checked_in_at) or "", came,
        ]
        lines.append(cells)
    return spreadsheet_csv(lines)


def _registration_form(data: rs.RegistrationCreate) -> registrations.RegistrationForm:
    """The JSON body as the domain's form; without a language, the request's."""
    if data.language is not None and not is_language(data.language):
        raise InvalidInputError(_("Choose one of the languages offered."), "language")
    return registrations.RegistrationForm(
        name=data.name, email=data.email, consent=data.consent,
        organisation_name=data.organisation_name, organisation_kind=data.organisation_kind,
        country=data.country, job_title=data.job_title, access_note=data.access_note,
        company=data.company, sector=data.sector, offer_note=data.offer_note,
        session_ids=tuple(data.session_ids) if data.session_ids is not None else None,
        attendance=data.attendance,
        privacy_notice_version_id=data.privacy_notice_version_id,
        keep_informed=data.keep_informed,
        language=current_language() if data.language is None else data.language,
    )


# --- public: the form and the private link ---------------------------------------------------


async def _feedback_out(db: AsyncSession, registration: Registration) -> rs.FeedbackOut:
    asked = feedback.sessions_asked(registration, utc_now())
    given = await feedback.feedback_of(db, registration.id)
    own = await feedback.own_answers(db, [f.id for f in given.values()])
    read = await reader(db, registration.event_id, current_language())

    def one(session: Session) -> rs.SessionFeedbackOut:
        answer = given.get(session.id)
        return rs.SessionFeedbackOut(
            session_id=session.id, title=str(read(session, "title")),
            rating=answer.rating if answer else None,
            most_useful=answer.most_useful if answer else "",
            to_improve=answer.to_improve if answer else "",
            given_at=iso_utc(answer.given_at) if answer else None,
            updated_at=iso_utc(answer.updated_at) if answer else None,
            answers={question_id: row.rating if row.rating is not None
                     else row.choice if row.choice is not None else row.text
                     for question_id, row in own.get(answer.id, {}).items()}
            if answer else {})

    default_language = registration.event.default_language
    return rs.FeedbackOut(
        asked=bool(asked),
        questions=[rs.FeedbackQuestionOut(id=q.id, text=str(read(q, "text")), kind=q.kind,
                                          required=q.required, choices=[
                                              str(c) for c in choices_read(q, read,
                                                                           default_language)])
                   for q in await event_questions(db, registration.event_id)],
        sessions=[one(s) for s in asked])


class RegistrationController(Controller):
    path = "/api"
    tags = ["registration"]

    @post("/events/{slug:str}/registrations", status_code=201,
          responses={429: ResponseSpec(
              data_container=RateLimitedOut, generate_examples=False,
              description="Too many registrations from this address: wait for Retry-After "
              "seconds.")})
    async def register(
        self, request: Request[Any, Any, Any], slug: SlugParam,
        data: JSONBody[rs.RegistrationCreate],
    ) -> Response[rs.RegistrationReceiptOut]:
        """Register for a published event (no account needed). 201 when new; 200 when the
        address is registered already, and then nothing is sent and no link is returned.
        202 (`status` "unconfirmed") where the event asks registrants to confirm their
        address: only a link to confirm it is emailed, and nothing counts until then.
        Each client address may send 10 registrations a minute (form and API together;
        PROCURA_REGISTRATION_RATE_LIMIT), then 429 with Retry-After."""
        # Read from the app's state, not injected: Litestar resolves two injected values
        # concurrently, in a task group of their own, a tenth of a registration's time.
        settings: Settings = request.app.state.settings
        registration_desk: RegistrationDesk = request.app.state.registration_desk
        # A language refused here, in the asker's (the desk files batches of requests).
        form = _registration_form(data)
        # Counted (and over the limit, refused) by the desk, in the transaction that files it.
        outcome = await registration_desk.register(slug, form,
                                                   limit=registration_limit(settings),
                                                   client=client_address(request))
        status_code = 201 if outcome.is_new else 200
        if outcome.registration.status == RegistrationStatus.UNCONFIRMED:
            status_code = 202
        return Response(receipt_out(outcome, slug, settings), status_code=status_code,
                        headers=PRIVATE)

    @post("/events/{slug:str}/registrations/link", status_code=202)
    async def send_link(
        self, request: Request[Any, Any, Any], db_session: DbSession, settings: SettingsDep,
        slug: SlugParam, data: JSONBody[rs.LinkRequestIn],
    ) -> Response[rs.LinkRequestOut]:
        """Email the private link of the registration under this address again, to that
        address only. The answer is the same whether or not the address is registered, and
        each registration gets a few such emails a day at most."""
        await count_request(request, link_request_limit(settings))
        await registrations.send_registration_link(db_session, slug, data.email, now=utc_now(),
                                                   settings=settings)
        return Response(rs.LinkRequestOut(detail=_(LINK_SENT)), status_code=202, headers=PRIVATE)

    async def _present(self, db_session: DbSession, settings: Settings, token: str,
                       registration: Registration) -> Response[rs.RegistrationOut]:
        links = await registrations.registrant_links(
            db_session, registration, now=utc_now(), settings=settings, manage_token=token
        )
        position = await registrations.waiting_position(db_session, registration)
        materials = await session_materials(
            db_session, [e.session_id for e in registration.enrolments], for_registrants=True)
        body = registration_out(registration, position=position, manage_token=token,
                                links_feed_url=links.feed_url, settings=settings,
                                materials=materials)
        return Response(body, headers=PRIVATE)

    @get("/registrations/{token:str}")
    async def get_registration(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[rs.RegistrationOut]:
        """The registrant's own registration, through their private link."""
        registration = await registrations.find_registration_by_token(db_session, token)
        return await self._present(db_session, settings, token, registration)

    @patch("/registrations/{token:str}")
    async def change_details(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        data: JSONBody[rs.DetailsIn],
    ) -> Response[rs.RegistrationOut]:
        """Change the registrant's own details (name, organisation, job title, notes, a
        supplier's offer, in person or online), checked like the form: every error at once,
        nothing changed on error."""
        found = await registrations.find_registration_by_token(db_session, token)
        changes = registrations.DetailsChange(**{
            name: getattr(data, name) for name in data.__struct_fields__
            if getattr(data, name) is not UNSET})
        registration = await registrations.change_registrant_details(
            db_session, found.id, changes, now=utc_now(), settings=settings)
        return await self._present(db_session, settings, token, registration)

    @put("/registrations/{token:str}/sessions")
    async def change_sessions(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        data: JSONBody[rs.SessionChoiceIn],
    ) -> Response[rs.RegistrationOut]:
        """Replace the sessions the registration covers (where the event allows choosing)."""
        found = await registrations.find_registration_by_token(db_session, token)
        registration = await registrations.change_session_choices(
            db_session, found.id, data.session_ids, now=utc_now(), settings=settings
        )
        return await self._present(db_session, settings, token, registration)

    @post("/registrations/{token:str}/cancel", status_code=200)
    async def cancel(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[rs.RegistrationOut]:
        """Cancel the registration; cancelling again changes nothing."""
        found = await registrations.find_registration_by_token(db_session, token)
        registration = await registrations.cancel_registration(
            db_session, found.id, now=utc_now(), settings=settings
        )
        return await self._present(db_session, settings, token, registration)

    @delete("/registrations/{token:str}", status_code=200,
            responses=api_privacy.ERASE_RESPONSES)
    async def erase(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        confirm: api_privacy.ConfirmParam = None,
    ) -> Response[Any]:
        """Erase the registration (`?confirm=erase`, it cannot be undone): its place goes to
        the first person waiting, nothing more is sent to it, its private links stop working
        and its name, address, organisation and notes are removed (anonymous counts stay)."""
        return await api_privacy.erase_by_link(db_session, settings, token, confirm,
                                               headers=PRIVATE)

    @get("/registrations/{token:str}/feedback")
    async def get_feedback(self, db_session: DbSession, token: TokenParam
                           ) -> Response[rs.FeedbackOut]:
        """The registrant's feedback on each session of theirs that is over."""
        registration = await registrations.find_registration_by_token(db_session, token)
        return Response(await _feedback_out(db_session, registration), headers=PRIVATE)

    @put("/registrations/{token:str}/feedback")
    async def give_feedback(self, db_session: DbSession, token: TokenParam,
                            data: JSONBody[rs.FeedbackIn]) -> Response[rs.FeedbackOut]:
        """Give (or change) feedback on one session once it is over (409 naming `session_id`
        before, or for a session they hold no place in): every problem named at once,
        nothing kept on error."""
        registration = await registrations.find_registration_by_token(db_session, token)
        try:
            await feedback.give_feedback(
                db_session, registration, data.session_id, feedback.FeedbackForm(
                    rating=data.rating, most_useful=data.most_useful,
                    to_improve=data.to_improve,
                    answers={question_id: str(value)
                             for question_id, value in data.answers.items()}),
                now=utc_now())
        except InvalidInputError as refused:
            # An own question's answer is named as sent: `answers.12`.
            raise InvalidInputError.of([FieldError(
                f"answers.{e.field.removeprefix('question-')}"
                if e.field and e.field.startswith("question-") else e.field, e.message)
                for e in refused.errors]) from refused
        return Response(await _feedback_out(db_session, registration), headers=PRIVATE)

    @get("/registrations/{token:str}/invite.ics", media_type="text/calendar")
    async def invite(
        self, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[bytes]:
        """The registrant's confirmed sessions to import, join links included (a plain
        calendar: the invites themselves went by email, one per session)."""
        registration = await registrations.find_registration_by_token(db_session, token)
        body = await registrations.registrant_calendar(
            db_session, registration, now=utc_now(), settings=settings
        )
        return Response(
            body,
            media_type="text/calendar",
            headers={**PRIVATE, "Content-Disposition": 'attachment; filename="invite.ics"'},
        )


# --- organisers ----------------------------------------------------------------------------


class OrganiserRegistrationController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/events/{event_id:int}/registrations")
    async def list_registrations(
        self, db_session: DbSession, event_id: IdParam,
        status: Annotated[RegistrationStatus | None, QueryParameter()] = None,
        session_id: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    ) -> list[rs.OrganiserRegistrationOut]:
        """The event's registrations in arrival order. Addresses not confirmed yet (events
        that ask for it) are listed only with `status=unconfirmed`: they hold no place."""
        rows = await registrations.list_registrations(
            db_session, event_id, status=status, session_id=session_id
        )
        order = await registrations.waiting_order(db_session, event_id)
        positions = {rid: index + 1 for index, rid in enumerate(order)}
        return [organiser_registration_out(r, positions.get(r.id)) for r in rows]

    @get("/events/{event_id:int}/registrations.csv", media_type="text/csv")
    async def export_registrations(
        self, db_session: DbSession, event_id: IdParam,
        status: Annotated[RegistrationStatus | None, QueryParameter()] = None,
        session_id: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    ) -> Response[bytes]:
        rows = await registrations.list_registrations(
            db_session, event_id, status=status, session_id=session_id
        )
        order = await registrations.waiting_order(db_session, event_id)
        positions = {rid: index + 1 for index, rid in enumerate(order)}
        await record_csv_export(db_session, event_id, len(rows),
                                {"status": status, "session_id": session_id})
        return Response(
            registrations_csv(rows, positions),
            media_type="text/csv",
            headers={
                "Content-Disposition":
                    f'attachment; filename="registrations-event-{event_id}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @post("/events/{event_id:int}/registrations", status_code=201)
    async def register_on_behalf(
        self, db_session: DbSession, settings: SettingsDep, event_id: IdParam,
        data: JSONBody[rs.RegistrationCreate],
        add_places: Annotated[bool, QueryParameter(
            description="Where the event or a chosen session is full, raise its limit by one "
                        "and give them that place (else they wait)")] = False,
    ) -> rs.OrganiserRegistrationOut:
        """Register someone who asked the organisers (by phone, at the door): the public
        form's fields and rules, with `consent` meaning that the person agreed; the
        registration window, approval and the address confirmation do not apply, the places
        do (a full event's waiting list, unless `add_places`). They get the usual first
        email. 409 for an address registered already, or a draft, cancelled or finished
        event."""
        event = await programme.get_event(db_session, event_id)
        outcome = await registrations.register_on_behalf(
            db_session, event.slug, _registration_form(data), now=utc_now(), settings=settings,
            add_places=add_places)
        await audit.record_created(db_session, outcome.registration)
        registration = await registrations.get_registration(db_session,
                                                            outcome.registration.id)
        return organiser_registration_out(registration, outcome.waiting_position)

    @get("/registrations/{registration_id:int}")
    async def get_registration(
        self, db_session: DbSession, registration_id: IdParam
    ) -> rs.OrganiserRegistrationOut:
        registration = await registrations.get_registration(db_session, registration_id)
        position = await registrations.waiting_position(db_session, registration)
        return organiser_registration_out(registration, position)

    @post("/registrations/{registration_id:int}/approve", status_code=200)
    async def approve(
        self, db_session: DbSession, settings: SettingsDep, registration_id: IdParam,
        data: JSONBody[rs.ApproveIn | None] = None,
    ) -> rs.OrganiserRegistrationOut:
        registration = await registrations.approve_registration(
            db_session, registration_id, now=utc_now(), settings=settings,
            note=data.note if data is not None else None,
        )
        position = await registrations.waiting_position(db_session, registration)
        return organiser_registration_out(registration, position)

    @post("/registrations/{registration_id:int}/decline", status_code=200)
    async def decline(
        self, db_session: DbSession, settings: SettingsDep, registration_id: IdParam,
        data: JSONBody[rs.DeclineIn | None] = None,
    ) -> rs.OrganiserRegistrationOut:
        registration = await registrations.decline_registration(
            db_session, registration_id, now=utc_now(), settings=settings,
            reason=data.reason if data is not None else None,
        )
        return organiser_registration_out(registration, None)

    @post("/registrations/{registration_id:int}/check-in", status_code=200)
    async def check_in(
        self, db_session: DbSession, registration_id: IdParam,
        data: JSONBody[rs.CheckInIn | None] = None,
    ) -> rs.OrganiserRegistrationOut:
        """Check the person in at a session's door (`session_id`; without it, the session
        under way, or their only one): a second time keeps the first time; `{"present":
        false}` takes it back (without a session, every one)."""
        found = await registrations.get_registration(db_session, registration_id)
        event = await programme.get_event(db_session, found.event_id)
        await registrations.check_in(db_session, event, registration_id,
                                     session_id=data.session_id if data is not None else None,
                                     present=data.present if data is not None else True,
                                     now=utc_now())
        registration = await registrations.get_registration(db_session, registration_id)
        position = await registrations.waiting_position(db_session, registration)
        return organiser_registration_out(registration, position)

    @get("/registrations/{registration_id:int}/emails")
    async def email_history(
        self, db_session: DbSession, registration_id: IdParam
    ) -> list[rs.EmailHistoryOut]:
        """Every email to this registrant and how its delivery went (from the outbox)."""
        emails = await registrations.list_registration_emails(db_session, registration_id)
        return [email_history_out(email) for email in emails]


ROUTE_HANDLERS = [RegistrationController, OrganiserRegistrationController]
