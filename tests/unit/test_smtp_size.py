"""The SIZE the transport declares is the size DATA transmits, whatever the line ends."""

from __future__ import annotations

from aiosmtplib.protocol import normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from notifications.transport import size_on_the_wire

# Line ends of every kind, dots and plain text: what could change the count.
_PIECES = st.sampled_from([b"\r\n", b"\n", b"\r", b".", b"a", b"=\r\n", b"\r\r\n", b"\n\r"])


@given(st.lists(_PIECES, max_size=40).map(b"".join))
def test_the_size_is_what_data_sends(raw: bytes) -> None:
    # aiosmtplib's own rewriting is what DATA puts on the wire (before the dots are doubled).
    assert size_on_the_wire(raw) == len(normalize_message_line_endings(raw))


def test_a_message_with_crlf_line_ends_is_its_own_length() -> None:
    raw = b"Subject: x\r\n\r\n.leading dot\r\nbody\r\n"

    assert size_on_the_wire(raw) == len(raw)
    assert size_on_the_wire(raw.rstrip(b"\r\n")) == len(raw)
