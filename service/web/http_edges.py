"""HTTP rules every response obeys, applied once around the whole application.

Litestar answers HEAD only where a handler lists it, and adds headers only to the responses
of handlers: error answers from its router (404, 405) and exception handlers would be
missed. So this wrapper sits outside Litestar's routing and exception handling:

- HEAD is answered for every GET route: the request is routed as a GET and the body is
  dropped, keeping the headers (Content-Length included) a GET would have had (RFC 9110
  §9.3.2). A 405's `Allow` lists HEAD wherever it lists GET.
- Every response says `X-Content-Type-Options: nosniff`, so no browser runs a JSON answer
  or a calendar file as a script or a page.

It must not touch bodies of other methods nor look at paths (private links carry tokens).
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")


def _with_edge_headers(message: HTTPResponseStartEvent) -> HTTPResponseStartEvent:
    headers = list(message.get("headers", ()))
    names = {name.lower() for name, _ in headers}
    if NOSNIFF[0] not in names:
        headers.append(NOSNIFF)
    if message.get("status") == 405:
        headers = [
            (name, _allow_head(value)) if name.lower() == b"allow" else (name, value)
            for name, value in headers
        ]
    return {**message, "headers": headers}


def _allow_head(allow: bytes) -> bytes:
    methods = [method.strip() for method in allow.split(b",") if method.strip()]
    if b"GET" in methods and b"HEAD" not in methods:
        methods.append(b"HEAD")
    return b", ".join(methods)


class HttpEdges:
    """ASGI wrapper: HEAD for every GET route, nosniff on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        is_head = scope["method"] == "HEAD"
        if is_head:
            scope["method"] = "GET"

        async def send_with_edges(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_edge_headers(message)
            elif is_head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_edges)
