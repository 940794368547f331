"""notifications.maildir_reader: decoded emails, and nothing in them can drive a terminal."""

from __future__ import annotations

import mailbox
from pathlib import Path

from notifications.maildir_reader import format_email, latest_emails

# ESC [ 2 J clears the screen; ESC ] 52 writes the clipboard: neither may reach a terminal.
RAW = (
    b"From: Procura+ Events <events@procura.example.org>\n"
    b"To: =?utf-8?q?Ana_=C5=A0ilva?= <ana@lisboa.example.pt>\n"
    b"Subject: =?utf-8?q?Hello_=1B[2J?=\n"
    b"Date: Mon, 02 Mar 2026 08:30:00 +0000\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: text/plain; charset="utf-8"\n'
    b"Content-Transfer-Encoding: quoted-printable\n\n"
    b"Note: =1B]52;c;cm0gLXJmIH4=3D=07 and a long link http://events.test/registrations/abcdefghij=\n"
    b"klmnopqrstuvwxyz0123456789\n"
)


def test_headers_and_text_are_decoded_and_control_characters_shown_not_sent(
    tmp_path: Path,
) -> None:
    mailbox.Maildir(tmp_path / "maildir", create=True).add(RAW)

    shown = latest_emails(tmp_path / "maildir", 3)
    text = format_email(shown[0], position=1, total=1)

    assert text.splitlines()[1:] == [
        "From: Procura+ Events <events@procura.example.org>",
        "To: Ana Šilva <ana@lisboa.example.pt>",
        "Subject: Hello \\x1b[2J",
        "Date: Mon, 02 Mar 2026 08:30:00 +0000",
        "",
        "Note: \\x1b]52;c;cm0gLXJmIH4=\\x07 and a long link "
        "http://events.test/registrations/abcdefghijklmnopqrstuvwxyz0123456789",
    ]


def test_an_empty_or_missing_maildir_has_no_emails(tmp_path: Path) -> None:
    mailbox.Maildir(tmp_path / "empty", create=True)

    assert (latest_emails(tmp_path / "empty", 5), latest_emails(tmp_path / "missing", 5)) == ([], [])
