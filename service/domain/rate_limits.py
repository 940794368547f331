"""Counting hits per key in fixed time windows, in the database, so every process shares them.

A counter is one row per (key, window): counting is a single atomic upsert that adds the hits
and returns the new total, so concurrent requests in any number of processes each get a
distinct number, on PostgreSQL and SQLite alike. Windows are aligned on the Unix epoch, so
every process agrees on where a window starts. Rows of ended windows are pruned.

Knows nothing of HTTP or of what is limited: callers name the keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import dialect_insert, table_of
from service.db.models import RateLimitCounter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Rows are kept this long after their window ends: a process whose clock runs a little late
# still counts into its (to it) current window rather than into a row that is gone.
PRUNE_GRACE = timedelta(minutes=5)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the window of length `window` that holds `now`."""
    return _EPOCH + ((now - _EPOCH) // window) * window


async def count_hits(
    db: AsyncSession, keys: Sequence[str], *, window: timedelta, now: datetime
) -> list[int]:
    """Count one hit per key (a key may repeat); each hit's number within its window, in order.

    One statement for the whole batch. Keys are written in sorted order, so two batches that
    share keys lock their rows in the same order and never deadlock each other.
    """
    if not keys:
        return []
    started_at = window_start(now, window)
    per_key = Counter(keys)
    table = table_of(RateLimitCounter)
    insert = dialect_insert(db, table)
    statement = (
        insert.values([
            {"key": key, "window_started_at": started_at, "hits": hits,
             "expires_at": started_at + window}
            for key, hits in sorted(per_key.items())
        ])
        .on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_started_at],
            set_={"hits": table.c.hits + insert.excluded.hits},
        )
        .returning(table.c.key, table.c.hits)
    )
    totals = {key: hits for key, hits in (await db.execute(statement)).all()}
    # The batch's hits of one key are the last ones of its total, numbered in arrival order.
    seen: Counter[str] = Counter()
    numbers = []
    for key in keys:
        seen[key] += 1
        numbers.append(totals[key] - per_key[key] + seen[key])
    return numbers


async def prune_rate_counters(db: AsyncSession, *, now: datetime) -> int:
    """Delete counters of windows that ended (with a grace period); how many went."""
    table = table_of(RateLimitCounter)
    result = await db.execute(delete(table).where(table.c.expires_at < now - PRUNE_GRACE))
    return int(getattr(result, "rowcount", 0) or 0)
