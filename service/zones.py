"""One time-zone database for the whole service: the pinned `tzdata` package.

Python's zoneinfo reads the machine's own database (/usr/share/zoneinfo) before the
`tzdata` package, so without this module an agenda's instants, its gap and fold checks and
the VTIMEZONE of its invites would follow whatever copy the host happens to have, while
up-to-date calendar apps follow current rules (Africa/Casablanca moved by an hour from
September 2026). Importing `service` runs :func:`use_pinned_database` once, before any zone
is loaded. This module must not import anything of the service.
"""

from __future__ import annotations

import sys
import zoneinfo
from functools import cache
from importlib import resources

import tzdata

__all__ = ["DATABASE_VERSION", "DEFAULT_ZONE", "picker_zones", "use_pinned_database",
           "zones_by_region"]

DATABASE_VERSION: str = tzdata.IANA_VERSION
# Where the programme mostly happens: what a new event's zone picker starts on.
DEFAULT_ZONE = "Europe/Brussels"


def _zone_classes() -> list[type[zoneinfo.ZoneInfo]]:
    """ZoneInfo and its subclasses (pendulum's Timezone): each keeps its own zone cache."""
    found: list[type[zoneinfo.ZoneInfo]] = []
    pending: list[type[zoneinfo.ZoneInfo]] = [zoneinfo.ZoneInfo]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def use_pinned_database() -> None:
    """Make every zone lookup in this process read the pinned `tzdata`, and only it."""
    zoneinfo.reset_tzpath(to=[])
    for cls in _zone_classes():
        cls.clear_cache()
    # Libraries that remember zones or zone names of their own, if already imported.
    pendulum_tz = sys.modules.get("pendulum.tz")
    if pendulum_tz is not None:
        pendulum_tz.timezones.cache_clear()
    if "icalendar" in sys.modules:
        from icalendar.timezone import tzp
        from icalendar.timezone.zoneinfo import ZONEINFO

        ZONEINFO._available_timezones_cache = None
        tzp.use_zoneinfo()  # also empties tzp's own cache of zones


@cache
def picker_zones() -> tuple[str, ...]:
    """The zones an organiser picks from, sorted: every zone of `zone.tab` in the pinned
    `tzdata` (one per country region: Europe/Amsterdam is there, though the tz database now
    links it to Brussels) and UTC. Legacy aliases (US/Eastern, CET) are left out of the
    picker; the API still accepts any IANA name."""
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    names = {line.split("\t")[2] for line in table.splitlines()
             if line and not line.startswith("#")}
    return tuple(sorted(names | {"UTC"}))


@cache
def zones_by_region() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`picker_zones` grouped by their first part (Africa, America, ..., Europe, Pacific),
    regions in alphabetical order; UTC alone in the last group, "Other"."""
    regions: dict[str, list[str]] = {}
    for name in picker_zones():
        region = name.split("/", 1)[0] if "/" in name else "Other"
        regions.setdefault(region, []).append(name)
    ordered = sorted(regions, key=lambda region: (region == "Other", region))
    return tuple((region, tuple(regions[region])) for region in ordered)


use_pinned_database()
