"""The organisers' note in approval and decline emails, in several languages (both
databases): each person reads the version in their own language, or the note as written,
marked with its language; a translation's problems are named by field, all at once, and
nothing is decided or sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import OutboxEmail, Registration, RegistrationStatus
from service.domain import registration as registrations
from service.domain.errors import InvalidInputError
from service.domain.registration import Decision
from service.settings import Settings
from tests.factories import BUILT_AT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import html_of, parse, text_of

NOW = datetime(2035, 10, 1, 9, 0, tzinfo=UTC)
NOTE = "Lunch is at 12:30.\nBring your badge."
GERMAN = "Mittagessen um 12:30 Uhr.\nBitte Ausweis mitbringen."
# Who applied in which language, in the order they applied.
PEOPLE = (("Ana Silva", "en"), ("Bea Bauer", "de"), ("Chloe Martin", "fr"))


@dataclass(frozen=True)
class Applications:
    event_id: int
    ids: dict[str, int]  # first name -> registration id


@pytest.fixture
async def applications(db: AsyncSession, settings: Settings) -> Applications:
    event = await make_event(db, settings, EventSpec(is_approval_required=True, commit=False,
                                                     now=NOW - timedelta(days=30)))
    ids = {}
    for minute, (name, language) in enumerate(PEOPLE):
        registration = await make_registration(
            db, event, None, name, status=RegistrationStatus.PENDING,
            now=BUILT_AT + timedelta(minutes=minute))
        registration.language = language
        ids[name.split()[0]] = registration.id
    await db.commit()
    return Applications(event_id=event.id, ids=ids)


async def _emails(db: AsyncSession) -> dict[str, MimeMessage]:
    """Each email queued so far, by the recipient's first name (their address's local part)."""
    rows = (await db.execute(select(OutboxEmail.to_address, OutboxEmail.raw_message)
                             .order_by(OutboxEmail.id))).all()
    return {address.split("@")[0].capitalize(): parse(raw) for address, raw in rows if raw}


@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.DECLINE])
async def test_each_person_reads_the_note_in_their_language_or_as_written(
    db: AsyncSession, settings: Settings, applications: Applications, decision: Decision,
) -> None:
    report = await registrations.decide_registrations(
        db, applications.event_id, list(applications.ids.values()), decision, message=NOTE,
        translations={"de": GERMAN, "fr": "  "},  # French left empty: no translation
        now=NOW, settings=settings)
    await db.commit()

    assert [row.name for row in report.changed] == [name for name, _ in PEOPLE]
    sent = await _emails(db)
    assert list(sent) == ["Ana", "Bea", "Chloe"]
    texts = {name: text_of(message) for name, message in sent.items()}
    htmls = {name: html_of(message) for name, message in sent.items()}
    # Ana reads English, the note as written: no mark of its language.
    assert NOTE in texts["Ana"] and "lang=\"en\"" not in htmls["Ana"].split("<body", 1)[1]
    # Bea reads German around the German version, which needs no mark either.
    assert GERMAN in texts["Bea"] and NOTE not in texts["Bea"]
    assert '<html lang="de">' in htmls["Bea"]
    assert re.search(r'<p [^>]*lang="de"[^>]*>Mittagessen', htmls["Bea"]) is None
    # Chloe reads French around the English note, which says what language it is in.
    assert NOTE in texts["Chloe"] and '<html lang="fr">' in htmls["Chloe"]
    assert re.search(r'<p style="[^"]*" lang="en">Lunch is at 12:30.', htmls["Chloe"])


async def test_every_problem_of_the_message_is_named_at_once_and_nothing_is_decided(
    db: AsyncSession, settings: Settings, applications: Applications,
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await registrations.decide_registrations(
            db, applications.event_id, [applications.ids["Bea"]], Decision.APPROVE,
            message="", translations={
                "en": "The event's own language",
                "de": "Mittag\x00essen",  # a control character
                "it": "Il pranzo è alle 12:30.",
                "xx": "Not a language of the service",
            }, now=NOW, settings=settings)
    await db.rollback()
    with pytest.raises(InvalidInputError) as no_message:
        await registrations.decide_registrations(
            db, applications.event_id, [applications.ids["Bea"]], Decision.DECLINE,
            message=" ", translations={"nl": "De zaal is klein."}, now=NOW, settings=settings)
    await db.rollback()

    own = ("Translations go into another of the languages the service speaks than the "
           "message's own.")
    missing = ("Write the message in English too: everyone without a version in their own "
               "language receives it.")
    # The Italian version is fine, but nobody else would read anything.
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("message_en", own),
        ("message_de", "Must not contain control characters."),
        ("message_xx", own),
        ("message", missing),
    ]
    assert [(e.field, e.message) for e in no_message.value.errors] == [("message", missing)]
    statuses = set(await db.scalars(select(Registration.status).where(
        Registration.event_id == applications.event_id)))
    assert statuses == {RegistrationStatus.PENDING}
    assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == 0


async def test_the_registrations_page_offers_each_language_and_keeps_what_was_typed(
    organiser_client: SignedInClient, db: AsyncSession, applications: Applications,
) -> None:
    base = f"/organiser/events/{applications.event_id}/registrations"
    typed = {"message": NOTE, "message_de": GERMAN, "decision": "approve",
             "registration_ids": [str(applications.ids["Bea"]), str(applications.ids["Chloe"])]}

    page = await organiser_client.get(base)
    refused = await organiser_client.post_form(f"{base}/decide",
                                               {**typed, "message": "", "message_fr": "Midi."})
    nothing_ticked = await organiser_client.post_form(f"{base}/decide", {
        "decision": "decline", "message": "", "message_de": GERMAN})
    decided = await organiser_client.post_form(f"{base}/decide", typed)

    # A field per language other than the event's own (English), closed until used.
    assert '<details class="translations">' in page.text
    assert re.findall(r'<textarea id="message_([a-z]+)" name="message_\1" rows="3" '
                      r'maxlength="2000" lang="\1"', page.text) == ["de", "fr", "es", "it", "nl"]
    assert 'id="message_en"' not in page.text

    assert refused.status_code == 422
    assert '<details class="translations" open>' in refused.text
    assert re.findall(r'<li><a href="#([a-z_]+)">([^<]+)</a></li>', refused.text) == [
        ("message", "Write the message in English too: everyone without a version in their "
                    "own language receives it.")]
    assert "Mittagessen um 12:30 Uhr." in refused.text and ">Midi.</textarea>" in refused.text
    # Nothing ticked: the message's problem is named too, not only once something is.
    assert nothing_ticked.status_code == 422
    assert re.findall(r'<li><a href="#([a-z_]+)">([^<]+)</a></li>', nothing_ticked.text) == [
        ("registration_ids", "Tick at least one registration first."),
        ("message", "Write the message in English too: everyone without a version in their "
                    "own language receives it.")]

    assert decided.status_code == 303
    sent = await _emails(db)
    assert list(sent) == ["Bea", "Chloe"]
    assert GERMAN in text_of(sent["Bea"]) and NOTE in text_of(sent["Chloe"])
    statuses = dict((await db.execute(select(Registration.name, Registration.status).where(
        Registration.event_id == applications.event_id))).all())
    assert statuses == {"Ana Silva": RegistrationStatus.PENDING,
                        "Bea Bauer": RegistrationStatus.CONFIRMED,
                        "Chloe Martin": RegistrationStatus.CONFIRMED}
