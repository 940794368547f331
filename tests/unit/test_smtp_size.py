"""What the transport puts on the wire is what aiosmtplib's own DATA and MAIL would: the
same SIZE, the same message bytes and the same envelope lines, whatever the line ends."""

from __future__ import annotations

import re

from aiosmtplib.email import quote_address
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from notifications.message import PLAIN_ADDRESS
from notifications.transport import (
    _envelope_address,
    data_payload,
    normalized_for_data,
)

# Line ends of every kind, dots and plain text: what could change the count.
_PIECES = st.sampled_from([b"\r\n", b"\n", b"\r", b".", b"a", b"=\r\n", b"\r\r\n", b"\n\r",
                           b"\r\n.", b"\n.."])
_MESSAGES = st.lists(_PIECES, max_size=40).map(b"".join)


def _as_aiosmtplib_sends_it(raw: bytes) -> bytes:
    """aiosmtplib's `execute_data_command`, step by step."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(raw)) + b".\r\n"


@given(_MESSAGES)
def test_the_size_is_what_data_sends(raw: bytes) -> None:
    # aiosmtplib's own rewriting is what DATA puts on the wire (before the dots are doubled).
    assert len(normalized_for_data(raw)) == len(normalize_message_line_endings(raw))


@given(_MESSAGES)
def test_the_data_sent_is_what_aiosmtplib_would_send(raw: bytes) -> None:
    assert data_payload(normalized_for_data(raw)) == _as_aiosmtplib_sends_it(raw)


def test_a_message_with_crlf_line_ends_is_its_own_length() -> None:
    raw = b"Subject: x\r\n\r\n.leading dot\r\nbody\r\n"

    assert len(normalized_for_data(raw)) == len(raw)
    assert len(normalized_for_data(raw.rstrip(b"\r\n"))) == len(raw)
    assert normalized_for_data(raw) is raw  # nothing to rewrite: not copied
    assert data_payload(raw) == b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\n"


@given(st.from_regex(PLAIN_ADDRESS, fullmatch=True))
def test_a_plain_address_goes_on_the_envelope_as_aiosmtplib_quotes_it(address: str) -> None:
    assert _envelope_address(address) == quote_address(address).encode("ascii")


def test_any_other_address_is_quoted_by_aiosmtplib() -> None:
    for address in ('"two words"@example.org', "Anna <anna@example.org>"):
        assert not re.fullmatch(PLAIN_ADDRESS, address)
        assert _envelope_address(address) == quote_address(address).encode("ascii")
