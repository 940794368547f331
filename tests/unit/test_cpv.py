"""CPV 2008 codes: the check digit against real codes, the shipped vocabulary, its labels
in the service's languages, the finder, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.domain.consultation.cpv import (
    CpvCode,
    check_digit,
    cpv_label,
    cpv_problem,
    cpv_vocabulary,
    find_cpv_codes,
    parse_cpv_codes,
)
from service.i18n import LANGUAGES, use_language
from service.operations.cpv_list import write_cpv_list

# Codes as Regulation (EC) No 213/2008 prints them.
REAL_CODES = ["30213000-5", "30200000-1", "48000000-8", "72000000-5", "30236000-2",
              "03113100-7", "03113200-8", "18451000-5", "18453000-9", "71355000-1",
              "71355200-3", "50116510-9", "60183000-4", "65310000-9"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_the_check_digit_of_real_codes_is_the_one_the_weights_give(code: str) -> None:
    assert check_digit(code[:8]) == int(code[-1])


def test_the_vocabulary_is_whole_and_follows_the_weights_but_where_the_regulation_does_not() -> None:
    vocabulary = cpv_vocabulary()
    off = sorted(code for code in vocabulary if check_digit(code[:8]) != int(code[-1]))

    assert len(vocabulary) == 9454
    assert off == ["03300000-2", "51000000-9"]
    assert set(REAL_CODES) <= set(vocabulary)
    assert sum(1 for code in vocabulary if code.endswith("000000-" + code[-1])) == 45


def test_each_code_has_its_label_in_every_language_of_the_service() -> None:
    labels = {language: cpv_label("30213000-5", language) for language in LANGUAGES}

    assert labels == {"en": "Personal computers", "de": "Personalcomputer",
                      "fr": "Ordinateurs personnels", "es": "Ordenadores personales",
                      "it": "Computer personali", "nl": "Personal computers"}
    assert all(all(labels.get(language) for language in LANGUAGES if language != "it")
               for labels in cpv_vocabulary().values())
    assert cpv_label("03117140-7", "it") == cpv_label("03117140-7", "en") == (
        "Plants used for fungicidal or similar purposes")
    assert cpv_label("30213000-4", "de") is None


def test_a_code_of_the_vocabulary_is_valid_as_published_even_where_the_weights_disagree() -> None:
    assert cpv_problem("51000000-9") is None
    assert cpv_problem("51000000-2") == ("51000000-2 has a wrong check digit: the code is "
                                         "51000000-9.")


def test_codes_typed_are_read_once_each_with_their_labels_in_the_readers_language() -> None:
    with use_language("fr"):
        codes, problems = parse_cpv_codes("30213000-5, 30231300-0\n30213000-5 72260000-5")

    assert problems == []
    assert codes == [CpvCode("30213000-5", "Ordinateurs personnels"),
                     CpvCode("30231300-0", "Écrans de visualisation"),
                     CpvCode("72260000-5", "Services relatifs aux logiciels")]


def test_the_finder_matches_every_word_without_accents_or_the_first_digits() -> None:
    with use_language("fr"):
        screens, total = find_cpv_codes("ecrans visualisation")
        by_digits, digits_total = find_cpv_codes("3021", limit=3)

    assert (screens, total) == ([CpvCode("30231300-0", "Écrans de visualisation")], 1)
    assert ([code.code for code in by_digits], digits_total) == (
        ["30210000-4", "30211000-1", "30211100-2"], 25)
    assert find_cpv_codes("   ") == ([], 0)


@pytest.mark.parametrize(("typed", "problem"), [
    ("30213000-4", "30213000-4 has a wrong check digit: the code is 30213000-5."),
    ("30213000", "'30213000' is not a CPV code: eight digits, a hyphen and the check digit, "
                 "like 30213000-5."),
    ("3021300-5", "'3021300-5' is not a CPV code: eight digits, a hyphen and the check "
                  "digit, like 30213000-5."),
    ("30213999-4", "30213999-4 is not in the CPV 2008 vocabulary."),
])
def test_a_malformed_code_or_a_wrong_check_digit_is_refused(typed: str, problem: str) -> None:
    assert parse_cpv_codes(typed) == ([], [problem])


def test_the_shipped_list_is_written_from_a_full_edition_with_published_digits(
        tmp_path: Path) -> None:
    source = tmp_path / "cpv.json"
    source.write_text(json.dumps([
        {"code": "51000000", "labels": {"en": "Installation services (except software)",
                                        "de": "Installation (außer Software)", "sv": "x"}},
        {"code": "30213000", "labels": {"en": "Personal computers", "fr": " Ordinateurs "}},
    ]), encoding="utf-8")
    target = tmp_path / "cpv_2008.csv"

    assert write_cpv_list(source, target) == 2
    rows = [line for line in target.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]
    assert rows == ["code,en,de,fr,es,it,nl",
                    "51000000-9,Installation services (except software),"
                    "Installation (außer Software),,,,",
                    "30213000-5,Personal computers,,Ordinateurs,,,"]
