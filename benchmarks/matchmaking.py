"""Benchmark: Schedule all on generated Meet-your-Buyer consultations.

    .venv/bin/python benchmarks/matchmaking.py [--seeds 5]

Each instance is written to a SQLite database (an event, its grid of 16 twenty-minute slots,
tables, hosts with their availability, confirmed suppliers and their accepted requests),
loaded back with the service's own `load_problem` (what "Schedule all" reads), and handed
to the pure scheduler. Families (benchmarks/matchmaking_instances.py):

- random: 10 hosts, 120 suppliers, 16 slots, 10 tables, each supplier asking 3-5 distinct
  hosts, each host available in about 80 % of the slots. There are far more requests
  (about 480) than host slots (at most 160), so the figure is placed / upper bound, the
  bound being the max-flow relaxation of `matchmaking.upper_bound` (target >= 0.95);
- planted-tight: 10 hosts, 120 suppliers, 16 slots, 10 tables, a complete schedule drawn
  first that fills every host slot (160 meetings, so 1-2 per supplier: 3-5 each cannot fit
  10 hosts x 16 slots), each host available exactly where that schedule uses them;
- planted-3to5: 40 hosts, 120 suppliers, 16 slots, 30 tables, each supplier with 3-5
  meetings of a drawn complete schedule, hosts available only where it uses them.
  For both planted families the figure is placed / requested (target >= 0.98).

Time: the scheduler's run against loading the same instance from the database (the median
of 5 runs each), as a ratio. Prints the figures and, last, one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from matchmaking_instances import planted_instance, random_instance  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from service.db.engine import create_engine, make_sessionmaker  # noqa: E402
from service.db.models import (  # noqa: E402
    Base,
    Event,
    EventKind,
    EventStatus,
    HostAvailability,
    MeetingGrid,
    MeetingGridDay,
    MeetingHost,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingSlot,
    MeetingTable,
    OrganisationKind,
    Person,
    Registration,
    RegistrationStatus,
)
from service.domain.consultation.matchmaking import Problem, schedule_all, upper_bound  # noqa: E402
from service.domain.consultation.meetings import load_problem  # noqa: E402

NOW = datetime(2026, 1, 5, 8, tzinfo=UTC)
DAY_START = datetime(2035, 11, 12, 8, tzinfo=UTC)  # 09:00 in Brussels
MEETING = timedelta(minutes=20)
RUNS = 5


async def _store(db: AsyncSession, problem: Problem, number: int) -> int:
    """Write `problem` as a Meet-your-Buyer event; returns the event's id."""
    event = Event(kind=EventKind.MEET_YOUR_BUYER, title=f"Consultation {number}", slug=f"myb-{number}",
                  timezone="Europe/Brussels", status=EventStatus.PUBLISHED, created_at=NOW, updated_at=NOW)
    db.add(event)
    await db.flush()
    slot_count = len(problem.slots)
    db.add(MeetingGrid(event_id=event.id, meeting_minutes=20, gap_minutes=0, created_at=NOW, updated_at=NOW))
    db.add(MeetingGridDay(event_id=event.id, starts_at=DAY_START, ends_at=DAY_START + MEETING * slot_count))
    db.add_all(MeetingSlot(event_id=event.id, starts_at=DAY_START + MEETING * s.index,
                           ends_at=DAY_START + MEETING * (s.index + 1)) for s in problem.slots)
    db.add_all(MeetingTable(event_id=event.id, name=f"Table {t}", position=t) for t in problem.table_ids)
    index_of = {s.id: s.index for s in problem.slots}
    hosts: dict[int, int] = {}
    for host_id, available in sorted(problem.availability.items()):
        person = Person(name=f"Host {host_id}", email=f"host{host_id}@buyer.example.org",
                        created_at=NOW, updated_at=NOW)
        db.add(person)
        await db.flush()
        host = MeetingHost(event_id=event.id, person_id=person.id, created_at=NOW)
        db.add(host)
        await db.flush()
        hosts[host_id] = host.id
        indexes = sorted(index_of[s] for s in available)
        runs: list[list[int]] = []
        for i in indexes:  # contiguous runs of slots as intervals
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        if len(indexes) < slot_count:
            if not runs:  # available nowhere: a zero-width interval outside every slot
                runs = [[slot_count]]
            db.add_all(HostAvailability(host_id=host.id, starts_at=DAY_START + MEETING * run[0],
                                        ends_at=DAY_START + MEETING * (run[-1] + 1)) for run in runs)
    suppliers: dict[int, int] = {}
    for supplier_id in sorted({r.supplier_id for r in problem.requests}):
        registration = Registration(
            event_id=event.id, status=RegistrationStatus.CONFIRMED, name=f"Supplier {supplier_id}",
            email=f"s{supplier_id}@vendor.example.com", email_normalised=f"s{supplier_id}@vendor.example.com",
            organisation_kind=OrganisationKind.SUPPLIER, company=f"Vendor {supplier_id}",
            consent_at=NOW, created_at=NOW, updated_at=NOW)
        db.add(registration)
        await db.flush()
        suppliers[supplier_id] = registration.id
    db.add_all(MeetingRequest(event_id=event.id, registration_id=suppliers[r.supplier_id],
                              host_id=hosts[r.host_id], rank=r.rank, topic="Offer",
                              status=MeetingRequestStatus.ACCEPTED, created_at=NOW, updated_at=NOW)
               for r in problem.requests)
    await db.commit()
    return event.id


async def _measure(db: AsyncSession, event_id: int) -> dict[str, float]:
    loads, runs = [], []
    loaded = None
    for _ in range(RUNS):
        db.expunge_all()
        started = time.perf_counter()
        loaded = await load_problem(db, event_id)
        loads.append(time.perf_counter() - started)
    assert loaded is not None
    problem = loaded.problem
    schedule = None
    for _ in range(RUNS):
        started = time.perf_counter()
        schedule = schedule_all(problem)
        runs.append(time.perf_counter() - started)
    assert schedule is not None
    bound = upper_bound(problem)
    return {
        "requested": len(problem.requests),
        "placed": len(schedule.placements),
        "bound": bound,
        "idle_gaps": schedule.idle_gaps,
        "load_seconds": statistics.median(loads),
        "schedule_seconds": statistics.median(runs),
    }


FAMILIES = {
    "random": lambda seed: random_instance(seed),
    "planted-tight": lambda seed: planted_instance(seed, spare=0.0),
    "planted-3to5": lambda seed: planted_instance(seed, hosts=40, tables=30, spare=0.0),
}


async def main(seeds: int) -> dict[str, object]:
    results: dict[str, list[dict[str, float]]] = {name: [] for name in FAMILIES}
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/matchmaking.db")
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessions = make_sessionmaker(engine)
        number = 0
        for name, make in FAMILIES.items():
            for seed in range(seeds):
                number += 1
                problem = make(seed)
                async with sessions() as db:
                    event_id = await _store(db, problem, number)
                async with sessions() as db:
                    figures = await _measure(db, event_id)
                results[name].append(figures)
                ratio = figures["placed"] / (figures["bound"] if name == "random" else figures["requested"])
                print(f"{name:14} seed {seed}: requested {figures['requested']:4.0f}, placed "
                      f"{figures['placed']:4.0f}, bound {figures['bound']:4.0f} -> {ratio:.3f}; idle gaps "
                      f"{figures['idle_gaps']:.0f}; schedule {figures['schedule_seconds'] * 1000:7.1f} ms, "
                      f"load {figures['load_seconds'] * 1000:6.1f} ms")
        await engine.dispose()

    summary: dict[str, object] = {"seeds": seeds}
    for name, rows in results.items():
        denominator = "bound" if name == "random" else "requested"
        ratios = [r["placed"] / r[denominator] for r in rows]
        time_ratio = [r["schedule_seconds"] / r["load_seconds"] for r in rows]
        summary[name] = {
            f"placed_over_{denominator}_min": round(min(ratios), 4),
            f"placed_over_{denominator}_mean": round(statistics.mean(ratios), 4),
            "schedule_over_load_time_median": round(statistics.median(time_ratio), 3),
            "schedule_over_load_time_max": round(max(time_ratio), 3),
        }
        target = 0.95 if name == "random" else 0.98
        print(f"{name}: placed/{denominator} min {min(ratios):.3f} mean {statistics.mean(ratios):.3f} "
              f"(target >= {target}); schedule time / load time median {statistics.median(time_ratio):.2f}, "
              f"max {max(time_ratio):.2f}")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(main(arguments.seeds)), sort_keys=True))
