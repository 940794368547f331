"""Hostile values for form walks (the back office's and the public pages'): each as it
travels in a form body, percent-encoded, so that bytes no browser would send (a NUL, broken
UTF-8) reach the app as they are."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

HOSTILE = {
    "a NUL byte": "Ana%00Novak",
    "broken UTF-8": "Ana%FF%FENovak",
    "a lone surrogate, as CESU-8": "Ana%ED%A0%80Novak",
    "a very long text": "x" * 100_001,
    "a huge number": "-99999999999999999999999",
    "a date out of range": "0001-01-01T00%3A00",
    "markup": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
}
# What "markup" is once decoded: an answer that shows it unescaped has a hole.
MARKUP = "<script>alert(1)</script>"
FORM_CONTENT = {"Content-Type": "application/x-www-form-urlencoded"}
_FIELD = re.compile(r'\bname="([^"]+)"')


def field_names(html: str) -> set[str]:
    """Every form field name in a page."""
    return set(_FIELD.findall(html))


def form_body(token: tuple[str, str], names: Iterable[str], value: str) -> bytes:
    """The form's token as given, and every named field set to `value` (already encoded)."""
    return "&".join([f"{token[0]}={quote(token[1])}",
                     *(f"{quote(name)}={value}" for name in sorted(names))]).encode("ascii")


def problem_with(answer: Any, what: str) -> str | None:
    """What is wrong with an answer to a hostile value (`what` says where it was sent): a
    server error, or the markup shown unescaped in a page; None when it held."""
    if answer.status_code >= 500:
        return f"{what}: {answer.status_code}"
    if answer.headers.get("content-type", "").startswith("text/html") and MARKUP in answer.text:
        return f"{what}: echoes the markup"
    return None
