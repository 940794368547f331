"""The application factory: wiring only (database, routes, errors, OpenAPI, scheduler)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, OpenAPI, OpenAPIResponse, SecurityScheme
from litestar.types import Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.engine import create_engine, make_sessionmaker
from service.db.migrate import ensure_migrated
from service.heap import collection_paused, started_world_set_aside
from service.operations import consequences
from service.settings import Settings, load_settings
from service.web.api_organiser import OrganiserController
from service.web.api_public import PublicController
from service.web.backoffice import BACKOFFICE_CONTROLLERS
from service.web.backoffice.exceptions import BACKOFFICE_EXCEPTION_HANDLERS
from service.web.backoffice.guards import ACCOUNT_DEPENDENCY, guard_backoffice
from service.web.errors import EXCEPTION_HANDLERS
from service.web.feeds import FeedCache
from service.web.http_edges import HttpEdges
from service.web.json_bodies import ApiRequest, require_json_content_type
from service.web.languages import LanguageChoice
from service.web.owner_language import speak_the_owners_language
from service.web.page_render import static_url
from service.web.rate_limit import RateLimiter
from service.web.registration_desk import RegistrationDesk
from service.web.routes import EXTRA_ROUTE_HANDLERS, LIFESPAN_HOOKS
from service.web.schemas import Input

logger = logging.getLogger("procura_events")


def _provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def _provide_registration_desk(state: State) -> RegistrationDesk:
    desk: RegistrationDesk = state.registration_desk
    return desk


async def _every_route(connection: ASGIConnection[Any, Any, Any, Any],
                       handler: BaseRouteHandler) -> None:
    """The guards of every route, as one: Litestar copies the handler for each guard it runs.
    guard_backoffice: who is signed in under /organiser, and CSRF on its forms;
    speak_the_owners_language: a private link's page in its owner's language."""
    await require_json_content_type(connection, handler)
    await guard_backoffice(connection, handler)
    await speak_the_owners_language(connection, handler)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    consequences.wire()
    engine = create_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit_include_redirects",  # the one place a request commits
        enable_touch_updated_timestamp_listener=False,
        set_default_exception_handler=False,
        create_all=False,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await ensure_migrated(engine, settings.database_url)
        app.state.update(_one_run(settings, sessionmaker))
        async with _run_hooks(app):
            with started_world_set_aside():
                yield
        await engine.dispose()

    with collection_paused():
        app = Litestar(
            route_handlers=[PublicController, OrganiserController, *EXTRA_ROUTE_HANDLERS,
                            *BACKOFFICE_CONTROLLERS],
            plugins=[SQLAlchemyPlugin(config=db_config)],
            dependencies={
                "settings": Provide(_provide_settings, sync_to_thread=False),
                "registration_desk": Provide(_provide_registration_desk, sync_to_thread=False),
                **ACCOUNT_DEPENDENCY,
            },
            exception_handlers={**EXCEPTION_HANDLERS, **BACKOFFICE_EXCEPTION_HANDLERS},
            guards=[_every_route],
            request_class=ApiRequest,
            state=State({"settings": settings, "engine": engine, "sessionmaker": sessionmaker,
                         "db_config": db_config}),
            lifespan=[lifespan],
            openapi_config=OpenAPIConfig(
                title="Procura Events",
                version="0.1.0",
                description="The events programme of a network of public procurement authorities.",
                path="/api/docs",
                render_plugins=[_api_docs_renderer()],
                components=Components(
                    security_schemes={
                        "BearerAuth": SecurityScheme(
                            type="http", scheme="bearer",
                            description="Organiser API token (create one with "
                            "`procura-events create-token`).",
                        )
                    }
                ),
            ),
            debug=settings.debug,
        )
    # Outside routing and error handling, so that 404s, 405s and errors obey it too.
    app.asgi_handler = HttpEdges(LanguageChoice(_DocumentsBeforeServing(app)))
    return app


def _one_run(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
             ) -> dict[str, Any]:
    """What lives for one run of the app, made afresh each time it starts: the requests being
    filed and counted (their tasks belong to the run's event loop) and the memoised feeds
    (an app started again must not answer from what an earlier run saw)."""
    return {"registration_desk": RegistrationDesk(sessionmaker, settings),
            "rate_limiter": RateLimiter(sessionmaker), "feed_cache": FeedCache()}


def openapi_document(app: Litestar) -> OpenAPI:
    """The app's OpenAPI document with our notes in it. Built on first use, not when the
    app is created: building it is a quarter of creating the app."""
    schema = app.openapi_schema
    if not app.state.get("openapi_noted"):
        _document_closed_inputs(schema)
        _document_json_bodies(schema)
        app.state["openapi_noted"] = True
    return schema


class _DocumentsBeforeServing:
    """ASGI wrapper: the notes are in the document before its pages first serve it."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.handler = app.asgi_handler
        self.docs_path = app.openapi_config.path if app.openapi_config else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.docs_path and scope["type"] == ScopeType.HTTP
                and scope["path"].startswith(self.docs_path)):
            openapi_document(self.app)
        await self.handler(scope, receive, send)


def _api_docs_renderer() -> SwaggerRenderPlugin:
    """Swagger UI from our own static files (see static/swagger-ui/SOURCE.txt), not a CDN:
    the documentation works offline and its visitors are not announced to another host."""
    return SwaggerRenderPlugin(
        js_url=static_url("swagger-ui/swagger-ui-bundle.js"),
        css_url=static_url("swagger-ui/swagger-ui.css"),
        standalone_preset_js_url=static_url("swagger-ui/swagger-ui-standalone-preset.js"),
        favicon=f'<link rel="icon" type="image/svg+xml" href="{static_url("favicon.svg")}">',
    )


def _document_closed_inputs(document: OpenAPI) -> None:
    """Input shapes refuse unknown fields (msgspec's forbid_unknown_fields): say so in OpenAPI."""
    closed = {kind.__name__ for kind in _subclasses(Input)}
    components = document.components
    for name, schema in (components.schemas or {}).items() if components else ():
        if name in closed:
            schema.additional_properties = False


def _document_json_bodies(document: OpenAPI) -> None:
    """Operations with a JSON body answer 415 to any other content type: say so in OpenAPI."""
    for path_item in (document.paths or {}).values():
        for operation in (path_item.post, path_item.put, path_item.patch):
            if operation is None or operation.request_body is None:
                continue
            responses = operation.responses or {}
            refused = responses.get("400")  # the same error shape as a validation error
            responses["415"] = OpenAPIResponse(
                description="The body was not declared as JSON: send it with Content-Type: "
                "application/json (or application/*+json).",
                content=refused.content if isinstance(refused, OpenAPIResponse) else None,
            )
            operation.responses = responses


def _subclasses(kind: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in kind.__subclasses__():
        found.extend([sub, *_subclasses(sub)])
    return found


@asynccontextmanager
async def _run_hooks(app: Litestar) -> AsyncIterator[None]:
    """Start what runs beside the web server (the scheduler) and stop it on the way out."""
    started: list[Any] = []
    try:
        for hook in LIFESPAN_HOOKS:
            started.append(await hook.start(app))
        yield
    finally:
        for hook, handle in zip(reversed(LIFESPAN_HOOKS), reversed(started), strict=False):
            await hook.stop(app, handle)
