"""No page is left partly in English: public pages and the back office in every language.

Each page is read in English and in each other language (`?lang=`). A text that reads the
same in both is either the events' own data (titles, names, places: what organisers wrote,
found anywhere in the database) or a message nobody marked or translated, which fails. The
catalogues decide what is a message, not a list kept here: only brand and product names,
each language's own name and the country names CLDR writes the same are expected to stay
as they are (and time-zone names, which are codes). CPV labels are the Regulation's own
wording in each language (service/domain/consultation/cpv_2008.csv), some the same as the
English ("Personal computers" in Dutch): a line that starts with a CPV code is left out
(tests/unit/test_cpv.py checks the labels).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import MetaData, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, babel_locale
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from service.operations.demo_consultation import HAARLEM_SLUG
from tests.integration.backoffice import SignedInClient

pytestmark = [pytest.mark.usefixtures("frozen_clock", "demo"), pytest.mark.one_database]

Client = AsyncTestClient[Litestar]
PUBLIC_PAGES = ("/", "/archive", f"/events/{MAKE_ICT_FAIR_SLUG}",
                f"/events/{MAKE_ICT_FAIR_SLUG}/register", f"/events/{HAARLEM_SLUG}",
                "/groups", "/privacy", "/privacy/my-data")
BACKOFFICE_PAGES = ("/organiser/", "/organiser/events", "/organiser/events/1",
                    "/organiser/events/1/registrations", "/organiser/sessions/1",
                    "/organiser/sessions/1/agenda", "/organiser/people",
                    "/organiser/organisations", "/organiser/groups", "/organiser/calendars",
                    "/organiser/account", "/organiser/events/1/reminders",
                    "/organiser/events/1/emails", "/organiser/events/1/speakers",
                    "/organiser/events/1/translations", "/organiser/events/1/personal-data",
                    "/organiser/events/new", "/organiser/people/new")
# Names that are the same in every language.
SAME_EVERYWHERE = {"Procura+ Events", "Procura+", "ICLEI", "CityMatch", "Meet-your-Buyer",
                   "Google Calendar", "Outlook.com", *LANGUAGE_NAMES.values()}
CPV_LINE = re.compile(r"^\d{8}-\d ")
ZONE_NAME = re.compile(r"^[A-Z][A-Za-z_]+(/[A-Za-z_+-]+)+$")  # Europe/Brussels: a code
SERVICE_WRITTEN = {"outbox_emails", "email_attempts", "audit_entries", "reminders",
                   "change_notices", "speaker_notices", "alembic_version"}
_WORDS = re.compile(r"[^\W\d_]{2,}")


class _Texts(HTMLParser):
    """The texts a person reads: text nodes and the labels of controls (not scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self._add(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if len(_WORDS.findall(text)) >= 2:
            self.texts.add(text)


def texts_of(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


async def data_texts(db: AsyncSession) -> list[str]:
    """Every text the database holds (what organisers, speakers and registrants wrote), but
    not what the service itself wrote there: emails and the audit log."""
    connection = await db.connection()
    metadata = MetaData()
    await connection.run_sync(lambda sync: metadata.reflect(sync))
    found: set[str] = set()
    for table in metadata.sorted_tables:
        if table.name in SERVICE_WRITTEN:
            continue
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not columns:
            continue
        for row in await connection.execute(select(*columns)):
            found.update(" ".join(value.split()) for value in row if isinstance(value, str))
    return [text for text in found if len(text) >= 3]


_SEPARATORS = re.compile(r"\s*[,·()]\s*")


def is_data(text: str, data: list[str]) -> bool:
    """Part of what was written, mostly one such text (a title in quotes), or written parts
    joined by punctuation ("Rudie de Vries, Municipality of Haarlem")."""
    def written(part: str) -> bool:
        return any(part in value or (value in part and len(value) >= 0.6 * len(part))
                   for value in data)
    parts = [part for part in _SEPARATORS.split(text) if part]
    return written(text) or (len(parts) > 1 and all(written(part) for part in parts))


def untranslated(english: str, translated: str, language: str, data: list[str]) -> list[str]:
    same = texts_of(english) & texts_of(translated)
    countries = set(babel_locale(language).territories.values())
    return sorted(text for text in same
                  if text not in SAME_EVERYWHERE and text not in countries
                  and not CPV_LINE.match(text) and not ZONE_NAME.match(text)
                  and not is_data(text, data))


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
async def test_public_pages_read_wholly_in_each_language(
    client: Client, db: AsyncSession, language: str
) -> None:
    data = await data_texts(db)
    left: dict[str, list[str]] = {}
    for path in PUBLIC_PAGES:
        english = await client.get(path, params={"lang": "en"})
        translated = await client.get(path, params={"lang": language})
        assert (english.status_code, translated.status_code) == (200, 200), path
        if found := untranslated(english.text, translated.text, language, data):
            left[path] = found

    assert left == {}, "\n".join(f"{p}: {t}" for p, t in left.items())


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
async def test_backoffice_pages_read_wholly_in_each_language(
    organiser_client: SignedInClient, db: AsyncSession, language: str
) -> None:
    data = await data_texts(db)
    left: dict[str, list[str]] = {}
    for path in BACKOFFICE_PAGES:
        english = await organiser_client.get(path, params={"lang": "en"})
        translated = await organiser_client.get(path, params={"lang": language})
        assert (english.status_code, translated.status_code) == (200, 200), path
        if found := untranslated(english.text, translated.text, language, data):
            left[path] = found

    assert left == {}, "\n".join(f"{p}: {t}" for p, t in left.items())
