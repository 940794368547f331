"""One registry of the route handlers and background hooks beyond the core JSON API."""

from __future__ import annotations

from typing import Any, Protocol

from litestar import Litestar


class LifespanHook(Protocol):
    async def start(self, app: Litestar) -> Any: ...

    async def stop(self, app: Litestar, handle: Any) -> None: ...


EXTRA_ROUTE_HANDLERS: list[Any] = []
LIFESPAN_HOOKS: list[LifespanHook] = []
