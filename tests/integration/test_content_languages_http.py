"""The events' own content in the reader's language, over HTTP and in emails: the event
page and the programme (with `lang` where the text is in another language than the page),
public feeds with `?lang=`, a registrant's own feed and their emails."""

from __future__ import annotations

import icalendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import Enrolment, EnrolmentStatus, Event, OutboxEmail, Registration
from service.domain import programme
from service.domain.calendars import feeds
from service.domain.emails.registration import RegistrantLinks, send_confirmation
from service.domain.programme.translations import (
    TextChange,
    changes_from_mapping,
    set_translations,
)
from service.settings import Settings
from tests.factories import BUILT_AT, make_agenda_item, make_event, make_registration
from tests.integration.test_pages import parse
from tests.integration.test_registration import invites_of, text_of

Client = AsyncTestClient[Litestar]
# The first session's description, in English and in German.
ENGLISH_SESSION = "Writing social criteria.\n\nWith examples from Barcelona."
GERMAN_SESSION = "Soziale Kriterien schreiben.\n\nMit Beispielen aus Barcelona."


async def _event(db: AsyncSession, settings: Settings) -> Event:
    """A published English series: the event in German and French, its first session and
    its agenda item (titles and descriptions) in German only."""
    event = await make_event(db, settings, commit=False,
                             summary="Six webinars on fair ICT.",
                             description="Buying fair electronics.")
    item = await make_agenda_item(db, settings, event.sessions[0], "10:00", "10:30",
                                  "Welcome and introduction")
    event = await programme.get_event(db, event.id)
    event.sessions[0].description = ENGLISH_SESSION
    item.description = "Opening words by the host."
    await db.flush()
    event = await set_translations(db, event.id, [
        *changes_from_mapping(event, {
            "de": {"title": "Webinare zur fairen IKT-Beschaffung",
                   "summary": "Sechs Webinare zu fairer IKT."},
            "fr": {"title": "Webinaires sur l'achat équitable de TIC"},
        }),
        TextChange(event.sessions[0], "de", "title", "Soziale Kriterien in IKT-Ausschreibungen",
                   "sessions.0.de.title"),
        TextChange(event.sessions[0], "de", "description", GERMAN_SESSION,
                   "sessions.0.de.description"),
        TextChange(item, "de", "title", "Begrüßung und Einführung", "agenda.0.de.title"),
        TextChange(item, "de", "description", "Eröffnung durch die Gastgeberin.",
                   "agenda.0.de.description"),
    ], now=BUILT_AT)
    await db.commit()
    return event


async def test_the_event_page_shows_the_content_in_the_page_language_or_marks_the_default(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, settings)

    german = await client.get(f"/events/{event.slug}", params={"lang": "de"})
    french = await client.get(f"/events/{event.slug}", params={"lang": "fr"})

    assert (german.status_code, french.status_code) == (200, 200)
    assert "<h1>Webinare zur fairen IKT-Beschaffung</h1>" in german.text
    assert '<p class="lead">Sechs Webinare zu fairer IKT.</p>' in german.text
    first, second = (s.id for s in event.sessions)
    assert (f'<h3 id="session-{first}">Soziale Kriterien in IKT-Ausschreibungen</h3>'
            in german.text)
    assert f'<h3 id="session-{second}" lang="en">Contract management</h3>' in german.text
    assert '<span class="item-title">Begrüßung und Einführung</span>' in german.text
    assert '<div lang="en">' in german.text  # the description, English only
    german_page, french_page = parse(german.text), parse(french.text)
    assert [(d.attrs.get("lang"), [p.text for p in d.find_all("p")])
            for d in german_page.find_all("div", cls="session-description")] == [
        (None, ["Soziale Kriterien schreiben.", "Mit Beispielen aus Barcelona."])]
    assert [(d.attrs.get("lang"), [p.text for p in d.find_all("p")])
            for d in french_page.find_all("div", cls="session-description")] == [
        ("en", ["Writing social criteria.", "With examples from Barcelona."])]
    assert [(s.attrs.get("lang"), s.text) for page in (german_page, french_page)
            for s in page.find_all("span", cls="item-description")] == [
        (None, "Eröffnung durch die Gastgeberin."), ("en", "Opening words by the host.")]
    assert f'href="/feeds/sessions/{first}.ics?lang=de"' in german.text
    assert f'/feeds/events/{event.slug}.ics?lang=de"' in german.text
    assert "<h1>Webinaires sur l&#39;achat équitable de TIC</h1>" in french.text
    assert '<p class="lead" lang="en">Six webinars on fair ICT.</p>' in french.text
    assert ('<span class="item-title" lang="en">Welcome and introduction</span>'
            in french.text)


async def test_the_programme_lists_each_event_in_the_page_language(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, settings)

    german = await client.get("/", params={"lang": "de"})
    english = await client.get("/", params={"lang": "en"})
    found = await client.get("/api/events", params={"q": "IKT-Beschaffung"})

    assert (german.status_code, english.status_code) == (200, 200)
    assert (f'<a href="/events/{event.slug}">Webinare zur fairen IKT-Beschaffung</a>'
            in german.text)
    assert f'<a href="/events/{event.slug}">Fair ICT procurement webinars</a>' in english.text
    assert "Webinare zur fairen" not in english.text
    assert (found.status_code, [e["slug"] for e in found.json()["items"]]) == (200, [event.slug])


def _summaries(body: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(body)
    return sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))


def _descriptions(body: bytes) -> str:
    calendar = icalendar.Calendar.from_ical(body)
    return "\n".join(str(e.get("DESCRIPTION", "")) for e in calendar.walk("VEVENT"))


async def test_the_public_api_gives_the_texts_in_the_language_asked_for_or_the_default(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, settings)

    german = await client.get(f"/api/events/{event.slug}", params={"lang": "de"})
    french = await client.get(f"/api/events/{event.slug}", headers={"Accept-Language": "fr"})
    listed = await client.get("/api/events", headers={"Accept-Language": "de"})

    body = german.json()
    assert (german.status_code, body["language"], body["default_language"], body["title"],
            body["summary"], body["description"]) == (
        200, "de", "en", "Webinare zur fairen IKT-Beschaffung", "Sechs Webinare zu fairer IKT.",
        "Buying fair electronics.")
    assert [s["title"] for s in body["sessions"]] == [
        "Soziale Kriterien in IKT-Ausschreibungen", "Contract management"]
    assert [i["title"] for i in body["sessions"][0]["agenda"]] == ["Begrüßung und Einführung"]
    assert [s["description"] for s in body["sessions"]] == [
        GERMAN_SESSION, ""]
    assert [i["description"] for i in body["sessions"][0]["agenda"]] == [
        "Eröffnung durch die Gastgeberin."]
    assert [(s["description"], [i["description"] for i in s["agenda"]])
            for s in french.json()["sessions"]] == [
        (ENGLISH_SESSION, ["Opening words by the host."]), ("", [])]
    assert (german.headers["content-language"], german.headers["vary"]) == (
        "de", "Accept-Language, Cookie")
    assert "set-cookie" not in german.headers
    assert (french.json()["title"], french.json()["summary"], french.json()["language"]) == (
        "Webinaires sur l'achat équitable de TIC", "Six webinars on fair ICT.", "fr")
    assert [(e["title"], e["language"]) for e in listed.json()["items"]] == [
        ("Webinare zur fairen IKT-Beschaffung", "de")]


async def test_a_public_feed_takes_the_language_and_its_etag_varies_with_it(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, settings)
    path = f"/feeds/events/{event.slug}.ics"

    answers = {lang: await client.get(path, params={"lang": lang} if lang else None)
               for lang in ("de", "fr", None)}
    refused = await client.get(path, params={"lang": "xx"})

    assert {lang: _summaries(a.content) for lang, a in answers.items()} == {
        "de": ["Contract management (Webinare zur fairen IKT-Beschaffung)",
               "Soziale Kriterien in IKT-Ausschreibungen (Webinare zur fairen "
               "IKT-Beschaffung)"],
        "fr": ["Contract management (Webinaires sur l'achat équitable de TIC)",
               "Social criteria in ICT tenders (Webinaires sur l'achat équitable de TIC)"],
        None: ["Contract management (Fair ICT procurement webinars)",
               "Social criteria in ICT tenders (Fair ICT procurement webinars)"],
    }
    assert {lang: (GERMAN_SESSION in _descriptions(a.content),
                   ENGLISH_SESSION in _descriptions(a.content))
            for lang, a in answers.items()} == {
        "de": (True, False), "fr": (False, True), None: (False, True)}
    assert len({a.headers["etag"] for a in answers.values()}) == 3
    again = await client.get(path, params={"lang": "de"},
                             headers={"If-None-Match": answers["de"].headers["etag"]})
    assert again.status_code == 304
    assert (refused.status_code, refused.json()["field"] if "field" in refused.json()
            else refused.json()["errors"][0]["field"]) == (422, "lang")


async def test_a_german_registrant_gets_german_titles_where_there_are_some(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, settings)
    registration = await make_registration(db, event, event.sessions[0], "Greta Weber")
    db.add(Enrolment(registration_id=registration.id, session_id=event.sessions[1].id,
                     status=EnrolmentStatus.CONFIRMED, created_at=BUILT_AT,
                     updated_at=BUILT_AT))
    token = await feeds.issue_registration_feed_token(db, registration.id, now=BUILT_AT,
                                                      settings=settings)
    await db.commit()

    german_feed = await client.get(f"/feeds/registrations/{token}.ics",
                                   headers={"Accept-Language": "de"})
    english_feed = await client.get(f"/feeds/registrations/{token}.ics")
    loaded = await db.scalar(
        select(Registration).where(Registration.id == registration.id).options(
            selectinload(Registration.enrolments).selectinload(Enrolment.session))
        .execution_options(populate_existing=True))
    assert loaded is not None
    event = await programme.get_event(db, event.id)
    loaded.language = "de"  # read in German, whoever triggers the email
    await send_confirmation(db, loaded, event, links=RegistrantLinks("http://m", "http://f"),
                            now=BUILT_AT, settings=settings)
    await db.commit()
    email = await db.scalar(select(OutboxEmail).where(OutboxEmail.registration_id
                                                      == registration.id))

    assert _summaries(german_feed.content) == [
        "Contract management (Webinare zur fairen IKT-Beschaffung)",
        "Soziale Kriterien in IKT-Ausschreibungen (Webinare zur fairen IKT-Beschaffung)",
    ]
    assert _summaries(english_feed.content) == [
        "Contract management (Fair ICT procurement webinars)",
        "Social criteria in ICT tenders (Fair ICT procurement webinars)",
    ]
    assert german_feed.headers["etag"] != english_feed.headers["etag"]
    assert email is not None
    assert email.subject == "Anmeldung bestätigt: Webinare zur fairen IKT-Beschaffung"
    assert sorted(str(e["SUMMARY"]) for calendar in invites_of(email)
                  for e in calendar.walk("VEVENT")) == [
        "Contract management (Webinare zur fairen IKT-Beschaffung)",
        "Soziale Kriterien in IKT-Ausschreibungen (Webinare zur fairen IKT-Beschaffung)",
    ]
    described = "\n".join(str(e["DESCRIPTION"]) for calendar in invites_of(email)
                          for e in calendar.walk("VEVENT"))
    assert (GERMAN_SESSION in described, "Writing social criteria" in described) == (True, False)
    text = text_of(email)
    assert ("Soziale Kriterien in IKT-Ausschreibungen" in text,
            "Contract management" in text) == (True, True)


async def test_the_organiser_api_takes_and_shows_the_default_language_and_translations(
    client: Client, organiser_headers: dict[str, str], db: AsyncSession
) -> None:
    created = await client.post("/api/organiser/events", headers=organiser_headers, json={
        "kind": "webinar_series", "title": "Circular ICT", "default_language": "en",
        "translations": {"de": {"title": "Kreislauffähige IKT", "summary": "Zwei Webinare"}}})
    event_id = created.json()["id"]
    session = await client.post(
        f"/api/organiser/events/{event_id}/sessions", headers=organiser_headers,
        json={"title": "Refurbished laptops", "starts_at": "2035-11-12T10:00",
              "ends_at": "2035-11-12T11:00",
              "translations": {"fr": {"title": "Ordinateurs reconditionnés",
                                      "description": "Acheter mieux.\n\nEt plus longtemps."}}})
    item = await client.post(
        f"/api/organiser/sessions/{session.json()['id']}/agenda-items",
        headers=organiser_headers, json={"title": "Welcome", "starts_at": "10:00",
                                         "ends_at": "10:10",
                                         "translations": {"nl": {
                                             "title": "Welkom", "description": "Door de gastheer"}}})
    too_long = await client.patch(
        f"/api/organiser/agenda-items/{item.json()['id']}", headers=organiser_headers,
        json={"translations": {"nl": {"description": "x" * 20_001}}})
    refused = await client.patch(f"/api/organiser/events/{event_id}", headers=organiser_headers,
                                 json={"translations": {"fr": {"summary": "x" * 2_001}}})
    bad_field = await client.patch(
        f"/api/organiser/sessions/{session.json()['id']}", headers=organiser_headers,
        json={"translations": {"fr": {"summary": "Pas de résumé"}}})
    changed = await client.patch(f"/api/organiser/events/{event_id}", headers=organiser_headers,
                                 json={"default_language": "de",
                                       "translations": {"en": {"title": "Circular ICT"}}})

    assert (created.status_code, created.json()["default_language"],
            created.json()["translations"]) == (
        201, "en", {"de": {"title": "Kreislauffähige IKT", "summary": "Zwei Webinare"}})
    assert (session.status_code, session.json()["translations"]) == (201, {"fr": {
        "title": "Ordinateurs reconditionnés", "description": "Acheter mieux.\n\nEt plus longtemps."}})
    assert (item.status_code, item.json()["translations"]) == (
        201, {"nl": {"title": "Welkom", "description": "Door de gastheer"}})
    assert (too_long.status_code, [e["field"] for e in too_long.json()["errors"]]) == (
        422, ["translations.nl.description"])
    assert (refused.status_code, [e["field"] for e in refused.json()["errors"]]) == (
        422, ["translations.fr.summary"])
    assert (bad_field.status_code, [e["field"] for e in bad_field.json()["errors"]]) == (
        422, ["translations.fr.summary"])
    assert (changed.status_code, changed.json()["default_language"],
            changed.json()["translations"]) == (200, "de", {"en": {"title": "Circular ICT"}})
