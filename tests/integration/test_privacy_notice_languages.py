"""The privacy notice in several languages: a version says the language of its text and may
carry the same notice in other languages; readers (the page and the API) get theirs where
there is one, else the text as written, marked with its language. A refused form names each
field and publishes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import PrivacyNotice
from service.domain import privacy
from service.domain.errors import InvalidInputError
from service.settings import Settings
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

NOW = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
ENGLISH = "Who we are\nThe Procura+ Network runs these events."
GERMAN = "Wer wir sind\nDas Procura+ Netzwerk veranstaltet diese Termine."
FRENCH = "Qui nous sommes\nLe réseau Procura+ organise ces événements."


async def test_a_version_gives_each_reader_their_language_or_its_own_text(
    db: AsyncSession, settings: Settings,
) -> None:
    notice = await privacy.publish_notice(
        db, ENGLISH, author="Ada Admin", now=NOW, settings=settings, language="en",
        translations={"de": GERMAN, "fr": f"  {FRENCH}  ", "it": "", "es": None})

    with pytest.raises(InvalidInputError) as refused:
        await privacy.publish_notice(
            db, "", author="Ada Admin", now=NOW, settings=settings, language="xx",
            translations={"pt": "Quem somos", "nl": "x" * 50_001})
    with pytest.raises(InvalidInputError) as own_language:
        await privacy.publish_notice(
            db, ENGLISH, author="Ada Admin", now=NOW, settings=settings, language="en",
            translations={"en": "Who we are"})
    with pytest.raises(InvalidInputError) as unchanged:
        await privacy.publish_notice(
            db, ENGLISH, author="Ada Admin", now=NOW, settings=settings, language="en",
            translations={"de": GERMAN, "fr": FRENCH})

    assert (notice.language, notice.translations) == ("en", {"de": GERMAN, "fr": FRENCH})
    assert [privacy.notice_text_for(notice, code, settings) for code in ("en", "de", "fr", "it")
            ] == [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr"), (ENGLISH, "en")]
    assert [e.field for e in refused.value.errors] == [
        "text", "language", "translations.pt", "translations.nl"]
    assert [(e.field, e.message) for e in own_language.value.errors] == [
        ("translations.en", "This is the language of the notice's text: leave this empty.")]
    assert unchanged.value.field == "text"
    # Saying the language of the same text (or adding a translation) is a new version.
    said = await privacy.publish_notice(db, ENGLISH, author="Ada Admin", now=NOW,
                                        settings=settings, language="en",
                                        translations={"de": GERMAN})
    unsaid = await privacy.publish_notice(db, ENGLISH, author="Ada Admin", now=NOW,
                                          settings=settings)
    assert said.id < unsaid.id
    assert privacy.notice_text_for(unsaid, "de", settings) == (ENGLISH, None)


async def test_administrators_publish_translations_and_readers_see_their_language(
    admin_client: SignedInClient, client: AsyncTestClient[Litestar], db: AsyncSession,
) -> None:
    form = {"text": ENGLISH, "language": "en", "text_de": GERMAN, "text_fr": "",
            "text_es": "", "text_it": "", "text_nl": "", "text_en": ""}

    editor = parse((await admin_client.get("/organiser/privacy")).text)
    bad = await admin_client.post_form("/organiser/privacy/notice", {
        **form, "text_en": "Who we are", "text_de": "Wer wir sind\u0007"})
    versions_after_bad = await db.scalar(select(func.count(PrivacyNotice.id)))
    published = await admin_client.post_form("/organiser/privacy/notice", form)
    page = parse((await admin_client.get("/organiser/privacy")).text)
    german = await client.get("/privacy", params={"lang": "de"})
    french = await client.get("/privacy", params={"lang": "fr"})
    api = await client.get("/api/privacy-notice", params={"lang": "de"})

    assert [label.text for label in editor.one("fieldset").find_all("label")] == [
        "English", "Deutsch", "Français", "Español", "Italiano", "Nederlands"]
    assert bad.status_code == 422
    assert (parse(bad.text).one(id="text_en-error").text,
            parse(bad.text).one(id="text_de-error").text) == (
        "Error: This is the language of the notice's text: leave this empty.",
        "Error: Must not contain control characters.")
    assert versions_after_bad == 1
    assert published.status_code == 303
    assert [[cell.text for cell in row.iter() if cell.tag in ("th", "td")][-1]
            for row in page.one("table").find_all("tr")[1:]] == ["English, Deutsch", "English"]
    assert page.one("textarea", name="text_de").text == GERMAN.replace("\n", " ")
    assert [s.attrs.get("lang") for s in parse(german.text).find_all("section", cls="prose")] \
        == [None]
    assert "Das Procura+ Netzwerk veranstaltet diese Termine." in german.text
    assert [s.attrs.get("lang") for s in parse(french.text).find_all("section", cls="prose")] \
        == ["en"]
    assert (api.json()["text"], api.json()["language"]) == (GERMAN, "de")
