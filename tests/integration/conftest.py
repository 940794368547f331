"""Fixtures shared by the integration tests that read the demo programme at a fixed time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from service.operations.demo import load_demo_programme
from service.settings import Settings
from tests.factories import DEMO_LOADED_AT, DEMO_NOW

# Back-office clients signed in through the sign-in form (tests/integration/backoffice.py).
from tests.integration.backoffice import (
    admin_client,
    organiser_client,
    other_team_client,
    viewer_client,
)

__all__ = ["admin_client", "organiser_client", "other_team_client", "viewer_client"]


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(DEMO_NOW, tick=False):
        yield


@pytest.fixture
async def demo(db: AsyncSession, settings: Settings) -> None:
    await load_demo_programme(db, now=DEMO_LOADED_AT, settings=settings)
    await db.commit()
