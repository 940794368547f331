"""Every email template in every language the service speaks.

Each template is rendered with representative contexts (one per branch that changes the
words) in all six languages: it must render, with a subject. Where a language's catalogue
is filled, no English sentence of the English rendering may survive in that language's
(values such as names, titles, dates and URLs aside): a sentence left unmarked, or a
plural form missing from a catalogue, shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.render import EMAIL_TEMPLATES_DIR, EmailTemplateError, render_email
from service.db.models import Event, EventKind, Session, SessionMode, SessionStatus
from service.domain.emails.registration import session_view
from service.i18n import LANGUAGES, gettext, use_language

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
ONE = session_view(WINTER, EVENT, with_join_url=True)
TWO = [ONE, {**session_view(SUMMER, EVENT, with_join_url=True), "invite_file": "site-visit.ics"}]
OCCURRENCE = {"when": "Tuesday 13 October 2026, 10:00–11:00 CEST",
              "when_utc": "08:00–09:00 UTC", "place": "Online",
              "join_url": "https://meet.example.org/group", "agenda": "1. Welcome\n2. Cases",
              "agenda_language": None}
# An agenda the group has not translated into the reader's language says it is English.
PREVIOUS = {**OCCURRENCE, "when": "Monday 12 October 2026, 10:00–11:00 CEST",
            "agenda_language": "en"}
GROUP = {"recipient_name": "Ana Silva", "group_topic": "Circular procurement",
         "group_url": "http://events.test/groups/circular-procurement"}
SERIES = [{"title": "Web meeting", "rule": "Every second Tuesday, 10:00–11:00 CEST",
           "place": "Online", "join_url": "https://meet.example.org/group",
           "next": [OCCURRENCE, {**OCCURRENCE, "join_url": "https://meet.example.org/other"}]},
          {"title": "Web meeting (new time)", "rule": "Every Tuesday, 14:00–15:00 CEST",
           "place": "Online", "join_url": None, "next": []}]
CHANGES = [{"label": "Time", "old": "10:00–11:00 CET", "new": "11:00–12:00 CET"}]


def registrant(**extra: Any) -> dict[str, Any]:
    return {
        **BASE,
        "recipient_name": "Ana Silva", "event_title": EVENT.title, "event_kind": "Webinar",
        "event_url": "http://events.test/events/fair-ict", "event_zone": "Europe/Brussels",
        "venue": None, "contact_email": "events@procura.example.org",
        "manage_url": "http://events.test/registrations/TOKEN",
        "feed_url": "http://events.test/feeds/registrations/FEED.ics",
        "can_change_sessions": True, "sessions": [ONE], "waiting_sessions": [], **extra,
    }


def reminder(**extra: Any) -> dict[str, Any]:
    return registrant(**{
        "session_title": "Social criteria", "starts": "in 2 hours",
        "when_local": "Monday 12 November 2035, 10:00–11:45 CET", "when_utc": "09:00–10:45 UTC",
        "join_url": "https://meet.example.org/one", "venue": "Conference centre, Brussels",
        "agenda": "Agenda (CET)\n10:00 Welcome\n10:15 Cases", "agenda_heading": "Agenda (CET)",
        "agenda_lines": ["10:00 Welcome", "10:15 Cases"], **extra})


def meeting(what: str, **extra: Any) -> dict[str, Any]:
    return {**BASE, "recipient_name": "Ana Silva", "what": what, "other_party": "Ivo Vendor",
            "meeting_start": "12 November, 10:00 CET", "event_title": "Meet-your-Buyer Lisbon",
            "meeting_local": "Monday 12 November 2035, 10:00–10:20 CET",
            "meeting_utc": "09:00–09:20 UTC", "table_name": "Table 4",
            "topic": "Electric buses", "changes": [], "join_url": "https://meet.example.org/4",
            "page_url": "http://events.test/meetings/PAGE",
            "event_url": "http://events.test/events/myb", **extra}


def slot(**extra: Any) -> dict[str, Any]:
    return {**BASE, "recipient_name": "Carla Canal", "item_title": "Keynote",
            "slot_start": "12 November 2035, 10:00 CET", "event_title": "Make ICT Fair",
            "slot_local": "Monday 12 November 2035, 10:00–10:20 CET",
            "slot_utc": "09:00–09:20 UTC", "session_title": "Social criteria",
            "session_local": "10:00–11:45 CET", "co_speakers": ["Bo Berg", "Ida Ek"],
            "join_url": "https://meet.example.org/one", "venue": "Conference centre",
            "speaker_page_url": "http://events.test/speakers/PAGE",
            "event_url": "http://events.test/events/make-ict-fair", "changes": CHANGES,
            "reason": "The organisers have changed the programme.", **extra}


REGISTRATION = "registration_{}_to_registrant"
CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "account_invitation_to_organiser": [{
        **BASE, "recipient_name": "Ola Organiser", "invited_by": "Ada Admin",
        "role_label": "organiser", "link_url": "http://events.test/organiser/invitation/TOKEN",
        "expires": "14 March 2026, 09:30 UTC", "recipient_email": "ola@example.org"}],
    "address_confirmation_to_registrant": [{
        **BASE, "recipient_name": "Ana Silva", "event_title": EVENT.title,
        "event_kind": "Webinar", "confirm_url": "http://events.test/events/fair-ict/confirm/T",
        "expires": "12 September 2026, 10:00 CEST"}],
    "consultation_answer_to_supplier": [registrant(
        asked_by="a supplier", question="Is a lease allowed?", answer="Yes, for four years.",
        consultation_url="http://events.test/consultations/C")],
    "consultation_document_to_supplier": [
        registrant(document_title="Draft specification", document_file_name="draft.pdf",
                   document_url="http://events.test/documents/D",
                   consultation_url="http://events.test/consultations/C"),
        registrant(document_title="Draft specification", document_file_name=None,
                   document_url="http://events.test/documents/D",
                   consultation_url="http://events.test/consultations/C",
                   can_change_sessions=False)],
    "data_request_link_to_person": [{
        **BASE, "recipient_email": "ana@example.org", "link_url": "http://events.test/privacy/D",
        "hours": 24, "expires": "13 March 2026, 09:30 UTC"}],
    "group_interest_received_to_member": [{**GROUP, "organisation_name": "Lisboa"}],
    "group_interest_to_facilitator": [
        {**GROUP, "member_name": "Ivo", "member_email": "ivo@example.org",
         "organisation_name": "Lisboa", "message": "We buy laptops.",
         "decide_url": "http://events.test/organiser/groups/1/members"},
        {**GROUP, "member_name": "Ivo", "member_email": "ivo@example.org",
         "organisation_name": "Lisboa", "message": "",
         "decide_url": "http://events.test/organiser/groups/1/members"}],
    "group_meeting_invitation_to_guest": [
        {**GROUP, "kind": kind, "title": "Web meeting", "occurrence": OCCURRENCE}
        for kind in ("new", "changed", "cancelled")],
    "group_meeting_occurrence_to_member": [
        {**GROUP, "kind": "changed", "title": "Web meeting", "occurrence": OCCURRENCE,
         "previous": PREVIOUS, "member_page_url": "http://events.test/groups/me/PAGE"},
        {**GROUP, "kind": "cancelled", "title": "Web meeting", "occurrence": OCCURRENCE,
         "previous": None, "member_page_url": None}],
    "group_meeting_reminder_to_member": [{
        **GROUP, "title": "Web meeting", "starts": "tomorrow at 10:00 CEST",
        "when_local": OCCURRENCE["when"], "when_utc": OCCURRENCE["when_utc"],
        "join_url": "https://meet.example.org/group", "venue": "City hall, Lisbon",
        "agenda": "1. Welcome\n2. Cases", "agenda_language": "en"}],
    "group_meeting_series_to_member": [
        {**GROUP, "kind": kind, "series": SERIES if kind == "changed" else SERIES[:1],
         "member_page_url": "http://events.test/groups/me/PAGE",
         "member_feed_url": "http://events.test/groups/feed/FEED.ics"}
        for kind in ("new", "changed", "cancelled", "withdrawn")],
    "group_member_approved_to_member": [{
        **GROUP, "organisation_name": "Lisboa", "note": "Welcome aboard.",
        "page_url": "http://events.test/groups/me/PAGE",
        "feed_url": "http://events.test/groups/feed/FEED.ics"}],
    "group_member_declined_to_member": [{
        **GROUP, "organisation_name": "Vendor Ltd", "note": "Sorry.", "not_eligible": True,
        "eligibility_rule": "Interest Groups are open to Participants and Strategic Partners "
                            "of the Procura+ Network only."}],
    "group_minutes_published_to_member": [{
        **GROUP, "meeting_title": "Web meeting", "meeting_when": "13 October 2026",
        "minutes": "We agreed on criteria.",
        "documents": [{"title": "Draft", "url": "https://docs.example.org/1"}],
        "page_url": "http://events.test/groups/me/PAGE"}],
    "meeting_to_participant": [
        meeting("new"), meeting("reminder"), meeting("cancelled"),
        meeting("changed", changes=[{"label": "Table", "old": "Table 2", "new": "Table 4"}])],
    "organiser_message_to_registrant": [
        registrant(message_subject="Bring your ID", message_language="en",
                   paragraphs=[["Please bring your ID.", "Thanks."]], certificate_url=None,
                   materials=[], feedback_url=None),
        # A thank-you after the day, to someone who came: with their certificate, the
        # session's slides and recording, and the feedback form.
        registrant(message_subject="Ausweis mitbringen", message_language="de",
                   paragraphs=[["Bitte bringen Sie Ihren Ausweis mit."]],
                   certificate_url="http://events.test/registrations/TOKEN/certificate",
                   materials=[{"session": "Winter webinar", "links": [
                       {"title": "Slides", "url": "https://docs.example.org/slides.pdf"},
                       {"title": "Recording", "url": "https://video.example.org/1"}]}],
                   feedback_url="http://events.test/registrations/TOKEN/feedback")],
    "password_reset_to_organiser": [{
        **BASE, "recipient_name": "Ola Organiser", "recipient_email": "ola@example.org",
        "link_url": "http://events.test/organiser/password/TOKEN",
        "expires": "14 March 2026, 09:30 UTC"}],
    REGISTRATION.format("approved"): [
        registrant(note="See you there."), registrant(sessions=TWO, waiting_sessions=[ONE]),
        registrant(waiting_sessions=TWO, can_change_sessions=False)],
    REGISTRATION.format("cancelled"): [
        registrant(), registrant(sessions=[ONE, {**TWO[1], "is_cancelled": True}])],
    REGISTRATION.format("confirmed"): [
        registrant(), registrant(sessions=TWO, waiting_sessions=[ONE]),
        registrant(waiting_sessions=TWO, invite_count=2)],
    REGISTRATION.format("declined"): [
        registrant(reason="Only one visitor per city."), registrant(reason="", sessions=TWO)],
    REGISTRATION.format("link"): [registrant(), registrant(sessions=[])],
    REGISTRATION.format("new_session"): [
        registrant(session=ONE), registrant(session=ONE, event_kind="Study visit",
                                            can_change_sessions=False)],
    REGISTRATION.format("pending"): [registrant(), registrant(sessions=[])],
    REGISTRATION.format("promoted"): [
        registrant(from_event_waiting_list=True),
        registrant(from_event_waiting_list=False, sessions=TWO, waiting_sessions=[ONE])],
    REGISTRATION.format("sessions_added"): [
        registrant(registration_status="confirmed", waiting_sessions=[ONE]),
        registrant(registration_status="confirmed", sessions=[], waiting_sessions=TWO),
        registrant(registration_status="pending", waiting_sessions=[ONE])],
    REGISTRATION.format("sessions_dropped"): [registrant(), registrant(sessions=TWO)],
    REGISTRATION.format("waiting"): [
        registrant(approved=False, position=3),
        registrant(approved=True, position=None, note="We will tell you.", sessions=[])],
    "reminder_to_registrant": [
        reminder(), reminder(join_url=None, venue=None, agenda=None, agenda_lines=[])],
    "session_changed_to_registrant": [
        reminder(kind="new_time", start="Monday 12 November, 11:00 CET", is_cancelled=False,
                 previous_start="Monday 12 November, 10:00 CET", previous_when="",
                 changes=CHANGES, agenda_changes=["10:15 Cases (was 10:30)"]),
        reminder(kind="changed", start="Monday 12 November, 10:00 CET", is_cancelled=False,
                 previous_start="", previous_when="", changes=CHANGES, agenda_changes=[]),
        reminder(kind="cancelled", start="", is_cancelled=True,
                 previous_start="Monday 12 November, 10:00 CET",
                 previous_when="Monday 12 November 2035, 10:00–11:45 CET",
                 changes=[], agenda_changes=[])],
    "speaker_links_to_speaker": [{
        **BASE, "recipient_name": "Carla Canal", "event_title": "Make ICT Fair",
        "speaker_page_url": "http://events.test/speakers/PAGE",
        "speaker_feed_url": "http://events.test/feeds/speakers/FEED.ics",
        "speaker_webcal_url": "webcal://events.test/feeds/speakers/FEED.ics",
        "event_url": "http://events.test/events/make-ict-fair"}],
    "speaker_slot_cancelled_to_speaker": [slot()],
    "speaker_slot_changed_to_speaker": [slot(), slot(co_speakers=[], join_url=None, venue=None)],
    "speaker_slot_to_speaker": [slot(), slot(co_speakers=[], join_url=None, venue=None)],
    "test_message_to_anyone": [{**BASE, "recipient_name": "Ana Silva", "note": "Hello."}],
}
CASES = [(name, index) for name, contexts in CONTEXTS.items() for index in range(len(contexts))]


def test_every_template_has_contexts() -> None:
    names = {path.stem for path in EMAIL_TEMPLATES_DIR.glob("*_to_*.txt")}

    assert sorted(CONTEXTS) == sorted(names)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("template", "index"), CASES)
def test_every_template_renders_in_every_language(template: str, index: int,
                                                  language: str) -> None:
    rendered = render_email(template, CONTEXTS[template][index], language)

    assert rendered.subject.strip() != ""
    assert rendered.text.strip() != ""
    assert f'<html lang="{language}">' in rendered.html


def _values(value: object) -> Iterator[str]:
    """Every text a context carries (names, titles, dates, URLs): not for translation."""
    if isinstance(value, str):
        yield value
        yield from value.splitlines()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield str(value)


def _words(line: str, values: list[str]) -> str:
    """The words of a line once the values in it are taken out (words of two letters, such
    as "in", are the same in English and German and say nothing)."""
    for value in values:
        line = line.replace(value, " ")
    return " ".join(re.findall(r"[^\W\d_]{3,}", line))


def _filled(language: str) -> bool:
    with use_language(language):
        return gettext("Dear %(name)s,") != "Dear %(name)s,"


def _sentences(text: str, values: list[str]) -> set[str]:
    """Lines of two words or more once values are out (one word, such as "Documents" or
    "Question", may be the same word in both languages)."""
    lines = {_words(line, values) for line in text.splitlines()}
    return {line for line in lines if len(line.split()) >= 2}


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
@pytest.mark.parametrize(("template", "index"), CASES)
def test_no_english_sentence_survives_in_a_translation(template: str, index: int,
                                                       language: str) -> None:
    if not _filled(language):
        pytest.skip(f"the {language} catalogue is not filled yet")
    context = CONTEXTS[template][index]
    english = render_email(template, context, "en")
    translated = render_email(template, context, language)
    # The network's name (the footer's default) is a name, not a sentence.
    values = sorted({*_values(context), "Procura+ Events"} - {""}, key=len, reverse=True)

    assert sorted(_sentences(english.text, values) & _sentences(translated.text, values)) == []
    assert sorted(_sentences(english.subject, values)
                  & _sentences(translated.subject, values)) == []


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(EmailTemplateError, match="not a language of the service"):
        render_email("test_message_to_anyone", {"recipient_name": "Ana", "note": ""}, "xx")


