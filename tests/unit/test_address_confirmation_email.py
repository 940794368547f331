"""The "confirm your address" email without a database: what it says, and all it says.

It goes to whatever address someone typed, so it must carry nothing the visitor wrote but
their name in the greeting (escaped in HTML), no private link and no invite.
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.message import EmailMessage
from notifications.render import render_email
from service.db.models import Event, EventKind
from service.domain.emails.registration import address_confirmation_email

EVENT = Event(id=7, kind=EventKind.WEBINAR_SERIES, title="Fair ICT procurement webinars",
              slug="fair-ict", timezone="Europe/Brussels",
              contact_email="events@procura.example.org")
BASE = {"network_name": "Procura+ Events", "organiser_name": "Procura+ Network",
        "organiser_email": "procurement@procura.example.org",
        "public_base_url": "http://events.test"}
LINK = "http://events.test/events/fair-ict/confirm/TOKEN"


def message(name: str = "Ana Silva") -> EmailMessage:
    entry = address_confirmation_email(
        12, EVENT, name=name, to_address="ana@example.org", confirm_url=LINK,
        expires_at=datetime(2026, 9, 12, 8, 0, tzinfo=UTC))
    assert isinstance(entry.email, EmailMessage)
    assert (entry.event_id, entry.registration_id) == (7, 12)
    return entry.email


def test_the_email_in_full() -> None:
    email = message()
    rendered = render_email(email.template, {**BASE, **email.context})

    assert (email.to_address, email.to_name, email.calendar, email.reply_to) == (
        "ana@example.org", "", None, "events@procura.example.org")
    assert rendered.subject == "Confirm your email address: Fair ICT procurement webinars"
    assert rendered.text.splitlines() == [
        "Dear Ana Silva,",
        "",
        "Someone, probably you, asked to register this email address for Fair ICT "
        "procurement webinars (Webinar series). Please confirm that the address is yours, so "
        "that we can file the registration:",
        "",
        LINK,
        "",
        "The link works once, until Saturday 12 September 2026 at 10:00 CEST. Until you "
        "confirm, you hold no place and we send nothing else to this address.",
        "",
        "If you did not ask for this, ignore this email: without your confirmation the "
        "request and the details given with it are deleted.",
        "",
        "-- ",
        "Procura+ Events",
        "Questions? Reply to this email or write to procurement@procura.example.org.",
        "How we use your details (privacy notice): http://events.test/privacy",
        "",
        "You receive this email because this address was entered in the registration form "
        "of an event of the Procura+ network of public procurement authorities.",
    ]
    assert f'<a href="{LINK}"' in rendered.html
    assert "registrations/" not in rendered.text + rendered.html


def test_the_name_is_escaped_in_html_and_nothing_else_typed_is_shown() -> None:
    email = message(name='<a href="https://evil.example">Win</a> & Co')
    rendered = render_email(email.template, {**BASE, **email.context})

    assert "Dear &lt;a href=&#34;https://evil.example&#34;&gt;Win&lt;/a&gt; &amp; Co," in (
        rendered.html)
    assert 'href="https://evil.example"' not in rendered.html
    assert set(email.context) == {"recipient_name", "event_title", "event_kind",
                                  "confirm_url", "expires"}
