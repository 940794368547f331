"""Refusals are whole sentences in the language in force; English reads as it always did.

A registration that has left cannot change: the sentence that says so is one message per
status (a translator never meets the bare English value "cancelled"), and in English it is
exactly what the service said before its messages were translated.
"""

from __future__ import annotations

import pytest

from service.db.models import RegistrationStatus
from service.domain.registration.rules import status_refusal
from service.i18n import use_language
from service.web.errors import _field_from_message


@pytest.mark.parametrize("status", list(RegistrationStatus))
def test_english_status_refusals_read_as_before(status: RegistrationStatus) -> None:
    with use_language("en"):
        assert (status_refusal(status), status_refusal(status, nothing_to_change=True)) == (
            f"This registration is {status}.",
            f"This registration is {status}: there is nothing to change.")


def test_a_cancelled_registration_is_refused_in_german_as_one_sentence() -> None:
    with use_language("de"):
        assert (status_refusal(RegistrationStatus.CANCELLED),
                status_refusal(RegistrationStatus.DECLINED, nothing_to_change=True)) == (
            "Diese Anmeldung wurde storniert.",
            "Diese Anmeldung wurde abgelehnt: Es gibt nichts zu ändern.")


def test_msgspec_sentences_are_translated_and_keep_the_field_path() -> None:
    raw = "Expected `int`, got `str` - at `$.speakers[0].person_id`"
    with use_language("nl"):
        translated = _field_from_message(raw)
    with use_language("en"):
        english = _field_from_message(raw)

    assert (translated, english) == (
        ("speakers[0].person_id", "Verwacht `int`, ontvangen `str`"),
        ("speakers[0].person_id", "Expected `int`, got `str`"),
    )
