"""HTML pages for the public: the programme, event pages, registering, managing, speakers.

Thin controllers: parse the request, call one domain function, render a template with view
objects from `service.web.page_views`. Every form works without JavaScript and carries a
signed double-submit CSRF token (a random cookie plus its HMAC under the secret key in a
hidden field); the registration form also has a honeypot field and the per-client rate limit
it shares with the JSON API (`service.web.rate_limit`). Every error of a form comes back at
once (the page's checks and the domain's), beside its field and in an error summary that
takes the focus, never as JSON. An unknown event, manage link or speaker link gets the same
plain 404 page, which reveals nothing.
Private links carry tokens in their path: nothing here logs a path.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, FormMultiDict
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_410_GONE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from msgspec import UNSET
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import (
    AccessPurpose,
    Attendance,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    SessionMode,
    SessionStatus,
)
from service.domain import access, consultation, privacy, programme, registration, urls, wording
from service.domain.calendars import feeds
from service.domain.consultation import meetings
from service.domain.errors import (
    ConflictError,
    DomainError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from service.domain.programme.materials import session_materials
from service.domain.programme.translations import localised, reader
from service.domain.registration import RegistrationForm, feedback
from service.domain.times import local_date
from service.i18n import N_, current_language, pgettext
from service.i18n import gettext as _
from service.settings import Settings
from service.web import page_views as views
from service.web.consultation_pages import consultation_section, document_response
from service.web.countries import country_choices, country_name
from service.web.page_render import STATIC_DIR, STATIC_PATH, html_response
from service.web.params import (
    DbSession,
    IdParam,
    PathText,
    RegistrationDeskDep,
    SettingsDep,
    TokenParam,
)
from service.web.rate_limit import (
    RateLimitExceeded,
    client_address,
    count_request,
    link_request_limit,
    registration_limit,
)
from service.web.registration_choices import read_choices, registration_form

logger = logging.getLogger("procura_events.pages")

CSRF_COOKIE = "procura_csrf"
CSRF_FIELD = "csrf_token"
HONEYPOT_FIELD = "website"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

TEXT_FIELDS = ("name", "email", "organisation_name", "organisation_kind", "country",
               "job_title", "access_note", "company", "sector", "offer_note", "attendance",
               "language")
# What a registrant may change on their private page (see registration.DetailsChange).
DETAIL_FIELDS = ("name", "organisation_name", "job_title", "sector", "offer_note",
                 "attendance", "access_note", "language")
# The order of the fields on the forms: the error summary lists errors in it.
FIELD_ORDER = ("organisation_kind", "name", "email", "job_title", "organisation_name",
               "country", "company", "sector", "offer_note", "session_ids", "attendance",
               "access_note", "language", "consent")
# How much of each field is read: a little past what the domain takes, so that a longer text
# is refused by name instead of stored cut short.
_FIELD_LIMITS = {"access_note": 2_100, "offer_note": 2_100, "topic": 2_100, "email": 320,
                 "question": 4_100}
FORM_LEVEL = "form"
# What a private link of an erased registration answers (410), here and on its other pages.
ERASED_LINK = (N_("Registration erased"), N_("This link no longer works: the registration it "
               "belonged to has been erased, with the name and address it held."))
NO_SUCH_CERTIFICATE = (N_("No such certificate"), N_(
    "No certificate of attendance has this link: check that it was copied whole. A "
    "certificate's link stops working when its holder's registration is erased."))
NO_CERTIFICATE = (N_("No certificate yet"), N_(
    "A certificate of attendance names the sessions you came to: it is here once the "
    "organisers have checked you in at a session and that session is over."))
OUTCOME_HEADINGS = {
    "confirmed": N_("You are registered"),
    "waiting": N_("You are on the waiting list"),
    "pending": N_("Application received"),
    "already": N_("You are already registered"),
    "unconfirmed": N_("Check your inbox"),
    "received": N_("Thank you"),
}

AnyRequest = Request[Any, Any, Any]


# --- CSRF: a random cookie and its HMAC in each form ----------------------------------------


def _csrf_token(settings: Settings, nonce: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"csrf:{nonce}".encode(),
                    hashlib.sha256).hexdigest()


def _csrf(request: AnyRequest, settings: Settings) -> tuple[str, list[Cookie]]:
    """The form token for this browser, and the cookie to set when it has none yet."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if _NONCE.match(nonce):
        return _csrf_token(settings, nonce), []
    nonce = secrets.token_urlsafe(32)
    # A session cookie (no expiry): its lifetime never depends on the server's clock.
    cookie = Cookie(key=CSRF_COOKIE, value=nonce, path="/", httponly=True, samesite="lax",
                    secure=request.url.scheme == "https")
    return _csrf_token(settings, nonce), [cookie]


def _csrf_ok(request: AnyRequest, form: FormMultiDict, settings: Settings) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not _NONCE.match(nonce) or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent, _csrf_token(settings, nonce))


def _form_expired_page(request: AnyRequest, settings: Settings) -> Response[str]:
    """A form whose CSRF token does not hold: nothing was done; a fresh cookie to retry with."""
    return _error_page(
        HTTP_403_FORBIDDEN, _("Please send the form again"),
        _("For your security, forms expire when your browser has not kept our cookie "
          "(for example after a restart). Go back, reload the page and send it again."),
        cookies=_csrf(request, settings)[1],
    )


# --- error pages -------------------------------------------------------------------------------


def _error_page(status: int, title: str, message: str, *,
                headers: Mapping[str, str] | None = None,
                cookies: list[Cookie] | None = None) -> Response[str]:
    # Titles and messages may come as N_() constants: shown in the language in force.
    return html_response("error.html", {"title": _(title), "message": _(message),
                                        "robots": "noindex"},
                         status_code=status, headers=headers, cookies=cookies)


def not_found_page(_request: AnyRequest, _error: Exception) -> Response[str]:
    return _error_page(
        HTTP_404_NOT_FOUND, _("Page not found"),
        _("There is nothing at this address. If you followed a link from an email, it may "
          "have been replaced by a newer one: use the link in the most recent email you "
          "received."),
    )


def _invalid_fields(error: Exception) -> list[str]:
    """The names (ours, never the values) of the parameters a validation error is about."""
    extra = error.extra if isinstance(error, ValidationException) else None
    items = extra if isinstance(extra, list) else []
    return [str(item["key"]) for item in items if isinstance(item, dict) and item.get("key")]


def http_error_page(request: AnyRequest, error: Exception) -> Response[str]:
    status = error.status_code if isinstance(error, HTTPException) else 400
    if status == HTTP_404_NOT_FOUND:
        return not_found_page(request, error)
    fields = _invalid_fields(error)
    message = (_("This address holds something we cannot read (in: %(fields)s). "
                 "Check the link, or go back and try again.") % {"fields": ", ".join(fields)}
               if fields else _("Please go back and try again."))
    return _error_page(status, _("Something is not right with this request"), message)


def domain_error_page(request: AnyRequest, error: Exception) -> Response[str]:
    if isinstance(error, NotFoundError):
        return not_found_page(request, error)
    message = error.message if isinstance(error, DomainError) else _("Please try again.")
    return _error_page(HTTP_409_CONFLICT, _("This cannot be done"), message)


def too_many_attempts_page(_request: AnyRequest, error: Exception) -> Response[str]:
    wait = error.retry_after if isinstance(error, RateLimitExceeded) else 60
    return _error_page(
        HTTP_429_TOO_MANY_REQUESTS, _("Too many attempts"),
        _("We received a lot of registrations from your connection in a short time. "
          "Please wait %(seconds)s seconds and send the form again.") % {"seconds": wait},
        headers={"Retry-After": str(wait)},
    )


def clash_page(_request: AnyRequest, _error: Exception) -> Response[str]:
    return _error_page(HTTP_409_CONFLICT, _("Please try again"),
                       _("This clashed with something saved at the same moment. "
                         "Go back and send the form again."))


def unexpected_page(request: AnyRequest, error: Exception) -> Response[str]:
    # The path is not logged: on private pages it holds the visitor's token.
    logger.error("unexpected error on an HTML page (%s)", request.method, exc_info=error)
    return _error_page(HTTP_500_INTERNAL_SERVER_ERROR, _("Sorry, something went wrong"),
                       _("The error has been logged. Please try again in a moment."))


# --- form parsing ------------------------------------------------------------------------------


def _text(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text[: _FIELD_LIMITS.get(name, 300)]


def _session_ids(form: FormMultiDict) -> list[int]:
    ids = []
    for raw in form.getall("session_ids", []):
        if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
            ids.append(int(raw))
    return list(dict.fromkeys(ids))


def _error_field(field: str | None, known: Sequence[str]) -> str:
    """Where a domain error is shown: next to its field, else at the top of the form."""
    if field is None:
        return FORM_LEVEL
    if field.startswith("session_ids"):
        return "session_ids"
    return field if field in known else FORM_LEVEL


def _add_error(errors: dict[str, str], field: str, message: str) -> None:
    errors.setdefault(field, message)


def _add_domain_errors(errors: dict[str, str], found: Sequence[FieldError],
                       known: Sequence[str]) -> None:
    """The domain's errors beside their fields (the page's own messages for a field win)."""
    for error in found:
        _add_error(errors, _error_field(error.field, known), error.message)


def _notice_version(form: FormMultiDict) -> int | None:
    """The privacy notice version the form showed (None, the current one, if absent or not
    a number: the domain refuses a number that is no version)."""
    value = _text(form, "privacy_notice_version_id")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _in_form_order(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Errors as the form shows its fields, top to bottom; form-level ones first."""
    rank = {name: index for index, name in enumerate(FIELD_ORDER)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], -1))


# --- view context ------------------------------------------------------------------------------


def _upcoming_sessions(event: Event, now: datetime) -> list[Any]:
    return [s for s in event.sessions if s.status == SessionStatus.SCHEDULED and s.ends_at > now]


def _kind_filter(kind: str | None) -> EventKind | None:
    try:
        return EventKind(kind) if kind else None
    except ValueError:
        return None


def _filter_links(base: str, current: EventKind | None) -> list[dict[str, Any]]:
    links = [{"url": base, "label": _("All events"), "is_current": current is None}]
    links += [{"url": f"{base}?kind={kind}", "label": _(label), "is_current": current == kind}
              for kind, label in wording.KIND_PLURALS.items()]
    return links


def _groups(cards: Sequence[views.EventCard], kind: EventKind | None,
            all_label: str) -> list[dict[str, Any]]:
    """One list in date order: all events, or those of the chosen kind."""
    if not cards:
        return []
    if kind is None:
        return [{"key": "all", "label": all_label, "cards": list(cards)}]
    return [{"key": str(kind), "label": _(wording.KIND_PLURALS[kind]), "cards": list(cards)}]


def _form_fields(event: Event, now: datetime, settings: Settings) -> dict[str, Any]:
    """Which parts of the registration form this event asks for."""
    choices = _upcoming_sessions(event, now) if event.allows_session_choice else []
    return {
        # A Meet-your-Buyer dialogue asks once whether one comes as a supplier or a buyer;
        # only suppliers are asked for their sector and offer.
        "dialogue": event.kind == EventKind.MEET_YOUR_BUYER,
        "roles": [(str(k), _(label)) for k, label in wording.DIALOGUE_ROLE_LABELS.items()],
        "access_note": any(s.mode != SessionMode.ONLINE for s in event.sessions),
        "attendance": programme.is_hybrid(event),
        "attendance_choices": _attendance_choices(),
        "sessions": [views.session_view(s, event, settings, {}) for s in choices],
        "organisation_kinds": [(str(k), _(label))
                               for k, label in wording.ORGANISATION_KIND_LABELS.items()],
        "countries": country_choices(),
    }


def _attendance_choices() -> list[tuple[str, str]]:
    return [(str(a), _(label)) for a, label in wording.ATTENDANCE_LABELS.items()]


def _detail_fields(reg: Registration) -> dict[str, Any]:
    """Which details a registrant can change on their private page."""
    event = reg.event
    return {
        "supplier": event.kind == EventKind.MEET_YOUR_BUYER
        and reg.organisation_kind == OrganisationKind.SUPPLIER,
        "attendance": programme.is_hybrid(event),
        "attendance_choices": _attendance_choices(),
        "access_note": any(s.mode != SessionMode.ONLINE for s in event.sessions),
    }


def _detail_values(reg: Registration) -> dict[str, str]:
    return {name: str(getattr(reg, name) or "") for name in DETAIL_FIELDS}


async def registration_form_context(
    request: AnyRequest, db: AsyncSession, settings: Settings, event: Event, *,
    now: datetime, values: Mapping[str, str], chosen: set[int], errors: dict[str, str],
    as_published: bool = False,
) -> tuple[dict[str, Any], list[Cookie]]:
    """What the registration form shows (the public form, and its preview for organisers:
    `as_published`)."""
    view = await views.event_view(db, event, settings, now, as_published=as_published)
    token, cookies = _csrf(request, settings)
    fields = _form_fields(event, now, settings)
    anchors = {"session_ids": f"session-{fields['sessions'][0].id}" if fields["sessions"]
               else "main", "consent": "consent", FORM_LEVEL: "main"}
    return {
        "event": view,
        "values": dict(values),
        "chosen": chosen,
        "errors": errors,
        "error_links": [(f"#{anchors.get(field, field)}", message)
                        for field, message in _in_form_order(errors)],
        "fields": fields,
        "csrf_token": token,
        "submit_label": submit_label(event, view),
        "honeypot": HONEYPOT_FIELD,
        "notice": await privacy.current_notice(db, now=now, settings=settings),
        "robots": "noindex",
    }, cookies


@dataclass(frozen=True)
class FormAnswers:
    """The registration form as sent: its values to show again, the sessions chosen, the
    entry to file, and every problem the page and the domain find in it."""

    values: dict[str, str]
    chosen: list[int]
    entry: RegistrationForm
    errors: dict[str, str]


def read_registration_form(form: FormMultiDict, event: Event, now: datetime,
                           settings: Settings) -> FormAnswers:
    """Every rule at once, the page's own checks and the domain's, nothing filed (the public
    form, and an organiser trying the form in a preview)."""
    values = {name: _text(form, name) for name in TEXT_FIELDS}
    consent = form.get("consent") == "yes"
    keep_informed = form.get("keep_informed") == "yes"
    fields = _form_fields(event, now, settings)
    offered = [s.id for s in fields["sessions"]]
    chosen = [i for i in _session_ids(form) if i in offered] if offered else []
    errors: dict[str, str] = {}
    if not values["name"]:
        _add_error(errors, "name", _("Enter your name."))
    if not values["email"]:
        _add_error(errors, "email", _("Enter your email address."))
    if not consent:
        _add_error(errors, "consent",
                   _("Tick the box to agree that we use your details for this event."))
    choices = read_choices(values, chosen, offered, asks_attendance=fields["attendance"])
    for field, message in choices.problems.items():
        _add_error(errors, field, message)
    entry = registration_form(values, choices, consent=consent, fields=fields,
                              privacy_notice_version_id=_notice_version(form),
                              keep_informed=keep_informed)
    _add_domain_errors(errors, registration.form_problems(entry, event),
                       (*TEXT_FIELDS, "consent"))
    return FormAnswers(values={**values, "consent": "yes" if consent else "",
                               "keep_informed": "yes" if keep_informed else ""},
                       chosen=chosen, entry=entry, errors=errors)


def upcoming_session_ids(event: Event, now: datetime) -> set[int]:
    """The sessions the form offers ticked: those still to come."""
    return {s.id for s in _upcoming_sessions(event, now)}


def submit_label(event: Event, view: views.EventView) -> str:
    if event.is_approval_required:
        return _("Apply for a place")
    if view.availability.is_full:
        return _("Join the waiting list")
    return pgettext("button", "Register")


def erased_link_page() -> Response[str]:
    """What a dead private link of an erased registration answers."""
    return _error_page(HTTP_410_GONE, *ERASED_LINK)


async def form_from_private_link(
    request: AnyRequest, db: AsyncSession, settings: Settings, token: str,
) -> tuple[FormMultiDict, Registration] | Response[str]:
    """A form sent from a registrant's private link, and whose it is; or the page that
    answers instead: the erased link's (410), or the expired form's (no CSRF token)."""
    form = await request.form()
    reg = await live_registration(db, token)
    if reg is None:
        return erased_link_page()
    if not _csrf_ok(request, form, settings):
        return _form_expired_page(request, settings)
    return form, reg


async def live_registration(db: AsyncSession, token: str) -> Registration | None:
    """The registration behind a private link; None for the link of an erased one (its
    pages answer 410, saying why); any other unknown link is a 404."""
    try:
        return await registration.find_registration_by_token(db, token)
    except NotFoundError:
        if await privacy.is_erased_registration_link(db, token):
            return None
        raise


async def _certificate_page(db: AsyncSession, reg: Registration, now: datetime, *,
                            token: str | None = None, check_url: str | None = None
                            ) -> Response[str]:
    """A certificate of attendance: for its holder (their `token`, with the `check_url`
    printed on it), or as checked by whoever it is shown to (neither)."""
    attended = registration.attended_sessions(reg, now)
    if not attended:
        return _error_page(HTTP_404_NOT_FOUND,
                           *(NO_CERTIFICATE if token is not None else NO_SUCH_CERTIFICATE))
    event = reg.event
    read = await reader(db, event.id, current_language())
    return html_response("certificate.html", {
        "token": token, "check_url": check_url, "name": reg.name,
        "organisation": reg.company or reg.organisation_name or "",
        "event_title": read(event, "title"),
        # Each session: its title, when (in the event's zone) and where.
        "sessions": [(read(s, "title"), wording.period_text(s.starts_at, s.ends_at,
                                                            event.timezone),
                      wording.place_text(s.mode, wording.venue_line(event)))
                     for s in attended],
        "total": wording.duration_text(sum(
            int((s.ends_at - s.starts_at).total_seconds()) // 60 for s in attended)),
        "issued_on": wording.date_text(local_date(now, event.timezone)),
        "robots": "noindex",
    })


def _registration_details(reg: Registration) -> list[tuple[str, str]]:
    rows = [(_("Name"), reg.name), (_("Email"), reg.email)]
    optional = [
        (_("Organisation"), reg.organisation_name),
        (_("Type of organisation"),
         _(wording.ORGANISATION_KIND_LABELS.get(reg.organisation_kind, ""))
         if reg.organisation_kind else ""),
        (_("Country"), country_name(reg.country) if reg.country else ""),
        (_("Job title"), reg.job_title or ""),
        # A supplier's company is their organisation: shown once.
        (_("Company"), (reg.company or "") if reg.company != reg.organisation_name else ""),
        (_("Sector"), reg.sector or ""),
        (_("What you offer"), reg.offer_note or ""),
        (_("How you take part"), _(wording.ATTENDANCE_LABELS[reg.attendance])
         if reg.attendance else ""),
        (_("Accessibility or dietary needs"), reg.access_note or ""),
    ]
    return rows + [(label, value) for label, value in optional if value]


# --- the controller ----------------------------------------------------------------------------


class PublicPages(Controller):
    """The public site: no accounts; private pages are reached through emailed links."""

    include_in_schema = False
    exception_handlers = {
        NotFoundError: not_found_page,
        DomainError: domain_error_page,
        ValidationException: http_error_page,  # else the app's JSON answer would win
        RateLimitExceeded: too_many_attempts_page,
        HTTPException: http_error_page,
        IntegrityError: clash_page,
        Exception: unexpected_page,
    }

    # -- programme and events --

    @get("/")
    async def programme_page(
        self, db_session: DbSession, settings: SettingsDep,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[str]:
        now = utc_now()
        chosen = _kind_filter(kind)
        result = await programme.list_events(
            db_session,
            programme.EventFilter(kinds=(chosen,) if chosen else (), starts_from=now),
            page_size=100,
        )
        events = [e for e in result.events if not views.is_past(e, now)]
        cards = await views.event_cards(db_session, events, now)
        return html_response("programme.html", {
            "nav": "programme",
            "heading": _("Events programme"),
            "intro": _("Seminars, webinar series, CityMatch study visits and Meet-your-Buyer "
                       "market dialogues of the Procura+ Network. Registration is free for "
                       "public authorities and their partners."),
            "filters": _filter_links("/", chosen),
            "groups": _groups(cards, chosen, _("Coming up")),
            "empty_text": _("No upcoming events of this kind are announced yet.")
            if chosen else _("No upcoming events are announced yet."),
            "archive_link": True,
        })

    @get("/archive")
    async def archive_page(
        self, db_session: DbSession,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[str]:
        now = utc_now()
        chosen = _kind_filter(kind)
        events: list[Event] = []
        page = 1
        while True:
            result = await programme.list_events(
                db_session,
                programme.EventFilter(kinds=(chosen,) if chosen else (), starts_until=now),
                page=page, page_size=100,
            )
            events += [e for e in result.events if views.is_past(e, now)]
            if page * result.page_size >= result.total or page >= 50:
                break
            page += 1
        events.reverse()
        cards = await views.event_cards(db_session, events, now)
        return html_response("programme.html", {
            "nav": "archive",
            "heading": _("Past events"),
            "intro": _("Agendas of the network's past events, most recent first."),
            "filters": _filter_links("/archive", chosen),
            "groups": _groups(cards, chosen, _("All past events")),
            "empty_text": _("No past events of this kind yet.") if chosen
            else _("No past events yet."),
            "archive_link": False,
        })

    @get("/events/{slug:str}")
    async def event_page(
        self, db_session: DbSession, settings: SettingsDep, slug: PathText
    ) -> Response[str]:
        now = utc_now()
        event = await programme.get_published_event(db_session, slug)
        view = await views.event_view(db_session, event, settings, now)
        return html_response("event.html", {
            "event": view,
            "is_archive": views.is_past(event, now),
            "register_label": submit_label(event, view),
            "consultation": await consultation_section(db_session, event, settings),
        })

    @get("/events/{slug:str}/consultation/documents/{document_id:int}")
    async def consultation_document(
        self, db_session: DbSession, settings: SettingsDep, slug: PathText, document_id: IdParam,
    ) -> Response[bytes]:
        """A file shared in a published event's market consultation, as an attachment."""
        event = await programme.get_published_event(db_session, slug)
        return document_response(await consultation.read_document_file(
            db_session, event.id, document_id, settings=settings))

    # -- registering --

    async def _form_page(
        self, request: AnyRequest, db_session: DbSession, settings: Settings, event: Event, *,
        now: datetime, values: Mapping[str, str], chosen: set[int], errors: dict[str, str],
        status_code: int = 200,
    ) -> Response[str]:
        context, cookies = await registration_form_context(
            request, db_session, settings, event, now=now, values=values, chosen=chosen,
            errors=errors)
        return html_response("register.html", context, status_code=status_code,
                             cookies=cookies)

    @get("/events/{slug:str}/register")
    async def register_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, slug: PathText
    ) -> Response[str]:
        now = utc_now()
        event = await programme.get_published_event(db_session, slug)
        return await self._form_page(request, db_session, settings, event, now=now, values={},
                                     chosen=upcoming_session_ids(event, now), errors={})

    @post("/events/{slug:str}/register", status_code=200)
    async def register(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
        registration_desk: RegistrationDeskDep, slug: PathText,
    ) -> Response[str]:
        now = utc_now()
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        event = await programme.get_published_event(db_session, slug)
        if _text(form, HONEYPOT_FIELD):
            # Only bots fill the hidden field: answer as if all went well, store nothing.
            return html_response("registered.html", {
                "event": await views.event_view(db_session, event, settings, now),
                "outcome": "received", "heading": _(OUTCOME_HEADINGS["received"]), "email": "",
                "position": None, "enrolments": [], "robots": "noindex",
            })

        answers = read_registration_form(form, event, now, settings)
        entry, errors = answers.entry, answers.errors
        if not errors:
            # The desk files the registration in a transaction of its own: end this one
            # first (it only read), so it does not hold SQLite's one connection meanwhile.
            await db_session.commit()
            try:
                # Counted against the address's limit by the desk, where it is filed.
                outcome = await registration_desk.register(
                    slug, entry, limit=registration_limit(settings),
                    client=client_address(request))
            except (InvalidInputError, ConflictError) as error:
                _add_domain_errors(errors, error.errors, (*TEXT_FIELDS, "consent"))
                event = await programme.get_published_event(db_session, slug)
            else:
                # Filed in the desk's own transaction: load the page's view of the event again.
                event = await programme.get_event(db_session, event.id)
                return await self._registered_page(request, db_session, settings, event,
                                                   outcome, now,
                                                   typed_email=answers.values["email"])

        status = HTTP_409_CONFLICT if FORM_LEVEL in errors else HTTP_422_UNPROCESSABLE_ENTITY
        return await self._form_page(request, db_session, settings, event, now=now,
                                     values=answers.values, chosen=set(answers.chosen),
                                     errors=errors, status_code=status)

    # -- a lost private link --

    async def _link_page(
        self, request: AnyRequest, db_session: DbSession, settings: Settings, event: Event, *,
        now: datetime, email: str = "", sent: bool = False,
        errors: dict[str, str] | None = None, status_code: int = 200,
    ) -> Response[str]:
        errors = errors or {}
        token, cookies = _csrf(request, settings)
        return html_response("send_link.html", {
            "event": await views.event_view(db_session, event, settings, now),
            "values": {"email": email},
            "email": email,
            "sent": sent,
            "errors": errors,
            "error_links": [(f"#{field if field != FORM_LEVEL else 'main'}", message)
                            for field, message in errors.items()],
            "csrf_token": token,
            "robots": "noindex",
        }, status_code=status_code, cookies=cookies)

    @get("/events/{slug:str}/link")
    async def link_form(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, slug: PathText
    ) -> Response[str]:
        event = await programme.get_published_event(db_session, slug)
        return await self._link_page(request, db_session, settings, event, now=utc_now())

    @post("/events/{slug:str}/link", status_code=200)
    async def send_link(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, slug: PathText
    ) -> Response[str]:
        """Email the private link again, to the registered address only. The answer is the
        same whether or not the address is registered: nothing is revealed to the asker."""
        await count_request(request, link_request_limit(settings))
        now = utc_now()
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        email = _text(form, "email")
        errors: dict[str, str] = {}
        if not email:
            _add_error(errors, "email", _("Enter the email address you registered with."))
        else:
            try:
                sent = await registration.send_registration_link(db_session, slug, email,
                                                                 now=now, settings=settings)
            except InvalidInputError as error:
                _add_domain_errors(errors, error.errors, ("email",))
            else:
                # Logged without the address: whether it was sent is for the logs only.
                logger.info("private link asked for again (%s)", "sent" if sent else "not sent")
        # Loaded after the domain's work, which loads the event in its own shape.
        event = await programme.get_published_event(db_session, slug)
        if errors:
            return await self._link_page(request, db_session, settings, event, now=now,
                                         email=email, errors=errors,
                                         status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return await self._link_page(request, db_session, settings, event, now=now,
                                     email=email, sent=True)

    async def _registered_page(
        self, request: AnyRequest, db_session: DbSession, settings: Settings, event: Event,
        outcome: registration.RegistrationOutcome, now: datetime, *, typed_email: str,
    ) -> Response[str]:
        reg = outcome.registration
        csrf_token, cookies = _csrf(request, settings)
        enrolments: list[views.EnrolmentView] = []
        if reg.status == RegistrationStatus.UNCONFIRMED:
            # Nothing is filed until the address is confirmed (a repeat looks the same).
            state = "unconfirmed"
        elif not outcome.is_new:
            # Whoever knows an address must learn nothing more about that registration.
            state, enrolments = "already", []
        else:
            state = str(reg.status)
            counts = await registration.count_confirmed_enrolments(db_session, [s.id for s in event.sessions])
            enrolments = [
                e for e in views.enrolment_views(reg, event, reg.enrolments, settings, counts,
                                                 with_join_links=False)
                if e.status != str(EnrolmentStatus.CANCELLED)
            ]
        return html_response("registered.html", {
            "event": await views.event_view(db_session, event, settings, now),
            "outcome": state,
            "heading": _(OUTCOME_HEADINGS.get(state, OUTCOME_HEADINGS["received"])),
            "email": reg.email if outcome.is_new or state == "unconfirmed" else "",
            "position": outcome.waiting_position if outcome.is_new else None,
            "enrolments": enrolments,
            # "Send my link again" for the address the visitor typed (nothing more).
            "typed_email": typed_email,
            "csrf_token": csrf_token,
            "robots": "noindex",
        }, cookies=cookies)

    # -- the registrant's own page --

    async def _manage_page(
        self, request: AnyRequest, db_session: DbSession, settings: Settings, token: str,
        reg: Registration, *, now: datetime, done: str | None = None,
        errors: dict[str, str] | None = None, status_code: int = 200,
        chosen: set[int] | None = None, detail_values: Mapping[str, str] | None = None,
        meeting_values: Mapping[str, str] | None = None,
        question_values: Mapping[str, str] | None = None,
    ) -> Response[str]:
        event = reg.event
        errors = errors or {}
        counts = await registration.count_confirmed_enrolments(db_session, [s.id for s in event.sessions])
        enrolments = views.enrolment_views(
            reg, event, reg.enrolments, settings, counts,
            materials=await session_materials(db_session, [e.session_id for e in reg.enrolments],
                                              for_registrants=True))
        active = reg.status in registration.ACTIVE_STATUSES
        is_open = views.registration_state(event, now) is None
        choices = _upcoming_sessions(event, now) if event.allows_session_choice else []
        current = {e.session_id for e in reg.enrolments if e.status != EnrolmentStatus.CANCELLED}
        csrf_token, cookies = _csrf(request, settings)
        has_invite = reg.status == RegistrationStatus.CONFIRMED and any(
            e.status == str(EnrolmentStatus.CONFIRMED) and not e.session.is_cancelled
            for e in enrolments)
        anchors = {"session_ids": f"session-{choices[0].id}" if choices else "change-sessions",
                   FORM_LEVEL: "main"}
        return html_response("manage.html", {
            "token": token,
            "event_title": event.title,
            "event_slug": event.slug,
            "event_kind": _(wording.KIND_LABELS[event.kind]),
            "event_is_cancelled": event.status == EventStatus.CANCELLED,
            "status": str(reg.status),
            "status_label": _(wording.STATUS_LABELS[reg.status]),
            "position": await registration.waiting_position(db_session, reg),
            "details": _registration_details(reg),
            "enrolments": [e for e in enrolments if e.status != str(EnrolmentStatus.CANCELLED)]
            if active else enrolments,
            "is_active": active,
            "can_change": active and is_open and len(choices) > 1,
            "choices": [views.session_view(s, event, settings, counts) for s in choices],
            "chosen": chosen if chosen is not None else current,
            "invite_url": f"/api/registrations/{token}/invite.ics" if has_invite else None,
            "done": done,
            "errors": errors,
            "error_links": [(f"#{anchors.get(field, field)}", message)
                            for field, message in _in_form_order(errors)],
            "detail_fields": _detail_fields(reg),
            "detail_values": dict(detail_values) if detail_values is not None
            else _detail_values(reg),
            # Meet-your-Buyer: a registered supplier asks the buyer (answers go to all).
            "can_ask_buyer": event.kind == EventKind.MEET_YOUR_BUYER and active
            and reg.organisation_kind == OrganisationKind.SUPPLIER,
            "question_values": dict(question_values or {}),
            "csrf_token": csrf_token,
            "keep_informed_at": reg.keep_informed_at,
            "has_certificate": bool(registration.attended_sessions(reg, now)),
            "asks_feedback": feedback.may_give_feedback(reg, now),
            # What registrants need to know: for those with a place (or waiting for one).
            "registrant_note": localised(event, "registrant_note", current_language())
            if event.registrant_note and active else None,
            "robots": "noindex",
            "meetings": await meetings.supplier_desk(db_session, reg),
            "meeting_values": dict(meeting_values or {}),
        }, status_code=status_code, cookies=cookies)

    async def _refused_on_private_page(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: str,
        error: DomainError, field: str, *, now: datetime, **page: Any,
    ) -> Response[str]:
        """A change the private page asked for was refused: nothing of it is kept, and the page
        comes back with the message beside `field` (422 bad input, 409 a clash)."""
        await db_session.rollback()
        reg = await registration.find_registration_by_token(db_session, token)
        return await self._manage_page(
            request, db_session, settings, token, reg, now=now, errors={field: error.message},
            status_code=HTTP_422_UNPROCESSABLE_ENTITY if isinstance(error, InvalidInputError)
            else HTTP_409_CONFLICT, **page)

    @get("/registrations/{token:str}")
    async def manage(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[str]:
        reg = await live_registration(db_session, token)
        if reg is None:
            return erased_link_page()
        return await self._manage_page(request, db_session, settings, token, reg, now=utc_now(),
                                       done=done if done in {"sessions", "cancelled", "details",
                                                             "meetings", "meeting",
                                                             "withdrawn", "question",
                                                             "keep-informed"}
                                       else None)

    @post("/registrations/{token:str}/meetings", status_code=200)
    async def request_meetings(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        """A supplier asks to meet hosts, ranked (1st, 2nd, 3rd choice), with a topic."""
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        values = {name: _text(form, name) for name in ("host_1", "host_2", "host_3", "topic")}
        chosen = [int(values[n]) for n in ("host_1", "host_2", "host_3")
                  if values[n].isdigit() and len(values[n]) < 10]
        try:
            await meetings.request_meetings(db_session, reg.id, chosen, values["topic"], now=now,
                                            settings=settings)
        except (InvalidInputError, ConflictError, NotFoundError) as error:
            field = "host_1" if (error.field or "") == "host_ids" else error.field or FORM_LEVEL
            return await self._refused_on_private_page(
                request, db_session, settings, token, error, field, now=now,
                meeting_values=values)
        return Redirect(f"/registrations/{token}?done=meetings#meetings", status_code=HTTP_303_SEE_OTHER)

    @post("/registrations/{token:str}/meetings/pick", status_code=200)
    async def pick_meeting_slot(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        """A supplier takes a free time for an accepted request (where the organisers allow it)."""
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        request_id, slot_id = _text(form, "request_id"), _text(form, "slot_id")
        try:
            if not (request_id.isdigit() and slot_id.isdigit()) or len(request_id + slot_id) > 18:
                raise InvalidInputError(_("Choose a time."), "slot_id")
            await meetings.pick_slot(db_session, reg.id, int(request_id), int(slot_id), now=now,
                                     settings=settings)
        except (InvalidInputError, ConflictError, NotFoundError) as error:
            return await self._refused_on_private_page(
                request, db_session, settings, token, error,
                f"slot-{request_id}" if request_id.isdigit() else FORM_LEVEL, now=now)
        return Redirect(f"/registrations/{token}?done=meeting#meetings", status_code=HTTP_303_SEE_OTHER)

    @post("/registrations/{token:str}/meetings/withdraw", status_code=200)
    async def withdraw_meeting_request(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        """A supplier takes back one of their requests (its meeting, if placed, is cancelled)."""
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        request_id = _text(form, "request_id")
        try:
            if not request_id.isdigit() or len(request_id) > 9:
                raise InvalidInputError(_("Choose one of your requests."), "request_id")
            await meetings.withdraw_request(db_session, reg.id, int(request_id), now=now,
                                            settings=settings)
        except (InvalidInputError, NotFoundError) as error:
            return await self._refused_on_private_page(
                request, db_session, settings, token, error, FORM_LEVEL, now=now)
        return Redirect(f"/registrations/{token}?done=withdrawn#meetings",
                        status_code=HTTP_303_SEE_OTHER)

    @post("/registrations/{token:str}/sessions", status_code=200)
    async def change_sessions(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        chosen = _session_ids(form)
        try:
            await registration.change_session_choices(db_session, reg.id, chosen, now=now,
                                                      settings=settings)
        except (InvalidInputError, ConflictError) as error:
            field = "session_ids" if (error.field or "").startswith("session_ids") else FORM_LEVEL
            return await self._refused_on_private_page(
                request, db_session, settings, token, error, field, now=now, chosen=set(chosen))
        return Redirect(f"/registrations/{token}?done=sessions", status_code=HTTP_303_SEE_OTHER)

    @post("/registrations/{token:str}/details", status_code=200)
    async def change_details(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        """The registrant corrects what they told us; every error at once, nothing saved."""
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        fields = _detail_fields(reg)
        values = {name: _text(form, name) for name in DETAIL_FIELDS}
        errors: dict[str, str] = {}
        attendance: Attendance | None = None
        if values["attendance"]:
            try:
                attendance = Attendance(values["attendance"])
            except ValueError:
                _add_error(errors, "attendance", _("Choose in person or online."))
        # Only what this page shows is changed: a field it does not show is kept.
        changes = registration.DetailsChange(
            name=values["name"], organisation_name=values["organisation_name"],
            job_title=values["job_title"] or None,
            attendance=attendance if fields["attendance"] else UNSET,
            access_note=values["access_note"] or None if fields["access_note"] else UNSET,
            sector=values["sector"] or None if fields["supplier"] else UNSET,
            offer_note=values["offer_note"] or None if fields["supplier"] else UNSET,
            language=values["language"] or UNSET,
        )
        try:
            await registration.change_registrant_details(db_session, reg.id, changes, now=now,
                                                         settings=settings)
        except (InvalidInputError, ConflictError) as error:
            _add_domain_errors(errors, error.errors, DETAIL_FIELDS)
        if not errors:
            return Redirect(f"/registrations/{token}?done=details",
                            status_code=HTTP_303_SEE_OTHER)
        # All or nothing: the page's own errors undo what the domain accepted.
        await db_session.rollback()
        reg = await registration.find_registration_by_token(db_session, token)
        status = HTTP_409_CONFLICT if FORM_LEVEL in errors else HTTP_422_UNPROCESSABLE_ENTITY
        return await self._manage_page(request, db_session, settings, token, reg, now=now,
                                       errors=errors, status_code=status,
                                       detail_values=values)

    @post("/registrations/{token:str}/questions", status_code=200)
    async def ask_buyer(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        """A registered supplier's question to the buyer of a Meet-your-Buyer event."""
        now = utc_now()
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        values = {"question": _text(form, "question"),
                  "may_name_asker": "yes" if form.get("may_name_asker") else ""}
        try:
            await consultation.ask_question(db_session, reg, values["question"],
                                            may_name_asker=bool(values["may_name_asker"]),
                                            now=now)
        except (InvalidInputError, ConflictError) as error:
            return await self._refused_on_private_page(
                request, db_session, settings, token, error, "question", now=now,
                question_values=values)
        return Redirect(f"/registrations/{token}?done=question", status_code=HTTP_303_SEE_OTHER)

    @get("/registrations/{token:str}/cancel")
    async def confirm_cancel(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[str]:
        reg = await registration.find_registration_by_token(db_session, token)
        csrf_token, cookies = _csrf(request, settings)
        return html_response("cancel.html", {
            "token": token,
            "event_title": reg.event.title,
            "is_active": reg.status in registration.ACTIVE_STATUSES,
            "status": str(reg.status),
            "csrf_token": csrf_token,
            "robots": "noindex",
        }, cookies=cookies)

    @post("/registrations/{token:str}/cancel", status_code=200)
    async def cancel(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, token: TokenParam
    ) -> Response[Any]:
        form = await request.form()
        reg = await registration.find_registration_by_token(db_session, token)
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        await registration.cancel_registration(db_session, reg.id, now=utc_now(),
                                               settings=settings)
        return Redirect(f"/registrations/{token}?done=cancelled", status_code=HTTP_303_SEE_OTHER)

    @get("/registrations/{token:str}/certificate")
    async def certificate(self, db_session: DbSession, settings: SettingsDep,
                          token: TokenParam) -> Response[str]:
        """Their certificate of attendance, to print: the sessions they came to (checked in
        at the door, or on an online session's attendance list), once each is over; 404
        with a word of why before that. It carries the link that checks it."""
        reg = await registration.find_registration_by_token(db_session, token)
        now = utc_now()
        check = await access.current_access_token(
            db_session, AccessPurpose.CERTIFICATE_CHECK, secret_key=settings.secret_key,
            now=now, registration_id=reg.id)
        return await _certificate_page(db_session, reg, now, token=token,
                                       check_url=urls.certificate_check_url(settings, check))

    @get("/certificates/{token:str}")
    async def certificate_check(self, db_session: DbSession, token: TokenParam
                                ) -> Response[str]:
        """The certificate as whoever the registrant shows it to checks it, through the link
        printed on it: what the records say today. Gone once the registration is erased or
        its personal data is removed after the retention period."""
        try:
            reg = await registration.find_registration_by_token(
                db_session, token, AccessPurpose.CERTIFICATE_CHECK)
        except NotFoundError:
            return _error_page(HTTP_404_NOT_FOUND, *NO_SUCH_CERTIFICATE)
        return await _certificate_page(db_session, reg, utc_now())

    # -- speakers --

    @get("/speakers/{token:str}")
    async def speaker_page(self, db_session: DbSession, settings: SettingsDep,
                           token: TokenParam) -> Response[str]:
        found = await access.find_access(db_session, AccessPurpose.SPEAKER_PAGE, token)
        person = None
        slots: list[views.SpeakerSlot] = []
        if found is not None and found.person_id is not None:
            person, slots = await views.speaker_slots(db_session, found.person_id)
        if person is None:
            raise NotFoundError(_("This link is not valid."), "token")
        now = utc_now()
        organisation = person.organisation.name if person.organisation else None
        # The calendar feed their slot emails promise on this page (issued on first view).
        links = await feeds.current_speaker_links(db_session, person.id, now=now,
                                                  settings=settings)
        feed_url = urls.speaker_feed_url(settings, links.feed_token)
        return html_response("speaker.html", {
            "name": person.name,
            "organisation": organisation,
            "feed_url": feed_url,
            "webcal_url": urls.webcal_url(feed_url),
            "upcoming": [s for s in slots if s.ends_utc > now],
            "past": [s for s in slots if s.ends_utc <= now],
            "meetings": await meetings.meeting_views(db_session, person_id=person.id, live_only=True),
            "robots": "noindex",
        })


def static_files_router() -> Any:
    return create_static_files_router(
        path=STATIC_PATH, directories=[STATIC_DIR], name="page_static",
        include_in_schema=False,
    )


PAGE_ROUTE_HANDLERS: list[Any] = [PublicPages, static_files_router()]
