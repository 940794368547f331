"""Which language a request is answered in, chosen once around the whole application.

In order: the page's `?lang=` (a stable address to share, which the switcher links to and
which is remembered in a cookie), the remembered choice, the browser's Accept-Language,
English. The back office then prefers the signed-in organiser's own language unless the
address names one (service/web/backoffice/guards.py); a private link's page prefers its
owner's language to the browser's (service/web/owner_language.py). Pages link to their own
address in every language (the switcher, and `hreflang` alternates for search engines).
HTML and JSON answers say their language (Content-Language) and that it depends on the
request (Vary).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from service.i18n import LANGUAGE_NAMES, LANGUAGES, current_language, negotiate, use_language

LANGUAGE_PARAMETER = "lang"
LANGUAGE_COOKIE = "lang"
_COOKIE_SECONDS = 365 * 24 * 3600

# The path and query of the page being answered (without `lang`), for its language links.
_page_address: ContextVar[tuple[str, list[tuple[str, str]]]] = ContextVar(
    "page_address", default=("/", []))


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str  # in its own language
    href: str
    current: bool


class Choice(NamedTuple):
    language: str
    named: bool  # the address names it (`?lang=`)
    remembered: bool  # chosen earlier in this browser (the switcher's cookie)


def chosen_language(scope: Scope) -> Choice:
    """The request's language, and whether it was chosen (named or remembered) or guessed."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    named = [value for name, value in query if name == LANGUAGE_PARAMETER and value in LANGUAGES]
    if named:
        return Choice(named[-1], named=True, remembered=False)
    headers = dict(scope.get("headers", ()))
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:
        cookie = SimpleCookie()
    remembered = cookie.get(LANGUAGE_COOKIE)
    if remembered is not None and remembered.value in LANGUAGES:
        return Choice(remembered.value, named=False, remembered=True)
    browser = negotiate(headers.get(b"accept-language", b"").decode("latin-1"))
    return Choice(browser or LANGUAGES[0], named=False, remembered=False)


def language_links() -> list[LanguageLink]:
    """The page being answered, once per language (the switcher and `hreflang` links)."""
    path, query = _page_address.get()
    current = current_language()
    return [
        LanguageLink(code=code, name=LANGUAGE_NAMES[code],
                     href=f"{path}?{urlencode([*query, (LANGUAGE_PARAMETER, code)])}",
                     current=code == current)
        for code in LANGUAGES
    ]


_JSON_TYPES = (b"application/json", b"application/problem+json")


def _with_language_headers(
    message: HTTPResponseStartEvent, language: str, remember: bool
) -> HTTPResponseStartEvent:
    headers = list(message.get("headers", ()))
    content_type = next((value for name, value in headers if name.lower() == b"content-type"),
                        b"")
    is_page = content_type.startswith(b"text/html")
    if not is_page and not content_type.startswith(_JSON_TYPES):
        return message
    # JSON answers speak the language too (error messages, the events' translated texts).
    headers.append((b"content-language", language.encode()))
    headers.append((b"vary", b"Accept-Language, Cookie"))
    if remember and is_page:
        headers.append((b"set-cookie", (
            f"{LANGUAGE_COOKIE}={language}; Path=/; Max-Age={_COOKIE_SECONDS}; SameSite=Lax"
        ).encode()))
    return {**message, "headers": headers}


class LanguageChoice:
    """ASGI wrapper: the request's language in force while it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        language, named, _ = chosen_language(scope)
        query = [(name, value) for name, value in
                 parse_qsl(scope.get("query_string", b"").decode("latin-1"))
                 if name != LANGUAGE_PARAMETER]

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_language_headers(message, current_language(), named)
            await send(message)

        address = _page_address.set((scope.get("path", "/"), query))
        try:
            with use_language(language):
                await self.app(scope, receive, send_with_language)
        finally:
            _page_address.reset(address)
