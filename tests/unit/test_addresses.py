"""The one rule for which email addresses are accepted (issue: one bad address stopped
every welcome email)."""

from __future__ import annotations

import pytest

from notifications.addresses import AddressRefused, accept_address
from notifications.message import parse_address


@pytest.mark.parametrize(("typed", "stored"), [
    ("ana.silva@lisboa.example.pt", "ana.silva@lisboa.example.pt"),
    ("  Ana.Silva@Lisboa.Example.PT ", "Ana.Silva@lisboa.example.pt"),
    ("idn@bücher.example", "idn@xn--bcher-kva.example"),
    ("ｍallory@example.org", "mallory@example.org"),  # fullwidth letter folded
    ("procurement＠haarlem.example.nl", "procurement@haarlem.example.nl"),
    ("o'brien+events@dublin.example.ie", "o'brien+events@dublin.example.ie"),
])
def test_accepted_addresses_are_stored_in_the_form_mail_servers_use(typed: str,
                                                                    stored: str) -> None:
    assert accept_address(typed) == stored
    # And every accepted address can be put on an envelope and into a header.
    assert parse_address(stored).addr_spec == stored


@pytest.mark.parametrize(("typed", "says"), [
    ("josé@example.es", "part before @ has only Latin letters"),
    ("x>,<victim@evil.example", "no spaces, commas or angle brackets"),
    ("anna.keller@", "whole email address"),
    ("a@b", "domain such as example.org"),
    ("two@@example.org", "one @"),
    ("one@example.org, two@example.org", "one @"),
    (".dot@example.org", "no dot at its start or end"),
    ("name@exa mple.org", "not a domain that mail can reach"),
    ("name@-bad-.example", "not a domain that mail can reach"),
    ("", "Give your email address"),
    ("x" * 65 + "@example.org", "at most 64 characters"),
])
def test_refused_addresses_say_what_to_change(typed: str, says: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        accept_address(typed)
    assert says in str(refused.value)
