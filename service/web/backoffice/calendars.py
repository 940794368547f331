"""Calendar feeds to copy: each of the account's teams' private feed (drafts included,
with join links) and the public feeds (the programme, each kind, each published event).

A team's private link is shown as it is; making the first one, or replacing a link that
went too far, is a change (editors only), and replacing asks for a confirmation first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.clock import utc_now
from service.db.models import EventKind, EventStatus
from service.domain import urls
from service.domain.accounts import SignedInAccount, list_teams, list_visible_events
from service.domain.calendars import team_feeds
from service.domain.wording import KIND_PLURALS
from service.i18n import gettext as _
from service.settings import Settings
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    BackofficeForbidden,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam, SettingsDep


@dataclass(frozen=True)
class FeedLink:
    id: str  # the copy box's id
    label: str
    url: str
    webcal_url: str


@dataclass(frozen=True)
class TeamFeed:
    team_id: int
    team_name: str
    link: FeedLink | None


def _link(id_: str, label: str, url: str) -> FeedLink:
    return FeedLink(id=id_, label=label, url=url, webcal_url=urls.webcal_url(url))


async def _teams(db: DbSession, account: SignedInAccount) -> list[tuple[int, str]]:
    return [(team.id, team.name) for team in await list_teams(db)
            if account.is_admin or team.id in account.team_ids]


def _team_of(teams: list[tuple[int, str]], team_id: int) -> str:
    for id_, name in teams:
        if id_ == team_id:
            return name
    raise BackofficeForbidden(_("You are not in this team."))


async def _team_feeds(db: DbSession, account: SignedInAccount, settings: Settings
                      ) -> list[TeamFeed]:
    teams = await _teams(db, account)
    tokens = await team_feeds.team_feed_tokens(db, [id_ for id_, _name in teams],
                                               settings=settings)
    return [TeamFeed(id_, name, _link(f"team-feed-{id_}",
                                      _("Private feed of %(team)s") % {"team": name},
                                      urls.organiser_feed_url(settings, tokens[id_]))
                     if id_ in tokens else None)
            for id_, name in teams]


class CalendarsController(Controller):
    path = BACKOFFICE_PATH + "/calendars"
    include_in_schema = False

    @get("/", guards=[require_account])
    async def calendars(self, request: AnyRequest, db_session: DbSession,
                        settings: SettingsDep, account: CurrentAccount) -> Response[Any]:
        events = [e for e in await list_visible_events(db_session, account, now=utc_now())
                  if e.status == EventStatus.PUBLISHED]
        public = [_link("feed-programme", _("The whole programme"),
                        urls.programme_feed_url(settings))]
        public += [_link(f"feed-kind-{kind.value}", _(KIND_PLURALS[kind]),
                         urls.kind_feed_url(settings, kind)) for kind in EventKind]
        public += [_link(f"feed-event-{e.id}", e.title, urls.event_feed_url(settings, e.slug))
                   for e in events]
        done = request.query_params.get("done")
        return organiser_page(request, "calendars.html", {
            "title": _("Calendars"), "nav": "calendars",
            "teams": await _team_feeds(db_session, account, settings), "public": public,
            "message": _("The team's new feed link is below; the old one no longer works.")
            if done == "replaced" else None})

    @get("/teams/{team_id:int}/new-link", guards=[require_editor])
    async def confirm_new_link(self, request: AnyRequest, db_session: DbSession,
                               settings: SettingsDep, account: CurrentAccount,
                               team_id: IdParam) -> Response[Any]:
        name = _team_of(await _teams(db_session, account), team_id)
        tokens = await team_feeds.team_feed_tokens(db_session, [team_id], settings=settings)
        return organiser_page(request, "calendar_new_link.html", {
            "title": _("A new feed link for %(team)s") % {"team": name}, "nav": "calendars",
            "team_id": team_id,
            "team_name": name, "has_link": team_id in tokens})

    @post("/teams/{team_id:int}/new-link", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def new_link(self, db_session: DbSession, settings: SettingsDep,
                       account: CurrentAccount, team_id: IdParam) -> Redirect:
        _team_of(await _teams(db_session, account), team_id)
        await team_feeds.replace_team_feed_token(db_session, team_id, now=utc_now(),
                                                 settings=settings)
        return Redirect(f"{BACKOFFICE_PATH}/calendars?done=replaced#team-feed-{team_id}",
                        status_code=HTTP_303_SEE_OTHER)
