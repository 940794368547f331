"""The Interest Groups' emails about joining and minutes: the decline's words snapshotted
(it must say why), and in every one what people typed escaped in HTML and kept in text."""

from __future__ import annotations

import pytest

from notifications.render import render_email

GROUP = {"group_topic": "Circular procurement",
         "group_url": "http://events.test/groups/circular-procurement",
         "organiser_email": "procurement@procura.example.org"}
TYPED = "We buy <laptops> & phones"


def test_the_decline_email_says_why_when_the_organisation_is_not_in_the_network() -> None:
    rendered = render_email("group_member_declined_to_member", {
        **GROUP, "recipient_name": "Ivo Vendor", "organisation_name": "Vendor Ltd",
        "note": TYPED, "not_eligible": True,
        "eligibility_rule": "Interest Groups are open to Participants and Strategic Partners "
                            "of the Procura+ Network only."})

    assert rendered.subject == "Your interest in the Interest Group Circular procurement"
    assert rendered.text == (
        "Dear Ivo Vendor,\n\n"
        'Thank you for your interest in the Interest Group "Circular procurement". We are '
        "sorry that you cannot join it.\n\n"
        "Interest Groups are open to Participants and Strategic Partners of the Procura+ "
        "Network only. Vendor Ltd is not one at the moment. To become one, write to us at the "
        "address below.\n\n"
        "A note from the facilitator:\n"
        "We buy <laptops> & phones\n\n"
        "-- \nProcura+ Events\n"
        "Questions? Reply to this email or write to procurement@procura.example.org.\n\n"
        "You receive this email because you expressed interest in, or are a member of, an\n"
        "Interest Group of the Procura+ network. It is about that group only.\n")
    assert "We buy &lt;laptops&gt; &amp; phones" in rendered.html


@pytest.mark.parametrize(("template", "subject", "context"), [
    ("group_interest_received_to_member",
     "We received your interest in the Interest Group Circular procurement",
     {"recipient_name": "Ana", "organisation_name": TYPED}),
    ("group_interest_to_facilitator", "New interest in Circular procurement: Ana",
     {"recipient_name": "Paula", "member_name": "Ana", "member_email": "ana@example.org",
      "organisation_name": "Lisboa", "message": TYPED,
      "decide_url": "http://events.test/organiser/groups/1/members"}),
    ("group_member_approved_to_member", "Welcome to the Interest Group Circular procurement",
     {"recipient_name": "Ana", "organisation_name": "Lisboa", "note": TYPED,
      "page_url": "http://events.test/groups/me/PAGE",
      "feed_url": "http://events.test/groups/feed/FEED.ics"}),
    ("group_minutes_published_to_member", "Minutes: Web meeting, 13 October 2026",
     {"recipient_name": "Ana", "meeting_title": "Web meeting",
      "meeting_when": "13 October 2026", "minutes": TYPED,
      "documents": [{"title": "Draft", "url": "https://docs.example.org/1"}],
      "page_url": "http://events.test/groups/me/PAGE"}),
])
def test_group_emails_escape_what_people_typed(template: str, subject: str,
                                               context: dict[str, object]) -> None:
    rendered = render_email(template, {**GROUP, **context})

    assert rendered.subject == subject
    assert (TYPED in rendered.text, "We buy &lt;laptops&gt; &amp; phones" in rendered.html,
            TYPED in rendered.html) == (True, True, False)
