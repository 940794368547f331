"""Schedule all, on plain dataclasses: no double booking, availability, locks, gaps."""

from __future__ import annotations

import itertools
import random

from service.domain.consultation.matchmaking import (
    Placement,
    Problem,
    Request,
    Schedule,
    Slot,
    schedule_all,
    upper_bound,
)


def _check(problem: Problem, schedule: Schedule) -> None:
    """The rules every schedule keeps."""
    requests = {r.id: r for r in problem.requests}
    seen_hosts: set[tuple[int, int]] = set()
    seen_suppliers: set[tuple[int, int]] = set()
    seen_tables: set[tuple[int, int]] = set()
    for p in schedule.placements:
        r = requests[p.request_id]
        assert p.slot_id in problem.availability[r.host_id]
        for key, seen in (
            ((r.host_id, p.slot_id), seen_hosts),
            ((r.supplier_id, p.slot_id), seen_suppliers),
            ((p.table_id, p.slot_id), seen_tables),
        ):
            assert key not in seen
            seen.add(key)
        assert p.table_id in problem.table_ids
    placed = {p.request_id for p in schedule.placements}
    assert sorted(placed | set(schedule.unplaced)) == sorted(requests)
    assert placed.isdisjoint(schedule.unplaced)


def _grid(n: int) -> list[Slot]:
    return [Slot(id=i + 1, index=i) for i in range(n)]


def test_a_supplier_with_three_hosts_meets_each_once_back_to_back() -> None:
    problem = Problem(
        slots=_grid(5),
        table_ids=[1, 2, 3],
        requests=[Request(id=i, supplier_id=1, host_id=i) for i in (1, 2, 3)],
        availability={h: frozenset(range(1, 6)) for h in (1, 2, 3)},
    )
    schedule = schedule_all(problem)
    _check(problem, schedule)
    assert len(schedule.placements) == 3
    assert sorted(p.slot_id for p in schedule.placements) in ([1, 2, 3], [2, 3, 4], [3, 4, 5])
    assert schedule.idle_gaps == 0


def test_availability_and_tables_limit_what_fits_and_the_rest_is_unplaced() -> None:
    # Host 1 is free only in slot 2; both suppliers want them: one meeting, one left over.
    problem = Problem(
        slots=_grid(3),
        table_ids=[7],
        requests=[Request(id=1, supplier_id=1, host_id=1), Request(id=2, supplier_id=2, host_id=1, rank=2)],
        availability={1: frozenset({2})},
    )
    schedule = schedule_all(problem)
    _check(problem, schedule)
    assert schedule.placements == [Placement(request_id=1, slot_id=2, table_id=7)]
    assert schedule.unplaced == [2]
    assert upper_bound(problem) == 1


def test_a_chain_of_moves_places_what_the_greedy_pass_left_out() -> None:
    # A complete schedule exists only if every meeting sits in one exact slot: a Latin
    # square of 4 hosts x 4 suppliers over 4 slots, one table per host.
    requests = [
        Request(id=h * 10 + p, supplier_id=p, host_id=h) for h, p in itertools.product(range(4), range(4))
    ]
    problem = Problem(
        slots=_grid(4), table_ids=[1, 2, 3, 4], requests=requests,
        availability={h: frozenset(range(1, 5)) for h in range(4)},
    )
    schedule = schedule_all(problem)
    _check(problem, schedule)
    assert len(schedule.placements) == 16
    assert schedule.unplaced == []


def test_locked_meetings_stay_put_on_a_rerun() -> None:
    problem = Problem(
        slots=_grid(4),
        table_ids=[1, 2],
        requests=[Request(id=i, supplier_id=i, host_id=1) for i in (1, 2, 3)],
        availability={1: frozenset(range(1, 5))},
        locked=[Placement(request_id=2, slot_id=4, table_id=2)],
    )
    schedule = schedule_all(problem)
    _check(problem, schedule)
    assert Placement(request_id=2, slot_id=4, table_id=2) in schedule.placements
    assert len(schedule.placements) == 3
    assert schedule.refused_locks == []


def test_a_lock_that_no_longer_fits_is_reported_not_kept() -> None:
    problem = Problem(
        slots=_grid(2),
        table_ids=[1],
        requests=[Request(id=1, supplier_id=1, host_id=1)],
        availability={1: frozenset({1})},
        locked=[Placement(request_id=1, slot_id=9, table_id=1)],  # slot 9 left the grid
    )
    schedule = schedule_all(problem)
    assert schedule.refused_locks == [1]
    assert schedule.placements == [Placement(request_id=1, slot_id=1, table_id=1)]


def test_random_consultations_keep_every_rule_and_reach_the_bound() -> None:
    rng = random.Random(5)
    for _ in range(20):
        slots = _grid(rng.randint(2, 8))
        hosts = rng.randint(1, 5)
        requests = []
        for supplier in range(1, rng.randint(2, 12)):
            for host in rng.sample(range(hosts), rng.randint(1, hosts)):
                requests.append(Request(id=len(requests) + 1, supplier_id=supplier, host_id=host))
        problem = Problem(
            slots=slots,
            table_ids=list(range(1, rng.randint(1, hosts) + 1)),
            requests=requests,
            availability={h: frozenset(s.id for s in slots if rng.random() < 0.7) for h in range(hosts)},
        )
        schedule = schedule_all(problem)
        _check(problem, schedule)
        assert len(schedule.placements) >= 0.9 * upper_bound(problem)
