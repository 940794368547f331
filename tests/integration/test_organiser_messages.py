"""Organisers write to registrants (domain, both databases): who receives it for each group
and session (and after an in-person day, who was checked in or not), the preview of the
first copy, one outbox row per person with their private link, the organiser's words
escaped, the count checked at confirmation, and the audit entry.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AuditEntry,
    EnrolmentStatus,
    Event,
    OutboxEmail,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from service.domain.accounts import Actor, set_actor
from service.domain.emails.organiser_message import ORGANISER_MESSAGE_TEMPLATE, paragraphs_of
from service.domain.errors import ConflictError, InvalidInputError
from service.domain.link_lists import Link
from service.domain.programme.materials import set_materials
from service.domain.registration import check_in
from service.domain.registration.organiser_messages import (
    MessageDraft,
    preview_organiser_message,
    send_organiser_message,
)
from service.settings import Settings
from tests.factories import EventSpec, make_event, make_registration

NOW = datetime(2035, 10, 1, 9, 0, tzinfo=UTC)
SLIDES = "https://docs.example.org/winter-slides.pdf"
RECORDING = "https://video.example.org/winter-recording"
SPRING = "https://docs.example.org/spring-slides.pdf"
TEXT = "The room changed: <b>Hall B</b> & not A.\n\nBring your ID.\nSee you there."


async def _event_with_people(db: AsyncSession, settings: Settings) -> Event:
    event = await make_event(db, settings, EventSpec(commit=False, now=NOW))
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, first, "Ana Silva", now=NOW)
    await make_registration(db, event, second, "Bruno Costa", now=NOW)
    await make_registration(db, event, first, "Carla Canal", now=NOW,
                            enrolment=EnrolmentStatus.WAITING)
    await make_registration(db, event, None, "Dora Weiss", status=RegistrationStatus.WAITING,
                            now=NOW)
    await make_registration(db, event, first, "Emil Novak", status=RegistrationStatus.PENDING,
                            now=NOW)
    await make_registration(db, event, first, "Fritz Gone", status=RegistrationStatus.CANCELLED,
                            enrolment=EnrolmentStatus.CANCELLED, now=NOW)
    await db.flush()
    return event


def _draft(*audiences: str, session_id: int | None = None, subject: str = "Room change",
           text: str = TEXT) -> MessageDraft:
    return MessageDraft(audiences=audiences, subject=subject, text=text, session_id=session_id)


async def _names(db: AsyncSession, settings: Settings, event: Event, draft: MessageDraft
                 ) -> tuple[int, str | None]:
    preview = await preview_organiser_message(db, event.id, draft, now=NOW, settings=settings)
    return preview.recipients, (preview.versions[0].first_recipient if preview.versions
                                else None)


async def test_the_audience_is_the_group_chosen_for_the_event_or_one_session(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    slug = event.slug

    assert await _names(db, settings, event, _draft("confirmed")) == (
        3, f"Ana Silva <ana@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("waiting")) == (
        1, f"Dora Weiss <dora@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("pending", "waiting")) == (
        2, f"Dora Weiss <dora@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("confirmed", session_id=first.id)) == (
        1, f"Ana Silva <ana@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("confirmed", session_id=second.id)) == (
        1, f"Bruno Costa <bruno@{slug}.example.org>")
    # The session's own waiting list: Carla holds a confirmed registration, waiting for it.
    assert await _names(db, settings, event, _draft("waiting", session_id=first.id)) == (
        1, f"Carla Canal <carla@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("pending", session_id=second.id)) == (
        0, None)


async def test_after_the_day_a_message_goes_to_those_checked_in_or_to_those_who_did_not_come(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    slug = event.slug
    for name in ("Bruno Costa", "Emil Novak"):  # each at the door of their one session
        registration_id = await db.scalar(select(Registration.id).where(
            Registration.event_id == event.id, Registration.name == name))
        assert registration_id is not None
        await check_in(db, event, registration_id, present=True, now=NOW)

    # Everyone who came, whatever their registration's state; the confirmed who did not.
    assert await _names(db, settings, event, _draft("attended")) == (
        2, f"Bruno Costa <bruno@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("absent")) == (
        2, f"Ana Silva <ana@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("confirmed", "attended")) == (
        4, f"Ana Silva <ana@{slug}.example.org>")
    # For one session: those in it (Emil asked for a place in the first, and came).
    assert await _names(db, settings, event, _draft("attended", session_id=second.id)) == (
        1, f"Bruno Costa <bruno@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("attended", session_id=first.id)) == (
        1, f"Emil Novak <emil@{slug}.example.org>")
    assert await _names(db, settings, event, _draft("absent", session_id=first.id)) == (
        1, f"Ana Silva <ana@{slug}.example.org>")


def _body(row: OutboxEmail, kind: str) -> str:
    """The text or HTML part of a queued email."""
    message = BytesParser(policy=email.policy.default).parsebytes(row.raw_message or b"")
    assert isinstance(message, MimeMessage)
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())


async def test_after_a_session_who_came_finds_their_certificate_in_the_message(
    db: AsyncSession, settings: Settings
) -> None:
    """A thank-you after the first session: Ana, checked in there, gets the link to her
    certificate of attendance in her copy (text and HTML); Bruno, who was not, does not."""
    event = await _event_with_people(db, settings)
    first, _second = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await db.scalar(select(Registration).where(Registration.name == "Ana Silva"))
    assert ana is not None
    await check_in(db, event, ana.id, session_id=first.id, present=True, now=first.starts_at)
    after = first.ends_at + timedelta(hours=1)

    preview = await preview_organiser_message(db, event.id, _draft("confirmed"), now=after,
                                              settings=settings)
    await send_organiser_message(db, event.id, _draft("confirmed"), now=after,
                                 settings=settings)
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    texts = {row.to_address.split("@")[0]: _body(row, "plain") for row in rows}
    pages = {row.to_address.split("@")[0]: _body(row, "html") for row in rows}
    [ana_page] = [line.split(": ", 1)[1] for line in texts["ana"].splitlines()
                  if line.startswith("Your registration: ")]
    certificate = f"{ana_page}/certificate"
    assert f"to print or save as a PDF): {certificate}" in texts["ana"]
    assert f'<a href="{certificate}"' in pages["ana"]
    assert "certificate" not in texts["bruno"] + pages["bruno"]
    assert "/certificate" in preview.versions[0].copy.text  # Ana's copy is the first


async def test_each_copy_carries_the_materials_its_reader_may_read(
    db: AsyncSession, settings: Settings
) -> None:
    """After the webinars: Ana (a place in the first) finds its slides and recording, Bruno
    (the second) its slides, Carla (waiting for the first) only its public slides, Dora
    (waiting, no session) none; written to the first session only, Ana's copy has only
    its materials. Escaped in the HTML."""
    event = await _event_with_people(db, settings)
    first, second = sorted(event.sessions, key=lambda s: s.starts_at)
    ids, first_title = (event.id, first.id), first.title
    await set_materials(db, first.id, now=NOW, public=[Link("Slides <1>", SLIDES)],
                        for_registrants=[Link("Recording", RECORDING)])
    await set_materials(db, second.id, now=NOW, public=[Link("Spring slides", SPRING)],
                        for_registrants=[])

    await send_organiser_message(db, ids[0], _draft("confirmed", "waiting"), now=NOW,
                                 settings=settings)
    await send_organiser_message(db, ids[0], _draft("confirmed", session_id=ids[1]), now=NOW,
                                 settings=settings)
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    texts = [(row.to_address.split("@")[0], _body(row, "plain")) for row in rows]
    links = {name: [url for url in (SLIDES, RECORDING, SPRING) if url in text]
             for name, text in texts[:4]}
    assert links == {"ana": [SLIDES, RECORDING], "bruno": [SPRING], "carla": [SLIDES],
                     "dora": []}
    assert "Materials of your sessions:" not in texts[3][1]
    ana = texts[0][1]
    assert (f"Materials of your sessions:\r\n\r\n{first_title}\r\n- Slides <1>: {SLIDES}\r\n"
            f"- Recording: {RECORDING}\r\n\r\nYour registration: ") in ana
    [(name, only_first)] = texts[4:]
    assert name == "ana" and SLIDES in only_first and SPRING not in only_first
    assert f'<a href="{SLIDES}" style="color:#1f4e5f;">Slides &lt;1&gt;</a>' in _body(
        rows[0], "html")


async def test_the_preview_is_the_first_copy_with_the_words_escaped_and_the_private_link(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)

    preview = await preview_organiser_message(db, event.id, _draft("confirmed"), now=NOW,
                                              settings=settings)

    copy = preview.versions[0].copy
    assert copy is not None
    assert copy.subject == "Room change"
    assert "The room changed: <b>Hall B</b> & not A.\n\nBring your ID.\nSee you there.\n" in copy.text
    assert ("<p style=\"margin:0 0 16px 0;\">The room changed: &lt;b&gt;Hall B&lt;/b&gt; &amp; "
            "not A.</p>") in copy.html
    assert "Bring your ID.<br>See you there." in copy.html
    # A web address the organisers write is a link in the HTML, escaped as it should be.
    linked = await preview_organiser_message(db, event.id, _draft(
        "confirmed", text="The slides: https://example.org/s?a=1&b=2. <b>Thanks</b>"),
        now=NOW, settings=settings)
    assert linked.versions[0].copy is not None
    assert ('The slides: <a href="https://example.org/s?a=1&amp;b=2" rel="noopener">'
            'https://example.org/s?a=1&amp;b=2</a>. &lt;b&gt;Thanks&lt;/b&gt;'
            ) in linked.versions[0].copy.html
    assert "The slides: https://example.org/s?a=1&b=2. <b>Thanks</b>" in \
        linked.versions[0].copy.text
    assert f"Your registration: {settings.public_base_url}/registrations/" in copy.text
    # A preview queues nothing.
    assert list(await db.scalars(select(OutboxEmail.id))) == []


async def test_sending_queues_one_email_per_person_with_their_own_link_and_logs_it(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)
    set_actor(db, Actor(label="Olga Organiser <olga@procura.example.org>"))

    sent = await send_organiser_message(db, event.id, _draft("confirmed"), now=NOW,
                                        settings=settings, expected_recipients=3)

    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert sent.recipients == 3
    assert sent.email_ids == [row.id for row in rows]
    assert [(r.to_address.split("@")[0], r.template, r.status, r.subject, r.event_id)
            for r in rows] == [
        (name, ORGANISER_MESSAGE_TEMPLATE, OutboxStatus.QUEUED, "Room change", event.id)
        for name in ("ana", "bruno", "carla")]
    links = []
    for row in rows:
        assert row.raw_message is not None
        message = BytesParser(policy=email.policy.default).parsebytes(row.raw_message)
        assert isinstance(message, MimeMessage)
        assert str(message["To"]).endswith(f"<{row.to_address}>")
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        [link] = [line for line in str(text.get_content()).splitlines()
                  if line.startswith("Your registration: ")]
        links.append(link)
    assert len(set(links)) == 3  # each person's own private page

    [entry] = list(await db.scalars(select(AuditEntry)))
    assert (entry.action, entry.subject_type, entry.event_id, entry.actor_label) == (
        "sent", "organiser_message", event.id, "Olga Organiser <olga@procura.example.org>")
    assert entry.after == {
        "template": ORGANISER_MESSAGE_TEMPLATE, "audience": ["confirmed"], "session_id": None,
        "subject": "Room change", "text": TEXT, "language": "en", "translations": {},
        "recipients": 3, "email_ids": sent.email_ids}


async def test_a_count_that_changed_since_the_preview_sends_nothing(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)

    with pytest.raises(ConflictError) as refused:
        await send_organiser_message(db, event.id, _draft("confirmed"), now=NOW,
                                     settings=settings, expected_recipients=2)

    assert (refused.value.field, refused.value.message) == (
        "recipients", "The message would now go to 3 people, not the 2 shown in the preview: "
        "look at the preview again.")
    assert list(await db.scalars(select(OutboxEmail.id))) == []


async def test_every_problem_of_a_draft_is_named_at_once(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event_with_people(db, settings)

    with pytest.raises(InvalidInputError) as refused:
        await send_organiser_message(
            db, event.id, MessageDraft(audiences=["everyone"], subject="Hello\r\nBcc: x@evil.test",
                                       text="  ", session_id=999_999),
            now=NOW, settings=settings)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("audience", "Unknown group 'everyone': choose among confirmed, waiting, pending, attended, absent."),
        ("session_id", "Choose a session of this event, or the whole event."),
        ("subject", "Must be a single line without control characters."),
        ("text", "Write the message."),
    ]
    assert list(await db.scalars(select(OutboxEmail.id))) == []


def test_paragraphs_are_split_on_blank_lines_and_keep_their_lines() -> None:
    assert paragraphs_of("One\r\ntwo\n\n\n  \nThree  \n") == [["One", "two"], ["Three"]]
