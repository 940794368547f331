"""Bearer-token authentication for organiser routes: 401 without a valid token, 403 for a
read-only token that tries to change something."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from service.clock import utc_now
from service.db.engine import session_scope
from service.domain.auth import find_api_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_ROLES = frozenset({"admin", "organiser"})
BEARER_SCHEME = {"BearerAuth": []}  # type: ignore[var-annotated]


async def require_organiser(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    header = connection.headers.get("authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthorizedException(
            "An organiser API token is required (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": 'Bearer realm="procura-events"'},
        )
    async with session_scope(connection.app.state.sessionmaker) as db:
        api_token = await find_api_token(db, secret.strip(), now=utc_now())
        role = api_token.role if api_token is not None else None
        token_id = api_token.id if api_token is not None else None
    if role is None:
        raise NotAuthorizedException(
            "This API token is unknown or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="procura-events", error="invalid_token"'},
        )
    if connection.scope.get("method", "GET") not in READ_METHODS and role not in WRITE_ROLES:
        raise PermissionDeniedException("This token may read but not change the programme.")
    connection.state.api_token_id = token_id
    connection.state.api_token_role = role
