"""The web app while it serves: what it built at startup stays out of the collector's way."""

from __future__ import annotations

import gc

from litestar.testing import AsyncTestClient

from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL


async def test_the_started_app_is_frozen_while_it_serves_and_given_back_when_it_stops(
    settings: Settings,
) -> None:
    before = gc.get_freeze_count()
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        assert (await client.get("/api/events")).status_code == 200
        serving = gc.get_freeze_count()
    assert serving > before
    assert gc.get_freeze_count() == before
    assert gc.isenabled()  # building the app paused collection only while it built
