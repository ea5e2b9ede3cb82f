"""Tabu search on the critical path for the makespan of a flexible job shop (no solver).

A schedule is a module per task and an order per module; the makespan is the longest path
of the graph whose arcs are the precedences and each module's order (heads ``r`` from the
releases forward, tails ``q`` backward). A move takes one **critical** task (on a longest
path) out of its module and inserts it into any eligible module (its own included) at a
position that cannot close a cycle, after Mastrolilli & Gambardella, "Effective
neighbourhood functions for the flexible job shop problem", J. Scheduling 3 (2000) 3-20:

- inserting ``v`` between ``u`` and ``w`` is safe when ``u`` is not a descendant of ``v``
  (``r[u] < r[v] + p[v]``) and ``w`` not an ancestor (``q[w] < q[v] + p[v]``); along a
  module's order both tests fail on a prefix / suffix only, so the safe positions are a range;
- the longest path through ``v`` after the move is exact from the old heads and tails
  (``max(r of v's predecessors + p, r[u] + p[u]) + p'(v) + max(q of v's successors + p,
  q[w] + p[w])``), because neither ``u``'s head nor ``w``'s tail depends on ``v``;
- the best move that is not tabu (or beats the best makespan) is applied, heads and tails are
  recomputed in O(tasks + arcs), and the moved task may not move again for a few iterations;
  a long run without improvement restarts from the best schedule with a random kick.

On its own module, the heads of the tasks after ``v`` and the tails of those before it are
re-propagated without ``v`` (`_without`) so that swapping ``v`` with a neighbour is valued
right. The cycle tests use both heads and tails (`_not_after`, `_not_before`), so the classic
swap of two adjacent critical tasks is always allowed.

Applies to problems whose first objective stage is the makespan alone and that have no setups,
unavailable windows, fixed tasks or batches (`applies`); releases and module releases count.
"""

# ruff: noqa: PLR1730 - max() calls took a third of the search's time; the hot loops compare explicitly

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from microfab.scheduling.problem import Criterion, SchedulingProblem
from microfab.scheduling.result import Placement

__all__ = ["Sequencing", "applies", "improve"]

_TENURE_BASE = 2
"""A moved task stays put for ``t`` to ``2 t`` iterations, ``t = _TENURE_BASE + tasks / modules``
(Mastrolilli & Gambardella tie the tenure to the same ratio); tabu on the task itself did better
than on (task, module, neighbour) on Brandimarte, Hurink and Dauzère-Pérès instances."""

_PATIENCE_MIN, _PATIENCE_PER_TASK, _KICK_PER = 200, 4, 50
"""After ``max(200, 4 * tasks)`` iterations without a new best, restart from the best with
``1 + tasks / 50`` random moves of critical tasks."""


def applies(problem: SchedulingProblem) -> bool:
    """Whether the tabu search models *problem* exactly (see the module's docstring)."""
    if set(problem.objective.stages[0]) != {Criterion.MAKESPAN}:
        return False
    if any(w for w in problem.unavailable.values()):
        return False
    if any(s.longest > 0 for s in problem.setups.values()):
        return False
    if any(problem.batches(m) for m in problem.modules) and any(t.batch is not None for t in problem.tasks):
        return False
    return all(t.fixed is None for t in problem.tasks)


@dataclass(slots=True)
class _Data:
    """The problem as integer arrays: tasks and modules by index."""

    ids: list[str]
    modules: list[str]
    options: list[list[tuple[int, int]]]  # per task: (module, duration)
    duration: list[dict[int, int]]
    preds: list[list[int]]
    succs: list[list[int]]
    release: list[int]
    module_release: list[int]


def _data(problem: SchedulingProblem) -> _Data:
    ids = [t.id for t in problem.tasks]
    index = {t: i for i, t in enumerate(ids)}
    modules = list(problem.modules)
    m_index = {m: i for i, m in enumerate(modules)}
    duration = [{m_index[m]: d for m, d in t.durations.items()} for t in problem.tasks]
    preds = [sorted({index[p] for p in t.predecessors}) for t in problem.tasks]
    succs: list[list[int]] = [[] for _ in ids]
    for v, ps in enumerate(preds):
        for u in ps:
            succs[u].append(v)
    return _Data(
        ids,
        modules,
        [sorted(d.items()) for d in duration],
        duration,
        preds,
        succs,
        [t.release for t in problem.tasks],
        [problem.module_release.get(m, 0) for m in modules],
    )


class Sequencing:
    """A module per task and an order per module, with heads, tails and the makespan kept current."""

    def __init__(self, data: _Data, machine: list[int], sequences: list[list[int]]) -> None:
        self.data = data
        n = len(data.ids)
        self.machine = machine
        self.sequences = sequences
        self.p = [data.duration[v][machine[v]] for v in range(n)]
        self.position = [0] * n
        for seq in sequences:
            for i, v in enumerate(seq):
                self.position[v] = i
        self.r = [0] * n
        self.q = [0] * n
        self.makespan = 0
        if not self.evaluate():
            raise ValueError("tabu: the starting schedule's module orders contradict its precedences")

    @classmethod
    def from_placements(cls, problem: SchedulingProblem, placements: Sequence[Placement]) -> Sequencing:
        """The module choices and orders of *placements* (a complete schedule of *problem*)."""
        data = _data(problem)
        index = {t: i for i, t in enumerate(data.ids)}
        m_index = {m: i for i, m in enumerate(data.modules)}
        machine = [0] * len(data.ids)
        sequences: list[list[int]] = [[] for _ in data.modules]
        for placement in sorted(placements, key=lambda p: (p.start, p.end, p.task)):
            v, k = index[placement.task], m_index[placement.module]
            machine[v] = k
            sequences[k].append(v)
        return cls(data, machine, sequences)

    def copy(self) -> Sequencing:
        """An independent copy."""
        return Sequencing(self.data, list(self.machine), [list(s) for s in self.sequences])

    def evaluate(self) -> bool:  # noqa: C901, PLR0912 - the tabu search's hot loop, kept in one piece for speed
        """Recompute heads, tails and the makespan; False if the orders and precedences form a cycle."""
        data, machine, seqs, pos, p = self.data, self.machine, self.sequences, self.position, self.p
        preds, succs, release, mrel = data.preds, data.succs, data.release, data.module_release
        n = len(p)
        missing = [len(preds[v]) + (1 if pos[v] else 0) for v in range(n)]
        order = [v for v in range(n) if not missing[v]]
        for v in order:  # grows while it is walked: Kahn's algorithm
            for s in succs[v]:
                missing[s] -= 1
                if not missing[s]:
                    order.append(s)
            seq = seqs[machine[v]]
            j = pos[v] + 1
            if j < len(seq):
                s = seq[j]
                missing[s] -= 1
                if not missing[s]:
                    order.append(s)
        if len(order) < n:
            return False
        r, q = self.r, self.q
        makespan = 0
        for v in order:
            head = release[v]
            if pos[v]:
                u = seqs[machine[v]][pos[v] - 1]
                end = r[u] + p[u]
                if end > head:
                    head = end
            elif mrel[machine[v]] > head:
                head = mrel[machine[v]]
            for a in preds[v]:
                end = r[a] + p[a]
                if end > head:
                    head = end
            r[v] = head
            if head + p[v] > makespan:
                makespan = head + p[v]
        for v in reversed(order):
            tail = 0
            for s in succs[v]:
                end = q[s] + p[s]
                if end > tail:
                    tail = end
            seq = seqs[machine[v]]
            j = pos[v] + 1
            if j < len(seq):
                s = seq[j]
                end = q[s] + p[s]
                if end > tail:
                    tail = end
            q[v] = tail
        self.makespan = makespan
        return True

    def move(self, v: int, k: int, i: int) -> None:
        """Take task *v* out of its module's order and insert it into module *k* at index *i*."""
        old = self.sequences[self.machine[v]]
        del old[self.position[v]]
        for j in range(self.position[v], len(old)):
            self.position[old[j]] = j
        seq = self.sequences[k]
        seq.insert(i, v)
        for j in range(i, len(seq)):
            self.position[seq[j]] = j
        self.machine[v] = k
        self.p[v] = self.data.duration[v][k]

    def placements(self) -> tuple[Placement, ...]:
        """The semi-active schedule: every task at its head."""
        data = self.data
        return tuple(
            Placement(data.ids[v], data.modules[self.machine[v]], self.r[v], self.r[v] + self.p[v])
            for v in range(len(data.ids))
        )


@dataclass(frozen=True, slots=True)
class _Move:
    task: int
    module: int
    index: int  # in the module's order without the task
    estimate: int  # the longest path through the task after the move


def _moves(  # noqa: C901, PLR0912 - the hot loop, kept in one piece
    s: Sequencing, v: int, limit: int, *, every: bool = False
) -> list[_Move]:
    """The safe re-insertions of critical task *v* whose longest path through it is at most *limit*.

    Per module only the best positions are kept (all of them on a tie), or *every* one.
    """
    data, r, q, p = s.data, s.r, s.q, s.p
    preds, succs = data.preds[v], data.succs[v]
    head = data.release[v]
    for a in preds:
        if r[a] + p[a] > head:
            head = r[a] + p[a]
    tail = 0
    for b in succs:
        if q[b] + p[b] > tail:
            tail = q[b] + p[b]
    here, at = s.machine[v], s.position[v]
    moves = []
    release = data.module_release
    for k, duration in data.options[v]:
        if not every and (head if head > release[k] else release[k]) + tail + duration > limit:
            continue  # no position on k can do better than v's job neighbours allow
        seq = s.sequences[k]
        if k == here:
            seq = seq[:at] + seq[at + 1 :]
        size = len(seq)
        high = _descendants_from(seq, r, q, p, succs)  # seq[:high]: no descendant of v
        low = _ancestors_until(seq, r, q, p, preds)  # seq[low:]: no ancestor of v
        if low > high:
            continue
        first = head if head > data.module_release[k] else data.module_release[k]
        ends = [r[x] + p[x] for x in seq[max(0, low - 1) : high]]
        tails = [q[x] + p[x] for x in seq[low : high + 1]]
        if k == here:
            _reprop(s, seq, at, low, ends, tails)
        offset = max(0, low - 1)
        best, where = limit - duration, []  # kept: lengths up to it
        for i in range(low, high + 1):
            if k == here and i == at:
                continue
            start = ends[i - 1 - offset] if i else first
            if start < first:
                start = first
            after = tails[i - low] if i < size else 0
            if after < tail:
                after = tail
            length = start + after
            if every:
                where.append(i)
                moves.append(_Move(v, k, i, length + duration))
            elif length < best:
                best, where = length, [i]
            elif length == best:
                where.append(i)
        if not every:
            moves += [_Move(v, k, i, best + duration) for i in where]
    return moves


def _descendants_from(seq: list[int], r: list[int], q: list[int], p: list[int], succs: list[int]) -> int:
    """The length of the prefix of *seq* that holds surely no descendant of the task whose successors are *succs*.

    `_prefix` with `_not_after`, written out for the common cases (no successor, one) because
    the tabu search spends most of its time here.
    """
    if not succs:
        return len(seq)
    if len(succs) > 1:
        return _prefix(seq, lambda x: _not_after(r, q, p, x, succs))
    b = succs[0]
    rb, qb = r[b], q[b]
    low, high = 0, len(seq)
    while low < high:
        middle = (low + high) // 2
        x = seq[middle]
        if r[x] < rb or (q[x] + p[x] > qb and x != b):
            low = middle + 1
        else:
            high = middle
    return low


def _ancestors_until(seq: list[int], r: list[int], q: list[int], p: list[int], preds: list[int]) -> int:
    """The index in *seq* from which it holds surely no ancestor of the task whose predecessors are *preds*.

    `_prefix` with the negation of `_not_before`, written out like `_descendants_from`.
    """
    if not preds:
        return 0
    if len(preds) > 1:
        return _prefix(seq, lambda x: not _not_before(r, q, p, x, preds))
    a = preds[0]
    qa, ra = q[a], r[a]
    low, high = 0, len(seq)
    while low < high:
        middle = (low + high) // 2
        x = seq[middle]
        if not (q[x] < qa or (r[x] + p[x] > ra and x != a)):
            low = middle + 1
        else:
            high = middle
    return low


def _prefix(seq: list[int], holds: Callable[[int], bool]) -> int:
    """The length of the longest prefix of *seq* on which *holds* is true (it is true on a prefix)."""
    low, high = 0, len(seq)
    while low < high:
        middle = (low + high) // 2
        if holds(seq[middle]):
            low = middle + 1
        else:
            high = middle
    return low


def _not_after(r: list[int], q: list[int], p: list[int], x: int, succs: list[int]) -> bool:
    """Whether *x* is surely no descendant of the task whose successors are *succs* (that task out of its module).

    Such a descendant descends from a successor ``b`` (or is ``b``), so it starts no earlier
    than ``b`` and its tail plus duration is no longer than ``b``'s tail.
    """
    rx, tx = r[x], q[x] + p[x]
    return all(rx < r[b] or (tx > q[b] and x != b) for b in succs)


def _not_before(r: list[int], q: list[int], p: list[int], x: int, preds: list[int]) -> bool:
    """Whether *x* is surely no ancestor of the task whose predecessors are *preds* (that task out of its module)."""
    ex, qx = r[x] + p[x], q[x]
    return all(qx < q[a] or (ex > r[a] and x != a) for a in preds)


def _reprop(s: Sequencing, seq: list[int], at: int, low: int, ends: list[int], tails: list[int]) -> None:
    """Re-propagate heads after and tails before the gap *at* that the task left in its module's order *seq*.

    *ends* holds ``r + p`` of ``seq[max(0, low - 1):]`` and *tails* ``q + p`` of ``seq[low:]``
    (as many as they hold). Those tasks lose the task's contribution; their other
    predecessors' heads (successors' tails) are taken as they are, so the values are close
    upper bounds.
    """
    data, r, q, p = s.data, s.r, s.q, s.p
    offset = max(0, low - 1)
    end = r[seq[at - 1]] + p[seq[at - 1]] if at else data.module_release[s.machine[seq[at]]] if seq else 0
    for j in range(at, min(len(seq), offset + len(ends))):
        x = seq[j]
        h = data.release[x]
        for a in data.preds[x]:
            if r[a] + p[a] > h:
                h = r[a] + p[a]
        if end > h:
            h = end
        end = h + p[x]
        if j >= offset:
            ends[j - offset] = end
    later = q[seq[at]] + p[seq[at]] if at < len(seq) else 0
    for j in range(at - 1, low - 1, -1):
        x = seq[j]
        t = 0
        for b in data.succs[x]:
            if q[b] + p[b] > t:
                t = q[b] + p[b]
        if later > t:
            t = later
        later = t + p[x]
        if j - low < len(tails):
            tails[j - low] = later


def improve(
    problem: SchedulingProblem,
    placements: Sequence[Placement],
    *,
    deadline: float,
    seed: int = 0,
    target: int = 0,
    max_iterations: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[Placement, ...]:
    """The best schedule a tabu search from *placements* finds before *deadline* (``time.perf_counter``).

    *placements* must be a valid schedule of *problem*, for which `applies` holds. The search
    stops early at a makespan of *target* (a lower bound), after *max_iterations*, or when
    *stop* (asked every 32 iterations) says so. The result
    is semi-active (every task at its earliest start for its module order) and its makespan
    is no worse than that of *placements*.
    """
    current = Sequencing.from_placements(problem, placements)
    best = current.copy()
    rng = random.Random(seed)
    n = len(current.data.ids)
    tenure = _TENURE_BASE + n // max(1, len(current.data.modules))
    tabu: dict[int, int] = {}  # task -> the iteration until which it may not move
    iteration, stale = 0, 0
    patience = max(_PATIENCE_MIN, _PATIENCE_PER_TASK * n)
    while best.makespan > target and time.perf_counter() < deadline:
        if max_iterations is not None and iteration >= max_iterations:
            break
        if stop is not None and iteration % 32 == 0 and stop():
            break
        iteration += 1
        chosen = _choose(current, tabu, iteration, best.makespan, rng)
        if chosen is None:  # every move tabu: start again from the best
            current, stale = best.copy(), 0
            tabu.clear()
            continue
        current.move(chosen.task, chosen.module, chosen.index)
        if not current.evaluate():  # safe positions never close a cycle; if one did, drop the move
            current = best.copy()
            continue
        tabu[chosen.task] = iteration + tenure + rng.randrange(tenure + 1)
        if current.makespan < best.makespan:
            best, stale = current.copy(), 0
        else:
            stale += 1
            if stale > patience:
                current, stale = best.copy(), 0
                _perturb(current, rng, 1 + n // _KICK_PER)
                tabu.clear()
    return best.placements()


def _choose(s: Sequencing, tabu: dict[int, int], iteration: int, record: int, rng: random.Random) -> _Move | None:
    """The move with the shortest path through its task, not tabu unless it would beat *record*; ties at random."""
    cmax, r, q, p = s.makespan, s.r, s.q, s.p
    best: list[_Move] = []
    limit = 1 << 62
    # The critical tasks by the least path their job neighbours allow: a good limit comes early and
    # prunes the rest (`_moves` skips a module, here a whole task, that cannot reach the limit).
    for bound, v in sorted((_floor(s, v), v) for v in range(len(p)) if r[v] + p[v] + q[v] == cmax):
        allowed = tabu.get(v, 0) <= iteration
        cap = limit if allowed else min(limit, record - 1)
        if bound > cap:
            continue
        for move in _moves(s, v, cap):
            if move.estimate < limit:
                best, limit = [move], move.estimate
            elif move.estimate == limit:
                best.append(move)
    if not best:
        return None
    best.sort(key=lambda m: (m.task, m.module, m.index))  # the choice depends on the seed only
    return rng.choice(best)


def _floor(s: Sequencing, v: int) -> int:
    """The least longest path through *v* on any of its modules, from its job neighbours alone."""
    data, r, q, p = s.data, s.r, s.q, s.p
    head = data.release[v]
    for a in data.preds[v]:
        if r[a] + p[a] > head:
            head = r[a] + p[a]
    tail = 0
    for b in data.succs[v]:
        if q[b] + p[b] > tail:
            tail = q[b] + p[b]
    release = data.module_release
    return min((head if head > release[k] else release[k]) + d for k, d in data.options[v]) + tail


def _perturb(s: Sequencing, rng: random.Random, count: int) -> None:
    """Apply *count* random safe moves of critical tasks (a kick out of a plateau)."""
    for _ in range(count):
        critical = [v for v in range(len(s.p)) if s.r[v] + s.p[v] + s.q[v] == s.makespan]
        moves = _moves(s, rng.choice(critical), 1 << 62, every=True)
        if not moves:
            continue
        move = rng.choice(moves)
        s.move(move.task, move.module, move.index)
        if not s.evaluate():
            raise AssertionError("tabu: a safe move closed a cycle")
