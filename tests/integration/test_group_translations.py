"""An Interest Group's own texts (topic, summary, description) in several languages: the
back office's translations page (a refused form names each field and stores nothing; viewers
and other teams change nothing), the group's pages in the page language (with `lang` where a
text falls back to the group's own language), members' emails and invites in each member's
language, and the group's feed with `?lang=`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import InterestGroup
from service.domain import groups
from service.domain.errors import InvalidInputError
from service.domain.groups.recurrence import RecurrenceRule
from service.domain.groups.translations import (
    group_text,
    set_group_default_language,
    set_group_translations,
)
from service.settings import Settings
from tests.calendar_readers import blocks
from tests.factories import BUILT_AT, JOIN_URL, make_group, make_group_member
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import calendar_of, outbox_messages, subject_of, text_of
from tests.integration.test_pages import parse

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
GERMAN = {"topic": "Zirkuläre Beschaffung",
          "summary": "Behörden, die zirkulär beschaffen."}


async def _stored(db: AsyncSession, group_id: int) -> tuple[str, dict[str, dict[str, str]]]:
    db.expire_all()
    group = await db.get(InterestGroup, group_id)
    assert group is not None
    return group.default_language, group.translations


async def test_an_editor_translates_a_group_and_chooses_its_language(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession,
) -> None:
    group = await make_group(db)
    await db.commit()
    url = f"/organiser/groups/{group.id}/translations"
    form = {"language": "de", **GERMAN, "description": ""}

    page = await organiser_client.get(url, params={"language": "de"})
    editor = await organiser_client.get(f"/organiser/groups/{group.id}")
    refused = [await viewer_client.post_form(url, form),
               await other_team_client.post_form(url, form)]
    bad = await organiser_client.post_form(url, {**form, "topic": "Zwei\u0007Zeilen",
                                                 "summary": "x" * 2_001})
    stored_after_bad = await _stored(db, group.id)
    saved = await organiser_client.post_form(url, form)
    shown = await organiser_client.get(saved.headers["location"])
    wrong_language = await organiser_client.post_form(url, {**form, "language": "en"})

    assert page.status_code == 200
    assert [label.text for label in parse(page.text).find_all("label")] == [
        "The language the group's own texts are written in", "Topic (optional)",
        "Summary (optional)", "Description (optional)"]
    assert parse(page.text).one(id="description").tag == "textarea"
    assert url in [a.attrs.get("href") for a in parse(editor.text).find_all("a")]
    assert [r.status_code for r in refused] == [403, 403]
    assert (bad.status_code, stored_after_bad) == (422, ("en", {}))
    assert re.findall(r'<li><a href="#(\w+)">', bad.text) == ["topic", "summary"]
    assert [d.one("span", cls="error-message").text
            for d in parse(bad.text).find_all("div", cls="field-error")] == [
        "Error: Must be a single line without control characters.",
        "Error: At most 2000 characters."]
    assert (saved.status_code, saved.headers["location"]) == (303, f"{url}?language=de&saved=texts")
    assert "The translations are saved." in shown.text
    assert 'value="Zirkuläre Beschaffung"' in shown.text
    # The group's three texts all have words; German has two of them after saving.
    assert [a.text for a in parse(page.text).one("nav", aria_label="Languages").find_all("a")] \
        == [f"{name} (0/3 translated)" for name in (
            "Deutsch", "Français", "Español", "Italiano", "Nederlands")]
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (2/3 translated)", "Français (0/3 translated)"]
    assert wrong_language.status_code == 422
    assert "Choose a language other than the group&#39;s own." in wrong_language.text
    assert await _stored(db, group.id) == ("en", {"de": GERMAN})

    # Saying the group's texts are German removes the German translations (never shown).
    bad_default = await organiser_client.post_form(f"{url}/default-language",
                                                   {"default_language": "pt"})
    default = await organiser_client.post_form(f"{url}/default-language",
                                               {"default_language": "de"})
    assert (bad_default.status_code, default.status_code) == (422, 303)
    assert await _stored(db, group.id) == ("de", {})


async def test_the_domain_names_every_refused_field_and_clears_empty_texts(
    db: AsyncSession,
) -> None:
    group = await make_group(db)
    await set_group_translations(db, group.id, "fr", {"topic": "Achats circulaires",
                                                      "summary": "  Deux \r\n lignes. "},
                                 now=NOW)

    with pytest.raises(InvalidInputError) as refused:
        await set_group_translations(db, group.id, "fr", {"title": "Titre", "topic": "a\nb",
                                                          "description": "x" * 20_001},
                                     now=NOW)
    with pytest.raises(InvalidInputError) as unknown:
        await set_group_translations(db, group.id, "pt", {"topic": "Compras"}, now=NOW)
    with pytest.raises(InvalidInputError) as own:
        await set_group_translations(db, group.id, "en", {"topic": "Circular"}, now=NOW)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("translations.fr.title", "This text cannot be translated."),
        ("translations.fr.topic", "Must be a single line without control characters."),
        ("translations.fr.description", "At most 20000 characters.")]
    assert [e.field for e in unknown.value.errors + own.value.errors] == [
        "translations.pt", "translations.en"]
    assert group.translations == {"fr": {"topic": "Achats circulaires",
                                         "summary": "Deux \n lignes."}}
    await set_group_translations(db, group.id, "fr", {"topic": "", "summary": None}, now=NOW)
    assert group.translations == {}
    assert (group_text(group, "topic", "fr"), group_text(group, "topic", "fr").language) == (
        "Circular procurement", "en")
    await set_group_default_language(db, group.id, "nl", now=NOW)
    assert (group_text(group, "topic", "en").language, group.default_language) == ("nl", "nl")


@pytest.mark.one_database
async def test_the_group_pages_show_the_page_language_or_mark_the_groups_own(
    client: AsyncTestClient[Litestar], db: AsyncSession,
) -> None:
    group = await make_group(db)
    await set_group_translations(db, group.id, "de", GERMAN, now=BUILT_AT)
    await db.commit()

    german_list = await client.get("/groups", params={"lang": "de"})
    french_list = await client.get("/groups", params={"lang": "fr"})
    german = await client.get(f"/groups/{group.slug}", params={"lang": "de"})
    french = await client.get(f"/groups/{group.slug}", params={"lang": "fr"})

    card = parse(german_list.text).one("article", cls="card")
    assert (card.one("h2").one("a").attrs.get("lang"), card.one("h2").text) == (
        None, "Zirkuläre Beschaffung")
    assert card.one("p", cls="summary").text == "Behörden, die zirkulär beschaffen."
    french_card = parse(french_list.text).one("article", cls="card")
    assert (french_card.one("h2").one("a").attrs.get("lang"), french_card.one("h2").text) == (
        "en", "Circular procurement")
    page = parse(german.text)
    assert (page.one("h1").attrs.get("lang"), page.one("h1").text) == (None,
                                                                      "Zirkuläre Beschaffung")
    assert german.text.count("<title>Zirkuläre Beschaffung") == 1
    # The description has no German text: shown in English, marked so.
    assert '<div lang="en"><p>Two physical meetings a year.</p>' in german.text
    assert parse(french.text).one("h1").attrs.get("lang") == "en"
    assert '<p class="lead" lang="en">Authorities working on circular procurement.</p>' \
        in french.text


async def test_members_read_the_topic_in_their_language_in_emails_invites_and_feeds(
    db: AsyncSession, settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession],
    client: AsyncTestClient[Litestar],
) -> None:
    group = await make_group(db)
    await set_group_translations(db, group.id, "de", GERMAN, now=NOW)
    addresses = {"de": "anna@koeln.example.de", "fr": "brigitte@lyon.example.fr",
                 "en": "carla@cork.example.ie"}
    for language, address in addresses.items():
        member = await make_group_member(db, group, name=address.split("@")[0].title(),
                                         email=address)
        member.language = language
    await groups.create_series(
        db, group, title="Web meeting", starts_at_local="2026-10-06T10:00", duration_minutes=60,
        rule=RecurrenceRule("monthly", weekday=1, ordinal=1, count=6), join_url=JOIN_URL,
        now=NOW, settings=settings)
    await db.commit()

    german_feed = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "de"})
    english_feed = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "en"})

    sent = {row.to_address: message for row, message in await outbox_messages(db_sessionmaker)}
    # French has no translation: the group's own (English) topic, in a French sentence.
    assert {address: subject_of(message) for address, message in sent.items()} == {
        addresses["de"]: "Einladung: Treffen von Zirkuläre Beschaffung",
        addresses["fr"]: "Invitation : réunions de Circular procurement",
        addresses["en"]: "Invitation: Circular procurement meetings"}
    assert "„Zirkuläre Beschaffung“" in text_of(sent[addresses["de"]])
    categories = {address: [line for event in blocks(
        (calendar_of(sent[address])[1] or "").encode(), "VEVENT") for line in event
        if line.startswith("CATEGORIES")] for address in addresses.values()}
    assert categories == {addresses["de"]: ["CATEGORIES:Zirkuläre Beschaffung"],
                          addresses["fr"]: ["CATEGORIES:Circular procurement"],
                          addresses["en"]: ["CATEGORIES:Circular procurement"]}
    assert (german_feed.status_code, english_feed.status_code) == (200, 200)
    assert "X-WR-CALNAME:Zirkuläre Beschaffung" in german_feed.text
    assert "CATEGORIES:Zirkuläre Beschaffung" in german_feed.text
    assert "CATEGORIES:Circular procurement" in english_feed.text
    assert german_feed.headers["etag"] != english_feed.headers["etag"]
