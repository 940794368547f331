"""The zone picker's list: from the pinned tzdata, grouped by region, Brussels by default."""

from __future__ import annotations

from zoneinfo import available_timezones

from service import zones
from service.domain.times import zone_for


def test_the_picker_starts_on_brussels_and_groups_zones_by_region() -> None:
    groups = dict(zones.zones_by_region())

    assert zones.DEFAULT_ZONE == "Europe/Brussels"
    assert list(groups) == ["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
                            "Australia", "Europe", "Indian", "Pacific", "Other"]
    assert groups["Other"] == ("UTC",)
    assert groups["Europe"][:3] == ("Europe/Amsterdam", "Europe/Andorra", "Europe/Astrakhan")
    assert [name for name in groups["Europe"] if name.startswith("Europe/B")] == [
        "Europe/Belgrade", "Europe/Berlin", "Europe/Bratislava", "Europe/Brussels",
        "Europe/Bucharest", "Europe/Budapest", "Europe/Busingen"]
    assert sum(len(names) for names in groups.values()) == len(zones.picker_zones())


def test_every_zone_offered_is_one_an_event_accepts_and_no_legacy_alias_is_offered() -> None:
    offered = set(zones.picker_zones())

    assert [zone_for(name).key for name in sorted(offered)] == sorted(offered)
    assert offered <= available_timezones()
    assert {"US/Eastern", "CET", "EST5EDT", "Europe/Kiev"} & offered == set()
