"""The per-process feed cache: memoised plans expire by time or by a local programme change,
bodies are kept by ETag within a byte budget, and concurrent cold requests render once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from service.domain.calendars import feeds
from service.domain.calendars.feeds import FeedPlan
from service.web.feeds import FeedCache


def _plan(etag: str) -> FeedPlan:
    return FeedPlan(
        scope="programme", name="Programme", etag=etag,
        last_modified=datetime(2020, 10, 1, tzinfo=UTC), is_private=False,
        session_ids=frozenset({1, 2}),
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Describer:
    """Hands out a new plan each time it is asked, optionally held until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.release: asyncio.Event | None = None

    async def __call__(self) -> FeedPlan:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        return _plan(f'"v{self.calls}"')


async def test_a_memoised_plan_is_trusted_until_it_is_too_old() -> None:
    clock = FakeClock()
    cache = FeedCache(revalidate_after=5.0, clock=clock)
    describe = Describer()

    first = await cache.plan_for("programme", describe)
    clock.now += 4.9
    fresh = await cache.plan_for("programme", describe)
    clock.now += 0.1
    renewed = await cache.plan_for("programme", describe)

    assert [first.etag, fresh.etag, renewed.etag] == ['"v1"', '"v1"', '"v2"']
    assert describe.calls == 2


async def test_while_one_request_renews_an_old_plan_the_others_keep_using_it() -> None:
    clock = FakeClock()
    cache = FeedCache(revalidate_after=5.0, clock=clock)
    describe = Describer()
    await cache.plan_for("programme", describe)
    clock.now += 6
    describe.release = asyncio.Event()

    renewing = asyncio.create_task(cache.plan_for("programme", describe))
    await asyncio.sleep(0)
    meanwhile = [await cache.plan_for("programme", describe) for _ in range(3)]
    describe.release.set()
    renewed = await renewing

    assert ([p.etag for p in meanwhile], renewed.etag, describe.calls) == (
        ['"v1"'] * 3, '"v2"', 2)
    assert (await cache.plan_for("programme", describe)).etag == '"v2"'


async def test_a_local_programme_change_makes_every_request_wait_for_a_new_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = FeedCache(revalidate_after=60.0, clock=FakeClock())
    describe = Describer()
    revision = feeds.programme_revision()
    await cache.plan_for("programme", describe)

    monkeypatch.setattr(feeds, "programme_revision", lambda: revision + 1)
    describe.release = asyncio.Event()
    waiting = [asyncio.create_task(cache.plan_for("programme", describe)) for _ in range(3)]
    await asyncio.sleep(0)
    describe.release.set()
    plans = await asyncio.gather(*waiting)

    assert ([p.etag for p in plans], describe.calls) == (['"v2"'] * 3, 2)


def test_bodies_are_kept_by_etag_within_a_byte_budget() -> None:
    cache = FeedCache(max_body_bytes=10)
    cache.remember_body('"a"', b"aaaa")
    cache.remember_body('"b"', b"bbbb")
    assert cache.body('"a"') == b"aaaa"  # now the most recently used

    cache.remember_body('"c"', b"cccc")  # 12 bytes: the least recently used goes
    cache.remember_body('"huge"', b"x" * 11)  # never cached: bigger than the budget

    assert [cache.body(tag) for tag in ('"a"', '"b"', '"c"', '"huge"')] == [
        b"aaaa", None, b"cccc", None]


async def test_concurrent_cold_requests_share_one_render() -> None:
    cache = FeedCache()
    renders = 0
    release = asyncio.Event()

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        await release.wait()
        return b"BEGIN:VCALENDAR"

    waiting = [asyncio.create_task(cache.body_for('"a"', render)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    bodies = await asyncio.gather(*waiting)

    assert (renders, bodies) == (1, [b"BEGIN:VCALENDAR"] * 5)
    assert await cache.body_for('"a"', render) == b"BEGIN:VCALENDAR"
    assert renders == 1


async def test_a_failed_render_is_not_cached_and_reaches_every_waiter() -> None:
    cache = FeedCache()

    async def broken() -> bytes:
        await asyncio.sleep(0)
        raise RuntimeError("database went away")

    results = await asyncio.gather(
        *(cache.body_for('"a"', broken) for _ in range(3)), return_exceptions=True
    )

    assert [str(r) for r in results] == ["database went away"] * 3
    assert cache.body('"a"') is None
