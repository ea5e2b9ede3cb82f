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
from itertools import accumulate

from microfab.planning.problem import TOLERANCE, AllocationPlan, AllocationProblem, Piece, PlanOrder, assemble


class Slack:
    """Spare cumulative capacity per site, capability and bucket, as pieces are placed."""

    def __init__(self, problem: AllocationProblem) -> None:
        self.problem = problem
        self.rows = {(s.name, c): list(problem.cumulative(s.name, c)) for s in problem.sites for c in s.capacity}

    def room(self, order: PlanOrder, site: str) -> list[float]:
        """Per bucket, the largest fraction of *order* (at most 1) that fits at *site* completing then."""
        most = [1.0] * len(self.problem.buckets)
        for capability, hours in order.work.items():
            if hours <= 0:
                continue
            spare = list(accumulate(reversed(self.rows[(site, capability)]), min))[::-1]
            most = [min(m, (s + TOLERANCE * max(1.0, abs(s))) / hours) for m, s in zip(most, spare, strict=True)]
        return [max(0.0, m) for m in most]

    def fits(self, order: PlanOrder, site: str, bucket: int, fraction: float = 1.0) -> bool:
        """Whether *fraction* more of *order* fits at *site* completing in *bucket*."""
        return self.room(order, site)[bucket] >= fraction - 1e-9

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
        for capability, hours in order.work.items():
            row = self.rows[(piece.site, capability)]
            used = sign * hours * piece.fraction
            for b in range(piece.bucket, len(row)):
                row[b] -= used


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
