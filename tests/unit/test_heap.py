"""The collector around startup: paused while the app is built, the started world frozen
while a process serves, everything given back afterwards."""

from __future__ import annotations

import gc

import pytest

from service.heap import YOUNG_COLLECTION_AFTER, collection_paused, started_world_set_aside


def test_collection_is_paused_inside_and_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("building failed")
    assert gc.isenabled()


def test_a_caller_that_paused_collection_itself_keeps_it_paused() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_started_world_is_frozen_inside_and_given_back_after() -> None:
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    kept = [[] for _ in range(1000)]  # tracked objects that exist on entry
    with started_world_set_aside():
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, *thresholds[1:])
        made_since = [[] for _ in range(10)]
        assert all(gc.is_tracked(item) for item in made_since)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
    with pytest.raises(RuntimeError), started_world_set_aside():
        raise RuntimeError("the worker stopped")
    assert gc.get_freeze_count() == 0
