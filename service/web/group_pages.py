"""Interest Groups' public pages and members' private pages.

`/groups` lists every group; `/groups/{slug}` shows one (a members-only group shows its
topic, summary and facilitators to everyone and keeps its member organisations and meeting
dates for members), with the "express interest" form that needs no account. A member's
private page, `/groups/me/{token}` (the link in their welcome email), lists the upcoming
meetings with join links, their minutes, their calendar feed, and lets them leave.
Thin handlers: parse, call one domain function, render. Forms use the public pages' CSRF
scheme; errors come back beside their fields, never as JSON. Nothing here logs a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import (
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
)
from service.domain import groups, urls, wording
from service.domain.errors import InvalidInputError, NotFoundError
from service.domain.groups import meetings
from service.domain.groups.translations import (
    GROUP_FIELDS,
    group_text,
    occurrence_agenda,
    series_title,
)
from service.domain.programme.translations import Localised
from service.domain.text import reading_order
from service.domain.times import iso_utc
from service.i18n import current_language
from service.i18n import gettext as _
from service.settings import Settings
from service.web import page_views as views
from service.web.page_render import html_response
from service.web.pages import PublicPages, _csrf, _csrf_ok, _form_expired_page
from service.web.params import DbSession, PathText, SettingsDep, TokenParam
from service.web.rate_limit import RateLimitExceeded, group_interest_limit, rate_limited

AnyRequest = Request[Any, Any, Any]
INTEREST_FIELDS = ("name", "email", "organisation_name", "message", "language")
# How much of each field is read: a little past what the domain takes, so that a longer text
# is refused by name instead of stored cut short.
_LIMITS = {"email": 320, "message": 2_100}
# How far ahead pages list meetings.
UPCOMING_HORIZON = timedelta(days=400)
MAX_LISTED = 24
Done = Annotated[str | None, QueryParameter(max_length=20)]


@dataclass(frozen=True)
class MeetingView:
    """One upcoming occurrence as a page lists it."""

    title: str
    when: views.TimeSpan
    place: str
    join_url: str | None
    is_cancelled: bool
    moved_from: str | None
    agenda: list[str]
    series_id: int
    recurrence_id: str
    is_declined: bool = False


def _paragraphs(text: Localised) -> list[str]:
    """The text's paragraphs, each saying the language it is written in."""
    return [Localised(paragraph, text.language) for paragraph in wording.paragraphs(text)]


async def _meeting_views(db: AsyncSession, group: InterestGroup, now: datetime, *,
                         member: GroupMember | None = None) -> list[MeetingView]:
    """The group's occurrences from now on (moved and cancelled ones marked); join links and
    declines only for a member's own page."""
    declined = await meetings.declined_by(db, member.id) if member is not None else set()
    found = []
    for series, occurrence in (await meetings.list_occurrences(
            db, group.id, start=now, end=now + UPCOMING_HORIZON))[:MAX_LISTED]:
        found.append(MeetingView(
            title=series_title(series, group.default_language, current_language()),
            when=views.time_span(occurrence.starts_at, occurrence.ends_at, series.timezone),
            place=wording.place_text(series.mode, series.venue),
            join_url=wording.join_url_for(series.mode, occurrence.join_url)
            if member is not None else None,
            is_cancelled=occurrence.is_cancelled,
            moved_from=wording.start_text(occurrence.recurrence_id, series.timezone)
            if occurrence.is_moved else None,
            agenda=_paragraphs(occurrence_agenda(series, occurrence, group.default_language,
                                                 current_language()))
            if member is not None else [],
            series_id=series.id, recurrence_id=iso_utc(occurrence.recurrence_id),
            is_declined=(series.id, occurrence.recurrence_id) in declined))
    return found


def _texts(group: InterestGroup) -> dict[str, Localised]:
    """The group's topic, summary and description in the page's language where it has them
    (each knows its language, for `lang`)."""
    return {field: group_text(group, field, current_language()) for field in GROUP_FIELDS}


def _period(group: InterestGroup) -> str:
    if group.ends_on is None:
        return _("From %(date)s") % {"date": wording.date_text(group.starts_on)}
    return wording.date_range_text(group.starts_on, group.ends_on)


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[: _LIMITS.get(name, 300)] if isinstance(value, str) else ""


def too_many_interest_forms_page(_request: AnyRequest, error: Exception) -> Response[str]:
    wait = error.retry_after if isinstance(error, RateLimitExceeded) else 60
    return html_response("error.html", {
        "title": _("Too many attempts"), "robots": "noindex",
        "message": _("We received many requests to join Interest Groups from your connection "
                     "in a short time. Please wait %(seconds)s seconds and send the form "
                     "again.") % {"seconds": wait}},
        status_code=HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})


class GroupPages(Controller):
    """The groups' public pages and members' private pages (no accounts)."""

    include_in_schema = False
    exception_handlers = {**PublicPages.exception_handlers,
                          RateLimitExceeded: too_many_interest_forms_page}

    @get("/groups")
    async def groups_page(self, db_session: DbSession) -> Response[str]:
        """Every group, by its topic as the page's readers read it."""
        summaries = await groups.group_summaries(db_session)
        listed = [{
            "slug": s.group.slug, **_texts(s.group),
            "facilitators": s.facilitators, "period": _period(s.group),
            "is_members_only": not groups.shows_everything(s.group),
            "member_organisations": s.member_organisations,
            "is_sample_data": s.group.is_sample_data} for s in summaries]
        listed.sort(key=lambda group: reading_order(str(group["topic"])))
        return html_response("groups.html", {"nav": "groups", "groups": listed})

    async def _group_page(self, request: AnyRequest, db: AsyncSession, settings: Settings,
                          group: InterestGroup, *, values: dict[str, str],
                          errors: dict[str, str], done: str | None = None,
                          status_code: int = 200) -> Response[str]:
        token, cookies = _csrf(request, settings)
        public = groups.shows_everything(group)
        now = utc_now()
        texts = _texts(group)
        return html_response("groups_one.html", {
            "nav": "groups", "group": group, "texts": texts, "period": _period(group),
            "description": wording.paragraphs(texts["description"]) if public else [],
            "zone_label": wording.zone_label(group.timezone),
            "is_members_only": not public,
            "facilitators": [p.name for p in await groups.list_facilitators(db, group.id)],
            "organisations": await groups.member_organisation_names(db, group.id)
            if public else [],
            "meetings": await _meeting_views(db, group, now) if public else [],
            "values": values, "errors": errors,
            "error_links": [(f"#{name}", message) for name, message in errors.items()],
            "csrf_token": token, "done": done == "interest",
            "feed_url": urls.group_feed_url(settings, group.slug) if public else None,
        }, status_code=status_code, cookies=cookies)

    @get("/groups/{slug:str}")
    async def group_page(self, request: AnyRequest, db_session: DbSession,
                         settings: SettingsDep, slug: PathText, done: Done = None
                         ) -> Response[str]:
        group = await groups.get_group_by_slug(db_session, slug)
        return await self._group_page(request, db_session, settings, group, values={},
                                      errors={}, done=done)

    @post("/groups/{slug:str}/interest", status_code=200,
          guards=[rate_limited(group_interest_limit)])
    async def express_interest(self, request: AnyRequest, db_session: DbSession,
                               settings: SettingsDep, slug: PathText) -> Response[Any]:
        """Every error at once, beside its field; nothing stored then. The answer is the
        same for a new person and for a member (it never tells who is a member). Limited
        per client like registrations (each form sends emails)."""
        group = await groups.get_group_by_slug(db_session, slug)
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        values = {name: _form_text(form, name) for name in INTEREST_FIELDS}
        try:
            # The language chosen on the form; the page's own when it did not say.
            await groups.express_interest(
                db_session, group,
                groups.InterestForm(**{**values, "language": values["language"]
                                       or current_language()}),
                now=utc_now(), settings=settings)
        except InvalidInputError as error:
            errors: dict[str, str] = {}
            for problem in error.errors:
                errors.setdefault(problem.field if problem.field in INTEREST_FIELDS
                                  else "name", problem.message)
            return await self._group_page(request, db_session, settings, group, values=values,
                                          errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"/groups/{group.slug}?done=interest#interest",
                        status_code=HTTP_303_SEE_OTHER)

    # -- a member's private page --

    async def _member_page(self, request: AnyRequest, db: AsyncSession, settings: Settings,
                           member: GroupMember, token: str, done: str | None) -> Response[str]:
        now = utc_now()
        group = await groups.get_group(db, member.group_id)
        is_member = member.status == GroupMemberStatus.MEMBER
        links = await groups.member_links(db, member, now=now, settings=settings) \
            if is_member else None
        csrf_token, cookies = _csrf(request, settings)
        return html_response("groups_member.html", {
            "nav": "groups", "group": group, "texts": _texts(group), "member": member,
            "is_member": is_member,
            "status_label": _(wording.GROUP_MEMBER_STATUS_LABELS[member.status]),
            "organisations": await groups.member_organisation_names(db, group.id),
            "facilitators": [p.name for p in await groups.list_facilitators(db, group.id)],
            "meetings": await _meeting_views(db, group, now, member=member)
            if is_member else [],
            "minutes": await groups.list_published_minutes(
                db, group.id, language=current_language()) if is_member else [],
            "feed_url": links.feed_url if links else None,
            "webcal_url": urls.webcal_url(links.feed_url) if links else None,
            "token": token, "csrf_token": csrf_token, "done": done,
            "robots": "noindex",
        }, cookies=cookies)

    @get("/groups/me/{token:str}")
    async def member_page(self, request: AnyRequest, db_session: DbSession,
                          settings: SettingsDep, token: TokenParam, done: Done = None
                          ) -> Response[str]:
        member = await groups.find_member_by_token(db_session, token)
        return await self._member_page(request, db_session, settings, member, token,
                                       done if done in {"left", "declined"} else None)

    @post("/groups/me/{token:str}/decline", status_code=200)
    async def decline(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                      token: TokenParam) -> Response[Any]:
        """The member will not come to one meeting: no reminders for it, out of their feed."""
        member = await groups.find_member_by_token(db_session, token)
        form = await request.form()
        if not _csrf_ok(request, form, settings):
            return _form_expired_page(request, settings)
        series_id, recurrence_id = _form_text(form, "series_id"), _form_text(form, "recurrence_id")
        try:
            at = datetime.fromisoformat(recurrence_id.replace("Z", "+00:00"))
        except ValueError:
            at = None
        if not (series_id.isdigit() and len(series_id) < 10) or at is None or at.tzinfo is None:
            raise NotFoundError(_("No such meeting for this member."), "recurrence_id")
        series = await meetings.get_series(db_session, int(series_id))
        await groups.decline_occurrence(db_session, member, series, at, now=utc_now())
        return Redirect(f"/groups/me/{token}?done=declined", status_code=HTTP_303_SEE_OTHER)

    @post("/groups/me/{token:str}/leave", status_code=200)
    async def leave(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    token: TokenParam) -> Response[Any]:
        member = await groups.find_member_by_token(db_session, token)
        if not _csrf_ok(request, await request.form(), settings):
            return _form_expired_page(request, settings)
        await groups.leave_group(db_session, member, now=utc_now(), settings=settings)
        return Redirect(f"/groups/me/{token}?done=left", status_code=HTTP_303_SEE_OTHER)


ROUTE_HANDLERS: list[Any] = [GroupPages]
