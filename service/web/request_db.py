"""The request's own database session, for guards that run before the handler's dependencies.

It is the session the handler then receives as `db_session` and that the SQLAlchemy plugin
commits (2xx, 3xx) or rolls back: a guard may read with it and mark it (who is acting) at no
extra cost. Creating it opens no connection until it is used.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncSession


def request_db(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSession:
    config: SQLAlchemyAsyncConfig = connection.app.state.db_config
    return config.provide_session(connection.app.state, connection.scope)
