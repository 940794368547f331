"""Interest Groups in the back office: the groups of your teams, the group editor, its
facilitators, its members (approve or decline with a note, each answered by email), its
meeting series (`MeetingSeriesController`: a new series, its meetings, and for one meeting
move, cancel, its own agenda or join link, a guest, or this and all following, all through
`service.domain.groups.meetings`), and the minutes of its meetings.

Every signed-in account reads; admins and organisers change. A group belongs to a team like
an event (none: the default team), and the guard refuses another team's group, member or
meeting series by its path parameter (`group_id`, `group_member_id`, `series_id`). A form
sent back keeps what was typed and names every field at fault at once; nothing is stored
then (every domain check runs before anything changes, and a refusal's answer rolls the
request's transaction back). Emails go through the outbox in the request's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import GroupMemberStatus, GroupVisibility, InterestGroup, MeetingSeries
from service.domain import groups, link_lists, programme, wording
from service.domain.accounts import SignedInAccount, can_see_group, group_team_id, new_work_team
from service.domain.errors import DomainError, FieldError, InvalidInputError, NotFoundError
from service.domain.groups import invites, meeting_reminders, meetings
from service.domain.groups.recurrence import Frequency
from service.domain.reminders.schedule import offset_text
from service.domain.times import iso_utc, parse_instant
from service.i18n import N_, current_language, pgettext
from service.i18n import gettext as _
from service.web.backoffice.forms import (
    TEAM_FIELD,
    field_errors,
    ids,
    read_team,
    refusal_status,
    team_options,
    text,
)
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
    signed_in,
)
from service.web.backoffice.reminder_offsets import offset_values, offsets_from_form, rows_context
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep

GROUP_FIELDS = ("slug", "topic", "summary", "description", "visibility", "timezone",
                "starts_on", "ends_on")
_LIMITS = {"summary": 2_000, "description": 20_000}
DONE = {"created": N_("The group was added."), "saved": N_("Your changes were saved."),
        "facilitator": N_("The facilitators were changed."), "approved": N_("Approved: the "
        "person was emailed their private link."), "declined": N_("Declined: the person was "
        "emailed."), "minutes": N_("The minutes were published.")}


def _done(notes: dict[str, str], request: AnyRequest) -> str | None:
    """The `?done=` note in the language in force (the notes are marked with N_)."""
    note = notes.get(request.query_params.get("done", ""))
    return _(note) if note else None


def _labels(labels: Mapping[Any, str]) -> dict[Any, str]:
    """Labels (marked with N_ where they are written) in the language in force."""
    return {key: _(label) for key, label in labels.items()}


def _redirect(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _day(raw: str, field: str, problems: list[FieldError], *, required: bool) -> date | None:
    if not raw:
        if required:
            problems.append(FieldError(field, _("Give the day, such as 2026-09-01.")))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(FieldError(field, _("Give the day as YYYY-MM-DD, such as 2026-09-01.")))
        return None


def _group_input(values: dict[str, str], team_id: int | None) -> groups.GroupInput:
    """The editor's fields as the domain's input; every unreadable field at once."""
    problems: list[FieldError] = []
    starts_on = _day(values["starts_on"], "starts_on", problems, required=True)
    ends_on = _day(values["ends_on"], "ends_on", problems, required=False)
    try:
        visibility = GroupVisibility(values["visibility"])
    except ValueError:
        problems.append(FieldError("visibility", _("Choose who may see the group's page.")))
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


def _refuse_team(data: groups.GroupInput, team_error: dict[str, str]) -> None:
    """A refused team, with whatever else the domain finds wrong with the group."""
    if not team_error:
        return
    problems = [FieldError(TEAM_FIELD, team_error[TEAM_FIELD])]
    try:
        groups.check_group(data)
    except InvalidInputError as error:
        problems = [*error.errors, *problems]
    raise InvalidInputError.of(problems)


async def visible_group(db: AsyncSession, account: SignedInAccount,
                         group_id: int) -> InterestGroup:
    group = await groups.get_group(db, group_id)
    if not can_see_group(account, group):  # the guard refuses first; kept as a second lock
        raise NotFoundError(_("No Interest Group with id %(id)s.") % {"id": group_id},
                            "group_id")
    return group


def _values_of(group: InterestGroup, account: SignedInAccount) -> dict[str, str]:
    team_id = group_team_id(account, group)
    return {"slug": group.slug, "topic": group.topic, "summary": group.summary,
            "description": group.description, "visibility": group.visibility.value,
            "timezone": group.timezone, "starts_on": group.starts_on.isoformat(),
            "ends_on": group.ends_on.isoformat() if group.ends_on else "",
            TEAM_FIELD: "" if team_id is None else str(team_id)}


async def _group_values(request: AnyRequest, db: AsyncSession, account: SignedInAccount
                        ) -> tuple[dict[str, str], bool, int | None, dict[str, str]]:
    """The editor's fields as sent, whether a team was chosen and which (None: the default),
    and the team field's error if the choice is refused."""
    form = await request.form()
    # One past each limit: a longer text is refused by name, not saved cut short.
    values = {name: text(form, name, _LIMITS.get(name, 300) + 1) for name in GROUP_FIELDS}
    values[TEAM_FIELD] = text(form, TEAM_FIELD, 20)
    try:
        chose, team_id = await read_team(db, values[TEAM_FIELD], account)
    except InvalidInputError as error:
        return values, False, None, field_errors(error)
    return values, chose, team_id, {}


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
            "title": _("Interest Groups"), "nav": "groups", "summaries": summaries,
            "visibility_labels": _labels(wording.GROUP_VISIBILITY_LABELS)})

    @get("/groups/new", guards=[require_editor])
    async def new_group(self, request: AnyRequest, db_session: DbSession,
                        account: CurrentAccount) -> Response[Any]:
        team_id = new_work_team(account) or account.default_team_id
        return await self._group_form(
            request, db_session, None, errors={},
            values={"visibility": "public", "timezone": "Europe/Brussels",
                    TEAM_FIELD: "" if team_id is None else str(team_id)})

    @post("/groups/new", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def create_group(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount) -> Response[Any]:
        values, chose, team_id, team_error = await _group_values(request, db_session, account)
        try:
            data = _group_input(values, team_id if chose else new_work_team(account))
            _refuse_team(data, team_error)
            group = await groups.create_group(db_session, data, now=utc_now())
        except DomainError as error:
            return await self._group_form(
                request, db_session, None, values=values,
                errors={**field_errors(error), **team_error}, status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group.id}?done=created")

    @get("/groups/{group_id:int}", guards=[require_account])
    async def group(self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
                    group_id: IdParam,
                    person: Annotated[str, QueryParameter(max_length=200)] = "") -> Response[Any]:
        """The group; `person` narrows the facilitator choice to matching people."""
        group = await visible_group(db_session, account, group_id)
        return await self._group_page(request, db_session, group,
                                      values=_values_of(group, account), errors={},
                                      person_query=person)

    @post("/groups/{group_id:int}", guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def update_group(self, request: AnyRequest, db_session: DbSession,
                           account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        values, chose, team_id, team_error = await _group_values(request, db_session, account)
        try:
            data = _group_input(values, None)
            _refuse_team(data, team_error)
            await groups.update_group(db_session, group.id, data, now=utc_now())
            if chose:
                await groups.assign_group_team(db_session, group.id, team_id, now=utc_now())
        except DomainError as error:
            return await self._group_page(request, db_session, group, values=values,
                                          errors={**field_errors(error), **team_error},
                                          status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=saved")

    async def _group_form(self, request: AnyRequest, db: AsyncSession,
                          group: InterestGroup | None, *, values: dict[str, str],
                          errors: dict[str, str], status_code: int = 200,
                          **more: Any) -> Response[Any]:
        account = signed_in(request)
        teams = await team_options(db, account) if account is not None else []
        return organiser_page(request, "groups_editor.html", {
            "title": _("Add an Interest Group") if group is None
            else _("Edit %(topic)s") % {"topic": group.topic},
            "nav": "groups", "group": group, "values": values, "errors": errors,
            "visibilities": [(v.value, _(label))
                             for v, label in wording.GROUP_VISIBILITY_LABELS.items()],
            "teams": teams, "done": _done(DONE, request), **more,
        }, status_code=status_code)

    async def _group_page(self, request: AnyRequest, db: AsyncSession, group: InterestGroup, *,
                          values: dict[str, str], errors: dict[str, str],
                          status_code: int = 200, person_query: str = "") -> Response[Any]:
        people = await programme.search_persons(db, person_query, page_size=FACILITATOR_CHOICES)
        facilitators = await groups.list_facilitators(db, group.id)
        chosen = {p.id for p in facilitators}
        return await self._group_form(
            request, db, group, values=values, errors=errors, status_code=status_code,
            facilitators=facilitators,
            people=[(str(row.person.id), _person_choice(row.person.name, row.person.email))
                    for row in people.rows if row.person.id not in chosen],
            people_total=people.total, people_shown=len(people.rows),
            person_query=person_query.strip(),
            series=await _series_rows(db, group))

    # --- facilitators ----------------------------------------------------------------------

    @post("/groups/{group_id:int}/facilitators", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def add_facilitator(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        chosen = ids(await request.form(), "person_id")
        if not chosen:
            return await self._group_page(
                request, db_session, group, values=_values_of(group, account),
                errors={"person_id": _("Choose the person who facilitates the group.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await groups.add_facilitator(db_session, group.id, chosen[0], now=utc_now())
        except DomainError as error:
            return await self._group_page(request, db_session, group,
                                          values=_values_of(group, account),
                                          errors=field_errors(error),
                                          status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=facilitator")

    @post("/groups/{group_id:int}/facilitators/{person_id:int}/remove",
          guards=[require_editor], status_code=HTTP_303_SEE_OTHER)
    async def remove_facilitator(self, db_session: DbSession, account: CurrentAccount,
                                 group_id: IdParam, person_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        await groups.remove_facilitator(db_session, group.id, person_id)
        return _redirect(f"{BACKOFFICE_PATH}/groups/{group_id}?done=facilitator")

    # --- members ---------------------------------------------------------------------------

    @get("/groups/{group_id:int}/members", guards=[require_account])
    async def members(self, request: AnyRequest, db_session: DbSession,
                      account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        return await self._members_page(request, db_session, group, errors={})

    async def _members_page(self, request: AnyRequest, db: AsyncSession, group: InterestGroup,
                            *, errors: dict[str, str], error_member_id: int | None = None,
                            status_code: int = 200) -> Response[Any]:
        organisations = await programme.list_organisations(db)
        return organiser_page(request, "groups_members.html", {
            "title": _("Members of %(topic)s") % {"topic": group.topic}, "nav": "groups",
            "group": group, "rows": await groups.list_members(db, group.id),
            "status_labels": _labels(wording.GROUP_MEMBER_STATUS_LABELS),
            "standing_labels": _labels(wording.STANDING_LABELS),
            "organisations": [(str(o.id), f"{o.name} ({_(wording.STANDING_LABELS[o.standing])})")
                              for o in organisations],
            "interested": GroupMemberStatus.INTERESTED, "member_status": GroupMemberStatus.MEMBER,
            "errors": errors, "error_member_id": error_member_id,
            "error_links": [(f"#{name}-{error_member_id}", message)
                            for name, message in errors.items()],
            "done": _done(DONE, request),
        }, status_code=status_code)

    @post("/group-members/{group_member_id:int}/approve", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def approve(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      account: CurrentAccount, group_member_id: IdParam) -> Response[Any]:
        member = await groups.get_member(db_session, group_member_id)
        group = await visible_group(db_session, account, member.group_id)
        form = await request.form()
        organisation = ids(form, "organisation_id")
        try:
            await groups.approve_member(
                db_session, member.id, now=utc_now(), settings=settings,
                organisation_id=organisation[0] if organisation else None,
                note=text(form, "note", 2_001) or None)
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
        group = await visible_group(db_session, account, member.group_id)
        form = await request.form()
        try:
            await groups.decline_member(db_session, member.id, now=utc_now(),
                                        settings=settings, note=text(form, "note", 2_001) or None)
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
        return await self._minutes_page(request, db_session, series, group, values={
            "meeting_at": request.query_params.get("meeting_at", "")[:40]}, errors={})

    @post("/meeting-series/{series_id:int}/minutes", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def publish_minutes(self, request: AnyRequest, db_session: DbSession,
                              settings: SettingsDep, account: CurrentAccount,
                              series_id: IdParam) -> Response[Any]:
        series, group = await _series_and_group(db_session, account, series_id)
        form = await request.form()
        values = {"meeting_at": text(form, "meeting_at", 40),
                  "minutes": text(form, "minutes", 50_001),
                  "documents": text(form, "documents", DOCUMENTS_TEXT + 1)}
        documents = link_lists.read_lines(values["documents"])
        # A longer list is refused whole, never read cut short (its last address with it).
        too_long = [FieldError("documents", _("At most %(count)s characters.")
                               % {"count": DOCUMENTS_TEXT})] \
            if len(values["documents"]) > DOCUMENTS_TEXT else []
        try:
            try:
                meeting_at = parse_instant(values["meeting_at"], series.timezone, "meeting_at")
            except InvalidInputError as unreadable:
                # Every problem at once: the text's and documents' too.
                raise InvalidInputError.of([*unreadable.errors, *too_long, *_minutes_problems(
                    values["minutes"], [] if too_long else documents)]) from unreadable
            if too_long:
                raise InvalidInputError.of([*too_long, *_minutes_problems(values["minutes"], [])])
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
            "title": _("Minutes of %(title)s") % {"title": series.title}, "nav": "groups",
            "group": group,
            "series": series, "values": values, "errors": errors,
            "zone_label": wording.zone_label(series.timezone),
            "published": [m for m in await groups.list_published_minutes(db, group.id)
                          if m.series_id == series.id],
            "done": _done(DONE, request),
        }, status_code=status_code)


def _minutes_problems(minutes: str, documents: list[groups.MinutesDocument]
                      ) -> tuple[FieldError, ...]:
    try:
        groups.check_minutes(minutes, documents)
    except InvalidInputError as refused:
        return refused.errors
    return ()


# The longest list of documents the form takes: every one of the most documents with the
# longest title and address fits.
DOCUMENTS_TEXT = 30_000


async def _series_rows(db: AsyncSession, group: InterestGroup) -> list[dict[str, Any]]:
    rows = await db.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group.id)
                            .order_by(MeetingSeries.starts_at, MeetingSeries.id))
    return [{"id": s.id, "title": s.title, "recurrence": invites.describe_series(s)}
            for s in rows]


async def _series_and_group(db: AsyncSession, account: SignedInAccount,
                            series_id: int) -> tuple[MeetingSeries, InterestGroup]:
    series = await db.get(MeetingSeries, series_id)
    if series is None:
        raise NotFoundError(_("No meeting series with id %(id)s.") % {"id": series_id},
                            "series_id")
    return series, await visible_group(db, account, series.group_id)


# --- meeting series (the meetings' domain is service.domain.groups.meetings) -------------------

# A meeting of a series: the start the series gives it, in UTC (ISO 8601).
AtParam = Annotated[str, QueryParameter(max_length=40)]
SERIES_FIELDS = ("title", "starts_at_local", "duration_minutes", "mode", "join_url", "venue",
                 "agenda", "repeats", "interval", "weekday", "ordinal", "until", "count")
WEEKDAYS = [("0", N_("Monday")), ("1", N_("Tuesday")), ("2", N_("Wednesday")),
            ("3", N_("Thursday")), ("4", N_("Friday")), ("5", N_("Saturday")),
            ("6", N_("Sunday"))]
# "the second Tuesday": the ordinal as the form's "Which one in the month" offers it.
ORDINALS = [("1", "first"), ("2", "second"), ("3", "third"), ("4", "fourth"), ("-1", "last")]
REPEATS = [("none", N_("Does not repeat (one meeting)")), ("weekly", N_("Weekly")),
           ("monthly", N_("Monthly (quarterly: every 3 months)")), ("yearly", N_("Yearly"))]
SERIES_DONE = {"created": N_("The series was added and its invitations queued for every "
                             "member."),
               "moved": N_("Moved: members were sent the change."),
               "cancelled": N_("Cancelled: members were sent the cancellation."),
               "edited": N_("Saved: members were sent the change."),
               "guest": N_("The guest was invited to this meeting."),
               "following": N_("This and the following meetings were changed: members were "
                               "sent both series."),
               "cancelled-following": N_("This and the following meetings are cancelled: "
                                         "members and guests were sent the cancellation."),
               "reminders": N_("The reminders are saved: those still to come are planned "
                               "again.")}
# People offered at once as facilitators; a search narrows the list when there are more.
FACILITATOR_CHOICES = 100


def _person_choice(name: str, email: str | None) -> str:
    """A person as the facilitator choice shows them: two people may share a name."""
    return f"{name} ({email})" if email else name


# Rows of "our own times" on the series forms: the most reminders a series may have.
SERIES_REMINDER_ROWS = 5


def _default_reminders() -> str:
    """What the default reminders of a series are, in words."""
    return _("The default: %(online)s before an online meeting, %(in_person)s before one in "
             "person") % {
        "online": ", ".join(offset_text(m) for m in meeting_reminders.ONLINE_OFFSETS),
        "in_person": ", ".join(offset_text(m) for m in meeting_reminders.IN_PERSON_OFFSETS)}


def _reminder_errors(errors: dict[str, str]) -> dict[str, str]:
    """The domain names the offsets as one field; the form shows it beside the first row."""
    if "reminder_offsets_minutes" in errors:
        errors["offset-1-amount"] = errors.pop("reminder_offsets_minutes")
    return errors


def _choices(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(value, _(label)) for value, label in choices]


def _ordinals() -> list[tuple[str, str]]:
    """The ordinals of "Which one in the month" (the second Tuesday), in the language in force."""
    words = {"1": pgettext("nth weekday of the month", "first"),
             "2": pgettext("nth weekday of the month", "second"),
             "3": pgettext("nth weekday of the month", "third"),
             "4": pgettext("nth weekday of the month", "fourth"),
             "-1": pgettext("nth weekday of the month", "last")}
    return [(value, words[value]) for value, _word in ORDINALS]


def _number(raw: str, field: str, problems: list[FieldError], *, low: int, high: int,
            message: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        problems.append(FieldError(field, message))
        return None
    return value


def _rule(values: dict[str, str], problems: list[FieldError]) -> meetings.RecurrenceRule | None:
    """The recurrence chosen on the form, or None for a one-off meeting."""
    repeats = values.get("repeats") or "none"
    if repeats == "none":
        return None
    if repeats not in ("weekly", "monthly", "yearly"):
        problems.append(FieldError("repeats", _("Choose how the meeting repeats.")))
        return None
    # Whole numbers here; their ranges are the rule's own checks (every error at once).
    whole = _("Give a whole number.")
    interval = _number(values.get("interval", ""), "interval", problems, low=-999, high=999,
                       message=whole)
    weekday = _number(values.get("weekday", ""), "weekday", problems, low=-999, high=999,
                      message=whole)
    ordinal = _number(values.get("ordinal", ""), "ordinal", problems, low=-999, high=999,
                      message=whole)
    until = _day(values.get("until", ""), "until", problems, required=False)
    count = _number(values.get("count", ""), "count", problems, low=-999, high=9_999,
                    message=whole)
    frequency: Frequency = "weekly" if repeats == "weekly" else \
        "monthly" if repeats == "monthly" else "yearly"
    return meetings.RecurrenceRule(frequency=frequency, interval=1 if interval is None
                                   else interval, weekday=weekday,
                                   ordinal=ordinal or None, until=until, count=count)


def _form_field(name: str | None) -> str:
    """A domain error's field as the form names it (`rule.interval` → `interval`)."""
    field = (name or "form").removeprefix("rule.")
    return {"rule": "repeats", "recurrence": "repeats", "starts_at": "starts_at_local",
            "member_id": "form"}.get(field, field)


def _errors(error: DomainError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.errors:
        errors.setdefault(_form_field(problem.field), problem.message)
    return errors


def _recurrence_id(raw: str) -> datetime:
    try:
        found = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise NotFoundError(_("This series has no meeting at that time."), "recurrence_id")
    return found


class MeetingSeriesController(Controller):
    """Pages under /organiser/groups/{id}/series and /organiser/meeting-series/{id}."""

    path = BACKOFFICE_PATH
    include_in_schema = False

    @get("/groups/{group_id:int}/series/new", guards=[require_editor])
    async def new_series(self, request: AnyRequest, db_session: DbSession,
                         account: CurrentAccount, group_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        return self._series_form(request, group, values={
            "duration_minutes": "90", "mode": "online", "repeats": "monthly", "interval": "2",
            "weekday": "1", "ordinal": "2",
            **offset_values((), is_default=True, rows=SERIES_REMINDER_ROWS)}, errors={})

    @post("/groups/{group_id:int}/series/new", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def create_series(self, request: AnyRequest, db_session: DbSession,
                            settings: SettingsDep, account: CurrentAccount,
                            group_id: IdParam) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        form = await request.form()
        values = {name: text(form, name, 20_001 if name == "agenda" else 1_000)
                  for name in SERIES_FIELDS}
        # A form without the reminder choice (an older page) keeps the default.
        reminders, offsets, reminder_errors = (
            offsets_from_form(form, SERIES_REMINDER_ROWS) if "policy" in form
            else (offset_values((), is_default=True, rows=SERIES_REMINDER_ROWS), None, {}))
        values |= reminders
        problems = [FieldError(field, message) for field, message in reminder_errors.items()]
        rule = _rule(values, problems)
        duration = _number(values["duration_minutes"], "duration_minutes", problems, low=1,
                           high=100_000, message=_("Give the length in minutes, such as 90."))
        try:
            if problems:
                raise InvalidInputError.of(problems)
            series = await meetings.create_series(
                db_session, group, title=values["title"],
                starts_at_local=values["starts_at_local"], duration_minutes=duration or 0,
                rule=rule, mode=values["mode"] or "online", join_url=values["join_url"] or None,
                venue=values["venue"] or None, agenda=values["agenda"],
                reminder_offsets_minutes=offsets, now=utc_now(), settings=settings)
        except DomainError as error:
            return self._series_form(request, group, values=values,
                                     errors=_reminder_errors(_errors(error)),
                                     status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series.id}?done=created")

    def _series_form(self, request: AnyRequest, group: InterestGroup, *,
                     values: dict[str, str], errors: dict[str, str],
                     status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "groups_series_new.html", {
            "title": _("New meeting series of %(topic)s") % {"topic": group.topic}, "nav": "groups",
            "group": group, "values": values, "errors": errors,
            "weekdays": _choices(WEEKDAYS), "ordinals": _ordinals(),
            "repeats": _choices(REPEATS), "zone_label": wording.zone_label(group.timezone),
            "modes": [(m.value, _(label)) for m, label in wording.MODE_LABELS.items()],
            "default_reminders": _default_reminders(), **rows_context(SERIES_REMINDER_ROWS),
        }, status_code=status_code)

    @get("/meeting-series/{series_id:int}", guards=[require_account])
    async def series_page(self, request: AnyRequest, db_session: DbSession,
                          account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        series, group = await _series_and_group(db_session, account, series_id)
        rows = await self._rows(db_session, series)
        return self._series_page(request, series, group, rows=rows, values=offset_values(
            meeting_reminders.offsets_for(series),
            is_default=series.reminder_offsets_minutes is None, rows=SERIES_REMINDER_ROWS),
            errors={})

    async def _rows(self, db: AsyncSession, series: MeetingSeries) -> list[dict[str, Any]]:
        """The series' meetings as its page lists them."""
        overrides = (await invites.overrides_of(db, [series.id]))[series.id]
        now = utc_now()
        return [{"at": iso_utc(o.recurrence_id),
                 "when": wording.start_text(o.starts_at, series.timezone),
                 "moved_from": wording.start_text(o.recurrence_id, series.timezone)
                 if o.is_moved else None,
                 "is_cancelled": o.is_cancelled, "is_past": o.ends_at <= now,
                 "has_minutes": o.has_minutes,
                 "local": o.recurrence_id.astimezone(ZoneInfo(series.timezone))
                 .strftime("%Y-%m-%dT%H:%M")}
                for o in meetings.occurrences(series, overrides)]

    def _series_page(self, request: AnyRequest, series: MeetingSeries, group: InterestGroup, *,
                     rows: list[dict[str, Any]], values: dict[str, str],
                     errors: dict[str, str], status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "groups_series.html", {
            "title": series.title, "nav": "groups", "group": group, "series": series,
            "description": invites.describe_series(series), "rows": rows,
            "mode_label": wording.mode_label(series.mode),
            "reminders_text": ", ".join(offset_text(m)
                                        for m in meeting_reminders.offsets_for(series)),
            "done": _done(SERIES_DONE, request), "values": values, "errors": errors,
            "default_reminders": _default_reminders(), **rows_context(SERIES_REMINDER_ROWS),
        }, status_code=status_code)

    @post("/meeting-series/{series_id:int}/reminders", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def change_reminders(self, request: AnyRequest, db_session: DbSession,
                               account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        """When members are reminded before each meeting; the reminders to come re-planned."""
        series, group = await _series_and_group(db_session, account, series_id)
        values, offsets, errors = offsets_from_form(await request.form(), SERIES_REMINDER_ROWS)
        try:
            if errors:
                raise InvalidInputError.of([FieldError(f, m) for f, m in errors.items()])
            await meetings.set_series_reminders(db_session, series, offsets, now=utc_now())
        except InvalidInputError as error:
            return self._series_page(request, series, group, rows=await self._rows(
                db_session, series), values=values, errors=_reminder_errors(_errors(error)),
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series.id}?done=reminders")

    @get("/meeting-series/{series_id:int}/occurrence", guards=[require_account])
    async def occurrence_page(self, request: AnyRequest, db_session: DbSession,
                              account: CurrentAccount, series_id: IdParam,
                              at: AtParam = "") -> Response[Any]:
        series, group = await _series_and_group(db_session, account, series_id)
        if not at:  # which meeting is chosen on the series' page
            return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series.id}")
        return await self._occurrence_page(request, db_session, series, group,
                                           _recurrence_id(at), values={}, errors={})

    async def _occurrence_page(self, request: AnyRequest, db: AsyncSession,
                               series: MeetingSeries, group: InterestGroup,
                               recurrence_id: datetime, *, values: dict[str, str],
                               errors: dict[str, str], status_code: int = 200
                               ) -> Response[Any]:
        overrides = (await invites.overrides_of(db, [series.id]))[series.id]
        rid = recurrence_id.astimezone(UTC)
        found = [o for o in meetings.occurrences(series, overrides,
                                                 start=rid - timedelta(days=400),
                                                 end=rid + timedelta(days=400))
                 if o.recurrence_id == rid]
        if not found:
            raise NotFoundError(_("This series has no meeting at that time."), "recurrence_id")
        occurrence = found[0]
        zone = ZoneInfo(series.timezone)
        local = occurrence.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        defaults = {"starts_at_local": local,
                    "duration_minutes": str(int((occurrence.ends_at - occurrence.starts_at)
                                                .total_seconds() // 60)),
                    "agenda": occurrence.agenda, "join_url": occurrence.join_url or "",
                    "title": series.title}
        defaults |= {"following_" + name: defaults[name] for name in (
            "starts_at_local", "duration_minutes", "join_url", "title")}
        return organiser_page(request, "groups_occurrence.html", {
            "title": f"{series.title}, {wording.start_text(occurrence.starts_at, series.timezone)}",
            "nav": "groups", "group": group, "series": series, "occurrence": occurrence,
            "at": iso_utc(occurrence.recurrence_id), "values": {**defaults, **values},
            "errors": errors, "zone_label": wording.zone_label(series.timezone),
            "is_one_off": series.recurrence is None,
        }, status_code=status_code)

    async def _occurrence_action(self, request: AnyRequest, db: AsyncSession,
                                 account: SignedInAccount, series_id: int, action: str,
                                 settings: Any) -> Response[Any]:
        series, group = await _series_and_group(db, account, series_id)
        form = await request.form()
        prefix = "following_" if action == "following" else ""
        sent = {name: text(form, prefix + name, 20_001 if name == "agenda" else 1_000)
                for name in ("starts_at_local", "duration_minutes", "agenda", "join_url",
                             "name", "email", "title", "language")}
        values = {prefix + name: value for name, value in sent.items()}
        rid = _recurrence_id(text(form, "recurrence_id", 40))
        now = utc_now()
        problems: list[FieldError] = []
        duration = _number(sent["duration_minutes"], "duration_minutes", problems, low=1,
                           high=100_000, message=_("Give the length in minutes, such as 90."))
        try:
            if problems:
                raise InvalidInputError.of(problems)
            if action == "moved":
                await meetings.move_occurrence(db, series, rid,
                                               starts_at_local=sent["starts_at_local"],
                                               duration_minutes=duration, now=now,
                                               settings=settings)
            elif action == "cancelled":
                await meetings.cancel_occurrence(db, series, rid, now=now, settings=settings)
            elif action == "edited":
                await meetings.edit_occurrence(db, series, rid, agenda=sent["agenda"],
                                               join_url=sent["join_url"], now=now,
                                               settings=settings)
            elif action == "cancelled-following":
                await meetings.cancel_following(db, series, rid, now=now, settings=settings)
            elif action == "guest":
                await meetings.invite_guest(db, series, rid, name=sent["name"],
                                            email=sent["email"],
                                            language=sent["language"] or current_language(),
                                            now=now, settings=settings)
            else:
                series = await meetings.change_following(
                    db, series, rid, now=now, settings=settings, title=sent["title"] or None,
                    starts_at_local=sent["starts_at_local"] or None,
                    duration_minutes=duration, join_url=sent["join_url"] or None)
                return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series.id}"
                                 "?done=following")
        except DomainError as error:
            if isinstance(error, NotFoundError):
                raise
            errors = {prefix + name: message for name, message in _errors(error).items()}
            return await self._occurrence_page(request, db, series, group, rid, values=values,
                                               errors=errors,
                                               status_code=refusal_status(error))
        return _redirect(f"{BACKOFFICE_PATH}/meeting-series/{series.id}?done={action}")

    @post("/meeting-series/{series_id:int}/move", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def move(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                   account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        """This occurrence to another time."""
        return await self._occurrence_action(request, db_session, account, series_id, "moved",
                                             settings)

    @post("/meeting-series/{series_id:int}/cancel", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def cancel(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        return await self._occurrence_action(request, db_session, account, series_id,
                                             "cancelled", settings)

    @post("/meeting-series/{series_id:int}/edit", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def edit(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                   account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        """This occurrence's own agenda or join link."""
        return await self._occurrence_action(request, db_session, account, series_id, "edited",
                                             settings)

    @post("/meeting-series/{series_id:int}/guests", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def guest(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    account: CurrentAccount, series_id: IdParam) -> Response[Any]:
        return await self._occurrence_action(request, db_session, account, series_id, "guest",
                                             settings)

    @post("/meeting-series/{series_id:int}/cancel-following", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def cancel_following(self, request: AnyRequest, db_session: DbSession,
                               settings: SettingsDep, account: CurrentAccount,
                               series_id: IdParam) -> Response[Any]:
        """This and all following meetings are cancelled (from the first: the series)."""
        return await self._occurrence_action(request, db_session, account, series_id,
                                             "cancelled-following", settings)

    @post("/meeting-series/{series_id:int}/following", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def following(self, request: AnyRequest, db_session: DbSession,
                        settings: SettingsDep, account: CurrentAccount,
                        series_id: IdParam) -> Response[Any]:
        """This and all following meetings: the series is split."""
        return await self._occurrence_action(request, db_session, account, series_id,
                                             "following", settings)
