"""The one source of "now" for the whole service.

Domain functions take `now` as an argument; the edges (handlers, jobs) ask this module.
Tests move time with time-machine, which this function honours.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
