"""The one-to-one meeting requests page answers in the organiser's chosen language: its
template's words, the handler's title and status labels, a plural and a button whose
hidden words name the row all come from the catalogue, and English is unchanged.

The catalogue is written for the test (a few German messages), so the check does not
depend on how far the shipped catalogues are filled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from sqlalchemy.ext.asyncio import AsyncSession

from service import i18n
from service.domain.consultation import meetings
from service.settings import Settings
from tests.factories import BUILT_AT
from tests.integration.backoffice import SignedInClient
from tests.integration.meeting_fixtures import make_consultation

# How pages and forms read: the database makes no difference (SQLite only).
pytestmark = pytest.mark.one_database

GERMAN = {
    ("Meeting requests for %(title)s", None): "Gesprächsanfragen: %(title)s",
    ("Meeting requests: %(title)s", None): "Gesprächsanfragen: %(title)s",
    ("Waiting for the host", None): "Wartet auf Gastgeber/in",
    ('Accept<span class="visually-hidden"> %(company)s with %(host)s</span>', None):
        'Annehmen<span class="visually-hidden">: %(company)s mit %(host)s</span>',
    ("Requests", None): "Anfragen",
}


@pytest.fixture
def german_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    catalogue = Catalog(locale="de")
    for (msgid, context), text in GERMAN.items():
        catalogue.add(msgid, text, context=context)
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as po_file:
        write_po(po_file, catalogue)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    yield
    i18n.translations.cache_clear()


async def test_the_requests_page_is_in_german_when_asked_and_in_english_otherwise(
    german_catalogue: None, db: AsyncSession, settings: Settings,
    organiser_client: SignedInClient,
) -> None:
    c = await make_consultation(db, settings, suppliers=2, hosts=1)
    for supplier in c.suppliers:
        await meetings.request_meetings(db, supplier.id, [c.hosts[0].id], "Laptops",
                                        now=BUILT_AT, settings=settings)
    await db.commit()
    url = f"/organiser/events/{c.event.id}/meetings/requests"

    german = await organiser_client.get(f"{url}?lang=de")
    english = await organiser_client.get(f"{url}?lang=en")

    assert (german.status_code, english.status_code) == (200, 200)
    assert re.findall(r"<h1>(.*?)</h1>", german.text) == [
        "Gesprächsanfragen: Meet the buyer: circular ICT"]
    assert re.findall(r"<title>(.*?) ·", german.text) == [
        "Gesprächsanfragen: Meet the buyer: circular ICT"]
    assert german.text.count("Wartet auf Gastgeber/in") == 2
    assert german.text.count('Annehmen<span class="visually-hidden">: Vendor 1 BV mit Host 1'
                             "</span>") == 1
    assert re.findall(r"<h1>(.*?)</h1>", english.text) == [
        "Meeting requests for Meet the buyer: circular ICT"]
    assert english.text.count("Waiting for the host") == 2
    assert english.text.count('Accept<span class="visually-hidden"> Vendor 1 BV with Host 1'
                              "</span>") == 1
