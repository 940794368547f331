"""Parts of back-office pages for htmx, which only enhances pages that work without it.

Where the layout's htmx runs, some forms and links ask for a part of the page instead of the
whole (header `HX-Request: true`) and swap it in place: the agenda list after a move, the
results of a live search, one agenda item's row. A handler answers both from one template:
the page includes the part, and the htmx answer is that part alone, rendered by the same
Jinja environment (`render_organiser`), so their markup cannot drift apart. Answers that
differ by that header say so (`Vary: HX-Request`), so no cache hands one to the other. A
history restore (the back button after a pushed address) wants the whole page.

Controllers that answer parts use `OrganiserRequest` (Litestar's `HTMXRequest`, whose
`request.htmx` reads the headers htmx sends, on the application's own request class).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Request, Response
from litestar.plugins.htmx import HTMXRequest

from service.web.backoffice.guards import signed_in
from service.web.backoffice.rendering import render_organiser
from service.web.json_bodies import ApiRequest
from service.web.page_render import PAGE_HEADERS

VARY_HX_REQUEST = {"Vary": "HX-Request"}


class OrganiserRequest(ApiRequest, HTMXRequest):
    """The application's request, with `htmx`: what htmx's headers say about it."""


def wants_part(request: HTMXRequest) -> bool:
    """An htmx request that swaps a part of the page in (not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def organiser_part(
    request: Request[Any, Any, Any], templates: tuple[str, ...], context: Mapping[str, Any], *,
    status_code: int = 200, headers: Mapping[str, str] | None = None,
) -> Response[str]:
    """Parts of a page (templates under templates/organiser/, one after the other: the
    swapped part, then any `hx-swap-oob` ones) with what the layout would have given them."""
    full = {"account": signed_in(request), "csrf_token": request.state.csrf_token,
            "part": True, **context}
    html = "".join(render_organiser(template, full) for template in templates)
    return Response(content=html, status_code=status_code, media_type=MediaType.HTML,
                    headers={**PAGE_HEADERS, **VARY_HX_REQUEST, **(headers or {})})
