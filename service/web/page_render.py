"""The one Jinja2 environment for the public HTML pages, and HTML responses built with it.

Templates live in `templates/pages/` (one per page) and `templates/partials/` (the layout
and shared pieces); autoescaping is always on, so everything a visitor or organiser typed
is escaped. Compiling a template costs far more than rendering it: the environment and its
cache are built once per process. This module only turns view data into HTML; it does not
read the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from litestar import MediaType, Response
from litestar.datastructures import Cookie
from markupsafe import Markup

from service.i18n import LANGUAGES, babel_locale, current_language, install_translations
from service.settings import TEMPLATES_DIR
from service.web.languages import language_links

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"

# Pages are personal (forms, tokens): never stored by shared caches; no framing, no sniffing.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@cache
def static_url(name: str) -> str:
    """URL of a static asset with a content hash, so browsers never keep a stale copy."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_PATH}/{name}?v={digest}"


def full_day_label(day: date) -> str:
    """A meeting's day with its weekday, in the language in force ("Tuesday 26 January 2027",
    "Dienstag, 26. Januar 2027"): `{{ day | full_day }}` in the page templates."""
    language = current_language()
    pattern = "EEEE dd MMMM y" if language == "en" else "full"
    return format_date(day, pattern, locale=babel_locale(language))


@cache
def get_environment() -> Environment:
    """The pages' Jinja2 environment (built once; templates compiled once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    install_translations(env)
    env.globals["static_url"] = static_url
    env.globals["language_links"] = language_links
    env.globals["csrf_field"] = csrf_field
    env.filters["full_day"] = full_day_label
    env.globals["lang_attr"] = lang_attr
    return env


def lang_attr(text: object) -> Markup:
    """` lang="de"` for content written in another language than the page's (a screen
    reader then reads it with the right voice); nothing otherwise."""
    language = getattr(text, "language", None)
    if not isinstance(language, str) or language == current_language() \
            or language not in LANGUAGES:
        return Markup("")
    return Markup(' lang="%s"') % language


# The form field the back office's CSRF check reads (service/web/backoffice/guards.py).
CSRF_FIELD_NAME = "_csrf"


@pass_context
def csrf_field(context: Context) -> Markup:
    """`{{ csrf_field() }}`: the hidden form token of the page's `csrf_token`."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD_NAME, context["csrf_token"])


def render_page(template: str, context: Mapping[str, Any]) -> str:
    return get_environment().get_template(f"pages/{template}").render(context)


def html_response(
    template: str, context: Mapping[str, Any], *, status_code: int = 200,
    headers: Mapping[str, str] | None = None, cookies: list[Cookie] | None = None,
) -> Response[str]:
    return Response(
        content=render_page(template, context),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=cookies,
    )
