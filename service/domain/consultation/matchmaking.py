"""Schedule all: accepted meeting requests placed into (slot, table), with no database.

The problem: every accepted request (a supplier and a host) wants one slot of the grid where
the host is available, the host and the supplier have no other meeting, and a table is
free. It is a three-way assignment (NP-hard in general), so no per-slot matching settles it:
a supplier's meetings span slots. What runs here:

1. locked meetings are put back exactly where they were;
2. the other requests are placed greedily, scarcest first (fewest feasible slots, busiest
   host), each into the feasible slot that leaves its host and supplier the fewest gaps;
3. each request left over is tried again with an *ejection chain* (augmenting path): put it
   in a slot and move the one meeting it collides with to another slot, and so on, found by
   a breadth-first search and checked before it is applied;
4. placed meetings are moved one at a time to free slots while that closes idle gaps;
5. tables are given per slot, each host kept at the same table where it can.

`upper_bound` is a max-flow relaxation (it drops the supplier's or the host's
one-meeting-per-slot rule in turn): no schedule places more, so placed / bound measures how
far from optimal a run can be. benchmarks/matchmaking.py reports both.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slot:
    """One meeting time of the grid. `day` groups slots for counting idle gaps; `index`
    orders them within the whole grid."""

    id: int
    index: int
    day: int = 0


@dataclass(frozen=True)
class Request:
    """An accepted request. `rank` is the supplier's choice (1 first); lower ranks are
    preferred when not every request fits."""

    id: int
    supplier_id: int
    host_id: int
    rank: int = 1


@dataclass(frozen=True)
class Placement:
    request_id: int
    slot_id: int
    table_id: int


@dataclass(frozen=True)
class Problem:
    slots: Sequence[Slot]
    table_ids: Sequence[int]
    requests: Sequence[Request]
    # Host -> the slot ids they are available in (a host missing here has no availability).
    availability: dict[int, frozenset[int]]
    # Meetings that stay put (their request is among `requests`).
    locked: Sequence[Placement] = ()


@dataclass
class Schedule:
    placements: list[Placement]
    unplaced: list[int]
    idle_gaps: int
    # Locked meetings that could not stay (their slot, table, host or supplier clashed).
    refused_locks: list[int] = field(default_factory=list)


class _State:
    """Which request sits in which slot, with the reverse indexes the checks need."""

    def __init__(self, problem: Problem) -> None:
        self.capacity = len(problem.table_ids)
        self.slot_of: dict[int, int] = {}
        self.host_at: dict[tuple[int, int], int] = {}
        self.supplier_at: dict[tuple[int, int], int] = {}
        self.in_slot: dict[int, set[int]] = defaultdict(set)
        self.requests = {r.id: r for r in problem.requests}

    def conflicts(self, request: Request, slot_id: int) -> set[int]:
        """The placed requests that stop `request` from sitting in `slot_id`."""
        found: set[int] = set()
        host = self.host_at.get((request.host_id, slot_id))
        if host is not None and host != request.id:
            found.add(host)
        supplier = self.supplier_at.get((request.supplier_id, slot_id))
        if supplier is not None and supplier != request.id:
            found.add(supplier)
        return found

    def is_full(self, slot_id: int, ignoring: Iterable[int] = ()) -> bool:
        others = self.in_slot[slot_id].difference(ignoring)
        return len(others) >= self.capacity

    def place(self, request: Request, slot_id: int) -> None:
        self.slot_of[request.id] = slot_id
        self.host_at[(request.host_id, slot_id)] = request.id
        self.supplier_at[(request.supplier_id, slot_id)] = request.id
        self.in_slot[slot_id].add(request.id)

    def remove(self, request: Request) -> int:
        slot_id = self.slot_of.pop(request.id)
        del self.host_at[(request.host_id, slot_id)]
        del self.supplier_at[(request.supplier_id, slot_id)]
        self.in_slot[slot_id].discard(request.id)
        return slot_id

    def fits(self, request: Request, slot_id: int) -> bool:
        return not self.conflicts(request, slot_id) and not self.is_full(slot_id, (request.id,))


class _Gaps:
    """Idle gaps: for each host and each supplier, per day, the empty slots between their
    first and last meeting."""

    def __init__(self, slots: Sequence[Slot]) -> None:
        self.position = {s.id: (s.day, s.index) for s in slots}
        ordered = sorted(slots, key=lambda s: (s.day, s.index))
        # Rank of each slot within its day, so the gap counts slots, not index jumps.
        self.rank: dict[int, tuple[int, int]] = {}
        counts: dict[int, int] = defaultdict(int)
        for s in ordered:
            self.rank[s.id] = (s.day, counts[s.day])
            counts[s.day] += 1

    def of(self, slot_ids: Iterable[int]) -> int:
        by_day: dict[int, list[int]] = defaultdict(list)
        for slot_id in slot_ids:
            day, rank = self.rank[slot_id]
            by_day[day].append(rank)
        return sum(max(ranks) - min(ranks) + 1 - len(ranks) for ranks in by_day.values())


class _Scheduler:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.state = _State(problem)
        self.gaps = _Gaps(problem.slots)
        self.slot_ids = {s.id for s in problem.slots}
        self.locked: set[int] = set()
        self.host_slots: dict[int, set[int]] = defaultdict(set)
        self.supplier_slots: dict[int, set[int]] = defaultdict(set)
        self.feasible: dict[int, list[int]] = {
            r.id: sorted(
                (s for s in problem.availability.get(r.host_id, frozenset()) if s in self.slot_ids),
                key=lambda s: self.gaps.rank[s],
            )
            for r in problem.requests
        }

    # -- bookkeeping of each person's slots, kept beside the state for the gap costs
    def _place(self, request: Request, slot_id: int) -> None:
        self.state.place(request, slot_id)
        self.host_slots[request.host_id].add(slot_id)
        self.supplier_slots[request.supplier_id].add(slot_id)

    def _remove(self, request: Request) -> int:
        slot_id = self.state.remove(request)
        self.host_slots[request.host_id].discard(slot_id)
        self.supplier_slots[request.supplier_id].discard(slot_id)
        return slot_id

    def _gap_cost(self, request: Request, slot_id: int) -> int:
        """The idle gaps of this request's host and supplier were it to sit in `slot_id`."""
        host = self.host_slots[request.host_id] | {slot_id}
        supplier = self.supplier_slots[request.supplier_id] | {slot_id}
        return self.gaps.of(host) + self.gaps.of(supplier)

    def run(self) -> Schedule:
        refused: list[int] = []
        requests = self.state.requests
        tables = set(self.problem.table_ids)
        locked_tables: dict[int, dict[int, int]] = defaultdict(dict)  # slot -> table -> request
        for lock in self.problem.locked:
            request = requests.get(lock.request_id)
            if (
                request is None
                or lock.slot_id not in self.slot_ids
                or lock.table_id not in tables
                or lock.table_id in locked_tables[lock.slot_id]
                or not self.state.fits(request, lock.slot_id)
            ):
                refused.append(lock.request_id)
                continue
            self._place(request, lock.slot_id)
            self.locked.add(request.id)
            locked_tables[lock.slot_id][lock.table_id] = request.id

        pending = [r for r in self.problem.requests if r.id not in self.locked]
        host_load: dict[int, int] = defaultdict(int)
        for r in pending:
            host_load[r.host_id] += 1

        def scarcity(r: Request) -> tuple[int, float, int, int]:
            room = len(self.feasible[r.id]) or 1
            return (r.rank, -host_load[r.host_id] / room, len(self.feasible[r.id]), r.id)

        pending.sort(key=scarcity)
        unplaced: list[Request] = []
        for request in pending:
            if not self._place_directly(request):
                unplaced.append(request)

        still: list[Request] = []
        if unplaced and len(self.state.slot_of) >= upper_bound(self.problem):
            still, unplaced = unplaced, []  # already as many as any schedule can hold
        for request in unplaced:
            if not self._augment(request):
                still.append(request)
        # A later augmentation may have opened room for an earlier failure.
        retry, still = still, []
        for request in retry:
            if not (self._place_directly(request) or self._augment(request)):
                still.append(request)

        self._close_gaps()
        placements = self._tables(locked_tables)
        idle = sum(self.gaps.of(slots) for slots in self.host_slots.values()) + sum(
            self.gaps.of(slots) for slots in self.supplier_slots.values()
        )
        return Schedule(
            placements=placements,
            unplaced=sorted(r.id for r in still),
            idle_gaps=idle,
            refused_locks=refused,
        )

    def _place_directly(self, request: Request) -> bool:
        best: tuple[int, tuple[int, int]] | None = None
        best_slot = -1
        for slot_id in self.feasible[request.id]:
            if not self.state.fits(request, slot_id):
                continue
            key = (self._gap_cost(request, slot_id), self.gaps.rank[slot_id])
            if best is None or key < best:
                best, best_slot = key, slot_id
        if best is None:
            return False
        self._place(request, best_slot)
        return True

    def _hopeless(self, request: Request) -> bool:
        """Every slot of the host (or every slot of the grid for the supplier) is taken:
        no chain of moves can make room without dropping someone."""
        room = self.feasible[request.id]
        host_free = any((request.host_id, s) not in self.state.host_at for s in room)
        supplier_free = any((request.supplier_id, s) not in self.state.supplier_at for s in self.slot_ids)
        every_table_taken = len(self.state.slot_of) >= self.state.capacity * len(self.slot_ids)
        return not host_free or not supplier_free or every_table_taken

    def _augment(self, request: Request, budget: int = 4000) -> bool:
        """Breadth-first search for a chain: request -> slot, ejecting one meeting, which
        moves to another slot, ejecting one, ... until a move ejects nothing."""
        if self._hopeless(request):
            return False
        requests = self.state.requests
        # Each node: (request to seat, the chain so far as [(request_id, slot_id)]).
        queue: deque[tuple[int, tuple[tuple[int, int], ...]]] = deque([(request.id, ())])
        seen: set[tuple[int, int]] = set()
        expanded = 0
        while queue and expanded < budget:
            current_id, chain = queue.popleft()
            expanded += 1
            current = requests[current_id]
            moving = {rid for rid, _ in chain} | {current_id}
            own_slot = self.state.slot_of.get(current_id)
            for slot_id in self.feasible[current_id]:
                if slot_id == own_slot or (current_id, slot_id) in seen:
                    continue
                if any(s == slot_id for _, s in chain):
                    continue  # keep chains simple: one arrival per slot
                seen.add((current_id, slot_id))
                blockers = self.state.conflicts(current, slot_id) - moving
                full = self.state.is_full(slot_id, moving)
                step = (*chain, (current_id, slot_id))
                if not blockers and not full:
                    if self._apply(step):
                        return True
                    continue
                candidates: set[int]
                if len(blockers) == 1:
                    candidates = blockers
                elif not blockers and full:
                    candidates = self.state.in_slot[slot_id] - moving
                else:
                    continue
                for blocker in candidates:
                    if blocker not in self.locked:
                        queue.append((blocker, step))
        return False

    def _apply(self, chain: tuple[tuple[int, int], ...]) -> bool:
        """Carry out a chain; undo it when the moves collide with each other."""
        requests = self.state.requests
        before = {rid: self.state.slot_of.get(rid) for rid, _ in chain}
        for rid, _ in chain:
            if rid in self.state.slot_of:
                self._remove(requests[rid])
        done: list[int] = []
        ok = True
        for rid, slot_id in chain:
            if not self.state.fits(requests[rid], slot_id):
                ok = False
                break
            self._place(requests[rid], slot_id)
            done.append(rid)
        if ok:
            return True
        for rid in done:
            self._remove(requests[rid])
        for rid, old_slot in before.items():
            if old_slot is not None:
                self._place(requests[rid], old_slot)
        return False

    def _close_gaps(self, rounds: int = 4) -> None:
        requests = self.state.requests
        for _ in range(rounds):
            improved = False
            for rid in sorted(self.state.slot_of):
                if rid in self.locked:
                    continue
                request = requests[rid]
                current = self._remove(request)
                here = self._gap_cost(request, current)
                best, best_slot = here, current
                for slot_id in self.feasible[rid]:
                    if slot_id != current and self.state.fits(request, slot_id):
                        cost = self._gap_cost(request, slot_id)
                        if cost < best:
                            best, best_slot = cost, slot_id
                self._place(request, best_slot)
                improved = improved or best_slot != current
            if not improved:
                return

    def _tables(self, locked_tables: dict[int, dict[int, int]]) -> list[Placement]:
        """Tables per slot: locked ones as they were, then each host at their usual table."""
        requests = self.state.requests
        table_ids = list(self.problem.table_ids)
        home: dict[int, int] = {}
        for slot_tables in locked_tables.values():
            for table_id, rid in slot_tables.items():
                home.setdefault(requests[rid].host_id, table_id)
        hosts = sorted({r.host_id for r in requests.values()})
        taken_homes = set(home.values())
        free_homes = [t for t in table_ids if t not in taken_homes]
        for host in hosts:
            if host not in home and free_homes:
                home[host] = free_homes.pop(0)
        placements: list[Placement] = []
        for slot_id in sorted(self.state.in_slot):
            used = dict(locked_tables.get(slot_id, {}))
            for table_id, rid in used.items():
                placements.append(Placement(rid, slot_id, table_id))
            rest = sorted(rid for rid in self.state.in_slot[slot_id] if rid not in self.locked)
            waiting: list[int] = []
            for rid in rest:
                table = home.get(requests[rid].host_id)
                if table is not None and table not in used:
                    used[table] = rid
                    placements.append(Placement(rid, slot_id, table))
                else:
                    waiting.append(rid)
            free = [t for t in table_ids if t not in used]
            for rid, table in zip(waiting, free, strict=False):
                used[table] = rid
                placements.append(Placement(rid, slot_id, table))
        placements.sort(key=lambda p: (self.gaps.rank[p.slot_id], p.table_id))
        return placements


def schedule_all(problem: Problem) -> Schedule:
    """Place as many accepted requests as possible, then leave as few idle gaps as possible;
    locked meetings stay where they are."""
    return _Scheduler(problem).run()


def _max_flow(graph: dict[object, dict[object, int]], source: object, sink: object) -> int:
    """Dinic's algorithm over a dict-of-dicts capacity graph (mutated)."""
    for u in list(graph):
        for v in list(graph[u]):
            graph.setdefault(v, {}).setdefault(u, 0)
    flow = 0
    while True:
        level = {source: 0}
        queue = deque([source])
        while queue:
            u = queue.popleft()
            for v, cap in graph[u].items():
                if cap > 0 and v not in level:
                    level[v] = level[u] + 1
                    queue.append(v)
        if sink not in level:
            return flow
        pointers = {u: list(graph[u]) for u in graph}
        while True:
            pushed = _push(graph, level, pointers, source, sink, 1 << 30)
            if not pushed:
                break
            flow += pushed


def _push(
    graph: dict[object, dict[object, int]],
    level: dict[object, int],
    pointers: dict[object, list[object]],
    u: object,
    sink: object,
    limit: int,
) -> int:
    """One augmenting path of Dinic's blocking flow (paths are four edges long here)."""
    if u == sink:
        return limit
    edges = pointers[u]
    while edges:
        v = edges[-1]
        cap = graph[u][v]
        if cap > 0 and level.get(v) == level[u] + 1:
            pushed = _push(graph, level, pointers, v, sink, min(limit, cap))
            if pushed:
                graph[u][v] -= pushed
                graph[v][u] += pushed
                return pushed
        edges.pop()
    return 0


def upper_bound(problem: Problem) -> int:
    """No schedule places more meetings than this. Two flows (request -> person's slot ->
    slot's tables -> sink), one keeping the hosts' one-per-slot rule and one the suppliers',
    each dropping the other; the smaller is the bound."""
    slot_ids = {s.id for s in problem.slots}
    capacity = len(problem.table_ids)
    bounds = []
    for person in ("host", "supplier"):
        graph: dict[object, dict[object, int]] = {"source": {}}
        for r in problem.requests:
            node = ("r", r.id)
            graph["source"][node] = 1
            graph[node] = {}
            who = r.host_id if person == "host" else r.supplier_id
            for s in problem.availability.get(r.host_id, frozenset()):
                if s in slot_ids:
                    graph[node][(person, who, s)] = 1
                    graph.setdefault((person, who, s), {})[("slot", s)] = 1
        for s in slot_ids:
            graph.setdefault(("slot", s), {})["sink"] = capacity
        graph.setdefault("sink", {})
        bounds.append(_max_flow(graph, "source", "sink"))
    return min(bounds)
