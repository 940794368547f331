"""The language people read: which one is in force, and its translated messages.

Every text a person reads is written in English in the code and the templates, marked for
translation (`_("...")` in Python, `{{ _("...") }}` and `{% trans %}` in templates), and
looked up at the moment it is rendered in the language in force. That language is a
context variable: a web request sets it from the page's `?lang=`, the visitor's choice or
their browser; the email composer sets it to the recipient's stored language; a job that
writes for several people sets it per person with `use_language`. Nothing here depends on
the machine's locale.

Catalogues are `service/locale/<language>/LC_MESSAGES/messages.po`, read once per process
(fuzzy entries are left out, as gettext leaves them out). English is the source language
and has no catalogue.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
# Every language the service speaks, in the order the language switcher lists them.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl")
# Each language named in itself, as the switcher and the forms offer it.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
}

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def is_language(code: object) -> bool:
    return isinstance(code, str) and code in LANGUAGES


def supported(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """`code` if the service speaks it ("de", "de-CH" → "de"), else `default`."""
    if not code:
        return default
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else default


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(code: str | None) -> Iterator[str]:
    """Make `code` (or English, if the service does not speak it) the language in force."""
    language = supported(code)
    token = _language.set(language)
    try:
        yield language
    finally:
        _language.reset(token)


def set_language(code: str | None) -> str:
    """The language in force for the rest of this task (a web request); returns it."""
    language = supported(code)
    _language.set(language)
    return language


def negotiate(accept_language: str | None) -> str | None:
    """The best language of an Accept-Language header that the service speaks, or None."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = supported(tag, default="")
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


@cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue, compiled in memory once (English: the messages themselves)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled)


def gettext(message: str) -> str:
    """`message` in the language in force."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` as meant in `context`, for words that translate differently by use."""
    return str(translations(_language.get()).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return str(translations(_language.get()).npgettext(context, singular, plural, count))


def N_(message: str) -> str:
    """Mark `message` for the catalogues without translating it: it is translated where it
    is shown (`_(LABELS[kind])`), in the language in force there."""
    return message


_ = gettext


@cache
def babel_locale(language: str) -> Locale:
    """Babel's locale for dates and numbers (English as written in Europe: 9 November 2020)."""
    return Locale.parse("en_GB" if language == "en" else language)


def install_translations(env: Environment) -> None:
    """Give a Jinja2 environment `_()`, `{% trans %}` (whitespace trimmed) and the language
    in force, all looked up when a template renders."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.policies["ext.i18n.trimmed"] = True
    env.globals["current_language"] = current_language
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
