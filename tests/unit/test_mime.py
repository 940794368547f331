"""The bytes of an email: MIME structure, headers, invites, escaping. No database, no network."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import random
from dataclasses import replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage as MimeMessage
from email.message import MIMEPart
from email.parser import BytesParser
from pathlib import Path

import pytest

from notifications.message import (
    EmailMessage,
    _base64_lines,
    _text_part,
    build_mime,
    calendar_uids,
    clean_display_name,
    envelope_sender,
    make_message_id,
)
from notifications.render import EmailTemplateError, RenderedEmail, render_email
from service.i18n import gettext, use_language
from service.settings import Settings, SmtpSettings
from tests.factories import make_email_message

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def make_settings(tmp_path: Path = Path("/nonexistent")) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        public_base_url="https://events.procura.example.org",
        secret_key="test-secret",
        var_dir=tmp_path,
        maildir_path=tmp_path / "maildir",
        mail_from="Procura+ Events <events@procura.example.org>",
        organiser_email="procurement@procura.example.org",
        organiser_name="Procura+ Network",
        smtp=SmtpSettings(None, 587, None, None, "starttls", 5.0, 4),
        run_scheduler=False,
        change_notice_window_seconds=600,
    )


def vevent(session_id: int = 17) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:session-{session_id}@events.procura.example.org",
        "SEQUENCE:0",
        "DTSTAMP:20260302T083000Z",
        "DTSTART;TZID=Europe/Brussels:20260310T100000",
        "DTEND;TZID=Europe/Brussels:20260310T113000",
        "SUMMARY:Webinar: Circular procurement of furniture",
        "ATTENDEE;CN=Ana Silva;RSVP=FALSE:mailto:ana@example.org",
        "END:VEVENT",
    ]


def make_calendar(method: str = "REQUEST", *session_ids: int) -> bytes:
    events = [line for session_id in session_ids or (17,) for line in vevent(session_id)]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Procura+ Events//Tests//EN",
        f"METHOD:{method}",
        *events,
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def compose(message: EmailMessage, message_id: str = "<fixed@events.procura.example.org>") -> bytes:
    rendered = render_email(message.template, message.context, message.language)
    return build_mime(message, rendered, settings=make_settings(), message_id=message_id, now=NOW)


def parse(raw: bytes) -> MimeMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(parsed, MimeMessage)
    return parsed


def content_types(part: MIMEPart) -> list[str]:
    return [child.get_content_type() for child in part.iter_parts()]


def params(part: MIMEPart) -> dict[str, str]:
    return {key: str(value) for key, value in (part.get_params() or [])[1:]}


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()]


def test_invite_is_mixed_with_alternative_and_ics_attachment() -> None:
    calendar = make_calendar("REQUEST")

    parsed = parse(compose(make_email_message(calendar=calendar, calendar_method="REQUEST")))

    assert parsed.get_content_type() == "multipart/mixed"
    assert content_types(parsed) == ["multipart/alternative", "text/calendar"]
    alternative, attachment = parsed.iter_parts()
    assert isinstance(alternative, MimeMessage) and isinstance(attachment, MimeMessage)
    assert content_types(alternative) == ["text/plain", "text/html", "text/calendar"]
    inline_calendar = list(alternative.iter_parts())[2]
    assert params(inline_calendar) == {"method": "REQUEST", "charset": "UTF-8"}
    assert inline_calendar.get_content_disposition() is None
    assert params(attachment) == {"method": "REQUEST", "charset": "UTF-8", "name": "invite.ics"}
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert inline_calendar.get_payload(decode=True) == calendar
    assert attachment.get_payload(decode=True) == calendar


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_several_invites_travel_inline_first_and_attached_each(method: str) -> None:
    first, second, third = (make_calendar(method, n) for n in (17, 18, 19))

    parsed = parse(compose(make_email_message(calendar=first, calendar_method=method,
                                        more_calendars=(second, third))))

    assert content_types(parsed) == [
        "multipart/alternative", "text/calendar", "text/calendar", "text/calendar"]
    alternative, *attachments = parsed.iter_parts()
    assert content_types(alternative) == ["text/plain", "text/html", "text/calendar"]
    inline = list(alternative.iter_parts())[2]
    assert (params(inline), inline.get_content_disposition()) == (
        {"method": method, "charset": "UTF-8"}, None)
    assert inline.get_payload(decode=True) == first
    assert [(part.get_filename(), part.get_content_disposition(), params(part)["method"],
             part.get_payload(decode=True)) for part in attachments] == [
        ("invite-1.ics", "attachment", method, first),
        ("invite-2.ics", "attachment", method, second),
        ("invite-3.ics", "attachment", method, third),
    ]
    assert [part.defects for part in parsed.walk()] == [[]] * 8


def test_each_invite_is_one_itip_object_with_a_uid_of_its_own() -> None:
    with pytest.raises(ValueError, match="exactly one UID"):
        make_email_message(calendar=make_calendar("REQUEST", 17, 18), calendar_method="REQUEST")
    with pytest.raises(ValueError, match="in two calendars of one email"):
        make_email_message(calendar=make_calendar("REQUEST", 17), calendar_method="REQUEST",
                     more_calendars=(make_calendar("REQUEST", 17),))
    with pytest.raises(ValueError, match="METHOD must be REQUEST"):
        make_email_message(calendar=make_calendar("REQUEST", 17), calendar_method="REQUEST",
                     more_calendars=(make_calendar("CANCEL", 18),))
    with pytest.raises(ValueError, match="more_calendars come after a calendar"):
        make_email_message(more_calendars=(make_calendar("REQUEST", 18),))


def test_cancellation_says_cancel_in_mime_and_calendar() -> None:
    calendar = make_calendar("CANCEL")

    parsed = parse(compose(make_email_message(calendar=calendar, calendar_method="CANCEL")))

    calendars = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert [params(part)["method"] for part in calendars] == ["CANCEL", "CANCEL"]
    payload = calendars[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert [line for line in payload.split(b"\r\n") if line.startswith(b"METHOD:")] == [
        b"METHOD:CANCEL"
    ]


def test_calendar_keeps_its_crlf_line_ends() -> None:
    calendar = make_calendar()

    raw = compose(make_email_message(calendar=calendar, calendar_method="REQUEST"))

    payloads = [
        part.get_payload(decode=True)
        for part in parse(raw).walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert payloads == [calendar, calendar]
    assert calendar.count(b"\r\n") == calendar.count(b"\n") == 14


def test_message_without_calendar_is_plain_alternative() -> None:
    parsed = parse(compose(make_email_message()))

    assert parsed.get_content_type() == "multipart/alternative"
    assert content_types(parsed) == ["text/plain", "text/html"]


def test_headers_one_recipient_stable_message_id_and_organiser_reply_to() -> None:
    settings = make_settings()
    message_id = make_message_id(settings)

    raw = compose(make_email_message(), message_id=message_id)
    parsed = parse(raw)

    assert message_id.startswith("<") and message_id.endswith("@events.procura.example.org>")
    assert parsed["Message-ID"] == message_id
    assert parsed["From"] == "Procura+ Events <events@procura.example.org>"
    assert parsed["To"] == "Ana Silva <ana@example.org>"
    assert parsed["Reply-To"] == "Procura+ Network <procurement@procura.example.org>"
    assert parsed["Date"] == "Mon, 02 Mar 2026 08:30:00 +0000"
    assert parsed["Subject"] == "Test message for Ana Silva"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert header_names(raw) == [
        "Subject",
        "From",
        "To",
        "Reply-To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    ]
    assert envelope_sender(settings) == "events@procura.example.org"


def test_message_ids_are_fresh_per_message() -> None:
    settings = make_settings()

    ids = {make_message_id(settings) for _ in range(100)}

    assert len(ids) == 100


def test_explicit_reply_to_replaces_organiser() -> None:
    parsed = parse(compose(make_email_message(reply_to="Host City <host@city.example.org>")))

    assert parsed["Reply-To"] == "Host City <host@city.example.org>"


def test_header_injection_through_display_name_is_impossible() -> None:
    evil_name = "Eve\r\nBcc: evil@example.com"

    raw = compose(make_email_message(to_name=evil_name))
    parsed = parse(raw)

    assert parsed["Bcc"] is None
    assert "Bcc" not in header_names(raw)
    to_addresses = parsed["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in to_addresses] == [
        ("Eve Bcc: evil@example.com", "ana@example.org")
    ]
    assert clean_display_name("A\x00B\tC\u2028D\u202eE") == "A B C D E"


@pytest.mark.parametrize(
    "address",
    [
        "ana@example.org\r\nBcc: evil@example.com",
        "ana@example.org, eve@example.com",
        "ana@example.org,eve@example.com",
        "no-at-sign",
    ],
)
def test_recipient_address_must_be_exactly_one_mailbox(address: str) -> None:
    with pytest.raises(ValueError, match="address"):
        compose(make_email_message(to_address=address))


def test_non_ascii_name_is_encoded_and_reads_back() -> None:
    raw = compose(make_email_message(to_name="Zoë Müller-Łukasiewicz"))

    raw.decode("ascii")  # the whole message is 7-bit clean
    assert parse(raw)["To"] == "Zoë Müller-Łukasiewicz <ana@example.org>"


def test_html_in_a_name_is_escaped_in_html_and_kept_in_text() -> None:
    name = '<script>alert("x")</script> & Co'

    parsed = parse(compose(make_email_message(context={"recipient_name": name, "note": "-"})))

    text_part, html_part = parsed.iter_parts()
    html = html_part.get_content()
    text = text_part.get_content()
    assert [line for line in html.splitlines() if "Dear" in line] == [
        '<p style="margin:0 0 16px 0;">Dear &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;'
        " &amp; Co,</p>"
    ]
    assert text.splitlines()[0] == f"Dear {name},"
    assert parsed["Subject"] == f"Test message for {name}"


def test_rendered_test_message_snapshot() -> None:
    rendered = render_email(
        "test_message_to_anyone",
        {
            "recipient_name": "Ana Silva",
            "note": "See you online.",
            "organiser_email": "procurement@procura.example.org",
        },
    )

    assert rendered.subject == "Test message for Ana Silva"
    assert rendered.text == (
        "Dear Ana Silva,\n"
        "\n"
        "This is a test message from the Procura+ Events outbox. It was sent to check that\n"
        "email delivery works.\n"
        "\n"
        "See you online.\n"
        "\n"
        "-- \n"
        "Procura+ Events\n"
        "Questions? Reply to this email or write to procurement@procura.example.org.\n"
        "\n"
        "You receive this email because you registered for, or take part in, an event of the\n"
        "Procura+ network of public procurement authorities. It is about that event only: we do"
        " not\n"
        "send newsletters from this address.\n"
    )
    assert [line for line in rendered.html.splitlines() if "<title>" in line] == [
        "<title>Test message for Ana Silva</title>"
    ]
    assert rendered.html.startswith('<!DOCTYPE html>\n<html lang="en">\n')


def test_subject_is_one_stripped_line() -> None:
    rendered = render_email(
        "test_message_to_anyone", {"recipient_name": "  Ana\r\n  Silva\n", "note": ""}
    )

    assert rendered.subject == "Test message for Ana Silva"


def test_missing_context_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="'note' is undefined"):
        render_email("test_message_to_anyone", {"recipient_name": "Ana"})


def test_rendering_in_a_language_gives_that_language() -> None:
    rendered = render_email("test_message_to_anyone", {"recipient_name": "Ana", "note": ""}, "de")
    with use_language("de"):
        subject = gettext("Test message for %(name)s") % {"name": "Ana"}
        greeting = gettext("Dear %(name)s,") % {"name": "Ana"}

    assert (rendered.subject, rendered.text.splitlines()[0]) == (subject, greeting)
    assert rendered.subject != "Test message for Ana"
    assert rendered.html.startswith('<!DOCTYPE html>\n<html lang="de">\n')


@pytest.mark.parametrize(
    ("template", "language"),
    [("../en/base", "en"), ("test_message_to_anyone", "../en"), ("base", "en")],
)
def test_template_names_and_languages_are_checked(template: str, language: str) -> None:
    with pytest.raises(EmailTemplateError):
        render_email(template, {}, language)


def test_calendar_and_method_must_agree() -> None:
    with pytest.raises(ValueError, match="calendar and calendar_method go together"):
        make_email_message(calendar=make_calendar())
    with pytest.raises(ValueError, match="METHOD must be CANCEL"):
        make_email_message(calendar=make_calendar("REQUEST"), calendar_method="CANCEL")
    with pytest.raises(ValueError, match="unsupported calendar method"):
        make_email_message(calendar=make_calendar("PUBLISH"), calendar_method="PUBLISH")


def test_message_context_is_a_read_only_copy() -> None:
    context = {"recipient_name": "Ana", "note": "first"}
    message = make_email_message(context=context)

    context["note"] = "changed"

    assert dict(message.context) == {"recipient_name": "Ana", "note": "first"}
    with pytest.raises(TypeError):
        message.context["note"] = "x"  # type: ignore[index]
    assert replace(message, to_name="B").context == message.context


def test_naive_now_is_refused() -> None:
    message = make_email_message()
    rendered = RenderedEmail(subject="S", text="t\n", html="<p>h</p>\n")

    with pytest.raises(ValueError, match="timezone-aware"):
        build_mime(
            message,
            rendered,
            settings=make_settings(),
            message_id="<x@y>",
            now=datetime(2026, 1, 1),  # noqa: DTZ001
        )


def compose_with_subject(message: EmailMessage, subject: str) -> bytes:
    rendered = RenderedEmail(subject=subject, text="Dear Zoë,\n\nSee you 🎉 soon.\n", html="<p>Hi</p>")
    return build_mime(
        message, rendered, settings=make_settings(), message_id="<rt@example.org>", now=NOW
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Short",
        "Webinar: circular procurement of furniture and ICT equipment for municipalities"
        " across Europe, session two of four, with a long agenda",
        "Anmeldung bestätigt: Kreislaufwirtschaft in der öffentlichen Beschaffung — "
        "Möbel, IKT und Lebensmittel für Städte 🎉🌍 in Brüssel, Łódź und Sevilla",
        "Spaces  kept   as   typed and =?utf-8?q?not_decoded?= twice",
        "🎉" * 60,
        "x" * 120,
    ],
)
def test_subject_round_trips_exactly(subject: str) -> None:
    raw = compose_with_subject(make_email_message(), subject)

    raw.decode("ascii")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert parse(raw)["Subject"] == subject


@pytest.mark.parametrize(
    "name",
    [
        "Ana Silva",
        "Zoë Müller-Łukasiewicz 🎉",
        'O\'Brien, "Pat" <pat@evil.example> (Ltd.) \\ x',
        "<b>Bold</b> & Co",
        "Ünïcødé " * 20,
        "=?utf-8?q?Spoofed?=",
    ],
)
def test_names_round_trip_in_every_address_header(name: str) -> None:
    message = make_email_message(to_name=name, reply_to="Host <host@city.example.org>")

    raw = compose(message)
    parsed = parse(raw)

    expected = clean_display_name(name)
    to = parsed["To"].addresses
    assert [a.addr_spec for a in to] == ["ana@example.org"]
    if expected.isascii() or len(expected.encode()) <= 39:
        assert [a.display_name for a in to] == [expected]
    else:
        # Several encoded words: Python's address parser keeps the folding space between
        # them, which RFC 2047 says to drop; check with a decoder that follows the RFC.
        folded = email.message_from_bytes(raw)["To"]
        assert str(make_header(decode_header(folded))) == f"{expected} <ana@example.org>"
    assert header_names(raw)[:8] == [
        "Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Auto-Submitted",
        "MIME-Version",
    ]


def test_every_part_round_trips() -> None:
    calendar = make_calendar()
    message = make_email_message(to_name="Zoë", calendar=calendar, calendar_method="REQUEST")
    text = "Dear Zoë,\n\n" + "A long line with trailing space and = signs " * 5 + " \n-- \nBye\n"
    html = "<p>Ünïcødé &amp; 🎉</p>\n" + "<td style=\"x\">" * 30 + "\n"
    rendered = RenderedEmail(subject="Invitation — Zoë", text=text, html=html)

    raw = build_mime(
        message, rendered, settings=make_settings(), message_id="<rt@example.org>", now=NOW
    )
    parsed = parse(raw)

    alternative, attachment = parsed.iter_parts()
    text_part, html_part, calendar_part = alternative.iter_parts()
    assert text_part.get_content().replace("\r\n", "\n") == text
    assert html_part.get_content().replace("\r\n", "\n") == html
    assert calendar_part.get_payload(decode=True) == calendar
    assert attachment.get_payload(decode=True) == calendar
    assert [part.get("MIME-Version") for part in parsed.walk()] == ["1.0"] + [None] * 5
    assert [part.defects for part in parsed.walk()] == [[]] * 6
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert parsed["Subject"] == "Invitation — Zoë"
    assert parsed["Date"] == "Mon, 02 Mar 2026 08:30:00 +0000"
    assert parsed["Message-ID"] == "<rt@example.org>"


def test_subject_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="one line"):
        compose_with_subject(make_email_message(), "Hello\r\nBcc: evil@example.com")


def test_calendars_travel_in_base64_lines_of_76_with_crlf() -> None:
    for size in (0, 1, 56, 57, 58, 114, 1000, 4321):
        data = bytes(range(256)) * (size // 256 + 1)
        data = data[:size]
        encoded = _base64_lines(data)
        lines = encoded.split("\r\n")
        assert lines[-1] == ""
        assert [len(line) for line in lines[:-1]] == [
            76 if (i + 1) * 57 <= size else len(base64.b64encode(data[i * 57:]))
            for i in range(len(lines) - 1)]
        assert base64.b64decode("".join(lines)) == data


def test_text_parts_encoded_line_by_line_are_the_body_encoded_whole() -> None:
    """Bodies are quoted-printable line by line (lines shared by many recipients encoded
    once): the bytes must be those of encoding the whole body at once, whatever the lines
    hold (long lines, trailing white space, "=", non-ASCII, controls, CR and LF mixed)."""
    pieces = ["a", "b ", "=", "\t", " ", ".", "é", "€", "😀", "\x00", "\x7f", "x" * 70,
              "\r\n", "\n", "\r", "From "]
    rnd = random.Random(20261205)
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        body = text.replace("\r\n", "\n").replace("\r", "\n")
        body += "" if body.endswith("\n") else "\n"
        whole = binascii.b2a_qp(body.replace("\n", "\r\n").encode(), istext=True)
        part = _text_part("text/plain", text)
        assert part.split("\r\n\r\n", 1)[1].encode("ascii") == whole, repr(text)


def test_the_uids_of_a_calendar_are_read_whole_and_in_order() -> None:
    """Folded lines are unfolded; CRLF and bare LF line ends both end a UID; a calendar
    without one has none (what `EmailMessage` checks each invite against)."""
    folded = (b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:session-12@events.exa"
              b"\r\n mple.org\r\nSUMMARY:UID:not-this-one\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n"
              b"UID:session-13@events.example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

    assert calendar_uids(folded) == ["session-12@events.example.org",
                                     "session-13@events.example.org"]
    assert calendar_uids(b"UID:first\nX-UID:no\nUID:last") == ["first", "last"]
    assert calendar_uids(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") == []
