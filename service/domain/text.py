"""The one way text typed by people is cleaned before it is stored.

Single lines end up in email headers and iCalendar properties, so they never carry control
or line-break characters; longer texts keep their line breaks (normalised to "\\n").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, overload

from service.domain.errors import InvalidInputError
from service.i18n import gettext as _

# Every character of the Unicode categories Cc, Zl and Zp: C0, DEL and C1, the line and the
# paragraph separator (Unicode keeps these categories closed; tests/unit/test_text.py checks
# them against `unicodedata`). Searched with one pattern per set of characters allowed: a
# scan in C instead of a category lookup per character.
CONTROLS = "".join(chr(n) for n in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029))
_PATTERNS: dict[str, re.Pattern[str]] = {}


def reading_order(text: str) -> str:
    """A sort key in which accents and case do not move a name: "Österreich" sorts with the
    O's, "Åland" with the A's, as a reader of that language looks for them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))


def has_control(text: str, allowed: str = "") -> bool:
    """Whether `text` holds a control or line/paragraph break not in `allowed`."""
    pattern = _PATTERNS.get(allowed)
    if pattern is None:
        kept = "".join(ch for ch in CONTROLS if ch not in allowed)
        pattern = _PATTERNS[allowed] = re.compile(f"[{re.escape(kept)}]")
    return pattern.search(text) is not None


def _checked(value: str | None, field: str, *, required: bool, max_length: int | None,
             allowed: str, control: str) -> str:
    """The stripped text ("" when empty and optional), or the first rule it breaks."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInputError(_("Must not be empty."), field)
        return ""
    if has_control(text, allowed=allowed):
        raise InvalidInputError(control, field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInputError(_("At most %(max_length)s characters.") % {"max_length": max_length}, field)
    return text


@overload
def clean_line(value: str | None, field: str, *, required: Literal[True],
               max_length: int | None = None) -> str: ...
@overload
def clean_line(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None: ...
def clean_line(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None:
    """One line: stripped, inner runs of spaces folded, no control or break characters."""
    text = _checked(value, field, required=required, max_length=max_length, allowed="",
                    control=_("Must be a single line without control characters."))
    return " ".join(text.split()) if text else None


@overload
def clean_text(value: str | None, field: str, *, required: Literal[True],
               max_length: int | None = None) -> str: ...
@overload
def clean_text(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None: ...
def clean_text(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None:
    """Several lines: stripped, line breaks kept, no other control characters."""
    text = _checked(value, field, required=required, max_length=max_length,
                    allowed="\n\t\r", control=_("Must not contain control characters."))
    return text.replace("\r\n", "\n").replace("\r", "\n") if text else None
