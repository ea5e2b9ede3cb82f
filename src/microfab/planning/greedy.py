"""The peer baseline: each order, earliest due first, to its cheapest site and bucket that still has room.

Cost of a choice = production + freight + duty + weight x tardiness, plus the site's fixed cost
when the site makes nothing yet; a choice costing the reject penalty or more is never taken.
A splittable order takes as much as fits at each choice, cheapest first; an order that
cannot be placed whole is rejected. Ties go to the later bucket (it needs less capacity, see
`AllocationProblem.candidates`), then the site name. The MILP uses the same routine to place
what its rounding left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from microfab.planning.problem import TOLERANCE, AllocationPlan, AllocationProblem, Piece, PlanOrder, assemble

Floats = npt.NDArray[np.float64]


class Slack:
    """Spare capacity per site, capability and window of buckets, as pieces are placed.

    ``spare[(site, capability)][k, b]`` is the capacity from the k-th release bucket
    (`AllocationProblem.releases`) to the end of bucket *b*, less the work placed there of the
    pieces released from that bucket on and completing by *b* (infinite when *b* is before the
    release bucket). A piece fits when every window holding it, from a release bucket at or
    before its own to a bucket at or after its completion, keeps room for it. With every order
    released at the start there is one row: spare cumulative capacity.
    """

    def __init__(self, problem: AllocationProblem) -> None:
        self.problem = problem
        self.releases = problem.releases()
        self.spare: dict[tuple[str, str], Floats] = {}
        first = np.array(self.releases)[:, None]
        buckets = np.arange(len(problem.buckets))[None, :]
        for site in problem.sites:
            for capability in site.capacity:
                cumulative = np.array(problem.cumulative(site.name, capability), dtype=np.float64)
                before = np.concatenate(([0.0], cumulative))[first]  # capacity before each release bucket
                self.spare[(site.name, capability)] = np.where(buckets >= first, cumulative[None, :] - before, np.inf)
        self._rows = {r: k + 1 for k, r in enumerate(self.releases)}

    def _windows(self, order: PlanOrder) -> int:
        """How many rows of the spare capacity hold *order* (those of release buckets at or before its own)."""
        return self._rows.get(self.problem.release_bucket(order), len(self.releases))

    def room(self, order: PlanOrder, site: str) -> list[float]:
        """Per bucket, the largest fraction of *order* (at most 1) that fits at *site* completing then."""
        rows = self._windows(order)
        most = np.ones(len(self.problem.buckets))
        for capability, hours in order.work.items():
            if hours <= 0:
                continue
            spare = self.spare[(site, capability)][:rows].min(axis=0)
            spare = np.minimum.accumulate(spare[::-1])[::-1]  # every window ending at or after the bucket
            most = np.minimum(most, (spare + TOLERANCE * np.maximum(1.0, np.abs(spare))) / hours)
        return [float(m) for m in np.maximum(most, 0.0)]

    def fits(self, order: PlanOrder, site: str, bucket: int, fraction: float = 1.0) -> bool:
        """Whether *fraction* more of *order* fits at *site* completing in *bucket*."""
        rows = self._windows(order)
        for capability, hours in order.work.items():
            if hours <= 0:
                continue
            spare = float(self.spare[(site, capability)][:rows, bucket:].min())
            if min(1.0, (spare + TOLERANCE * max(1.0, abs(spare))) / hours) < fraction - 1e-9:
                return False
        return True

    def take_all(self, pieces: list[Piece]) -> bool:
        """Take every piece if they all fit (checked in turn), else none; whether they did."""
        for done, piece in enumerate(pieces):
            if not self.fits(self.problem.order(piece.order), piece.site, piece.bucket, piece.fraction):
                for taken in pieces[:done]:
                    self.take(taken, -1.0)
                return False
            self.take(piece)
        return True

    def take(self, piece: Piece, sign: float = 1.0) -> None:
        """Use (or with *sign* -1 give back) the capacity *piece* needs."""
        order = self.problem.order(piece.order)
        rows = self._windows(order)
        for capability, hours in order.work.items():
            self.spare[(piece.site, capability)][:rows, piece.bucket :] -= sign * hours * piece.fraction


def _choices(problem: AllocationProblem, order: PlanOrder, used: set[str]) -> list[tuple[float, int, str]]:
    """(cost of the whole order, -bucket, site) of every candidate below the penalty, cheapest first."""
    choices = []
    for pair in problem.eligible(order.id):
        fixed = 0.0 if pair.site in used else float(problem.site(pair.site).fixed_cost)
        for bucket in problem.candidates(order, pair):
            cost = pair.total + float(order.weight) * problem.tardiness(order, pair, bucket) + fixed
            if cost < float(order.reject_penalty):
                choices.append((cost, -bucket, pair.site))
    return sorted(choices)


def place(
    problem: AllocationProblem, slack: Slack, order: PlanOrder, used: set[str], fraction: float = 1.0
) -> list[Piece]:
    """Place *fraction* of *order* (default all) at its cheapest choices with room, or nothing."""
    pieces: list[Piece] = []
    left = fraction
    rooms: dict[str, list[float]] = {}
    for _, negative, site in _choices(problem, order, used):
        room = rooms.setdefault(site, slack.room(order, site))[-negative]
        share = min(room, left) if order.splittable else (left if room >= left - 1e-9 else 0.0)
        if share <= 1e-9:
            continue
        piece = Piece(order.id, site, -negative, share)
        slack.take(piece)
        rooms.clear()
        pieces.append(piece)
        left -= share
        if left <= 1e-9:
            used.update(p.site for p in pieces)
            return pieces
    for piece in pieces:
        slack.take(piece, -1.0)
    return []


def greedy_pieces(problem: AllocationProblem, start: Iterable[Piece] = ()) -> list[Piece]:
    """The greedy plan's decisions, placing the orders *start* leaves out (earliest due first)."""
    slack = Slack(problem)
    pieces = list(start)
    for piece in pieces:
        slack.take(piece)
    placed = {p.order for p in pieces}
    used = {p.site for p in pieces}
    for order in sorted(problem.orders, key=lambda o: (o.due, o.id)):
        if order.id not in placed:
            pieces += place(problem, slack, order, used)
    return pieces


def allocate_greedy(problem: AllocationProblem) -> AllocationPlan:
    """The greedy plan (status HEURISTIC, no bound)."""
    started = time.perf_counter()
    plan = assemble(problem, greedy_pieces(problem), "greedy")
    return replace(plan, runtime=time.perf_counter() - started)
