"""Organisers write to registrants in several languages (both databases): each person gets
the version in their own language, or the message as written; every version is previewed;
a translation's problems are named by field, all at once, and nothing is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AuditEntry, OutboxEmail
from service.domain.accounts import Actor, set_actor
from service.domain.errors import InvalidInputError
from service.domain.registration.organiser_messages import (
    MessageDraft,
    preview_organiser_message,
    send_organiser_message,
)
from service.settings import Settings
from tests.factories import EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import html_of, parse, text_of

NOW = datetime(2035, 10, 1, 9, 0, tzinfo=UTC)
TEMPLATE = "organiser_message_to_registrant"
GERMAN = ("Raumänderung", "Wir treffen uns in Saal B.\n\nBitte Ausweis mitbringen.")
# Who registered in which language, in registration order.
PEOPLE = (("Ana Silva", "en"), ("Bea Bauer", "de"), ("Chloe Martin", "fr"),
          ("Dirk Vogel", "de"))


@dataclass(frozen=True)
class Arranged:
    event_id: int
    addresses: dict[str, str]  # first name -> address


@pytest.fixture
async def arranged(db: AsyncSession, settings: Settings) -> Arranged:
    event = await make_event(db, settings, EventSpec(commit=False, now=NOW))
    first = min(event.sessions, key=lambda s: s.starts_at)
    addresses = {}
    for name, language in PEOPLE:
        registration = await make_registration(db, event, first, name, now=NOW)
        registration.language = language
        addresses[name.split()[0]] = registration.email
    await db.commit()
    return Arranged(event_id=event.id, addresses=addresses)


def _draft(**translations: tuple[str, str]) -> MessageDraft:
    return MessageDraft(audiences=["confirmed"], subject="Room change",
                        text="We meet in Hall B.\n\nBring your ID.", translations=translations)


async def test_each_person_gets_their_language_or_the_message_as_written(
    db: AsyncSession, settings: Settings, arranged: Arranged
) -> None:
    draft = _draft(de=GERMAN, fr=("", ""))  # French left empty: no translation

    preview = await preview_organiser_message(db, arranged.event_id, draft, now=NOW,
                                              settings=settings)
    set_actor(db, Actor(account_id=None, api_token_id=None, label="Olga Organiser"))
    sent = await send_organiser_message(db, arranged.event_id, draft, now=NOW,
                                        settings=settings, expected_recipients=4)
    await db.commit()

    assert preview.recipients == 4
    assert [(v.wording.language, v.recipients, v.first_recipient.split(" <")[0])
            for v in preview.versions] == [("en", 2, "Ana Silva"), ("de", 2, "Bea Bauer")]
    german = preview.versions[1].copy
    assert german.subject == "Raumänderung"
    assert "Wir treffen uns in Saal B." in german.text
    assert "Bea Bauer" in german.text and "Bitte Ausweis mitbringen." in german.html

    assert sent.recipients == 4
    rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.subject,
                                    OutboxEmail.raw_message)
                             .where(OutboxEmail.template == TEMPLATE)
                             .order_by(OutboxEmail.id))).all()
    assert [(address, subject) for address, subject, _ in rows] == [
        (arranged.addresses["Ana"], "Room change"),
        (arranged.addresses["Bea"], "Raumänderung"),
        (arranged.addresses["Chloe"], "Room change"),
        (arranged.addresses["Dirk"], "Raumänderung"),
    ]
    to_bea, to_chloe = parse(rows[1][2]), parse(rows[2][2])
    assert "Wir treffen uns in Saal B." in text_of(to_bea)
    assert "We meet in Hall B." not in text_of(to_bea)
    # Chloe reads French around the English words, which say what language they are in.
    chloe_html = html_of(to_chloe)
    assert '<html lang="fr">' in chloe_html
    assert '<div lang="en">' in chloe_html and "We meet in Hall B." in chloe_html
    assert '<div lang="de">' not in html_of(to_bea)  # her own language: no mark

    entry = await db.scalar(select(AuditEntry).where(AuditEntry.subject_type == "organiser_message"))
    assert entry is not None and entry.after is not None
    assert entry.after["language"] == "en"
    assert entry.after["translations"] == {"de": {"subject": GERMAN[0], "text": GERMAN[1]}}


async def test_every_problem_of_the_translations_is_named_at_once_and_nothing_is_sent(
    db: AsyncSession, settings: Settings, arranged: Arranged
) -> None:
    draft = _draft(
        en=("Room change again", "Same language as written."),  # the message's own
        fr=("Changement de salle", ""),  # a subject without its text
        it=("", "Solo il testo."),  # a text without its subject
        de=("Raum\r\nBcc: x@evil.test", "Text"),  # a header smuggled into the subject
        xx=("Subject", "Text"),  # not a language of the service
    )

    with pytest.raises(InvalidInputError) as refused:
        await send_organiser_message(db, arranged.event_id, draft, now=NOW, settings=settings)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("subject_en", "Translations go into another of the languages the service speaks "
                       "than the message's own."),
        ("text_fr", "Write the message in Français too, or leave both empty."),
        ("subject_it", "Write the subject in Italiano too, or leave both empty."),
        ("subject_de", "Must be a single line without control characters."),
        ("subject_xx", "Translations go into another of the languages the service speaks "
                       "than the message's own."),
    ]
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == 0


async def test_the_back_office_form_preview_and_send_carry_each_language(
    organiser_client: SignedInClient, db: AsyncSession, arranged: Arranged
) -> None:
    base = f"/organiser/events/{arranged.event_id}/message"
    typed = {"audience": ["confirmed"], "session_id": "", "subject": "Room change",
             "text": "We meet in Hall B.", "subject_de": GERMAN[0], "text_de": GERMAN[1]}

    form = await organiser_client.get(base)
    refused = await organiser_client.post_form(f"{base}/preview",
                                               {**typed, "subject_fr": "Changement"})
    preview = await organiser_client.post_form(f"{base}/preview", typed)
    sent = await organiser_client.post_form(f"{base}/send", {**typed, "recipients": "4"})

    # One fieldset per language other than the event's own (English), closed until used.
    assert re.findall(r'<legend class="label"><span lang="([a-z]+)">', form.text) == [
        "de", "fr", "es", "it", "nl"]
    assert '<details class="translations">' in form.text
    assert 'id="subject_de" name="subject_de"' in form.text and 'lang="de"' in form.text
    assert 'id="subject_en"' not in form.text

    assert refused.status_code == 422
    assert '<details class="translations" open>' in refused.text
    assert re.findall(r'<li><a href="#([a-z_]+)">([^<]+)</a></li>', refused.text) == [
        ("text_fr", "Write the message in Français too, or leave both empty.")]
    assert 'value="Changement"' in refused.text and "Wir treffen uns in Saal B." in refused.text

    assert preview.status_code == 200
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(\d+)</td></tr>', preview.text)
    assert rows == [("As written (English)", "2"), ('<span lang="de">Deutsch</span>', "2")]
    assert '<input type="hidden" name="subject_de" value="Raumänderung">' in preview.text
    assert "The email as Bea Bauer" in preview.text and '<dd lang="de">Raumänderung</dd>' in preview.text

    assert sent.status_code == 303
    subjects = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.subject)
                                 .where(OutboxEmail.template == TEMPLATE)
                                 .order_by(OutboxEmail.id))).all()
    assert [tuple(row) for row in subjects] == [
        (arranged.addresses["Ana"], "Room change"),
        (arranged.addresses["Bea"], "Raumänderung"),
        (arranged.addresses["Chloe"], "Room change"),
        (arranged.addresses["Dirk"], "Raumänderung"),
    ]
