"""Registering someone on their behalf in the back office: a person who asked by phone or
by email, or who turned up at the door without registering. The form asks what the public
form asks (their name, address, organisation, sessions, how they take part, the language
they read) and that they agreed to our use of their details; the registration window,
approval and the address confirmation do not apply, the places do
(`registration.register_on_behalf`): where the event or a chosen session is full, the
form says so and offers to add a place for them (ticked at the door: they are in the room),
else they wait. They get the usual first email with its invite and private link. On a
Meet-your-Buyer dialogue the form asks first whether they come as a supplier (then for
their sector and offer) or as a public buyer, as the public form does.

Needs an editor of the event.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from service.clock import utc_now
from service.db.models import (
    Event,
    EventKind,
    EventStatus,
    OrganisationKind,
    Session,
    SessionMode,
)
from service.domain import programme, registration, wording
from service.domain.accounts import audit
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.registration.rules import scheduled_sessions
from service.i18n import N_, ngettext
from service.i18n import gettext as _
from service.web.backoffice.check_in import check_in_url
from service.web.backoffice.event_pages import event_for, heading, local_and_utc
from service.web.backoffice.forms import FORM_LEVEL, ids, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.countries import country_choices
from service.web.params import DbSession, IdParam, OptionalIdQuery, SettingsDep
from service.web.registration_choices import read_choices, registration_form

# The form's fields, in its order (and its error summary's); a dialogue asks the role first.
FIELDS = ("name", "email", "job_title", "organisation_name", "organisation_kind", "country",
          "language", "sector", "offer_note", "session_ids", "attendance", "access_note",
          "consent")
DIALOGUE_FIELDS = ("organisation_kind", *(name for name in FIELDS if name != "organisation_kind"))
_LIMITS = {"email": 321, "access_note": 2_100, "offer_note": 2_100}
# How a dialogue's participant takes part, as the organisers say it.
ROLE_LABELS = {OrganisationKind.SUPPLIER: N_("Supplier"),
               OrganisationKind.PUBLIC_AUTHORITY: N_("Public buyer")}


def _fields(event: Event) -> dict[str, Any]:
    """Which parts of the form this event asks for."""
    now = utc_now()
    return {
        "dialogue": event.kind == EventKind.MEET_YOUR_BUYER,
        "roles": [(str(kind), _(label)) for kind, label in ROLE_LABELS.items()],
        # Each coming session to choose from (where the event lets people choose): its id
        # and what the form says of it.
        "sessions": [(s.id, f"{s.title}: {local_and_utc(s.starts_at, event.timezone)[0]}")
                     for s in scheduled_sessions(event) if s.ends_at > now]
        if event.allows_session_choice else [],
        "attendance": programme.is_hybrid(event),
        "attendance_choices": [(str(a), _(label))
                               for a, label in wording.ATTENDANCE_LABELS.items()],
        "access_note": any(s.mode != SessionMode.ONLINE for s in event.sessions),
        "organisation_kinds": [(str(k), _(label))
                               for k, label in wording.ORGANISATION_KIND_LABELS.items()],
        "countries": country_choices(),
    }


def _read(form: FormMultiDict, fields: dict[str, Any]
          ) -> tuple[dict[str, str], list[int], registration.RegistrationForm, dict[str, str]]:
    """What was typed, the sessions ticked, the form for the domain and the page's own
    problems."""
    values = {name: text(form, name, _LIMITS.get(name, 300)) for name in FIELDS}
    offered = [session_id for session_id, _label in fields["sessions"]]
    chosen = [i for i in ids(form, "session_ids") if i in offered]
    choices = read_choices(values, chosen, offered, asks_attendance=fields["attendance"])
    errors = dict(choices.problems)
    if values["consent"] != "yes":
        errors["consent"] = _("Tick the box once the person has agreed that we use their "
                              "details for this event.")
    entry = registration_form(values, choices, consent=values["consent"] == "yes",
                              fields=fields)
    return values, chosen, entry, errors


def _full_places(full: list[Event | Session]) -> list[str]:
    """What the form says of each place that is full."""
    lines = []
    for target in full:
        capacity = target.capacity or 0
        if isinstance(target, Event):
            line = ngettext("The event: its one place is taken.",
                            "The event: all %(capacity)s places are taken.", capacity)
        else:
            line = ngettext("%(session)s: its one place is taken.",
                            "%(session)s: all %(capacity)s places are taken.", capacity)
        lines.append(line % {"capacity": capacity, "session": target.title})
    return lines


def _door(event: Event, session_id: int | None) -> Session | None:
    """The session whose door the person stands at (one of the event's), if any."""
    return next((s for s in registration.door_sessions(event) if s.id == session_id), None)


class RegistrationOnBehalfController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account, require_editor]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: DbSession, event: Event,
                    account: CurrentAccount, *, values: dict[str, str], chosen: list[int],
                    errors: dict[str, str], door: Session | None = None,
                    status_code: int = 200) -> Response[Any]:
        full = await registration.full_places(db, event, utc_now())
        order = DIALOGUE_FIELDS if event.kind == EventKind.MEET_YOUR_BUYER else FIELDS
        ordered = {name: errors[name] for name in (*order, *errors) if name in errors}
        return organiser_page(request, "registration_new.html", {
            # Coming from a session's check-in: they are here, and are checked in there.
            "door": door,
            "title": _("Register someone: %(title)s") % {"title": event.title},
            "nav": "events", "event": heading(event, account),
            "is_published": event.status != EventStatus.DRAFT,
            "fields": _fields(event), "values": values, "chosen": chosen,
            "errors": ordered, "zone_label": wording.zone_label(event.timezone),
            "full": _full_places(full),
        }, status_code=status_code)

    @get("/events/{event_id:int}/registrations/new")
    async def new_registration(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam,
        door: OptionalIdQuery = None,
        q: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Response[Any]:
        """From a check-in search that found nobody (`door`, `q`): what was searched for is
        the name or the address typed already."""
        event = await event_for(db_session, account, event_id, editing=True)
        typed = q.strip() if q.isprintable() else ""
        values = {"email" if "@" in typed else "name": typed} if typed else {}
        at_the_door = _door(event, door)
        if at_the_door is not None:
            values["add_places"] = "yes"
        return await self._page(request, db_session, event, account, values=values, chosen=[],
                                errors={}, door=at_the_door)

    @post("/events/{event_id:int}/registrations/new", status_code=HTTP_303_SEE_OTHER)
    async def register(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                       account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """Every problem at once, beside its field; nothing stored then."""
        event = await event_for(db_session, account, event_id, editing=True)
        form = await request.form()
        values, chosen, entry, errors = _read(form, _fields(event))
        values["add_places"] = "yes" if text(form, "add_places", 3) == "yes" else ""
        door_id = text(form, "door", 10)
        door = _door(event, int(door_id) if door_id.isdigit() else None)
        for problem in registration.form_problems(entry, event):
            errors.setdefault(problem.field if problem.field in FIELDS else "name",
                              problem.message)
        if not errors:
            try:
                outcome = await registration.register_on_behalf(
                    db_session, event.slug, entry, now=utc_now(), settings=settings,
                    add_places=values["add_places"] == "yes")
            except (InvalidInputError, ConflictError, NotFoundError) as refused:
                # The event's own reasons (cancelled, over, a draft) are the form's.
                for problem in refused.errors:
                    field = problem.field if problem.field in (*FIELDS, "add_places") else None
                    errors.setdefault(field or FORM_LEVEL, problem.message)
            else:
                # Filed in bulk like the public's: the audit log hears of it here.
                await audit.record_created(db_session, outcome.registration)
                registered = outcome.registration.id
                if door is None:
                    done = "added-place" if outcome.places_added else "added"
                    return Redirect(f"{BACKOFFICE_PATH}/events/{event.id}/registrations/"
                                    f"{registered}?done={done}", status_code=HTTP_303_SEE_OTHER)
                await registration.check_in(db_session, event, registered,
                                            session_id=door.id, present=True, now=utc_now())
                return Redirect(f"{check_in_url(event, door, done='checked-in')}"
                                f"#registration-{registered}", status_code=HTTP_303_SEE_OTHER)
        await db_session.rollback()
        event = await event_for(db_session, account, event_id, editing=True)
        return await self._page(request, db_session, event, account, values=values,
                                chosen=chosen, errors=errors,
                                door=_door(event, door.id if door else None),
                                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
