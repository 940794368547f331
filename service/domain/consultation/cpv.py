"""CPV 2008 codes (Common Procurement Vocabulary, Regulation (EC) No 213/2008): the format,
the check digit, the vocabulary's 9,454 codes and their labels in the service's languages,
shipped in `cpv_2008.csv` (written by `service.operations.cpv_list`).

A code is eight digits, a hyphen and a check digit ("30213000-5"). The check digit is the
sum of the eight digits weighted 3, 7, 1, 3, 7, 1, 3, 7, modulo 10. The Regulation itself
prints two codes with another digit (03300000-2, 51000000-9; the EU Publications Office
acknowledges such errors of the 2008 revision and will not correct them): those are valid
exactly as published (PUBLISHED_DIGITS). A code is accepted when it is in the vocabulary
with its published digit. Pure functions: no database, no HTTP.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.i18n import DEFAULT_LANGUAGE, current_language
from service.i18n import gettext as _

DATA_FILE = Path(__file__).with_name("cpv_2008.csv")
CPV_PATTERN = re.compile(r"^(\d{8})-(\d)$")
_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
MAX_CODES = 20
# The Regulation's own check digits where they differ from the weights' (see above).
PUBLISHED_DIGITS = {"03300000": 2, "51000000": 9}


@dataclass(frozen=True)
class CpvCode:
    code: str  # "30213000-5"
    label: str | None  # in the reader's language (English where the edition lacks it)


def check_digit(digits: str) -> int:
    """The check digit the weights give for eight digits ("30213000" gives 5)."""
    if not re.fullmatch(r"\d{8}", digits):
        raise ValueError("eight digits expected")
    return sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, digits, strict=True)) % 10


def published_code(digits: str) -> str:
    """The code as the Regulation prints it, check digit included."""
    return f"{digits}-{PUBLISHED_DIGITS.get(digits, check_digit(digits))}"


@cache
def cpv_vocabulary() -> dict[str, dict[str, str]]:
    """Every code of the vocabulary with its label in each language shipped, read once."""
    with DATA_FILE.open(encoding="utf-8", newline="") as source:
        rows = csv.DictReader(line for line in source if not line.startswith("#"))
        return {row.pop("code"): {language: label for language, label in row.items() if label}
                for row in rows}


def cpv_label(code: str, language: str | None = None) -> str | None:
    """The code's label in `language` (the current one by default), else in English; None
    for a code outside the vocabulary."""
    labels = cpv_vocabulary().get(code)
    if labels is None:
        return None
    return labels.get(language or current_language()) or labels.get(DEFAULT_LANGUAGE)


def cpv_problem(code: str) -> str | None:
    """Why `code` is not a CPV 2008 code, or None when it is one."""
    found = CPV_PATTERN.match(code)
    if found is None:
        return (_("%(code)r is not a CPV code: eight digits, a hyphen and the check digit, "
                  "like 30213000-5.") % {"code": code})
    if code in cpv_vocabulary():
        return None
    expected = published_code(found.group(1))
    if expected in cpv_vocabulary():
        return (_("%(code)s has a wrong check digit: the code is %(expected)s.")
                % {"code": code, "expected": expected})
    return _("%(code)s is not in the CPV 2008 vocabulary.") % {"code": code}


def parse_cpv_codes(text: str) -> tuple[list[CpvCode], list[str]]:
    """The codes typed (separated by commas, spaces or lines; each once, in order) and the
    problems found, one sentence each."""
    problems: list[str] = []
    codes: list[CpvCode] = []
    for raw in dict.fromkeys(part for part in re.split(r"[\s,;]+", text.strip()) if part):
        problem = cpv_problem(raw)
        if problem is not None:
            problems.append(problem)
        else:
            codes.append(describe_cpv(raw))
    if len(codes) > MAX_CODES:
        problems.append(_("At most %(count)s CPV codes.") % {"count": MAX_CODES})
    return codes, problems


def describe_cpv(code: str) -> CpvCode:
    """A stored code with its label in the reader's language."""
    return CpvCode(code=code, label=cpv_label(code))


def _folded(text: str) -> str:
    """Lower case without accents or non-breaking spaces, so "ecran" finds "Écrans"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _search_index(language: str) -> list[tuple[str, str, str, str]]:
    """Per code: its label in `language` (else English), its digits, and the text searched
    (that label and the English one, folded), made once per language."""
    index = []
    for code, labels in cpv_vocabulary().items():
        english = labels.get(DEFAULT_LANGUAGE, "")
        label = labels.get(language) or english
        index.append((code, label, code.replace("-", ""), _folded(f"{label} {english}")))
    return index


def find_cpv_codes(query: str, limit: int = 50) -> tuple[list[CpvCode], int]:
    """Codes whose label (in the reader's language or in English) holds every word typed,
    or whose digits start with the digits typed; in the vocabulary's order. Returns at most
    `limit` of them and how many matched in all."""
    words = _folded(query).split()
    if not words:
        return [], 0
    digits_typed = {word: word.replace("-", "") for word in words}
    found: list[CpvCode] = []
    total = 0
    for code, label, digits, searched in _search_index(current_language()):
        if all(word in searched or (digits_typed[word].isdigit()
                                    and digits.startswith(digits_typed[word]))
               for word in words):
            total += 1
            if len(found) < limit:
                found.append(CpvCode(code=code, label=label or None))
    return found, total
