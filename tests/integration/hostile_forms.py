"""Hostile values for form walks (the back office's and the public pages'): each as it
travels in a form body, percent-encoded, so that bytes no browser would send (a NUL, broken
UTF-8) reach the app as they are."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from tests.integration.test_pages import parse

HOSTILE = {
    "a NUL byte": "Ana%00Novak",
    "broken UTF-8": "Ana%FF%FENovak",
    "a lone surrogate, as CESU-8": "Ana%ED%A0%80Novak",
    "a very long text": "x" * 100_001,
    "a huge number": "-99999999999999999999999",
    "a date out of range": "0001-01-01T00%3A00",
    "markup": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
}
# A text longer than any field takes, as a form field sends it (one at a time).
LONG_TEXT = "x" * 100_001
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


def problem_with_refusal(answer: Any, what: str, name: str) -> str | None:
    """What is wrong with the answer to a field's value that no form may take: anything but a
    refusal (4xx), or a form's refusal (422) that does not say so beside the field `name`."""
    problem = problem_with(answer, what)
    if problem is None and not 400 <= answer.status_code < 500:
        problem = f"{what}: {answer.status_code}, not refused"
    elif problem is None and answer.status_code == 422 and f'{name}-error"' not in answer.text:
        problem = f"{what}: refused, but not beside the field"
    return problem


def typed_forms(html: str) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """Each POST form of a page: its action, its fields as the page fills them, and the
    names of those a person types into (text inputs and text areas)."""
    found = []
    for form in parse(html).find_all("form"):
        if form.attrs.get("method", "").lower() != "post" or "action" not in form.attrs:
            continue
        fields: list[tuple[str, str]] = []
        typed: list[str] = []
        for element in form.iter():
            name = element.attrs.get("name")
            if not name:
                continue
            kind = element.attrs.get("type", "text")
            if element.tag == "input" and kind in ("checkbox", "radio"):
                if "checked" in element.attrs:
                    fields.append((name, element.attrs.get("value", "on")))
            elif element.tag == "input" and kind not in ("submit", "button", "file"):
                fields.append((name, element.attrs.get("value", "")))
                if kind in ("text", "search", "email", "url", "tel"):
                    typed.append(name)
            elif element.tag == "textarea":
                fields.append((name, element.text))
                typed.append(name)
            elif element.tag == "select":
                options = element.find_all("option")
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                fields.append((name, chosen[0].attrs.get("value", "") if chosen else ""))
        if typed:
            found.append((form.attrs["action"], fields, typed))
    return found
