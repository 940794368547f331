"""Interest Group calendar feeds over HTTP: the group's feed and each member's own.

`/groups/{slug}/calendar.ics` follows the group page's visibility: a public group's meetings
without join links for anyone; a members-only group's only with a member's feed token
(`?token=`), then with join links; otherwise 404, revealing nothing. `/groups/feed/{token}.ics`
is a member's personal feed (join links, without the occurrences they declined). Both answer
conditional requests like the other feeds (ETag and Last-Modified from the data, 304).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from service.domain.groups.series_calendars import GroupFeed, group_feed, member_feed
from service.web.feeds import _calendar, _not_modified, _stem, is_not_modified
from service.web.params import DbSession, PathText, SettingsDep

AnyRequest = Request[Any, Any, Any]
FeedToken = Annotated[
    str | None, QueryParameter(name="token", required=False, max_length=200,
                               description="A member's feed token (members-only groups).")
]


def _answer(request: AnyRequest, feed: GroupFeed) -> Response[bytes]:
    if is_not_modified(request, feed.plan):
        return _not_modified(feed.plan)
    return _calendar(feed.plan, feed.body())


class GroupFeedController(Controller):
    """Subscriptions to a group's meetings (each series one recurring event)."""

    path = "/groups"
    tags = ["feeds"]

    @get("/{slug:str}/calendar.ics")
    async def group(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                    slug: PathText, token: FeedToken = None) -> Response[bytes]:
        feed = await group_feed(db_session, slug, token=token, settings=settings)
        return _answer(request, feed)

    @get("/feed/{name:str}")
    async def member(self, request: AnyRequest, db_session: DbSession, settings: SettingsDep,
                     name: PathText) -> Response[bytes]:
        feed = await member_feed(db_session, _stem(name, "token"), settings=settings)
        return _answer(request, feed)


ROUTE_HANDLERS = [GroupFeedController]
