"""A message the organisers write to registrants: their subject and text, in our frame.

The organiser's words go in as data, never as template code: the subject is one cleaned
line (no header can be started from it), the text is split into paragraphs of lines that
the HTML template escapes. Every copy carries the recipient's private links, like every
other email to a registrant. Builds the message only: queueing is the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from notifications.message import EmailMessage
from service.db.models import Event, Registration, SessionMaterial
from service.domain.programme.translations import localised
from service.i18n import use_language
from service.settings import Settings

# The registrant emails' shared context (names, event, private links): one home for it.
from .registration import RegistrantLinks, registrant_context

ORGANISER_MESSAGE_TEMPLATE = "organiser_message_to_registrant"


@dataclass(frozen=True)
class Wording:
    """One version of the organisers' message: its subject and text, and their language."""

    language: str
    subject: str
    text: str


def paragraphs_of(text: str) -> list[list[str]]:
    """Paragraphs (separated by blank lines), each a list of its lines, trimmed."""
    paragraphs: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


def materials_by_session(event: Event, materials: Sequence[SessionMaterial], language: str
                         ) -> list[dict[str, object]]:
    """The materials grouped under their sessions, in the programme's order, titles in
    `language` where translated."""
    return [{"session": str(localised(event, "title", language, session)),
             "links": [{"title": str(localised(event, "title", language, m)), "url": m.url}
                       for m in materials if m.session_id == session.id]}
            for session in event.sessions
            if any(m.session_id == session.id for m in materials)]


def organiser_message(
    registration: Registration, event: Event, *, wording: Wording,
    links: RegistrantLinks, settings: Settings, certificate_url: str | None = None,
    materials: Sequence[SessionMaterial] = (), feedback_url: str | None = None,
) -> EmailMessage:
    """One registrant's copy of the organisers' message: what the organisers wrote as they
    wrote it (marked with its language where the registrant's differs), around it the
    registrant's own language; for who has one, the link to their certificate of
    attendance (a thank-you after the day carries it), and the materials of their sessions
    they may read (`materials.materials_of_registrations`: the slides, and the recording
    for who holds a place); for who is asked for feedback and has not given it, the link
    to the form."""
    with use_language(registration.language) as language:
        context = registrant_context(registration, event, links, settings,
                                     message_subject=wording.subject,
                                     paragraphs=paragraphs_of(wording.text),
                                     message_language=wording.language,
                                     certificate_url=certificate_url,
                                     feedback_url=feedback_url,
                                     materials=materials_by_session(event, materials, language))
    return EmailMessage(template=ORGANISER_MESSAGE_TEMPLATE, to_address=registration.email,
                        to_name=registration.name, context=context, language=language)
