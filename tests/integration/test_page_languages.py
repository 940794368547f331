"""The public pages in the visitor's language over real HTTP: `?lang=` (remembered in a
cookie), then the cookie, then Accept-Language, else English; the page says which
(`<html lang>`, Content-Language) and links to itself in every language.

Expected words are looked up in the catalogue the page uses (`use_language` + `_()`), so the
tests hold whether or not a catalogue is filled; country names come from Babel (CLDR) and
are checked literally.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.i18n import LANGUAGES, use_language
from service.i18n import gettext as _
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from tests.integration.test_pages import form, parse

Client = AsyncTestClient[Litestar]
SERIES = f"/events/{MAKE_ICT_FAIR_SLUG}"

pytestmark = [pytest.mark.usefixtures("frozen_clock", "demo"), pytest.mark.one_database]


def heading_in(language: str, message: str) -> str:
    with use_language(language):
        return _(message)


async def test_browser_language_gives_the_programme_in_german(client: Client) -> None:
    response = await client.get("/", headers={"Accept-Language": "de-CH, de;q=0.9, en;q=0.5"})

    page = parse(response.text)
    assert response.status_code == 200
    assert page.one("html").attrs["lang"] == "de"
    assert response.headers["content-language"] == "de"
    assert response.headers["vary"] == "Accept-Language, Cookie"
    assert page.one("h1").text == heading_in("de", "Events programme")
    assert "set-cookie" not in {name.lower() for name in response.headers}
    # The switcher and the alternates: this page in every language, the German one current.
    switcher = page.one("nav", cls="language-switcher")
    assert [(a.attrs["hreflang"], a.attrs["href"]) for a in switcher.find_all("a")] == [
        (code, f"/?lang={code}") for code in LANGUAGES]
    assert [a.attrs["hreflang"] for a in switcher.find_all("a", aria_current="true")] == ["de"]
    assert [(link.attrs["hreflang"], link.attrs["href"])
            for link in page.find_all("link", rel="alternate")] == [
        (code, f"/?lang={code}") for code in LANGUAGES]


async def test_lang_parameter_wins_is_remembered_and_an_unknown_one_is_ignored(
    client: Client,
) -> None:
    chosen = await client.get(SERIES, params={"lang": "fr"},
                              headers={"Accept-Language": "de"})

    page = parse(chosen.text)
    assert page.one("html").attrs["lang"] == "fr"
    assert chosen.headers["content-language"] == "fr"
    assert chosen.headers["set-cookie"].split(";")[0] == "lang=fr"
    assert page.one("nav", cls="breadcrumbs").find_all("a")[0].text == \
        heading_in("fr", "Programme")

    # The cookie is followed without the parameter (and over the browser's language).
    remembered = await client.get("/", headers={"Accept-Language": "de"})
    assert parse(remembered.text).one("html").attrs["lang"] == "fr"
    assert remembered.headers["content-language"] == "fr"
    assert parse(remembered.text).one("h1").text == heading_in("fr", "Events programme")

    # A language the service does not speak changes nothing, and is not remembered.
    unknown = await client.get("/", params={"lang": "xx"})
    assert parse(unknown.text).one("html").attrs["lang"] == "fr"
    assert "set-cookie" not in {name.lower() for name in unknown.headers}
    client.cookies.clear()
    fresh = await client.get("/", params={"lang": "xx"}, headers={"Accept-Language": "pt"})
    assert parse(fresh.text).one("html").attrs["lang"] == "en"
    assert fresh.headers["content-language"] == "en"
    assert parse(fresh.text).one("h1").text == "Events programme"


async def test_registration_form_in_german_names_countries_and_errors_in_german(
    client: Client,
) -> None:
    page = parse((await client.get(f"{SERIES}/register", params={"lang": "de"})).text)

    countries = [(o.attrs["value"], o.text) for o in page.one("select", id="country")
                 .find_all("option")]
    assert countries[0] == ("", heading_in("de", "Choose a country…"))
    names = dict(countries)
    assert (names["DE"], names["AT"], names["NL"], names["CH"]) == (
        "Deutschland", "Österreich", "Niederlande", "Schweiz")
    # Sorted as a German reader looks for them: Österreich among the O's, not after Z.
    order = [value for value, _name in countries]
    assert order.index("OM") < order.index("AT") < order.index("PK")

    token = page.one("input", name="csrf_token").attrs["value"]
    response = await client.post(f"{SERIES}/register",
                                 data={**form(name="", country="AT"), "csrf_token": token})

    answer = parse(response.text)
    assert response.status_code == 422
    assert answer.one("html").attrs["lang"] == "de"
    assert answer.one("span", cls="error-message", id="name-error").text == \
        f"{heading_in('de', 'Error:')} {heading_in('de', 'Enter your name.')}"
    assert answer.one("option", value="AT", selected="").text == "Österreich"
