"""The characters refused in people's text are exactly Unicode's controls and breaks."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from service.domain.errors import InvalidInputError
from service.domain.text import CONTROLS, clean_line, clean_text, has_control


def test_the_refused_characters_are_the_categories_cc_zl_and_zp() -> None:
    in_categories = {chr(n) for n in range(sys.maxunicode + 1)
                     if unicodedata.category(chr(n)) in {"Cc", "Zl", "Zp"}}

    assert set(CONTROLS) == in_categories


@pytest.mark.parametrize("character", list(CONTROLS))
def test_each_is_found_anywhere_unless_allowed(character: str) -> None:
    assert has_control(f"Anna{character}Keller")
    assert has_control(character)
    assert not has_control(f"Anna{character}Keller", allowed=character)


def test_text_without_them_passes_and_allowed_breaks_stay() -> None:
    # Other invisible or unusual characters are not controls: format characters (Cf), a
    # no-break space, combining marks, characters outside the Basic Multilingual Plane.
    assert not has_control("Zoë\u200d\u00a0e\u0301 \U0001f600 [.*+?^$]\\")
    assert clean_text("line one\r\nline two\ttab", "notes") == "line one\nline two\ttab"
    with pytest.raises(InvalidInputError):
        clean_line("line one\nline two", "name")
    with pytest.raises(InvalidInputError):
        clean_text("bell\x07", "notes")
