"""Fixtures shared by the integration tests that read the demo programme at a fixed time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.factories import DEMO_NOW

# Back-office clients signed in through the sign-in form (tests/integration/backoffice.py).
from tests.integration.backoffice import (
    admin_client,
    organiser_client,
    other_team_client,
    viewer_client,
)

# One object of each kind, for the walks over every back-office route.
from tests.integration.route_walk import ids

__all__ = ["admin_client", "ids", "organiser_client", "other_team_client", "viewer_client"]


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(DEMO_NOW, tick=False):
        yield
