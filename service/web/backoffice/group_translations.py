"""An Interest Group's own texts in other languages, in the back office: the default
language (the one its topic, summary, description, meeting series' titles and agendas, and
meetings' own agendas and minutes are written in) and, one language at a time, those texts
in that language.

Reading needs an account that sees the group; changing needs an editor. Saving goes through
`service.domain.groups.translations` (all or nothing: a refused form comes back with every
problem beside its field and nothing stored).
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import InterestGroup, MeetingOccurrence, MeetingSeries
from service.domain.errors import InvalidInputError
from service.domain.groups.schedule import utc
from service.domain.groups.translations import (
    GROUP_FIELDS,
    MEETING_FIELDS,
    SERIES_FIELDS,
    group_series,
    meeting_field,
    meeting_fields,
    meetings_with_own_texts,
    series_field,
    set_group_default_language,
    set_group_translations,
    translation_languages,
    translation_progress,
)
from service.domain.wording import date_text
from service.i18n import LANGUAGE_NAMES, LANGUAGES
from service.i18n import gettext as _
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.groups import visible_group
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam


def _chosen(group: InterestGroup, language: str | None) -> str:
    """The language to show: the one asked for, else the first the group is not written in."""
    offered = translation_languages(group)
    return language if language in offered else offered[0]


def _sections(group: InterestGroup, series: list[MeetingSeries],
              meetings: list[MeetingOccurrence]) -> list[dict[str, Any]]:
    """The texts to translate, grouped for the page: the group's, then each series' title
    and agenda, followed by its meetings' own agendas and minutes. Each field: its form
    name (also the domain's), label, limit and the group's own text."""
    labels = {"topic": _("Topic"), "summary": _("Summary"), "description": _("Description")}
    sections = [{"heading": _("The group"), "fields": [
        {"name": field, "label": labels[field], "limit": limit, "is_long": field != "topic",
         "original": str(getattr(group, field) or "")}
        for field, limit in GROUP_FIELDS.items()]}]
    series_labels = {"title": _("Title"), "agenda": _("Agenda")}
    sections += [{"heading": _("Meeting series: %(title)s") % {"title": one.title}, "fields": [
        *({"name": series_field(one, field), "label": series_labels[field], "limit": limit,
           "is_long": field != "title", "original": str(getattr(one, field) or "")}
          for field, limit in SERIES_FIELDS.items()),
        *({"name": meeting_field(meeting, field), "label": _meeting_label(one, meeting, field),
           "limit": MEETING_FIELDS[field], "is_long": True,
           "original": str(getattr(meeting, field) or "")}
          for meeting in meetings if meeting.series_id == one.id
          for field in meeting_fields(meeting)),
    ]} for one in series]
    return sections


def _meeting_label(series: MeetingSeries, meeting: MeetingOccurrence, field: str) -> str:
    day = {"date": date_text(utc(meeting.starts_at).astimezone(ZoneInfo(series.timezone))
                             .date())}
    if field == "minutes":
        return _("Minutes of the meeting on %(date)s") % day
    return _("Agenda of the meeting on %(date)s") % day


def _stored(group: InterestGroup, series: list[MeetingSeries],
            meetings: list[MeetingOccurrence], language: str) -> dict[str, str]:
    values = {field: (group.translations or {}).get(language, {}).get(field, "")
              for field in GROUP_FIELDS}
    values.update({series_field(one, field): (one.translations or {}).get(language, {})
                   .get(field, "") for one in series for field in SERIES_FIELDS})
    values.update({meeting_field(meeting, field): (meeting.translations or {})
                   .get(language, {}).get(field, "")
                   for meeting in meetings for field in meeting_fields(meeting)})
    return values


def _page_url(group: InterestGroup) -> str:
    return f"{BACKOFFICE_PATH}/groups/{group.id}/translations"


class GroupTranslationsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: AsyncSession, group: InterestGroup,
                    language: str, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, saved: str | None = None,
                    status_code: int = 200) -> Response[Any]:
        series = await group_series(db, group.id)
        meetings = await meetings_with_own_texts(db, series)
        return organiser_page(request, "groups_translations.html", {
            "title": _("Translations: %(topic)s") % {"topic": group.topic}, "nav": "groups",
            "group": group, "default_language": group.default_language,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "tabs": [(code, LANGUAGE_NAMES[code], done, total)
                     for code, (done, total)
                     in translation_progress(group, series, meetings).items()],
            "language": language, "language_name": LANGUAGE_NAMES[language],
            "sections": _sections(group, series, meetings),
            "values": _stored(group, series, meetings, language) if values is None else values,
            "errors": errors or {}, "saved": saved,
        }, status_code=status_code)

    @get("/groups/{group_id:int}/translations")
    async def show_group_translations(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        group_id: IdParam, language: Annotated[str | None, QueryParameter()] = None,
        saved: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        group = await visible_group(db_session, account, group_id)
        notice = {"texts": _("The translations are saved."),
                  "language": _("The default language is saved.")}.get(saved or "")
        return await self._page(request, db_session, group, _chosen(group, language),
                                saved=notice)

    @post("/groups/{group_id:int}/translations", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def save_group_translations(self, request: AnyRequest, db_session: DbSession,
                                      account: CurrentAccount, group_id: IdParam
                                      ) -> Response[Any]:
        """Every text of one language at once; an empty field removes its translation."""
        group = await visible_group(db_session, account, group_id)
        form: FormMultiDict = await request.form()
        language = text(form, "language", 8)
        if language not in translation_languages(group):
            return await self._page(request, db_session, group, _chosen(group, None), errors={
                "language": _("Choose a language other than the group's own.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        series = await group_series(db_session, group.id)
        meetings = await meetings_with_own_texts(db_session, series)
        values = {field["name"]: text(form, field["name"], field["limit"] + 1)
                  for section in _sections(group, series, meetings)
                  for field in section["fields"]}
        try:
            await set_group_translations(db_session, group.id, language, values, now=utc_now())
        except InvalidInputError as refused:
            # The domain names `translations.de.topic`; the form's field is `topic`.
            errors = {name.rsplit(".", 1)[-1]: message
                      for name, message in field_errors(refused).items()}
            return await self._page(request, db_session, group, language, values=values,
                                    errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{_page_url(group)}?language={language}&saved=texts",
                        status_code=HTTP_303_SEE_OTHER)

    @post("/groups/{group_id:int}/translations/default-language", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def change_group_default_language(self, request: AnyRequest, db_session: DbSession,
                                            account: CurrentAccount, group_id: IdParam
                                            ) -> Response[Any]:
        """Say which language the group's own texts are written in."""
        group = await visible_group(db_session, account, group_id)
        form: FormMultiDict = await request.form()
        try:
            await set_group_default_language(db_session, group.id,
                                             text(form, "default_language", 8), now=utc_now())
        except InvalidInputError as refused:
            return await self._page(request, db_session, group, _chosen(group, None),
                                    errors=field_errors(refused),
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{_page_url(group)}?saved=language", status_code=HTTP_303_SEE_OTHER)
