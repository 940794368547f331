"""The events' own content in several languages: storing, validating, reading with fallback,
and finding an event by any of its titles (on both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ContentTranslation
from service.domain import programme
from service.domain.errors import InvalidInputError
from service.domain.programme.translations import (
    TextChange,
    changes_from_mapping,
    clear_translations,
    localised,
    set_default_language,
    set_translations,
)
from service.operations.demo import MAKE_ICT_FAIR_SLUG, load_demo_programme
from service.settings import Settings
from tests.factories import BUILT_AT, DEMO_LOADED_AT, make_agenda_item, make_event


async def _translated(db: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    event = await make_event(db, settings)
    session = event.sessions[0]
    item = await make_agenda_item(db, settings, session, "10:00", "10:30", "Welcome")
    event = await set_translations(db, event.id, [
        *changes_from_mapping(event, {"de": {"title": "Faire IKT-Beschaffung",
                                             "summary": "Eine Webinarreihe."}}),
        TextChange(session, "de", "title", "Soziale Kriterien", "sessions.0.de.title"),
        TextChange(item, "fr", "title", "Accueil", "agenda.0.fr.title"),
    ], now=BUILT_AT)
    return event


async def test_a_text_is_read_in_the_language_asked_or_in_the_default(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _translated(db, settings)
    session = event.sessions[0]
    item = session.agenda_items[0]

    assert (localised(event, "title", "de"), localised(event, "title", "de").language) == (
        "Faire IKT-Beschaffung", "de")
    assert (localised(event, "title", "fr"), localised(event, "title", "fr").language) == (
        "Fair ICT procurement webinars", "en")
    assert localised(event, "description", "de") == ""
    assert localised(event, "title", None) == "Fair ICT procurement webinars"
    assert localised(event, "title", "de", session) == "Soziale Kriterien"
    assert localised(event, "title", "fr", session) == "Social criteria in ICT tenders"
    assert localised(event, "title", "fr", item) == "Accueil"
    assert localised(event, "title", "de", item) == "Welcome"


async def test_bad_translations_are_refused_naming_each_field_and_nothing_is_stored(
    db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, settings)

    with pytest.raises(InvalidInputError) as refused:
        await set_translations(db, event.id, changes_from_mapping(event, {
            "de": {"title": "Gut", "summary": "x" * 2_001},
            "en": {"title": "The default language"},
            "xx": {"title": "Unknown"},
            "fr": {"title": "Deux\nlignes", "venue": "Nope"},
        }), now=BUILT_AT)

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("translations.de.summary", "At most 2000 characters."),
        ("translations.en", "This is the event's default language: edit the event's own "
                            "text instead."),
        ("translations.xx", "Not a language of the service."),
        ("translations.fr.title", "Must be a single line without control characters."),
        ("translations.fr.venue", "This text cannot be translated."),
    ]
    assert await db.scalar(select(func.count(ContentTranslation.id))) == 0


async def test_an_empty_text_clears_and_clearing_a_language_removes_its_rows(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _translated(db, settings)

    event = await set_translations(db, event.id, changes_from_mapping(
        event, {"de": {"summary": "  "}}), now=BUILT_AT)
    assert localised(event, "summary", "de") == ""
    assert localised(event, "title", "de") == "Faire IKT-Beschaffung"
    event = await clear_translations(db, event.id, "de", now=BUILT_AT)

    assert [(r.target, r.language, r.field, r.text) for r in event.content_translations] == [
        (f"agenda-item-{event.sessions[0].agenda_items[0].id}", "fr", "title", "Accueil")]


async def test_the_default_language_can_change_and_its_translations_go(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _translated(db, settings)

    event = await set_default_language(db, event.id, "de", now=BUILT_AT)

    assert event.default_language == "de"
    assert localised(event, "title", "de") == "Fair ICT procurement webinars"
    assert localised(event, "title", "fr", event.sessions[0].agenda_items[0]) == "Accueil"
    with pytest.raises(InvalidInputError) as refused:
        await set_default_language(db, event.id, "pt", now=BUILT_AT)
    assert refused.value.field == "default_language"


async def test_the_programme_search_finds_an_event_by_any_of_its_titles(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _translated(db, settings)
    await make_event(db, settings, slug="circular", title="Circular procurement")

    found = {
        query: [e.slug for e in (await programme.list_events(
            db, programme.EventFilter(search=query))).events]
        for query in ("IKT-Beschaffung", "ikt-beschaffung", "Fair ICT", "procurement",
                      "Soziale")
    }

    assert found == {
        "IKT-Beschaffung": [event.slug],
        "ikt-beschaffung": [event.slug],
        "Fair ICT": [event.slug],
        "procurement": sorted([event.slug, "circular"], key=["fair-ict-webinars",
                                                             "circular"].index),
        "Soziale": [],  # session titles are not the event's titles
    }


async def test_the_demo_samples_speak_german_and_french_and_the_real_series_english(
    db: AsyncSession, settings: Settings
) -> None:
    await load_demo_programme(db, now=DEMO_LOADED_AT, settings=settings)
    seminar = await programme.get_published_event(db, "procura-plus-seminar-2027")
    seminar = await programme.get_event(db, seminar.id)
    series = await programme.get_published_event(db, MAKE_ICT_FAIR_SLUG)

    assert [localised(seminar, "title", code) for code in ("de", "fr", "es")] == [
        "Procura+ Seminar 2027 (Beispiel)", "Séminaire Procura+ 2027 (exemple)",
        "Procura+ Seminar 2027 (sample)"]
    assert [localised(seminar, "title", "fr", s) for s in seminar.sessions] == [
        "Jour 1 : groupes d'intérêt et remise des prix", "Jour 2 : politiques et pratique"]
    assert localised(seminar, "title", "de", seminar.sessions[1].agenda_items[2]) == "Abschluss"
    assert series.content_translations == []
