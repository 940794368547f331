"""An Interest Group's own texts (topic, summary, description, its meeting series'
titles and agendas, and one meeting's own agenda and minutes) in several languages: the
back office's translations page (a refused form names each field and stores nothing;
viewers and other teams change nothing), the group's pages in the page language (with
`lang` where a text falls back to the group's own language), members' emails and invites in
each member's language, and the group's feed with `?lang=`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import GroupMember, InterestGroup, MeetingOccurrence, MeetingSeries
from service.domain import groups
from service.domain.errors import InvalidInputError
from service.domain.groups.meeting_reminders import prepare_meeting_reminders
from service.domain.groups.recurrence import RecurrenceRule
from service.domain.groups.translations import (
    group_text,
    series_agenda,
    series_field,
    series_title,
    set_group_default_language,
    set_group_translations,
)
from service.settings import Settings
from tests.calendar_readers import blocks
from tests.factories import BUILT_AT, JOIN_URL, make_group, make_group_member
from tests.integration.backoffice import SignedInClient
from tests.integration.mail_readers import (
    calendar_of,
    html_of,
    outbox_messages,
    subject_of,
    text_of,
)
from tests.integration.test_pages import parse

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
GERMAN = {"topic": "Zirkuläre Beschaffung",
          "summary": "Behörden, die zirkulär beschaffen."}
MONTHLY = RecurrenceRule("monthly", weekday=1, ordinal=1, count=6)


async def _web_meeting(db: AsyncSession, settings: Settings, group: InterestGroup,
                       title: str = "Web meeting") -> MeetingSeries:
    return await groups.create_series(
        db, group, title=title, starts_at_local="2026-10-06T10:00", duration_minutes=60,
        rule=MONTHLY, join_url=JOIN_URL, now=NOW, settings=settings)


async def _stored(db: AsyncSession, group_id: int) -> tuple[str, dict[str, dict[str, str]],
                                                            list[dict[str, dict[str, str]]]]:
    db.expire_all()
    group = await db.get(InterestGroup, group_id)
    assert group is not None
    series = await db.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group_id))
    return group.default_language, group.translations, [s.translations for s in series]


async def test_an_editor_translates_a_group_and_chooses_its_language(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    series = await _web_meeting(db, settings, group)
    await db.commit()
    url = f"/organiser/groups/{group.id}/translations"
    title = series_field(series)
    form = {"language": "de", **GERMAN, "description": "", title: "Webmeeting"}

    page = await organiser_client.get(url, params={"language": "de"})
    editor = await organiser_client.get(f"/organiser/groups/{group.id}")
    refused = [await viewer_client.post_form(url, form),
               await other_team_client.post_form(url, form)]
    bad = await organiser_client.post_form(url, {**form, "topic": "Zwei\u0007Zeilen",
                                                 "summary": "x" * 2_001, title: "y" * 301})
    stored_after_bad = await _stored(db, group.id)
    saved = await organiser_client.post_form(url, form)
    shown = await organiser_client.get(saved.headers["location"])
    wrong_language = await organiser_client.post_form(url, {**form, "language": "en"})

    assert page.status_code == 200
    assert [label.text for label in parse(page.text).find_all("label")] == [
        "The language the group's own texts are written in", "Topic (optional)",
        "Summary (optional)", "Description (optional)", "Title (optional)",
        "Agenda (optional)"]
    assert [legend.text for legend in parse(page.text).find_all("legend")] == [
        "The group", "Meeting series: Web meeting"]
    assert parse(page.text).one(id="description").tag == "textarea"
    assert url in [a.attrs.get("href") for a in parse(editor.text).find_all("a")]
    assert [r.status_code for r in refused] == [403, 403]
    assert (bad.status_code, stored_after_bad) == (422, ("en", {}, [{}]))
    assert re.findall(r'<li><a href="#([\w-]+)">', bad.text) == ["topic", "summary", title]
    assert [d.one("span", cls="error-message").text
            for d in parse(bad.text).find_all("div", cls="field-error")] == [
        "Error: Must be a single line without control characters.",
        "Error: At most 2000 characters.", "Error: At most 300 characters."]
    assert (saved.status_code, saved.headers["location"]) == (303, f"{url}?language=de&saved=texts")
    assert "The translations are saved." in shown.text
    assert ('value="Zirkuläre Beschaffung"' in shown.text, 'value="Webmeeting"' in shown.text) \
        == (True, True)
    # The group's three texts and its series' title all have words; German has three after
    # saving (the description stays the group's own).
    assert [a.text for a in parse(page.text).one("nav", aria_label="Languages").find_all("a")] \
        == [f"{name} (0/4 translated)" for name in (
            "Deutsch", "Français", "Español", "Italiano", "Nederlands")]
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (3/4 translated)", "Français (0/4 translated)"]
    assert wrong_language.status_code == 422
    assert "Choose a language other than the group&#39;s own." in wrong_language.text
    assert await _stored(db, group.id) == ("en", {"de": GERMAN},
                                           [{"de": {"title": "Webmeeting"}}])

    # Saying the group's texts are German removes the German translations (never shown).
    bad_default = await organiser_client.post_form(f"{url}/default-language",
                                                   {"default_language": "pt"})
    default = await organiser_client.post_form(f"{url}/default-language",
                                               {"default_language": "de"})
    assert (bad_default.status_code, default.status_code) == (422, 303)
    assert await _stored(db, group.id) == ("de", {}, [{}])


async def test_the_domain_names_every_refused_field_and_clears_empty_texts(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    await set_group_translations(db, group.id, "fr", {"topic": "Achats circulaires",
                                                      "summary": "  Deux \r\n lignes. "},
                                 now=NOW)

    with pytest.raises(InvalidInputError) as refused:
        await set_group_translations(db, group.id, "fr", {
            "title": "Titre", "topic": "a\nb", "description": "x" * 20_001,
            "series-999-title": "Réunion"}, now=NOW)
    with pytest.raises(InvalidInputError) as unknown:
        await set_group_translations(db, group.id, "pt", {"topic": "Compras"}, now=NOW)
    with pytest.raises(InvalidInputError) as own:
        await set_group_translations(db, group.id, "en", {"topic": "Circular"}, now=NOW)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("translations.fr.title", "This text cannot be translated."),
        ("translations.fr.topic", "Must be a single line without control characters."),
        ("translations.fr.description", "At most 20000 characters."),
        ("translations.fr.series-999-title", "This text cannot be translated.")]
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


async def test_a_series_title_keeps_its_translations_until_it_changes(
    db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    series = await _web_meeting(db, settings, group)
    await set_group_translations(db, group.id, "de", {series_field(series): "Webmeeting"},
                                 now=NOW)
    later = groups.occurrences(series, [])[2].recurrence_id

    # This and all following, with the same title: the new series has its German title too.
    same = await groups.change_following(db, series, later, duration_minutes=90, now=NOW,
                                         settings=settings)
    assert same.id != series.id
    assert [(s.title, series_title(s, "en", "de"), series_title(s, "en", "de").language)
            for s in (series, same)] == [("Web meeting", "Webmeeting", "de")] * 2

    # From its first meeting, a new title (in place): the old title's translations go.
    renamed = await groups.change_following(db, same, later, title="Web call", now=NOW,
                                            settings=settings)
    assert (renamed.id, renamed.title, renamed.translations) == (same.id, "Web call", {})
    assert series_title(renamed, "en", "de").language == "en"


@pytest.mark.one_database
async def test_the_group_pages_show_the_page_language_or_mark_the_groups_own(
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    series = await _web_meeting(db, settings, group)
    await set_group_translations(db, group.id, "de",
                                 {**GERMAN, series_field(series): "Webmeeting"}, now=BUILT_AT)
    market = await make_group(db, "market", topic="Market and supplier development")
    await set_group_translations(db, market.id, "de",
                                 {"topic": "Markt- und Lieferantenentwicklung"}, now=BUILT_AT)
    await db.commit()

    german_list = await client.get("/groups", params={"lang": "de"})
    french_list = await client.get("/groups", params={"lang": "fr"})
    german = await client.get(f"/groups/{group.slug}", params={"lang": "de"})
    french = await client.get(f"/groups/{group.slug}", params={"lang": "fr"})

    # Each list in the order of its readers' topics.
    cards = parse(german_list.text).find_all("article", cls="card")
    assert [(card.one("h2").one("a").attrs.get("lang"), card.one("h2").text)
            for card in cards] == [(None, "Markt- und Lieferantenentwicklung"),
                                   (None, "Zirkuläre Beschaffung")]
    assert cards[1].one("p", cls="summary").text == "Behörden, die zirkulär beschaffen."
    assert cards[0].one("p", cls="summary").attrs.get("lang") == "en"
    french_cards = parse(french_list.text).find_all("article", cls="card")
    assert [(card.one("h2").one("a").attrs.get("lang"), card.one("h2").text)
            for card in french_cards] == [("en", "Circular procurement"),
                                          ("en", "Market and supplier development")]
    page = parse(german.text)
    assert (page.one("h1").attrs.get("lang"), page.one("h1").text) == (None,
                                                                      "Zirkuläre Beschaffung")
    assert german.text.count("<title>Zirkuläre Beschaffung") == 1
    # The description has no German text: shown in English, marked so.
    assert '<div lang="en"><p>Two physical meetings a year.</p>' in german.text
    assert "<h3>Webmeeting</h3>" in german.text
    assert parse(french.text).one("h1").attrs.get("lang") == "en"
    assert '<p class="lead" lang="en">Authorities working on circular procurement.</p>' \
        in french.text
    assert '<h3><span lang="en">Web meeting</span></h3>' in french.text


async def test_members_read_the_texts_in_their_language_in_emails_invites_and_feeds(
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
    # The series' title is translated once the series exists: its first invites carry the
    # title as written; the feed and later emails, the translation.
    series = await _web_meeting(db, settings, group)
    await set_group_translations(db, group.id, "de", {series_field(series): "Webmeeting"},
                                 now=NOW)
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
    assert [line for event in blocks(german_feed.content, "VEVENT") for line in event
            if line.startswith(("CATEGORIES", "SUMMARY"))] == [
        "SUMMARY:Webmeeting", "CATEGORIES:Zirkuläre Beschaffung"]
    assert [line for event in blocks(english_feed.content, "VEVENT") for line in event
            if line.startswith(("CATEGORIES", "SUMMARY"))] == [
        "SUMMARY:Web meeting", "CATEGORIES:Circular procurement"]
    # Every word of an entry follows the language asked for, whichever was asked first.
    assert ("Gruppenseite:" in german_feed.text, "Group page:" in english_feed.text,
            "Gruppenseite:" in english_feed.text) == (True, True, False)
    assert german_feed.headers["etag"] != english_feed.headers["etag"]

    # A change to one meeting, after the translation, names it in German.
    second = groups.occurrences(series, [])[1]
    await groups.move_occurrence(db, series, second.recurrence_id,
                                 starts_at_local="2026-11-04T10:00", now=NOW,
                                 settings=settings)
    await db.commit()
    moved = [message for row, message in await outbox_messages(db_sessionmaker)
             if row.to_address == addresses["de"]][-1]
    assert "„Webmeeting“" in text_of(moved)


async def _german_and_french_members(
    db: AsyncSession, settings: Settings, *, agenda: str,
) -> tuple[InterestGroup, dict[str, GroupMember], MeetingSeries]:
    """A group whose members read German (Anna) and French (Brigitte), and a monthly web
    meeting with this agenda."""
    group = await make_group(db)
    members = {}
    for language, address in (("de", "anna@koeln.example.de"), ("fr", "brigitte@lyon.example.fr")):
        members[language] = await make_group_member(db, group, name=address.split("@")[0].title(),
                                                    email=address)
        members[language].language = language
    series = await groups.create_series(
        db, group, title="Web meeting", starts_at_local="2026-10-06T10:00", duration_minutes=60,
        rule=MONTHLY, join_url=JOIN_URL, agenda=agenda, now=NOW, settings=settings)
    return group, members, series


async def test_a_series_agenda_is_read_in_each_language_and_a_meetings_own_as_written(
    db: AsyncSession, settings: Settings, db_sessionmaker: async_sessionmaker[AsyncSession],
    client: AsyncTestClient[Litestar],
) -> None:
    group, members, series = await _german_and_french_members(db, settings,
                                                              agenda="1. Welcome\n\n2. Cases")
    await set_group_translations(db, group.id, "de", {
        series_field(series, "title"): "Webmeeting",
        series_field(series, "agenda"): "1. Begrüßung\n\n2. Fälle"}, now=NOW)
    planned = groups.occurrences(series, [])
    # The third meeting gets an agenda of its own; the second moves (its agenda the series').
    await groups.edit_occurrence(db, series, planned[2].recurrence_id, agenda="Only the budget.",
                                 now=NOW, settings=settings)
    await groups.move_occurrence(db, series, planned[1].recurrence_id,
                                 starts_at_local="2026-11-04T10:00", now=NOW, settings=settings)
    await groups.invite_guest(db, series, planned[1].recurrence_id, name="Gerda Gast",
                              email="gerda@bonn.example.de", language="de", now=NOW,
                              settings=settings)
    reminded = await prepare_meeting_reminders(
        db, now=planned[0].starts_at - timedelta(days=1, minutes=20), settings=settings)
    links = await groups.member_links(db, members["de"], now=NOW, settings=settings)
    await db.commit()

    assert [(str(a), a.language) for a in (series_agenda(series, "en", "de"),
                                           series_agenda(series, "en", "fr"))] == [
        ("1. Begrüßung\n\n2. Fälle", "de"), ("1. Welcome\n\n2. Cases", "en")]
    sent = [(row.to_address.split("@")[0], row.template, message)
            for row, message in await outbox_messages(db_sessionmaker)]
    changed = {(who, "budget" in text_of(message)): message for who, template, message in sent
               if template == "group_meeting_occurrence_to_member"}
    # The moved meeting: the series' agenda, in German for Anna; in English for Brigitte,
    # marked as English in her French email.
    assert "1. Begrüßung" in text_of(changed["anna", False])
    assert "<p style=\"margin:0 0 16px 0;\">1. Begrüßung" in html_of(changed["anna", False])
    assert "<p style=\"margin:0 0 16px 0;\" lang=\"en\">1. Welcome" in html_of(
        changed["brigitte", False])
    # The meeting with its own agenda: as written, for both, marked as English.
    for who in ("anna", "brigitte"):
        assert "<p style=\"margin:0 0 16px 0;\" lang=\"en\">Only the budget." in html_of(
            changed[who, True])
    # A guest reads the agenda in her language too, in her email and her invite.
    [invited] = [message for who, template, message in sent
                 if template == "group_meeting_invitation_to_guest"]
    assert "1. Begrüßung" in text_of(invited)
    assert "DESCRIPTION:1. Begrüßung\\n\\n2. Fälle" in (calendar_of(invited)[1] or "")
    assert reminded.sent == 2
    reminders = {who: message for who, template, message in sent
                 if template == "group_meeting_reminder_to_member"}
    assert "1. Begrüßung" in text_of(reminders["anna"])
    assert "1. Welcome" in text_of(reminders["brigitte"])

    german_feed = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "de"})
    descriptions = [line for event in blocks(german_feed.content, "VEVENT") for line in event
                    if line.startswith("DESCRIPTION")]
    assert descriptions[0].startswith("DESCRIPTION:1. Begrüßung\\n\\n2. Fälle")
    assert any(line.startswith("DESCRIPTION:Only the budget.") for line in descriptions)

    with time_machine.travel(NOW, tick=False):  # the page lists meetings from now on
        page = await client.get(links.page_url.removeprefix(settings.public_base_url),
                                params={"lang": "de"})
    assert '<p class="pre-line">1. Begrüßung</p><p class="pre-line">2. Fälle</p>' in page.text
    assert '<p class="pre-line" lang="en">Only the budget.</p>' in page.text

    # A new agenda has no translation yet; the title's stays while the title does.
    changed_series = await groups.change_following(db, series, planned[0].recurrence_id,
                                                   agenda="1. Welcome\n\n2. Budget", now=NOW,
                                                   settings=settings)
    assert changed_series.translations == {"de": {"title": "Webmeeting"}}
    assert series_agenda(changed_series, "en", "de").language == "en"


async def test_a_meetings_own_agenda_is_translated_on_the_page_and_read_in_each_language(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
    db_sessionmaker: async_sessionmaker[AsyncSession], client: AsyncTestClient[Litestar],
) -> None:
    group, members, series = await _german_and_french_members(db, settings, agenda="1. Welcome")
    planned = groups.occurrences(series, [])
    # The first meeting (6 October) has an agenda of its own; the fourth had one and is
    # cancelled: there is nothing of it to translate.
    await groups.edit_occurrence(db, series, planned[0].recurrence_id, agenda="Only the budget.",
                                 now=NOW, settings=settings)
    await groups.edit_occurrence(db, series, planned[3].recurrence_id, agenda="Cancelled one.",
                                 now=NOW, settings=settings)
    await groups.cancel_occurrence(db, series, planned[3].recurrence_id, now=NOW,
                                   settings=settings)
    other_group = await make_group(db, "social-ict", topic="Social ICT")
    other_series = await groups.create_series(
        db, other_group, title="Other", starts_at_local="2026-10-06T14:00", duration_minutes=60,
        rule=MONTHLY, join_url=JOIN_URL, now=NOW, settings=settings)
    await groups.edit_occurrence(db, other_series, groups.occurrences(other_series, [])[0]
                                 .recurrence_id, agenda="Theirs.", now=NOW, settings=settings)
    links = await groups.member_links(db, members["de"], now=NOW, settings=settings)
    french_links = await groups.member_links(db, members["fr"], now=NOW, settings=settings)
    await db.commit()
    [own, cancelled] = [row for row in await _meeting_rows(db_sessionmaker, series.id)]
    [theirs] = await _meeting_rows(db_sessionmaker, other_series.id)
    name = f"meeting-{own.id}-agenda"
    url = f"/organiser/groups/{group.id}/translations"
    feed_before = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "de"})

    page = await organiser_client.get(url, params={"language": "de"})
    form = {"language": "de", "topic": "", "summary": "", "description": "",
            series_field(series, "title"): "Webmeeting",
            series_field(series, "agenda"): "1. Begrüßung", name: "Nur der Haushalt."}
    too_long = await organiser_client.post_form(url, {**form, name: "x" * 20_001})
    saved = await organiser_client.post_form(url, form)
    shown = await organiser_client.get(saved.headers["location"])

    assert [label.text for label in parse(page.text).find_all("label")][-3:] == [
        "Title (optional)", "Agenda (optional)",
        "Agenda of the meeting on Tuesday 6 October 2026 (optional)"]
    assert parse(page.text).one(id=name).tag == "textarea"
    assert f"meeting-{cancelled.id}-agenda" not in page.text
    assert f"meeting-{theirs.id}-agenda" not in page.text
    assert too_long.status_code == 422
    assert re.findall(r'<li><a href="#([\w-]+)">', too_long.text) == [name]
    assert own.translations == {}
    assert saved.status_code == 303
    # The group's topic and summary, the series' title and agenda, the meeting's agenda.
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (3/6 translated)", "Français (0/6 translated)"]
    [own, _] = await _meeting_rows(db_sessionmaker, series.id)
    assert own.translations == {"de": {"agenda": "Nur der Haushalt."}}
    with pytest.raises(InvalidInputError) as refused:
        await set_group_translations(db, group.id, "de", {
            f"meeting-{theirs.id}-agenda": "Ihres.",
            f"meeting-{cancelled.id}-agenda": "Abgesagt."}, now=NOW)
    assert [e.field for e in refused.value.errors] == [
        f"translations.de.meeting-{theirs.id}-agenda",
        f"translations.de.meeting-{cancelled.id}-agenda"]
    await db.rollback()

    # Reminders: Anna reads it in German, Brigitte as written, marked as English.
    reminded = await prepare_meeting_reminders(
        db, now=planned[0].starts_at - timedelta(days=1, minutes=20), settings=settings)
    await db.commit()
    assert reminded.sent == 2
    reminders = {row.to_address.split("@")[0]: message
                 for row, message in await outbox_messages(db_sessionmaker)
                 if row.template == "group_meeting_reminder_to_member"}
    assert "Nur der Haushalt." in text_of(reminders["anna"])
    assert "Only the budget." in text_of(reminders["brigitte"])
    assert "lang=\"en\">Only the budget." in html_of(reminders["brigitte"])

    # The German feed changed with the translation; the member pages read their language.
    feed = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "de"})
    assert feed.headers["etag"] != feed_before.headers["etag"]
    descriptions = [line for event in blocks(feed.content, "VEVENT") for line in event
                    if line.startswith("DESCRIPTION")]
    assert any(line.startswith("DESCRIPTION:Nur der Haushalt.") for line in descriptions)
    with time_machine.travel(NOW, tick=False):
        german = await client.get(links.page_url.removeprefix(settings.public_base_url),
                                  params={"lang": "de"})
        french = await client.get(french_links.page_url.removeprefix(settings.public_base_url),
                                  params={"lang": "fr"})
    assert '<p class="pre-line">Nur der Haushalt.</p>' in german.text
    assert '<p class="pre-line" lang="en">Only the budget.</p>' in french.text

    # A new agenda of its own has no translation yet.
    await groups.edit_occurrence(db, series, planned[0].recurrence_id, agenda="Budget and plans.",
                                 now=NOW, settings=settings)
    await db.commit()
    [own, _] = await _meeting_rows(db_sessionmaker, series.id)
    assert own.translations == {}
    feed = await client.get(f"/groups/{group.slug}/calendar.ics", params={"lang": "de"})
    assert "DESCRIPTION:Budget and plans." in feed.text
    assert "Nur der Haushalt." not in feed.text

    # Saying the group writes in French removes the French translations, the meeting's too.
    await set_group_translations(db, group.id, "fr", {name: "Budget et projets."}, now=NOW)
    await db.commit()
    [own, _] = await _meeting_rows(db_sessionmaker, series.id)
    assert own.translations == {"fr": {"agenda": "Budget et projets."}}
    await set_group_default_language(db, group.id, "fr", now=NOW)
    await db.commit()
    [own, _] = await _meeting_rows(db_sessionmaker, series.id)
    assert own.translations == {}


async def test_a_meetings_minutes_are_translated_and_read_on_the_member_pages(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
    db_sessionmaker: async_sessionmaker[AsyncSession], client: AsyncTestClient[Litestar],
) -> None:
    group, members, series = await _german_and_french_members(db, settings, agenda="1. Welcome")
    met = groups.occurrences(series, [])[0]
    await groups.edit_occurrence(db, series, met.recurrence_id, agenda="Only the budget.",
                                 now=NOW, settings=settings)
    later = met.starts_at + timedelta(days=1)
    await groups.publish_minutes(db, series.id, met.recurrence_id,
                                 minutes="We agreed on criteria.", now=later, settings=settings)
    links = await groups.member_links(db, members["de"], now=later, settings=settings)
    french_links = await groups.member_links(db, members["fr"], now=later, settings=settings)
    await db.commit()
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    minutes, agenda = f"meeting-{meeting.id}-minutes", f"meeting-{meeting.id}-agenda"
    url = f"/organiser/groups/{group.id}/translations"

    # Published as written: Anna's email marks them as English.
    emails = {row.to_address.split("@")[0]: message
              for row, message in await outbox_messages(db_sessionmaker)
              if row.template == "group_minutes_published_to_member"}
    assert 'lang="en">We agreed on criteria.</p>' in html_of(emails["anna"])
    minutes_page = await organiser_client.get(f"/organiser/meeting-series/{series.id}/minutes")
    assert "Translations" in [a.text for a in parse(minutes_page.text).find_all("a", href=url)]

    page = await organiser_client.get(url, params={"language": "de"})
    form = {"language": "de", "topic": "", "summary": "", "description": "",
            series_field(series, "title"): "", series_field(series, "agenda"): "",
            agenda: "Nur der Haushalt.", minutes: "Wir haben\r\nKriterien vereinbart."}
    too_long = await organiser_client.post_form(url, {**form, minutes: "x" * 50_001})
    saved = await organiser_client.post_form(url, form)
    shown = await organiser_client.get(saved.headers["location"])

    assert [label.text for label in parse(page.text).find_all("label")][-2:] == [
        "Agenda of the meeting on Tuesday 6 October 2026 (optional)",
        "Minutes of the meeting on Tuesday 6 October 2026 (optional)"]
    assert parse(page.text).one(id=minutes).tag == "textarea"
    assert too_long.status_code == 422
    assert re.findall(r'<li><a href="#([\w-]+)">', too_long.text) == [minutes]
    assert saved.status_code == 303
    # The group's topic and summary, the series' title and agenda, the meeting's two texts.
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (2/7 translated)", "Français (0/7 translated)"]
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    assert meeting.translations == {"de": {"agenda": "Nur der Haushalt.",
                                           "minutes": "Wir haben\nKriterien vereinbart."}}

    # Anna reads them in German; Brigitte as written, marked as English.
    german = await client.get(links.page_url.removeprefix(settings.public_base_url),
                              params={"lang": "de"})
    french = await client.get(french_links.page_url.removeprefix(settings.public_base_url),
                              params={"lang": "fr"})
    assert '<p class="pre-line">Wir haben\nKriterien vereinbart.</p>' in german.text
    assert '<p class="pre-line" lang="en">We agreed on criteria.</p>' in french.text

    # The same minutes published again keep their translation; corrected ones have none yet,
    # and the agenda's stays. A new agenda drops the agenda's only.
    await groups.publish_minutes(db, series.id, met.recurrence_id,
                                 minutes="We agreed on criteria.", now=later, settings=settings)
    await db.commit()
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    assert set(meeting.translations["de"]) == {"agenda", "minutes"}
    await groups.publish_minutes(db, series.id, met.recurrence_id,
                                 minutes="We agreed on two criteria.", now=later,
                                 settings=settings)
    await db.commit()
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    assert meeting.translations == {"de": {"agenda": "Nur der Haushalt."}}
    await set_group_translations(db, group.id, "de", {minutes: "Zwei Kriterien."}, now=later)
    await groups.edit_occurrence(db, series, met.recurrence_id, agenda="Budget and plans.",
                                 now=later, settings=settings)
    await db.commit()
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    assert meeting.translations == {"de": {"minutes": "Zwei Kriterien."}}

    # Saying the group writes in German removes the German translations, the minutes' too.
    await set_group_default_language(db, group.id, "de", now=later)
    await db.commit()
    [meeting] = await _meeting_rows(db_sessionmaker, series.id)
    assert meeting.translations == {}


async def _meeting_rows(db_sessionmaker: async_sessionmaker[AsyncSession], series_id: int
                        ) -> list[MeetingOccurrence]:
    """The series' meeting rows as stored (read in a session of their own)."""
    async with db_sessionmaker() as db:
        return list(await db.scalars(select(MeetingOccurrence).where(
            MeetingOccurrence.series_id == series_id).order_by(MeetingOccurrence.recurrence_id)))
