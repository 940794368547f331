"""The one way text typed by people is cleaned before it is stored.

Single lines end up in email headers and iCalendar properties, so they never carry control
or line-break characters; longer texts keep their line breaks (normalised to "\\n").
"""

from __future__ import annotations

import unicodedata
from typing import Literal, overload

from service.domain.errors import InvalidInputError

_BREAKS = {"Cc", "Zl", "Zp"}


def has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in _BREAKS and ch not in allowed for ch in text)


@overload
def clean_line(value: str | None, field: str, *, required: Literal[True],
               max_length: int | None = None) -> str: ...
@overload
def clean_line(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None: ...
def clean_line(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None:
    """One line: stripped, inner runs of spaces folded, no control or break characters."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInputError("Must not be empty.", field)
        return None
    if has_control(text):
        raise InvalidInputError("Must be a single line without control characters.", field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInputError(f"At most {max_length} characters.", field)
    return " ".join(text.split())


@overload
def clean_text(value: str | None, field: str, *, required: Literal[True],
               max_length: int | None = None) -> str: ...
@overload
def clean_text(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None: ...
def clean_text(value: str | None, field: str, *, required: bool = False,
               max_length: int | None = None) -> str | None:
    """Several lines: stripped, line breaks kept, no other control characters."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInputError("Must not be empty.", field)
        return None
    if has_control(text, allowed="\n\t\r"):
        raise InvalidInputError("Must not contain control characters.", field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInputError(f"At most {max_length} characters.", field)
    return text.replace("\r\n", "\n").replace("\r", "\n")
