"""People and organisations in the back office: find, add, edit, and merge duplicates.

The directory is shared by every team (a speaker may speak at several teams' events), so
any signed-in account reads it and admins and organisers change it. A form sent back keeps
what was typed and names every field at fault at once; nothing is stored then (an error
answer rolls the request's transaction back). A merge shows what would move and acts only
when confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from service.clock import utc_now
from service.domain import programme
from service.domain.errors import DomainError
from service.domain.wording import ORGANISATION_KIND_LABELS, STANDING_LABELS
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.forms import refusal_status
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    require_account,
    require_editor,
)
from service.web.backoffice.htmx import (
    VARY_HX_REQUEST,
    OrganiserRequest,
    organiser_part,
    wants_part,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

PAGE_SIZE = 25
KIND_LABELS = ORGANISATION_KIND_LABELS
FIELD_LABELS = {"email": N_("Email address"), "job_title": N_("Job title"),
                "organisation_id": N_("Organisation"), "country": N_("Country"),
                "website": N_("Website")}

# What to change, in the organisers' words, when a field's value is not acceptable.
PERSON_MESSAGES = {
    "name": N_("Enter the person's name (one line, at most 200 characters)."),
    "email": N_("Enter an email address like name@example.org, or leave it empty."),
    "job_title": N_("Enter a job title of one line, at most 200 characters, or leave it empty."),
    "organisation_id": N_("Choose an organisation from the list, or none."),
    "language": N_("Choose one of the languages offered."),
}
ORGANISATION_MESSAGES = {
    "name": N_("Enter the organisation's name (one line, at most 200 characters)."),
    "kind": N_("Choose what kind of organisation it is."),
    "country": N_("Enter a two-letter country code such as BE, or leave it empty."),
    "website": N_("Enter an address starting with https:// or http://, or leave it empty."),
    "standing": N_("Choose the organisation's standing in the network."),
}
Query = Annotated[str, QueryParameter(max_length=200)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=100_000)]
DuplicateId = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]


def _form_values(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _without_unsent_language(data: dict[str, Any]) -> dict[str, Any]:
    """A form without a language keeps the person's (a new person: English)."""
    return {name: value for name, value in data.items()
            if not (name == "language" and value is None)}


def _checked(values: dict[str, str], shape: type[msgspec.Struct], messages: dict[str, str],
             required: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field checked on its own against the input shape, so every error shows at once;
    empty optional fields become None (cleared)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, message in messages.items():
        raw = values.get(name, "")
        if not raw:
            if name in required:
                errors[name] = _(message)
            else:
                data[name] = None
            continue
        value: Any = raw
        if name == "organisation_id":
            value = int(raw) if raw.isdigit() else raw
        try:
            msgspec.convert({name: value}, shape)
        except msgspec.ValidationError:
            errors[name] = _(message)
            continue
        data[name] = value
    return data, errors


def _labels(labels: Mapping[Any, str]) -> dict[Any, str]:
    """Labels (marked with N_ where they are written) in the language in force."""
    return {key: _(label) for key, label in labels.items()}


def _redirect(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _domain_errors(error: DomainError) -> dict[str, str]:
    return {e.field or "form": e.message for e in error.errors}


async def _organisation_options(db: DbSession) -> list[tuple[str, str]]:
    return [(str(o.id), o.name) for o in await programme.list_organisations(db)]


class PeopleController(Controller):
    """Pages under /organiser/people and /organiser/organisations."""

    path = BACKOFFICE_PATH
    include_in_schema = False
    request_class = OrganiserRequest

    # --- people --------------------------------------------------------------------------

    @get("/people", guards=[require_account])
    async def people(self, request: OrganiserRequest, db_session: DbSession, q: Query = "",
                     page: PageNumber = 1) -> Response[Any]:
        """The directory, searched; a live search (htmx) gets the count and results alone."""
        found = await programme.search_persons(db_session, q, page=page, page_size=PAGE_SIZE)
        context = {"title": _("People"), "nav": "people", "q": q, "found": found,
                   "done": request.query_params.get("done")}
        if wants_part(request):
            return organiser_part(request, ("_people_results.html",), context)
        return organiser_page(request, "people.html", context, headers=VARY_HX_REQUEST)

    @get("/people/new", guards=[require_editor])
    async def new_person(self, request: AnyRequest, db_session: DbSession) -> Response[Any]:
        return await self._person_form(request, db_session, None, values={}, errors={})

    @post("/people/new", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def create_person(self, request: AnyRequest, db_session: DbSession) -> Response[Any]:
        values = _form_values(await request.form(), tuple(PERSON_MESSAGES))
        data, errors = _checked(values, programme.PersonUpdate, PERSON_MESSAGES, ("name",))
        data = _without_unsent_language(data)
        if not errors:
            try:
                person = await programme.create_person(
                    db_session, msgspec.convert(data, programme.PersonCreate), now=utc_now())
                return _redirect(f"{BACKOFFICE_PATH}/people/{person.id}?done=created")
            except DomainError as error:
                errors = _domain_errors(error)
        return await self._person_form(request, db_session, None, values=values, errors=errors,
                                       status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    @get("/people/{person_id:int}", guards=[require_account])
    async def person(self, request: AnyRequest, db_session: DbSession,
                     person_id: IdParam) -> Response[Any]:
        person = await programme.get_person(db_session, person_id)
        values = {"name": person.name, "email": person.email or "",
                  "job_title": person.job_title or "",
                  "organisation_id": str(person.organisation_id or ""),
                  "language": person.language}
        return await self._person_form(request, db_session, person_id, values=values, errors={})

    @post("/people/{person_id:int}", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def update_person(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep, person_id: IdParam) -> Response[Any]:
        await programme.get_person(db_session, person_id)
        values = _form_values(await request.form(), tuple(PERSON_MESSAGES))
        data, errors = _checked(values, programme.PersonUpdate, PERSON_MESSAGES, ("name",))
        data = _without_unsent_language(data)
        if not errors:
            try:
                await programme.update_person(db_session, person_id,
                                              msgspec.convert(data, programme.PersonUpdate), now=utc_now(),
                                              settings=settings)
                return _redirect(f"{BACKOFFICE_PATH}/people/{person_id}?done=saved")
            except DomainError as error:
                errors = _domain_errors(error)
        return await self._person_form(request, db_session, person_id, values=values,
                                       errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    async def _person_form(self, request: AnyRequest, db: DbSession, person_id: int | None, *,
                           values: dict[str, str], errors: dict[str, str],
                           status_code: int = 200) -> Response[Any]:
        title = (_("Add a person") if person_id is None
                 else _("Edit %(name)s") % {"name": values["name"]} if values.get("name")
                 else _("Edit person"))
        return organiser_page(request, "person_form.html", {
            "title": title, "nav": "people", "person_id": person_id, "values": values,
            "errors": errors, "organisations": await _organisation_options(db),
            "done": request.query_params.get("done")}, status_code=status_code)

    @get("/people/{person_id:int}/merge", guards=[require_editor])
    async def person_merge(self, request: AnyRequest, db_session: DbSession, person_id: IdParam,
                           q: Query = "", duplicate_id: DuplicateId = None) -> Response[Any]:
        kept = await programme.get_person(db_session, person_id)
        return await self._person_merge_page(request, db_session, kept.id, kept.name, q,
                                             duplicate_id)

    @post("/people/{person_id:int}/merge", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def merge_person(self, request: AnyRequest, db_session: DbSession,
                           settings: SettingsDep, person_id: IdParam) -> Response[Any]:
        kept = await programme.get_person(db_session, person_id)
        name = kept.name
        raw = str((await request.form()).get("duplicate_id") or "")
        duplicate_id = int(raw) if raw.isdigit() else None
        if duplicate_id is None:
            return await self._person_merge_page(
                request, db_session, person_id, name, "", None,
                errors={"duplicate_id": _("Choose the duplicate record to merge into this one.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await programme.merge_persons(db_session, person_id, duplicate_id, now=utc_now(),
                                          settings=settings)
        except DomainError as error:
            return await self._person_merge_page(
                request, db_session, person_id, name, "", None, errors=_domain_errors(error),
                status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/people/{person_id}?done=merged")

    async def _person_merge_page(
        self, request: AnyRequest, db: DbSession, kept_id: int, kept_name: str, q: str,
        duplicate_id: int | None, *, errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        errors = dict(errors or {})
        plan = None
        if duplicate_id is not None and not errors:
            try:
                plan = await programme.plan_person_merge(db, kept_id, duplicate_id)
            except DomainError as error:
                errors = _domain_errors(error)
                status_code = refusal_status(error)
        candidates = None
        if q:
            candidates = await programme.search_persons(db, q, page_size=PAGE_SIZE)
        return organiser_page(request, "person_merge.html", {
            "title": _("Merge a duplicate into %(name)s") % {"name": kept_name}, "nav": "people",
            "kept_id": kept_id, "kept_name": kept_name, "q": q, "candidates": candidates,
            "plan": plan, "errors": errors, "field_labels": _labels(FIELD_LABELS),
        }, status_code=status_code)

    # --- organisations -------------------------------------------------------------------

    @get("/organisations", guards=[require_account])
    async def organisations(self, request: OrganiserRequest, db_session: DbSession,
                            q: Query = "", page: PageNumber = 1) -> Response[Any]:
        """As `people`, for organisations."""
        found = await programme.search_organisations(db_session, q, page=page,
                                                     page_size=PAGE_SIZE)
        context = {"title": _("Organisations"), "nav": "people", "q": q, "found": found,
                   "kind_labels": _labels(KIND_LABELS)}
        if wants_part(request):
            return organiser_part(request, ("_organisations_results.html",), context)
        return organiser_page(request, "organisations.html", context, headers=VARY_HX_REQUEST)

    @get("/organisations/new", guards=[require_editor])
    async def new_organisation(self, request: AnyRequest) -> Response[Any]:
        return self._organisation_form(request, None, values={"standing": "none"}, errors={})

    @post("/organisations/new", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def create_organisation(self, request: AnyRequest,
                                  db_session: DbSession) -> Response[Any]:
        values = _form_values(await request.form(), tuple(ORGANISATION_MESSAGES))
        values["standing"] = values["standing"] or "none"
        data, errors = _checked(values, programme.OrganisationUpdate, ORGANISATION_MESSAGES,
                                ("name", "kind", "standing"))
        if not errors:
            try:
                organisation = await programme.create_organisation(
                    db_session, msgspec.convert(data, programme.OrganisationCreate), now=utc_now())
                return _redirect(f"{BACKOFFICE_PATH}/organisations/{organisation.id}"
                                 "?done=created")
            except DomainError as error:
                errors = _domain_errors(error)
        return self._organisation_form(request, None, values=values, errors=errors,
                                       status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    @get("/organisations/{organisation_id:int}", guards=[require_account])
    async def organisation(self, request: AnyRequest, db_session: DbSession,
                           organisation_id: IdParam) -> Response[Any]:
        organisation = await programme.get_organisation(db_session, organisation_id)
        values = {"name": organisation.name, "kind": organisation.kind.value,
                  "country": organisation.country or "", "website": organisation.website or "",
                  "standing": organisation.standing.value}
        return self._organisation_form(request, organisation_id, values=values, errors={})

    @post("/organisations/{organisation_id:int}", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def update_organisation(self, request: AnyRequest, db_session: DbSession,
                                  settings: SettingsDep,
                                  organisation_id: IdParam) -> Response[Any]:
        await programme.get_organisation(db_session, organisation_id)
        values = _form_values(await request.form(), tuple(ORGANISATION_MESSAGES))
        values["standing"] = values["standing"] or "none"
        data, errors = _checked(values, programme.OrganisationUpdate, ORGANISATION_MESSAGES,
                                ("name", "kind", "standing"))
        if not errors:
            try:
                await programme.update_organisation(
                    db_session, organisation_id, msgspec.convert(data, programme.OrganisationUpdate),
                    now=utc_now(), settings=settings)
                return _redirect(f"{BACKOFFICE_PATH}/organisations/{organisation_id}?done=saved")
            except DomainError as error:
                errors = _domain_errors(error)
        return self._organisation_form(request, organisation_id, values=values, errors=errors,
                                       status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    def _organisation_form(self, request: AnyRequest, organisation_id: int | None, *,
                           values: dict[str, str], errors: dict[str, str],
                           status_code: int = 200) -> Response[Any]:
        title = (_("Add an organisation") if organisation_id is None
                 else _("Edit %(name)s") % {"name": values["name"]} if values.get("name")
                 else _("Edit organisation"))
        return organiser_page(request, "organisation_form.html", {
            "title": title, "nav": "people", "organisation_id": organisation_id,
            "values": values, "errors": errors,
            "kinds": [(kind.value, _(label)) for kind, label in KIND_LABELS.items()],
            "standings": [(standing.value, _(label))
                          for standing, label in STANDING_LABELS.items()],
            "done": request.query_params.get("done")}, status_code=status_code)

    @get("/organisations/{organisation_id:int}/merge", guards=[require_editor])
    async def organisation_merge(self, request: AnyRequest, db_session: DbSession,
                                 organisation_id: IdParam, q: Query = "",
                                 duplicate_id: DuplicateId = None) -> Response[Any]:
        kept = await programme.get_organisation(db_session, organisation_id)
        return await self._organisation_merge_page(request, db_session, kept.id, kept.name, q,
                                                   duplicate_id)

    @post("/organisations/{organisation_id:int}/merge", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def merge_organisation(self, request: AnyRequest, db_session: DbSession,
                                 settings: SettingsDep,
                                 organisation_id: IdParam) -> Response[Any]:
        kept = await programme.get_organisation(db_session, organisation_id)
        name = kept.name
        raw = str((await request.form()).get("duplicate_id") or "")
        duplicate_id = int(raw) if raw.isdigit() else None
        if duplicate_id is None:
            return await self._organisation_merge_page(
                request, db_session, organisation_id, name, "", None,
                errors={"duplicate_id": _("Choose the duplicate record to merge into this one.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await programme.merge_organisations(db_session, organisation_id, duplicate_id,
                                                now=utc_now(), settings=settings)
        except DomainError as error:
            return await self._organisation_merge_page(
                request, db_session, organisation_id, name, "", None,
                errors=_domain_errors(error),
                status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/organisations/{organisation_id}?done=merged")

    async def _organisation_merge_page(
        self, request: AnyRequest, db: DbSession, kept_id: int, kept_name: str, q: str,
        duplicate_id: int | None, *, errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        errors = dict(errors or {})
        plan = None
        if duplicate_id is not None and not errors:
            try:
                plan = await programme.plan_organisation_merge(db, kept_id, duplicate_id)
            except DomainError as error:
                errors = _domain_errors(error)
                status_code = refusal_status(error)
        candidates = None
        if q:
            candidates = await programme.search_organisations(db, q, page_size=PAGE_SIZE)
        return organiser_page(request, "organisation_merge.html", {
            "title": _("Merge a duplicate into %(name)s") % {"name": kept_name}, "nav": "people",
            "kept_id": kept_id, "kept_name": kept_name, "q": q, "candidates": candidates,
            "plan": plan, "errors": errors, "field_labels": _labels(FIELD_LABELS),
            "kind_labels": _labels(KIND_LABELS),
        }, status_code=status_code)
