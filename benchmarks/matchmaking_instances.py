"""Generated Meet-your-Buyer consultations for the scheduler's benchmark and tests.

Two families:
- `random_instance`: hosts with availability gaps, suppliers asking 3-5 distinct hosts;
  far more requests than host slots, so the bound (a max-flow relaxation) is what the
  placed count is measured against;
- `planted_instance`: a complete schedule is drawn first (every host and supplier at most
  once per slot, within availability, tables enough), and the requests are exactly its
  meetings, shuffled: a complete schedule is known to exist.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.domain.consultation.matchmaking import Problem, Request, Slot


def _slots(count: int, days: int) -> list[Slot]:
    per_day = max(1, count // days)
    return [Slot(id=i + 1, index=i, day=min(i // per_day, days - 1)) for i in range(count)]


def random_instance(
    seed: int,
    *,
    hosts: int = 10,
    suppliers: int = 120,
    slots: int = 16,
    tables: int = 10,
    requests_per_supplier: tuple[int, int] = (3, 5),
    availability: float = 0.8,
) -> Problem:
    rng = random.Random(seed)
    grid = _slots(slots, 1)
    avail = {
        h: frozenset(s.id for s in grid if rng.random() < availability) for h in range(1, hosts + 1)
    }
    requests: list[Request] = []
    for supplier in range(1, suppliers + 1):
        wanted = rng.randint(*requests_per_supplier)
        for rank, host in enumerate(rng.sample(range(1, hosts + 1), min(wanted, hosts)), start=1):
            requests.append(Request(id=len(requests) + 1, supplier_id=supplier, host_id=host, rank=rank))
    return Problem(slots=grid, table_ids=list(range(1, tables + 1)), requests=requests, availability=avail)


def planted_instance(
    seed: int,
    *,
    hosts: int = 10,
    suppliers: int = 120,
    slots: int = 16,
    tables: int = 10,
    requests_per_supplier: tuple[int, int] = (3, 5),
    fill: float = 1.0,
    spare: float = 0.3,
) -> Problem:
    """Each supplier gets 3-5 meetings with distinct hosts, as far as the host slots allow;
    `fill` is the share of host slots a schedule may use; `spare` the chance that a host is
    also available in a slot the drawn schedule does not use them in (0: only those)."""
    rng = random.Random(seed)
    grid = _slots(slots, 1)
    free_host = {(h, s.id) for h in range(1, hosts + 1) for s in grid}
    per_slot_room = {s.id: tables for s in grid}
    busy_supplier: set[tuple[int, int]] = set()
    met: set[tuple[int, int]] = set()
    budget = int(len(free_host) * fill)
    meetings: list[tuple[int, int, int]] = []  # supplier, host, slot
    order = list(range(1, suppliers + 1))
    wants = {p: rng.randint(*requests_per_supplier) for p in order}
    # Round-robin over suppliers, one meeting at a time, until the budget or the wants end.
    progress = True
    while progress and len(meetings) < budget:
        progress = False
        rng.shuffle(order)
        for supplier in order:
            if wants[supplier] == 0 or len(meetings) >= budget:
                continue
            options = [
                (h, s)
                for (h, s) in free_host
                if (supplier, s) not in busy_supplier and (supplier, h) not in met and per_slot_room[s] > 0
            ]
            if not options:
                continue
            host, slot = rng.choice(sorted(options))
            free_host.discard((host, slot))
            per_slot_room[slot] -= 1
            busy_supplier.add((supplier, slot))
            met.add((supplier, host))
            wants[supplier] -= 1
            meetings.append((supplier, host, slot))
            progress = True
    used_by_host: dict[int, set[int]] = {h: set() for h in range(1, hosts + 1)}
    for _, host, slot in meetings:
        used_by_host[host].add(slot)
    # Availability: the slots used, plus some others (a host is rarely free only when booked).
    avail = {
        h: frozenset(used_by_host[h] | {s.id for s in grid if rng.random() < spare}) for h in used_by_host
    }
    rng.shuffle(meetings)
    requests = [
        Request(id=i + 1, supplier_id=supplier, host_id=host, rank=1 + i % 3)
        for i, (supplier, host, _) in enumerate(meetings)
    ]
    return Problem(slots=grid, table_ids=list(range(1, tables + 1)), requests=requests, availability=avail)
