"""Registration emails without a database: every template renders, says what it must, escapes.

Sessions and events are plain (unsaved) model objects; rendering goes through the same
`render_email` the outbox uses, with the same base context.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.render import render_email
from service.db.models import Event, EventKind, Session, SessionMode, SessionStatus
from service.domain.emails.registration import session_view, session_when, zone_label
from service.domain.programme import offers_session_choice

EVENT = Event(id=7, kind=EventKind.WEBINAR_SERIES, title="Fair ICT procurement webinars",
              slug="fair-ict", timezone="Europe/Brussels", venue_name="Conference centre",
              venue_city="Brussels", venue_country="BE")
WINTER = Session(id=1, title="Social criteria", mode=SessionMode.ONLINE,
                 status=SessionStatus.SCHEDULED, join_url="https://meet.example.org/one",
                 starts_at=datetime(2035, 11, 12, 9, 0, tzinfo=UTC),
                 ends_at=datetime(2035, 11, 12, 10, 45, tzinfo=UTC))
SUMMER = Session(id=2, title="Site visit", mode=SessionMode.HYBRID,
                 status=SessionStatus.SCHEDULED, join_url="https://meet.example.org/two",
                 starts_at=datetime(2036, 6, 16, 22, 0, tzinfo=UTC),
                 ends_at=datetime(2036, 6, 17, 1, 0, tzinfo=UTC))
BASE = {"network_name": "Procura+ Events", "organiser_name": "Procura+ Network",
        "organiser_email": "procurement@procura.example.org",
        "public_base_url": "http://events.test"}


def context(**extra: Any) -> dict[str, Any]:
    return {
        **BASE,
        "recipient_name": "Ana Silva", "event_title": EVENT.title, "event_kind": "Webinar",
        "event_url": "http://events.test/events/fair-ict", "event_zone": "Europe/Brussels",
        "venue": None, "contact_email": "events@procura.example.org",
        "manage_url": "http://events.test/registrations/TOKEN",
        "feed_url": "http://events.test/feeds/registrations/FEED.ics",
        "can_change_sessions": True,
        "sessions": [session_view(WINTER, EVENT, with_join_url=True)],
        "waiting_sessions": [], **extra,
    }


def test_times_show_the_events_zone_with_its_abbreviation_and_utc() -> None:
    assert session_when(WINTER, EVENT) == (
        "Monday 12 November 2035, 10:00–11:45 CET", "09:00–10:45 UTC")
    # Past midnight in Brussels (summer time), and past midnight in UTC too.
    assert session_when(SUMMER, EVENT) == (
        "Tuesday 17 June 2036, 00:00–03:00 CEST", "16 Jun 22:00 – 17 Jun 01:00 UTC")
    assert zone_label("America/Sao_Paulo") == "Sao Paulo time"


def test_a_session_across_the_change_of_the_clocks_labels_each_time() -> None:
    spring = Session(id=4, title="Night webinar", mode=SessionMode.ONLINE,
                     status=SessionStatus.SCHEDULED,
                     starts_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET
                     ends_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # 03:30 CEST
    autumn = Session(id=5, title="Night webinar", mode=SessionMode.ONLINE,
                     status=SessionStatus.SCHEDULED,
                     starts_at=datetime(2026, 10, 25, 0, 15, tzinfo=UTC),  # 02:15 CEST
                     ends_at=datetime(2026, 10, 25, 1, 45, tzinfo=UTC))  # 02:45 CET

    assert session_when(spring, EVENT) == (
        "Sunday 29 March 2026, 01:30 CET – 03:30 CEST", "00:30–01:30 UTC")
    assert session_when(autumn, EVENT) == (
        "Sunday 25 October 2026, 02:15 CEST – 02:45 CET", "00:15–01:45 UTC")


def test_with_several_invites_each_session_names_its_attachment() -> None:
    sessions = [{**session_view(WINTER, EVENT, with_join_url=True), "invite_file": "invite-1.ics"},
                {**session_view(SUMMER, EVENT, with_join_url=True), "invite_file": "invite-2.ics"}]

    rendered = render_email("registration_confirmed_to_registrant",
                            context(sessions=sessions, invite_count=2))

    assert [line for line in rendered.text.splitlines() if "invite" in line] == [
        "  Calendar invite: invite-1.ics",
        "  Calendar invite: invite-2.ics",
        "Each session has its own calendar invite attached to this email (the file named beside "
        "it): open each one to add that session to your calendar.",
    ]
    assert "Calendar invite: invite-2.ics" in rendered.html


def test_join_links_only_when_entitled_and_never_for_in_person_sessions() -> None:
    in_person = Session(id=3, title="Visit", mode=SessionMode.IN_PERSON,
                        status=SessionStatus.SCHEDULED, join_url="https://meet.example.org/x",
                        starts_at=WINTER.starts_at, ends_at=WINTER.ends_at)

    assert session_view(WINTER, EVENT, with_join_url=True)["join_url"] == (
        "https://meet.example.org/one")
    assert session_view(WINTER, EVENT, with_join_url=False)["join_url"] is None
    assert session_view(in_person, EVENT, with_join_url=True)["join_url"] is None
    assert session_view(SUMMER, EVENT, with_join_url=True)["place"] == (
        "Conference centre, Brussels, BE and online")


def test_confirmation_text_in_full() -> None:
    rendered = render_email("registration_confirmed_to_registrant", context(
        waiting_sessions=[session_view(SUMMER, EVENT, with_join_url=False)]))

    assert rendered.subject == "Registration confirmed: Fair ICT procurement webinars"
    assert rendered.text.splitlines() == [
        "Dear Ana Silva,",
        "",
        "Your registration for Fair ICT procurement webinars (Webinar) is confirmed.",
        "",
        "Your place:",
        "",
        "- Social criteria",
        "  Monday 12 November 2035, 10:00–11:45 CET (Brussels time, Europe/Brussels)",
        "  09:00–10:45 UTC",
        "  Where: Online",
        "  Join online: https://meet.example.org/one",
        "",
        "The calendar invite attached to this email adds this session to your calendar.",
        "",
        "This session is full; you are on the waiting list and will get an email with the "
        "invite if a place becomes free:",
        "",
        "- Site visit",
        "  Tuesday 17 June 2036, 00:00–03:00 CEST (Brussels time, Europe/Brussels)",
        "  16 Jun 22:00 – 17 Jun 01:00 UTC",
        "  Where: Conference centre, Brussels, BE and online",
        "",
        "Event page: http://events.test/events/fair-ict",
        "",
        "Your registration: http://events.test/registrations/TOKEN",
        "Open it to see your registration, change your details or your sessions, or cancel.",
        "",
        "Your personal calendar feed: http://events.test/feeds/registrations/FEED.ics",
        "Subscribe to it in your calendar app to keep your sessions up to date.",
        "Both links are personal: please do not share them.",
        "",
        "-- ",
        "Procura+ Events",
        "Questions? Reply to this email or write to procurement@procura.example.org.",
        "How we use your details (privacy notice): http://events.test/privacy",
        "",
        "You receive this email because you registered for, or take part in, an event of the",
        "Procura+ network of public procurement authorities. It is about that event only: we "
        "do not",
        "send newsletters from this address.",
    ]


@pytest.mark.parametrize(
    ("template", "extra", "subject", "says"),
    [
        ("registration_waiting_to_registrant", {"position": 3, "approved": False},
         "Waiting list: Fair ICT procurement webinars", "You are on the waiting list, number 3"),
        ("registration_waiting_to_registrant", {"position": 1, "approved": True},
         "Waiting list: Fair ICT procurement webinars", "has been accepted, but all places"),
        ("registration_pending_to_registrant", {},
         "Application received: Fair ICT procurement webinars", "review every application"),
        ("registration_approved_to_registrant", {},
         "Application accepted: Fair ICT procurement webinars", "your place is confirmed"),
        ("registration_declined_to_registrant", {"reason": "Only one visitor per city."},
         "Registration declined: Fair ICT procurement webinars", "Only one visitor per city."),
        ("registration_cancelled_to_registrant", {},
         "Registration cancelled: Fair ICT procurement webinars", "removes this session"),
        ("registration_promoted_to_registrant", {"from_event_waiting_list": True},
         "A place is free for you: Fair ICT procurement webinars",
         "you have moved up from the waiting list"),
        ("registration_promoted_to_registrant", {"from_event_waiting_list": False},
         "A place is free for you: Fair ICT procurement webinars",
         "A place has become free in a session"),
        ("registration_new_session_to_registrant",
         {"session": session_view(WINTER, EVENT, with_join_url=True)},
         "New session added: Social criteria", "covers the whole series"),
        ("registration_sessions_dropped_to_registrant", {},
         "Sessions removed from your registration: Fair ICT procurement webinars",
         "no longer part of your registration"),
        ("registration_sessions_added_to_registrant", {"registration_status": "confirmed"},
         "Sessions added to your registration: Fair ICT procurement webinars",
         "Your place is confirmed in:"),
    ],
)
def test_every_template_has_its_subject_and_essentials(
    template: str, extra: dict[str, Any], subject: str, says: str
) -> None:
    rendered = render_email(template, context(**extra))

    assert rendered.subject == subject
    assert says in rendered.text
    assert "Monday 12 November 2035, 10:00–11:45 CET" in rendered.text
    assert "09:00–10:45 UTC" in rendered.text
    assert "Monday 12 November 2035, 10:00–11:45 CET" in rendered.html
    assert "\n\n\n" not in rendered.text
    if template not in ("registration_declined_to_registrant",
                        "registration_cancelled_to_registrant"):
        assert "http://events.test/registrations/TOKEN" in rendered.text
        assert 'href="http://events.test/registrations/TOKEN"' in rendered.html


def test_what_registrants_type_is_escaped_in_html_only() -> None:
    rendered = render_email("registration_declined_to_registrant", context(
        recipient_name="<b>Ana</b> & Co", reason="<script>x()</script>\nSecond line"))

    assert "Dear &lt;b&gt;Ana&lt;/b&gt; &amp; Co," in rendered.html
    assert "&lt;script&gt;x()&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html and "<b>Ana" not in rendered.html
    assert "Dear <b>Ana</b> & Co," in rendered.text
    assert "<script>x()</script>\nSecond line" in rendered.text


# --- times labelled with the event's own zone and city; "change your sessions" only where
# there is a choice -------------------------------------------------------------------------


def test_times_are_labelled_with_the_events_own_zone_and_city() -> None:
    zurich = Event(id=8, kind=EventKind.CITYMATCH, title="CityMatch Zurich", slug="zurich",
                   timezone="Europe/Zurich", venue_name="Amtshaus III", venue_city="Zurich",
                   venue_country="CH")
    haarlem = Event(id=9, kind=EventKind.MEET_YOUR_BUYER, title="Meet your Buyer", slug="myb",
                    timezone="Europe/Amsterdam", venue_city="Haarlem")
    online = Event(id=10, kind=EventKind.WEBINAR_SERIES, title="Webinars", slug="webinars",
                   timezone="Europe/Brussels")

    rendered = render_email("registration_pending_to_registrant", context(
        event_title=zurich.title, sessions=[session_view(WINTER, zurich, with_join_url=False)]))

    assert [session_view(WINTER, event, with_join_url=False)["zone_label"]
            for event in (zurich, haarlem, online)] == [
        "Zurich time", "Haarlem time", "Brussels time"]
    assert "  Monday 12 November 2035, 10:00–11:45 CET (Zurich time, Europe/Zurich)" in \
        rendered.text.splitlines()
    assert "Brussels" not in rendered.text + rendered.html


def _visit(*sessions: Session, allows_session_choice: bool) -> Event:
    return Event(id=11, kind=EventKind.CITYMATCH, title="CityMatch Zurich", slug="zurich",
                 timezone="Europe/Zurich", allows_session_choice=allows_session_choice,
                 sessions=list(sessions))


def _copy(session: Session, session_id: int, status: SessionStatus = SessionStatus.SCHEDULED
          ) -> Session:
    return Session(id=session_id, title=session.title, mode=session.mode, status=status,
                   starts_at=session.starts_at, ends_at=session.ends_at)


def test_a_choice_of_sessions_needs_the_event_to_allow_it_and_two_sessions_to_choose() -> None:
    cancelled = _copy(SUMMER, 3, SessionStatus.CANCELLED)

    assert [offers_session_choice(event) for event in (
        _visit(_copy(WINTER, 1), allows_session_choice=True),
        _visit(_copy(WINTER, 1), _copy(SUMMER, 2), allows_session_choice=False),
        _visit(_copy(WINTER, 1), cancelled, allows_session_choice=True),
        _visit(_copy(WINTER, 1), _copy(SUMMER, 2), allows_session_choice=True),
    )] == [False, False, False, True]


@pytest.mark.parametrize("template", [
    "registration_confirmed_to_registrant", "registration_waiting_to_registrant",
    "registration_pending_to_registrant", "registration_approved_to_registrant",
    "registration_promoted_to_registrant", "registration_new_session_to_registrant",
    "registration_sessions_added_to_registrant", "registration_sessions_dropped_to_registrant",
    "registration_link_to_registrant",
])
def test_no_email_offers_to_change_sessions_where_there_is_no_choice(template: str) -> None:
    extra = {"position": 1, "approved": False, "from_event_waiting_list": True,
             "registration_status": "confirmed",
             "session": session_view(WINTER, EVENT, with_join_url=True)}
    without = render_email(template, context(can_change_sessions=False, **extra))
    with_choice = render_email(template, context(can_change_sessions=True, **extra))

    for rendered in (without.text, without.html):
        assert "change your details or cancel" in rendered
        assert "sessions, or cancel" not in rendered
        assert "leave it out" not in rendered
    assert "change your details or your sessions, or cancel." in with_choice.text
    assert "change your details or your sessions, or cancel." in with_choice.html


def test_the_private_link_email_carries_the_links_and_says_who_asked() -> None:
    rendered = render_email("registration_link_to_registrant", context())

    assert rendered.subject == "Your registration link: Fair ICT procurement webinars"
    assert "You asked us to send the link to your registration for Fair ICT procurement " \
        "webinars (Webinar) again." in rendered.text
    assert "Your registration: http://events.test/registrations/TOKEN" in rendered.text
    assert 'href="http://events.test/registrations/TOKEN"' in rendered.html
    assert "If you did not ask for this email, you can ignore it" in rendered.text
    assert "\n\n\n" not in rendered.text
