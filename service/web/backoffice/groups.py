"""Interest Groups in the back office: the groups of your teams, the group editor, its
facilitators, its members (approve or decline with a note, each answered by email), and the
minutes of its meetings.

Every signed-in account reads; admins and organisers change. A group belongs to a team like
an event (none: the default team), and the guard refuses another team's group, member or
meeting series by its path parameter (`group_id`, `group_member_id`, `series_id`). A form
sent back keeps what was typed and names every field at fault at once; nothing is stored
then (every domain check runs before anything changes, and a refusal's answer rolls the
request's transaction back). Emails go through the outbox in the request's transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import GroupMemberStatus, GroupVisibility, InterestGroup, MeetingSeries
from service.domain import groups, programme, wording
from service.domain.accounts import SignedInAccount, can_see_group
from service.domain.errors import DomainError, FieldError, InvalidInputError, NotFoundError
from service.domain.times import parse_instant
from service.web.backoffice.forms import field_errors, ids, refusal_status, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

GROUP_FIELDS = ("slug", "topic", "summary", "description", "visibility", "timezone",
                "starts_on", "ends_on")
_LIMITS = {"summary": 2_000, "description": 20_000}
DONE = {"created": "The group was added.", "saved": "Your changes were saved.",
        "facilitator": "The facilitators were changed.", "approved": "Approved: the person "
        "was emailed their private link.", "declined": "Declined: the person was emailed.",
        "minutes": "The minutes were published."}


def _redirect(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _day(raw: str, field: str, problems: list[FieldError], *, required: bool) -> date | None:
    if not raw:
        if required:
            problems.append(FieldError(field, "Give the day, such as 2026-09-01."))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(FieldError(field, "Give the day as YYYY-MM-DD, such as 2026-09-01."))
        return None


def _group_input(values: dict[str, str], team_id: int | None) -> groups.GroupInput:
    """The editor's fields as the domain's input; every unreadable field at once."""
    problems: list[FieldError] = []
    starts_on = _day(values["starts_on"], "starts_on", problems, required=True)
    ends_on = _day(values["ends_on"], "ends_on", problems, required=False)
    try:
        visibility = GroupVisibility(values["visibility"])
    except ValueError:
        problems.append(FieldError("visibility", "Choose who may see the group's page."))
        visibility = GroupVisibility.PUBLIC
    data = groups.GroupInput(slug=values["slug"], topic=values["topic"],
                             summary=values["summary"], description=values["description"],
                             visibility=visibility, timezone=values["timezone"] or
                             "Europe/Brussels", starts_on=starts_on or date(2000, 1, 1),
                             ends_on=ends_on if starts_on else None, team_id=team_id)
    if problems:
        # The domain's rules for the other fields too, so every error shows at once.
        at_fault = {problem.field for problem in problems}
        try:
            groups.check_group(data)
        except InvalidInputError as error:
            problems += [p for p in error.errors if p.field not in at_fault]
        raise InvalidInputError.of(problems)
    return data


def _new_group_team(account: SignedInAccount) -> int | None:
    """A new group belongs to the default team when its maker is in it, else to their first."""
    if account.is_admin or account.default_team_id in account.team_ids:
        return None
    return min(account.team_ids) if account.team_ids else None


async def _visible_group(db: AsyncSession, account: SignedInAccount,
                         group_id: int) -> InterestGroup:
    group = await groups.get_group(db, group_id)
    if not can_see_group(account, group):  # the guard refuses first; kept as a second lock
        raise NotFoundError(f"No Interest Group with id {group_id}.", "group_id")
    return group


def _values_of(group: InterestGroup) -> dict[str, str]:
    return {"slug": group.slug, "topic": group.topic, "summary": group.summary,
            "description": group.description, "visibility": group.visibility.value,
            "timezone": group.timezone, "starts_on": group.starts_on.isoformat(),
            "ends_on": group.ends_on.isoformat() if group.ends_on else ""}


class GroupsController(Controller):
    """Pages under /organiser/groups, /organiser/group-members and /organiser/meeting-series."""

    path = BACKOFFICE_PATH
    include_in_schema = False

    # --- groups ----------------------------------------------------------------------------

    @get("/groups", guards=[require_account])
    async def groups_list(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount) -> Response[Any]:
        summaries = [s for s in await groups.group_summaries(db_session)
                     if can_see_group(account, s.group)]
        return organiser_page(request, "groups.html", {
            "title": "Interest Groups", "nav": "groups", "summaries": summaries,
            "visibility_labels": wording.GROUP_VISIBILITY_LABELS})

    @get("/groups/new", guards=[require_editor])
    async def new_group(self, request: AnyRequest) -> Response[Any]:
        return self._group_form(request, None, values={"visibility": "public",
                                                       "timezone": "Europe/Brussels"},
                                errors={})

    @post("/groups/new", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def create_group(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount) -> Response[Any]:
        form = await request.form()
        values = {name: text(form, name, _LIMITS.get(name, 300)) for name in GROUP_FIELDS}
        try:
            group = await groups.create_group(
                db_session, _group_input(values, _new_group_team(account)), now=utc_now())
        except DomainError as error:
            return self._group_form(request, None, values=values, errors=field_errors(error),
                                    status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group.id}?done=created")

    @get("/groups/{group_id:int}", guards=[require_account])
    async def group(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                    group_id: IdParam) -> Response[Any]:
        group = await _visible_group(db_session, account, group_id)
        return await self._group_page(request, db_session, group, values=_values_of(group),
                                      errors={})

    @post("/groups/{group_id:int}", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def update_group(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await _visible_group(db_session, account, group_id)
        form = await request.form()
        values = {name: text(form, name, _LIMITS.get(name, 300)) for name in GROUP_FIELDS}
        try:
            await groups.update_group(db_session, group.id, _group_input(values, None),
                                      now=utc_now())
        except DomainError as error:
            return await self._group_page(request, db_session, group, values=values,
                                          errors=field_errors(error),
                                          status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=saved")

    def _group_form(self, request: AnyRequest, group: InterestGroup | None, *,
                    values: dict[str, str], errors: dict[str, str],
                    status_code: int = 200, **more: Any) -> Response[Any]:
        return organiser_page(request, "groups_editor.html", {
            "title": "Add an Interest Group" if group is None else f"Edit {group.topic}",
            "nav": "groups", "group": group, "values": values, "errors": errors,
            "visibilities": [(v.value, label)
                             for v, label in wording.GROUP_VISIBILITY_LABELS.items()],
            "done": DONE.get(request.query_params.get("done", "")), **more,
        }, status_code=status_code)

    async def _group_page(self, request: AnyRequest, db: AsyncSession, group: InterestGroup, *,
                          values: dict[str, str], errors: dict[str, str],
                          status_code: int = 200) -> Response[Any]:
        people = await programme.search_persons(db, "", page_size=100)
        facilitators = await groups.list_facilitators(db, group.id)
        chosen = {p.id for p in facilitators}
        return self._group_form(
            request, group, values=values, errors=errors, status_code=status_code,
            facilitators=facilitators,
            people=[(str(row.person.id), row.person.name) for row in people.rows
                    if row.person.id not in chosen],
            series=await _series_rows(db, group))

    # --- facilitators ----------------------------------------------------------------------

    @post("/groups/{group_id:int}/facilitators", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def add_facilitator(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await _visible_group(db_session, account, group_id)
        chosen = ids(await request.form(), "person_id")
        if not chosen:
            return await self._group_page(
                request, db_session, group, values=_values_of(group),
                errors={"person_id": "Choose the person who facilitates the group."},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await groups.add_facilitator(db_session, group.id, chosen[0], now=utc_now())
        except DomainError as error:
            return await self._group_page(request, db_session, group, values=_values_of(group),
                                          errors=field_errors(error),
                                          status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=facilitator")

    @post("/groups/{group_id:int}/facilitators/{person_id:int}/remove",
          guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def remove_facilitator(self, db_session: DbSession, account: CurrentAccount,
                                 group_id: IdParam, person_id: IdParam) -> Response[Any]:
        group = await _visible_group(db_session, account, group_id)
        await groups.remove_facilitator(db_session, group.id, person_id)
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=facilitator")

    # --- members ---------------------------------------------------------------------------

    @get("/groups/{group_id:int}/members", guards=[require_account])
    async def members(self, request: AnyRequest, db_session: DbSession,
                      account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await _visible_group(db_session, account, group_id)
        return await self._members_page(request, db_session, group, errors={})

    async def _members_page(self, request: AnyRequest, db: AsyncSession, group: InterestGroup,
                            *, errors: dict[str, str], error_member_id: int | None = None,
                            status_code: int = 200) -> Response[Any]:
        organisations = await programme.list_organisations(db)
        return organiser_page(request, "groups_members.html", {
            "title": f"Members of {group.topic}", "nav": "groups", "group": group,
            "rows": await groups.list_members(db, group.id),
            "status_labels": wording.GROUP_MEMBER_STATUS_LABELS,
            "standing_labels": wording.STANDING_LABELS,
            "organisations": [(str(o.id), f"{o.name} ({wording.STANDING_LABELS[o.standing]})")
                              for o in organisations],
            "interested": GroupMemberStatus.INTERESTED, "member_status": GroupMemberStatus.MEMBER,
            "errors": errors, "error_member_id": error_member_id,
            "error_links": [(f"#{name}-{error_member_id}", message)
                            for name, message in errors.items()],
            "done": DONE.get(request.query_params.get("done", "")),
        }, status_code=status_code)

    @post("/group-members/{group_member_id:int}/approve", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def approve(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      account: CurrentAccount, group_member_id: IdParam) -> Response[Any]:
        member = await groups.get_member(db_session, group_member_id)
        group = await _visible_group(db_session, account, member.group_id)
        form = await request.form()
        organisation = ids(form, "organisation_id")
        try:
            await groups.approve_member(
                db_session, member.id, now=utc_now(), settings=settings,
                organisation_id=organisation[0] if organisation else None,
                note=text(form, "note", 2_000) or None)
        except DomainError as error:
            return await self._members_page(request, db_session, group,
                                            errors=field_errors(error),
                                            error_member_id=group_member_id,
                                            status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group.id}/members?done=approved")

    @post("/group-members/{group_member_id:int}/decline", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def decline(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      account: CurrentAccount, group_member_id: IdParam) -> Response[Any]:
        member = await groups.get_member(db_session, group_member_id)
        group = await _visible_group(db_session, account, member.group_id)
        form = await request.form()
        try:
            await groups.decline_member(db_session, member.id, now=utc_now(),
                                        settings=settings, note=text(form, "note", 2_000) or None)
        except DomainError as error:
            return await self._members_page(request, db_session, group,
                                            errors=field_errors(error),
                                            error_member_id=group_member_id,
                                            status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group.id}/members?done=declined")

    # --- minutes ---------------------------------------------------------------------------

    @get("/meeting-series/{series_id:int}/minutes", guards=[require_account])
    async def minutes_form(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        series, group = await _series_and_group(db_session, account, series_id)
        return await self._minutes_page(request, db_session, series, group, values={},
                                        errors={})

    @post("/meeting-series/{series_id:int}/minutes", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def publish_minutes(self, request: AnyRequest, db_session: DbSession,
                              settings: SettingsDep, account: CurrentAccount,
                              series_id: IdParam) -> Response[Any]:
        series, group = await _series_and_group(db_session, account, series_id)
        form = await request.form()
        values = {"meeting_at": text(form, "meeting_at", 40),
                  "minutes": text(form, "minutes", 50_000),
                  "documents": text(form, "documents", 20_000)}
        try:
            meeting_at = parse_instant(values["meeting_at"], series.timezone, "meeting_at")
            documents = _documents(values["documents"])
            await groups.publish_minutes(db_session, series.id, meeting_at,
                                         minutes=values["minutes"], documents=documents,
                                         now=utc_now(), settings=settings)
        except DomainError as error:
            errors = {("meeting_at" if name == "recurrence_id" else
                       "documents" if name.startswith("documents") else name): message
                      for name, message in field_errors(error).items()}
            return await self._minutes_page(request, db_session, series, group, values=values,
                                            errors=errors, status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series_id}/minutes?done=minutes")

    async def _minutes_page(self, request: AnyRequest, db: AsyncSession, series: MeetingSeries,
                            group: InterestGroup, *, values: dict[str, str],
                            errors: dict[str, str], status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "groups_minutes.html", {
            "title": f"Minutes of {series.title}", "nav": "groups", "group": group,
            "series": series, "values": values, "errors": errors,
            "zone_label": wording.zone_label(series.timezone),
            "published": [m for m in await groups.list_published_minutes(db, group.id)
                          if m.series_title == series.title],
            "done": DONE.get(request.query_params.get("done", "")),
        }, status_code=status_code)


def _documents(raw: str) -> list[groups.MinutesDocument]:
    """One document a line: `Title | https://...`, or the address alone."""
    found = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        title, _, url = line.rpartition("|") if "|" in line else ("", "", line)
        found.append(groups.MinutesDocument(title=title.strip(), url=url.strip()))
    return found


async def _series_rows(db: AsyncSession, group: InterestGroup) -> list[dict[str, Any]]:
    rows = await db.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group.id)
                            .order_by(MeetingSeries.starts_at, MeetingSeries.id))
    return [{"id": s.id, "title": s.title,
             "first": wording.start_text(s.starts_at, s.timezone),
             "recurrence": s.recurrence or "one meeting"} for s in rows]


async def _series_and_group(db: AsyncSession, account: SignedInAccount,
                            series_id: int) -> tuple[MeetingSeries, InterestGroup]:
    series = await db.get(MeetingSeries, series_id)
    if series is None:
        raise NotFoundError(f"No meeting series with id {series_id}.", "series_id")
    return series, await _visible_group(db, account, series.group_id)
