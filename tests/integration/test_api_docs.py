"""The API documentation and the favicon come from this server only, so they work offline."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]

# src="..." and href="..." (either quote), and url(...) in inline styles.
_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def _references(html: str) -> list[str]:
    return [first or second for first, second in _REFERENCES.findall(html)]


def _hosts(urls: list[str]) -> set[str]:
    return {urlsplit(url).netloc for url in urls if urlsplit(url).netloc}


async def test_api_docs_reference_no_other_host_and_their_assets_are_served(
    client: Client,
) -> None:
    docs = await client.get("/api/docs")

    references = _references(docs.text)
    assets = [await client.get(url) for url in references]

    assert (docs.status_code, _hosts(references)) == (200, set())
    assert "cdn" not in docs.text.lower()
    assert [(urlsplit(url).path, response.status_code, response.headers["content-type"])
            for url, response in zip(references, assets, strict=True)] == [
        ("/static/favicon.svg", 200, "image/svg+xml"),
        ("/static/swagger-ui/swagger-ui.css", 200, "text/css; charset=utf-8"),
        ("/static/swagger-ui/swagger-ui-bundle.js", 200, "text/javascript; charset=utf-8"),
        ("/static/swagger-ui/swagger-ui-standalone-preset.js", 200,
         "text/javascript; charset=utf-8"),
    ]
    assert b"SwaggerUIBundle" in assets[2].content


async def test_pages_link_the_favicon_served_as_svg(client: Client) -> None:
    programme = await client.get("/")
    archive = await client.get("/archive")
    icons = [re.findall(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page.text)
             for page in (programme, archive)]

    favicon = await client.get(icons[0][0])

    assert icons[0] == icons[1] and len(icons[0]) == 1
    assert (favicon.status_code, favicon.headers["content-type"]) == (200, "image/svg+xml")
    assert favicon.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


async def test_the_served_document_says_inputs_are_closed_and_bodies_must_be_json(
    client: Client,
) -> None:
    """Our notes are put in when the document is first asked for, not when the app starts:
    a fresh app's first request for it already carries them."""
    document = await client.get("/api/docs/openapi.json")

    body = document.json()
    create = body["paths"]["/api/organiser/events"]["post"]["responses"]
    assert (document.status_code, body["components"]["schemas"]["EventCreate"]
            ["additionalProperties"], sorted(create)) == (200, False, ["201", "400", "415"])
