"""`procura-events worker` keeps what it loaded at start out of the garbage collector's way,
so a full collection in the middle of a burst walks only what the jobs made."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator

import pytest

from scheduling import scheduler
from service import cli
from service.settings import Settings, load_settings


@pytest.fixture
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("_unfrozen")
def test_the_worker_runs_with_what_it_loaded_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_when_running: list[int] = []

    async def run_worker(settings: Settings) -> None:
        frozen_when_running.append(gc.get_freeze_count())

    monkeypatch.setattr(scheduler, "run_worker", run_worker)
    assert cli.cmd_worker(load_settings(), argparse.Namespace()) == 0

    [frozen] = frozen_when_running
    # The modules' objects at least (tens of thousands here), not a handful.
    assert frozen > 10_000
