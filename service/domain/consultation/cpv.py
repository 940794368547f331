"""CPV 2008 codes (Common Procurement Vocabulary, Regulation (EC) No 213/2008): the format,
the check digit, and the labels shipped in `cpv_2008.csv`.

A code is eight digits, a hyphen and a check digit ("30213000-5"). The check digit is the
sum of the eight digits weighted 3, 7, 1, 3, 7, 1, 3, 7, modulo 10: checked here against
every code of the shipped list but two. The Regulation itself prints a few codes with another
digit (03300000-2, 51000000-9; the EU Publications Office acknowledges such errors of the
2008 revision and will not correct them): a code of the shipped list is valid exactly as
published, any other code when its digit is the computed one. The shipped list is the
divisions and the codes this product uses, not the Regulation's 9,454 codes: a valid code
outside it has no label here. Pure functions: no database, no HTTP.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.i18n import gettext as _

DATA_FILE = Path(__file__).with_name("cpv_2008.csv")
CPV_PATTERN = re.compile(r"^(\d{8})-(\d)$")
_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
MAX_CODES = 20


@dataclass(frozen=True)
class CpvCode:
    code: str  # "30213000-5"
    label: str | None  # None: valid, but not in the shipped list


def check_digit(digits: str) -> int:
    """The check digit the weights give for eight digits ("30213000" gives 5)."""
    if not re.fullmatch(r"\d{8}", digits):
        raise ValueError("eight digits expected")
    return sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, digits, strict=True)) % 10


@cache
def cpv_labels() -> dict[str, str]:
    """The shipped codes and their English labels, read once."""
    with DATA_FILE.open(encoding="utf-8", newline="") as source:
        rows = csv.DictReader(line for line in source if not line.startswith("#"))
        return {row["code"]: row["label"] for row in rows}


def cpv_problem(code: str) -> str | None:
    """Why `code` is not a CPV 2008 code, or None when it is one."""
    found = CPV_PATTERN.match(code)
    if found is None:
        return (_("%(code)r is not a CPV code: eight digits, a hyphen and the check digit, "
                  "like 30213000-5.") % {"code": code})
    labels = cpv_labels()
    if code in labels:
        return None
    digits, digit = found.group(1), int(found.group(2))
    published = next((known for known in labels if known.startswith(digits + "-")), None)
    expected = published or f"{digits}-{check_digit(digits)}"
    if expected[-1] != str(digit):
        return (_("%(code)s has a wrong check digit: the code is %(expected)s.")
                % {"code": code, "expected": expected})
    return None


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
            codes.append(CpvCode(code=raw, label=cpv_labels().get(raw)))
    if len(codes) > MAX_CODES:
        problems.append(_("At most %(count)s CPV codes.") % {"count": MAX_CODES})
    return codes, problems


def describe_cpv(code: str) -> CpvCode:
    """A stored code with its label (None when the shipped list does not have it)."""
    return CpvCode(code=code, label=cpv_labels().get(code))
