"""The email that sends a speaker their private links again: its words, snapshotted."""

from __future__ import annotations

from notifications.render import render_email


def test_the_speaker_links_email_snapshot() -> None:
    rendered = render_email("speaker_links_to_speaker", {
        "recipient_name": "Carla <Canal>", "event_title": "Make ICT Fair",
        "speaker_page_url": "http://events.test/speakers/PAGE",
        "speaker_feed_url": "http://events.test/feeds/speakers/FEED.ics",
        "speaker_webcal_url": "webcal://events.test/feeds/speakers/FEED.ics",
        "event_url": "http://events.test/events/make-ict-fair",
        "organiser_email": "procurement@procura.example.org",
    })

    assert rendered.subject == "Your speaker page: Make ICT Fair"
    assert rendered.text == (
        "Dear Carla <Canal>,\n\n"
        "Here again is the link to your speaker page for Make ICT Fair, with all your slots:\n"
        "http://events.test/speakers/PAGE\n\n"
        "To follow your slots in your calendar app, subscribe to this address:\n"
        "http://events.test/feeds/speakers/FEED.ics\n\n"
        "These links are personal: please do not share them. They are the same links as "
        "before.\n\n"
        "Event page: http://events.test/events/make-ict-fair\n\n"
        "-- \nProcura+ Events\n"
        "Questions? Reply to this email or write to procurement@procura.example.org.\n\n"
        "You receive this email because you registered for, or take part in, an event of the\n"
        "Procura+ network of public procurement authorities. It is about that event only: we do "
        "not\nsend newsletters from this address.\n")
    assert "Dear Carla &lt;Canal&gt;," in rendered.html
    assert 'href="webcal://events.test/feeds/speakers/FEED.ics"' in rendered.html
    assert 'href="http://events.test/speakers/PAGE"' in rendered.html
