"""CPV 2008 codes: the check digit against real codes, the shipped list, and refusals."""

from __future__ import annotations

import pytest

from service.domain.consultation.cpv import (
    CpvCode,
    check_digit,
    cpv_labels,
    cpv_problem,
    parse_cpv_codes,
)

# Codes as Regulation (EC) No 213/2008 prints them.
REAL_CODES = ["30213000-5", "30200000-1", "48000000-8", "72000000-5", "30236000-2",
              "03113100-7", "03113200-8", "18451000-5", "18453000-9", "71355000-1",
              "71355200-3", "50116510-9", "60183000-4", "65310000-9"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_the_check_digit_of_real_codes_is_the_one_the_weights_give(code: str) -> None:
    assert check_digit(code[:8]) == int(code[-1])


def test_every_shipped_code_follows_the_weights_but_the_two_the_regulation_misprints() -> None:
    labels = cpv_labels()
    off = sorted(code for code in labels if check_digit(code[:8]) != int(code[-1]))

    assert off == ["03300000-2", "51000000-9"]
    assert labels["30213000-5"] == "Personal computers"
    assert len(labels) == 68


def test_a_shipped_code_is_valid_as_published_even_where_the_weights_disagree() -> None:
    assert cpv_problem("51000000-9") is None
    assert cpv_problem("51000000-2") == ("51000000-2 has a wrong check digit: the code is "
                                         "51000000-9.")


def test_codes_typed_are_read_once_each_with_their_labels() -> None:
    codes, problems = parse_cpv_codes("30213000-5, 30231300-0\n30213000-5 72260000-5")

    assert problems == []
    assert codes == [CpvCode("30213000-5", "Personal computers"),
                     CpvCode("30231300-0", "Display screens"),
                     CpvCode("72260000-5", None)]


@pytest.mark.parametrize(("typed", "problem"), [
    ("30213000-4", "30213000-4 has a wrong check digit: the code is 30213000-5."),
    ("30213000", "'30213000' is not a CPV code: eight digits, a hyphen and the check digit, "
                 "like 30213000-5."),
    ("3021300-5", "'3021300-5' is not a CPV code: eight digits, a hyphen and the check "
                  "digit, like 30213000-5."),
])
def test_a_malformed_code_or_a_wrong_check_digit_is_refused(typed: str, problem: str) -> None:
    assert parse_cpv_codes(typed) == ([], [problem])
