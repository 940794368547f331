"""Calendar feeds over HTTP, and the API that hands out (and replaces) private feed links.

Calendar apps poll feeds for years, so every feed answers conditional requests: a strong
ETag and Last-Modified from `service.domain.calendars.feeds`
(computed from change markers, never by
rendering), 304 on If-None-Match / If-Modified-Since, and Cache-Control for polling (HEAD is
answered for every GET route by `service.web.http_edges`).

Public feeds are also memoised per process (`FeedCache`): the plan (ETag, what is listed) is
reused until this process commits a programme change or `REVALIDATE_AFTER` seconds pass, and
rendered bodies are kept by ETag, so a warm request touches neither the database nor
icalendar. Each instance has its own cache; the ETag comes from the data, so instances agree,
and another instance's edit shows up here within `REVALIDATE_AFTER` seconds.
Personal feeds are looked up on every request, so a revoked link stops at once (404, with
nothing revealed about whether it ever existed).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from litestar import Controller, Litestar, Request, Response, get, post
from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.clock import utc_now
from service.db.models import EventKind
from service.domain import urls
from service.domain.calendars import feeds
from service.domain.calendars.feeds import FeedPlan
from service.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from service.i18n import LANGUAGES, current_language
from service.i18n import gettext as _
from service.settings import Settings
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam, PathText, SettingsDep, TokenParam

# Seconds a memoised public plan is trusted without asking the database. Working out a plan
# costs about 25 ms per 1,000 sessions, so this bounds the cost of revalidation; calendar apps
# poll hourly (REFRESH-INTERVAL) and may keep a copy for POLLING_MAX_AGE anyway.
REVALIDATE_AFTER = 30.0
POLLING_MAX_AGE = 300
CALENDAR_MEDIA_TYPE = "text/calendar"
_CACHED_SCOPES = frozenset({"programme", "event", "kind", "organiser"})
_KIND_NAMES = frozenset(str(kind) for kind in EventKind)

AnyRequest = Request[Any, Any, Any]


# --- the per-process cache --------------------------------------------------------------------


@dataclass
class _Memo:
    plan: FeedPlan
    revision: int
    checked_at: float


async def _shared(
    pending: dict[Any, asyncio.Future[Any]], key: Any, work: Callable[[], Awaitable[Any]]
) -> Any:
    """Run `work` once for everyone who asks for `key` while it runs."""
    waiting = pending.get(key)
    if waiting is not None:
        return await asyncio.shield(waiting)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pending[key] = future
    try:
        result = await work()
    except BaseException as error:
        future.set_exception(error)
        future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
        raise
    finally:
        del pending[key]
    future.set_result(result)
    return result


class FeedCache:
    """Memoised public plans (by feed) and rendered bodies (by ETag, least recently used out).

    A plan is recomputed at once after this process commits a programme change, and at
    most every `revalidate_after` seconds otherwise; while one request recomputes an
    expired plan, the others keep answering from it. Concurrent cold requests for one
    ETag share one render.
    """

    def __init__(
        self, *, revalidate_after: float = REVALIDATE_AFTER, max_plans: int = 1024,
        max_body_bytes: int = 96 * 2**20, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.revalidate_after = revalidate_after
        self.max_plans = max_plans
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._plans: OrderedDict[str, _Memo] = OrderedDict()
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._body_bytes = 0
        self._describing: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self._rendering: dict[str, asyncio.Future[Any]] = {}

    async def plan_for(self, key: str, describe: Callable[[], Awaitable[FeedPlan]]) -> FeedPlan:
        revision = feeds.programme_revision()
        memo = self._plans.get(key)
        if memo is not None and memo.revision == revision:
            fresh = self._clock() - memo.checked_at < self.revalidate_after
            if fresh or (key, revision) in self._describing:
                return memo.plan  # (only another instance's edit can be missed, briefly)

        async def work() -> FeedPlan:
            plan = await describe()
            # The revision read before describing: a commit landing meanwhile makes this
            # memo stale at once.
            self._remember_plan(key, plan, revision)
            return plan

        plan: FeedPlan = await _shared(self._describing, (key, revision), work)
        return plan

    def _remember_plan(self, key: str, plan: FeedPlan, revision: int) -> None:
        self._plans[key] = _Memo(plan, revision, self._clock())
        self._plans.move_to_end(key)
        while len(self._plans) > self.max_plans:
            self._plans.popitem(last=False)

    def body(self, etag: str) -> bytes | None:
        body = self._bodies.get(etag)
        if body is not None:
            self._bodies.move_to_end(etag)
        return body

    def remember_body(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_body_bytes or etag in self._bodies:
            return
        self._bodies[etag] = body
        self._body_bytes += len(body)
        while self._body_bytes > self.max_body_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._body_bytes -= len(dropped)

    async def body_for(self, etag: str, render: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached body, or one render shared by every request waiting for this ETag."""
        cached = self.body(etag)
        if cached is not None:
            return cached

        async def work() -> bytes:
            body = await render()
            self.remember_body(etag, body)
            return body

        body: bytes = await _shared(self._rendering, etag, work)
        return body


def feed_cache(app: Litestar) -> FeedCache:
    cache: FeedCache = app.state.feed_cache  # one per run (`service.web.app`)
    return cache


@asynccontextmanager
async def _read_db(request: AnyRequest) -> AsyncIterator[AsyncSession]:
    """A database session opened only when the memo cannot answer (warm requests need none)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as db:
        yield db


# --- HTTP caching -----------------------------------------------------------------------------


def _http_date(instant: datetime) -> str:
    return format_datetime(instant.astimezone(UTC).replace(microsecond=0), usegmt=True)


@lru_cache(maxsize=1024)
def _cached_headers(
    etag: str, last_modified: datetime | None, is_private: bool, filename: str | None
) -> tuple[tuple[str, str], ...]:
    visibility = "private" if is_private else "public"
    headers = [("ETag", etag), ("Cache-Control", f"{visibility}, max-age={POLLING_MAX_AGE}")]
    if last_modified is not None:
        headers.append(("Last-Modified", _http_date(last_modified)))
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    if is_private:
        # The token is the key: keep it out of search engines and other sites' logs.
        headers += [("X-Robots-Tag", "noindex, nofollow"), ("Referrer-Policy", "no-referrer")]
    return tuple(headers)


def _headers(plan: FeedPlan) -> dict[str, str]:
    """Computed once per feed version: warm requests are answered by the thousand."""
    return dict(_cached_headers(plan.etag, plan.last_modified, plan.is_private, plan.filename))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def is_not_modified(request: AnyRequest, plan: FeedPlan) -> bool:
    """RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [_opaque(tag) for tag in if_none_match.split(",")]
        return "*" in tags or plan.etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and plan.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return plan.last_modified.replace(microsecond=0) <= since
    return False


def _not_modified(plan: FeedPlan) -> Response[bytes]:
    return Response(content=b"", status_code=304, headers=_headers(plan))


def _calendar(plan: FeedPlan, body: bytes) -> Response[bytes]:
    return Response(content=body, media_type=CALENDAR_MEDIA_TYPE, headers=_headers(plan))


async def _answer(
    request: AnyRequest, plan: FeedPlan, render: Callable[[], Awaitable[bytes]]
) -> Response[bytes]:
    if is_not_modified(request, plan):
        return _not_modified(plan)
    if plan.scope in _CACHED_SCOPES:
        body = await feed_cache(request.app).body_for(plan.etag, render)
    else:
        body = await render()
    return _calendar(plan, body)


Describe = Callable[[AsyncSession, datetime, Settings], Awaitable[FeedPlan]]


async def _memoised_feed(request: AnyRequest, key: str, describe: Describe) -> Response[bytes]:
    """Public feeds: no database session and no dependency at all unless the memo is stale
    (settings come from the app state: injecting them costs more than the rest)."""
    settings: Settings = request.app.state.settings

    async def fresh_plan() -> FeedPlan:
        async with _read_db(request) as db:
            return await describe(db, utc_now(), settings)

    # A feed's names and descriptions are in the request's language: one plan per language.
    plan = await feed_cache(request.app).plan_for(f"{current_language()}:{key}", fresh_plan)

    async def render() -> bytes:
        async with _read_db(request) as db:
            return await feeds.render_feed(db, plan, now=utc_now(), settings=settings)

    return await _answer(request, plan, render)


async def _direct_feed(
    request: AnyRequest, db: AsyncSession, plan: FeedPlan, settings: Settings
) -> Response[bytes]:
    async def render() -> bytes:
        return await feeds.render_feed(db, plan, now=utc_now(), settings=settings)

    return await _answer(request, plan, render)


def _content_language(request: AnyRequest) -> str | None:
    """A public feed's `?lang=`: the events' texts in that language where translated;
    without it, each event's own default language."""
    value: str | None = request.query_params.get("lang")
    if value is None:
        return None
    if value not in LANGUAGES:
        raise InvalidInputError(
            _("Choose one of %(languages)s.") % {"languages": ", ".join(LANGUAGES)}, "lang")
    return value


def _stem(name: str, field: str) -> str:
    """`abc.ics` -> `abc`; anything else is simply not a feed."""
    if not name.endswith(".ics") or len(name) <= 4:
        raise NotFoundError(_("No such calendar feed."), field)
    return name[:-4]


# --- feeds ------------------------------------------------------------------------------------


class FeedController(Controller):
    """`webcal://` subscriptions and `.ics` downloads: public feeds and personal ones."""

    path = "/feeds"
    tags = ["feeds"]

    @get("/programme.ics")
    async def programme(self, request: AnyRequest) -> Response[bytes]:
        language = _content_language(request)

        async def describe(db: AsyncSession, now: datetime, settings: Settings) -> FeedPlan:
            return await feeds.programme_feed(db, now=now, settings=settings, language=language)

        return await _memoised_feed(request, f"programme:{language}", describe)

    @get("/events/{name:str}")
    async def event(self, request: AnyRequest, name: PathText) -> Response[bytes]:
        slug = _stem(name, "slug")
        language = _content_language(request)

        async def describe(db: AsyncSession, now: datetime, settings: Settings) -> FeedPlan:
            return await feeds.event_feed(db, slug, now=now, settings=settings,
                                          language=language)

        return await _memoised_feed(request, f"event:{slug}:{language}", describe)

    @get("/kinds/{name:str}")
    async def kind(self, request: AnyRequest, name: PathText) -> Response[bytes]:
        stem = _stem(name, "kind")
        if stem not in _KIND_NAMES:
            raise NotFoundError(_("No such calendar feed."), "kind")
        kind = EventKind(stem)
        language = _content_language(request)

        async def describe(db: AsyncSession, now: datetime, settings: Settings) -> FeedPlan:
            return await feeds.kind_feed(db, kind, now=now, settings=settings, language=language)

        return await _memoised_feed(request, f"kind:{kind}:{language}", describe)

    @get("/sessions/{name:str}")
    async def session_download(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, name: PathText
    ) -> Response[bytes]:
        stem = _stem(name, "session_id")
        if not stem.isdigit() or len(stem) > 10:
            raise NotFoundError(_("No such session."), "session_id")
        plan = await feeds.session_download(db_session, int(stem), now=utc_now(),
                                            settings=settings,
                                            language=_content_language(request))
        return await _direct_feed(request, db_session, plan, settings)

    @get("/registrations/{name:str}")
    async def registration(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, name: PathText
    ) -> Response[bytes]:
        token = _stem(name, "token")
        # The registrant's own feed: in the language in force for them.
        plan = await feeds.registration_feed(db_session, token, now=utc_now(), settings=settings,
                                             language=current_language())
        return await _direct_feed(request, db_session, plan, settings)

    @get("/speakers/{name:str}")
    async def speaker(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, name: PathText
    ) -> Response[bytes]:
        token = _stem(name, "token")
        plan = await feeds.speaker_feed(db_session, token, now=utc_now(), settings=settings,
                                        language=current_language())
        return await _direct_feed(request, db_session, plan, settings)

    @get("/organisers/{name:str}")
    async def organiser(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep, name: PathText
    ) -> Response[bytes]:
        token = _stem(name, "token")
        plan = await feeds.organiser_feed(db_session, token, now=utc_now(), settings=settings)
        return await _direct_feed(request, db_session, plan, settings)


# --- private links ----------------------------------------------------------------------------


class FeedLinkOut(Struct):
    feed_url: str
    webcal_url: str


class SpeakerLinksOut(Struct):
    person_id: int
    page_url: str
    feed_url: str
    webcal_url: str


def _feed_link(url: str) -> FeedLinkOut:
    return FeedLinkOut(feed_url=url, webcal_url=urls.webcal_url(url))


def _speaker_links_out(settings: Settings, person_id: int, links: feeds.SpeakerLinks
                       ) -> SpeakerLinksOut:
    feed_url = urls.speaker_feed_url(settings, links.feed_token)
    return SpeakerLinksOut(
        person_id=person_id,
        page_url=urls.speaker_page_url(settings, links.page_token),
        feed_url=feed_url,
        webcal_url=urls.webcal_url(feed_url),
    )


def _api_token_id(request: AnyRequest) -> int:
    api_token_id = request.state.get("api_token_id")
    if not isinstance(api_token_id, int):  # the guard always sets it; never guess
        raise PermissionDeniedError(_("No API token on this request."), "authorization")
    return api_token_id


class OrganiserFeedLinkController(Controller):
    """Organisers' own feed link, and speakers' private links, issued by organisers."""

    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/feed-token")
    async def get_organiser_feed_link(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep
    ) -> FeedLinkOut:
        """The calling API token's organiser feed (created on first use)."""
        token = await feeds.current_organiser_feed_token(
            db_session, _api_token_id(request), now=utc_now(), settings=settings
        )
        return _feed_link(urls.organiser_feed_url(settings, token))

    @post("/feed-token")
    async def replace_organiser_feed_link(
        self, request: AnyRequest, db_session: DbSession, settings: SettingsDep
    ) -> FeedLinkOut:
        """A new organiser feed link for the calling API token; the old one stops working."""
        token = await feeds.issue_organiser_feed_token(
            db_session, _api_token_id(request), now=utc_now(), settings=settings
        )
        return _feed_link(urls.organiser_feed_url(settings, token))

    @get("/persons/{person_id:int}/speaker-links")
    async def get_speaker_links(
        self, db_session: DbSession, settings: SettingsDep, person_id: IdParam
    ) -> SpeakerLinksOut:
        """A person's current speaker page and feed links, the ones already emailed: asking
        revokes nothing (created on first use)."""
        links = await feeds.current_speaker_links(
            db_session, person_id, now=utc_now(), settings=settings
        )
        return _speaker_links_out(settings, person_id, links)

    @post("/persons/{person_id:int}/speaker-links")
    async def replace_speaker_links(
        self, db_session: DbSession, settings: SettingsDep, person_id: IdParam
    ) -> SpeakerLinksOut:
        """New speaker page and feed links for a person; the old ones, emailed already,
        stop working. To read the current ones, GET this address."""
        links = await feeds.issue_speaker_links(
            db_session, person_id, now=utc_now(), settings=settings
        )
        return _speaker_links_out(settings, person_id, links)


class RegistrantFeedLinkController(Controller):
    """A registrant replaces their feed link from their manage link (no account needed)."""

    path = "/api/registrations"
    tags = ["registrations"]

    @post("/{manage_token:str}/feed-token")
    async def replace_registration_feed_link(
        self, db_session: DbSession, settings: SettingsDep, manage_token: TokenParam
    ) -> FeedLinkOut:
        token = await feeds.replace_registration_feed_token(
            db_session, manage_token, now=utc_now(), settings=settings
        )
        return _feed_link(urls.registration_feed_url(settings, token))


ROUTE_HANDLERS: list[Any] = [
    FeedController, OrganiserFeedLinkController, RegistrantFeedLinkController,
]
