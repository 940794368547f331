"""Bearer-token authentication for organiser routes: 401 without a valid token, 403 for a
read-only token that tries to change something."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler

from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.accounts import Actor, may_reach, set_actor
from service.domain.auth import find_api_token
from service.i18n import gettext as _
from service.web.request_db import request_db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_ROLES = frozenset({"admin", "organiser"})
BEARER_SCHEME = {"BearerAuth": []}  # type: ignore[var-annotated]


async def require_organiser(connection: ASGIConnection[Any, Any, Any, Any],
                            _handler: BaseRouteHandler) -> None:
    header = connection.headers.get("authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthorizedException(
            _("An organiser API token is required (Authorization: Bearer <token>)."),
            headers={"WWW-Authenticate": 'Bearer realm="procura-events"'},
        )
    async with session_scope(connection.app.state.sessionmaker) as db:
        api_token = await find_api_token(db, secret.strip(), now=utc_now())
        role = api_token.role if api_token is not None else None
        token_id = api_token.id if api_token is not None else None
        token_name = api_token.name if api_token is not None else ""
        team_id = api_token.team_id if api_token is not None else None
        # A team's token reaches only that team's events: another team's are not found.
        in_scope = role is None or await may_reach(
            db, connection.path_params, team_ids=None if team_id is None else frozenset({team_id}))
    if role is None:
        raise NotAuthorizedException(
            _("This API token is unknown or revoked."),
            headers={"WWW-Authenticate": 'Bearer realm="procura-events", error="invalid_token"'},
        )
    if connection.scope.get("method", "GET") not in READ_METHODS and role not in WRITE_ROLES:
        raise PermissionDeniedException(_("This token may read but not change the programme."))
    if not in_scope:
        raise NotFoundException(_("Not found."))
    connection.state.api_token_id = token_id
    connection.state.api_token_role = role
    # The team whose events the token may see and change; None: every team's.
    connection.state.api_token_team_id = team_id
    # What the request then changes is recorded in the audit log as this token's.
    set_actor(request_db(connection), Actor(label=f"API token #{token_id} ({token_name})",
                                            api_token_id=token_id))
