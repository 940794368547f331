"""service.zones: every zone lookup reads the pinned `tzdata`, not the machine's copy.

Africa/Casablanca is the witness (see tests/integration/test_time_zone_database.py): from
2026-09-20 tzdata 2026f keeps +00 where older copies keep +01.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zoneinfo
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pendulum
import pytest
import tzdata
from icalendar import Calendar

from service import zones
from service.domain.calendars.ical import CalendarEntry, build_calendar
from service.domain.errors import InvalidInputError
from service.domain.times import parse_instant

ROOT = Path(__file__).resolve().parents[2]
WITNESS = "Africa/Casablanca"
AUTUMN_10AM = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)  # 10:00 +00 in the pinned data


def _pinned_zone() -> zoneinfo.ZoneInfo:
    with resources.files("tzdata.zoneinfo").joinpath(WITNESS).open("rb") as data:
        return zoneinfo.ZoneInfo.from_file(data, key=WITNESS)


def _what_the_service_computes() -> dict[str, Any]:
    """What a tz database decides: an instant, a gap check, a calendar's times and VTIMEZONE."""
    try:
        night: str = parse_instant("2027-03-14T02:30", WITNESS, "starts_at").isoformat()
    except InvalidInputError as error:
        night = f"refused: {error}"
    return {
        "instant": parse_instant("2026-10-15T10:00", WITNESS, "starts_at").isoformat(),
        "night": night,
        "calendar": build_calendar([CalendarEntry(
            uid="session-1@events.test", sequence=0, summary="Opening", description="",
            starts_at=AUTUMN_10AM, ends_at=datetime(2027, 3, 14, 11, 0, tzinfo=UTC),
            timezone=WITNESS)], now=AUTUMN_10AM).decode(),
    }


def test_zoneinfo_reads_only_the_pinned_package() -> None:
    local = AUTUMN_10AM.astimezone(zoneinfo.ZoneInfo(WITNESS))

    assert (zoneinfo.TZPATH, zones.DATABASE_VERSION) == ((), tzdata.IANA_VERSION)
    assert (local.utcoffset(), local.tzname()) == (
        AUTUMN_10AM.astimezone(_pinned_zone()).utcoffset(), "+00")


def test_pendulum_and_icalendar_read_the_pinned_package_too() -> None:
    body = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Africa/Casablanca:20261015T100000\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n")

    read_by_icalendar = Calendar.from_ical(body).walk("VEVENT")[0].decoded("DTSTART")
    pendulum_time = pendulum.datetime(2026, 10, 15, 10, tz=WITNESS)

    assert read_by_icalendar.astimezone(UTC) == AUTUMN_10AM
    assert pendulum_time.in_tz("UTC") == AUTUMN_10AM


def test_use_pinned_database_forgets_zones_loaded_from_the_system_copy() -> None:
    zoneinfo.reset_tzpath()  # Python's default: the machine's copy first
    zoneinfo.ZoneInfo.clear_cache()
    try:
        zoneinfo.ZoneInfo(WITNESS)
        pendulum.timezone(WITNESS)
    finally:
        zones.use_pinned_database()

    assert zoneinfo.ZoneInfo(WITNESS).utcoffset(AUTUMN_10AM) == _pinned_zone().utcoffset(AUTUMN_10AM)
    assert pendulum.timezone(WITNESS).utcoffset(AUTUMN_10AM) == _pinned_zone().utcoffset(AUTUMN_10AM)


# Run in a fresh interpreter: import the service, then undo its reset, so zoneinfo reads
# the machine's copy first as Python does by default.
_WITHOUT_THE_RESET = """
import json, pathlib, zoneinfo
import service
zoneinfo.reset_tzpath()
zoneinfo.ZoneInfo.clear_cache()
source = next((str(path / {zone!r}) for path in map(pathlib.Path, zoneinfo.TZPATH)
               if (path / {zone!r}).is_file()), None)
from tests.unit.test_zones import _what_the_service_computes
print(json.dumps({{"source": source, **_what_the_service_computes()}}))
"""


def _system_version(source: str) -> str:
    """Version line of the system database beside the zone file, when it has one."""
    for parent in Path(source).parents:
        marker = parent / "tzdata.zi"
        if marker.is_file():
            return marker.read_text().splitlines()[0].removeprefix("# version ").strip()
    return "of unknown version"


def test_the_machines_own_database_would_give_other_answers() -> None:
    """Shows that the tests above prove something here: the system copy disagrees."""
    script = _WITHOUT_THE_RESET.format(zone=WITNESS)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    system = json.loads(result.stdout)
    source = system.pop("source")
    if source is None:
        pytest.skip(f"this machine has no system time-zone database with {WITNESS}: "
                    "zoneinfo falls back to the pinned tzdata anyway")
    pinned = _what_the_service_computes()
    if system["instant"] == pinned["instant"]:
        pytest.skip(f"the system time-zone database here ({source}, {_system_version(source)}) already "
                    f"agrees with tzdata {tzdata.IANA_VERSION} on {WITNESS}: nothing to contrast")

    assert pinned["instant"] == "2026-10-15T10:00:00+00:00"
    assert pinned["night"] == "2027-03-14T02:30:00+00:00"
    assert (system["instant"] != pinned["instant"], system["night"] != pinned["night"],
            system["calendar"] != pinned["calendar"]) == (True, True, True)
