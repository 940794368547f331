"""Apps lent to tests, one test at a time, and used again by the next test that has the same
settings.

Building the app costs about 0.3 s (Litestar registers some 480 route handlers), as much as
the rest of a typical test. The app holds no data of its own between runs: each test client
starts it, and everything of one run (the registration desk, the rate limiter, the memoised
feeds) is made when it starts and its connections are closed when it stops
(`service.web.app`). A test that holds two clients at once gets two apps: one app never
runs on two event loops at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from litestar import Litestar

from service.settings import Settings
from service.web.app import create_app

# Idle apps, the most recently given back last: (settings as `repr`, app). Settings hold a
# dict, so they are compared by their repr.
_IDLE: list[tuple[str, Litestar]] = []
_KEPT = 6


@contextmanager
def lent_app(settings: Settings) -> Iterator[Litestar]:
    """An idle app built for these settings, or a new one; given back when the block ends,
    unless the test added a route to it (or failed inside the block)."""
    key = repr(settings)
    found = [index for index, (idle_key, _) in enumerate(_IDLE) if idle_key == key]
    app = _IDLE.pop(found[-1])[1] if found else create_app(settings)
    routes = len(app.routes)
    yield app
    if len(app.routes) == routes:
        _IDLE.append((key, app))
        del _IDLE[:-_KEPT]
