"""The allocation problem (orders x sites x time buckets) and its answer, an `AllocationPlan`.

Time is in hours from the start of the planning horizon (``AllocationProblem.start`` names that
instant when the caller knows it); money is in one currency (``AllocationProblem.currency``),
given as `float` or `Decimal` and turned into floats for the solvers, while the plan reports
its cost breakdown as `Money` rounded to the currency's minor unit.

Capacity is *cumulative*: work done for an order released in bucket *r* that completes in
bucket *b* may be done in any bucket from *r* to *b*. So for every window of buckets
``[b1, b2]``, the work of the orders released in *b1* or later and completing by the end of *b2*
at a site must fit in that site's capacity over the window, per capability. For one resource
this is exactly the feasibility condition of preemptive scheduling with release dates and due
dates at the buckets' granularity (Hall's condition for intervals; with every order released at
the start only the windows from bucket 0 are left: earliest due date first); with several
capabilities per order it ignores the routing's precedence and is a relaxation the site
scheduler then sequences.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from itertools import accumulate, pairwise

from microfab.domain.quantities import Money, check_currency

Amount = float | Decimal
"""Money in the problem's currency."""

TOLERANCE = 1e-6
"""Relative slack on capacities, for the solver's floating-point answers."""


@dataclass(frozen=True, slots=True)
class Bucket:
    """A time bucket, from *start* to *end* hours after the start of the horizon."""

    start: float
    end: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class PlanOrder:
    """An order to place: its work per capability (hours, for the whole quantity), due time, weight and penalty.

    Parameters
    ----------
    work
        Machine hours the whole order needs, per capability.
    due
        Hours from the horizon start by which the order should reach the customer (may be < 0).
    reject_penalty
        What not serving the order at all costs (lost margin, goodwill).
    weight
        Tardiness cost per hour the order arrives late.
    splittable
        Whether the order may be split over sites and buckets (in fractions of the order).
    release
        Hours from the horizon start at which the order arrives (<= 0: it is there from the
        start). It may be made from the bucket its release falls in (that bucket's capacity
        counts whole), not before.
    """

    id: str
    work: Mapping[str, float]
    due: float
    reject_penalty: Amount
    weight: Amount = 0.0
    quantity: int = 1
    splittable: bool = False
    release: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.release):
            raise ValueError(f"order {self.id}: release must be a finite number of hours, got {self.release}")
        if self.quantity < 1:
            raise ValueError(f"order {self.id}: quantity must be >= 1, got {self.quantity}")
        if any(hours < 0 for hours in self.work.values()):
            raise ValueError(f"order {self.id}: work hours must be >= 0")
        if float(self.reject_penalty) < 0 or float(self.weight) < 0:
            raise ValueError(f"order {self.id}: penalty and weight must be >= 0")


@dataclass(frozen=True, slots=True)
class PlanSite:
    """A site: hours available per capability and bucket (after availability and planned downtime)."""

    name: str
    capacity: Mapping[str, tuple[float, ...]]
    fixed_cost: Amount = 0.0


@dataclass(frozen=True, slots=True)
class PairCost:
    """What serving *order* from *site* costs, the lane's lead time (hours), or why it cannot (``reason``)."""

    order: str
    site: str
    production: Amount = 0.0
    freight: Amount = 0.0
    duty: Amount = 0.0
    lead: float = 0.0
    reason: str | None = None

    @property
    def total(self) -> float:
        """Production + freight + duty."""
        return float(self.production) + float(self.freight) + float(self.duty)


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """Orders, sites, buckets and one `PairCost` per (order, site); a missing pair is not eligible."""

    orders: tuple[PlanOrder, ...]
    sites: tuple[PlanSite, ...]
    buckets: tuple[Bucket, ...]
    pairs: tuple[PairCost, ...]
    currency: str = "EUR"
    start: datetime | None = None
    _orders: dict[str, PlanOrder] = field(init=False, repr=False, compare=False)
    _sites: dict[str, PlanSite] = field(init=False, repr=False, compare=False)
    _pairs: dict[tuple[str, str], PairCost] = field(init=False, repr=False, compare=False)
    _cumulative: dict[tuple[str, str], tuple[float, ...]] = field(init=False, repr=False, compare=False)
    _ends: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_currency(self.currency)
        ends = [b.end for b in self.buckets]
        if any(b.end <= b.start for b in self.buckets) or any(a >= b for a, b in pairwise(ends)):
            raise ValueError("buckets: each must end after it starts, in increasing order of end")
        orders = {o.id: o for o in self.orders}
        sites = {s.name: s for s in self.sites}
        pairs = {(p.order, p.site): p for p in self.pairs}
        if len(orders) != len(self.orders) or len(sites) != len(self.sites) or len(pairs) != len(self.pairs):
            raise ValueError("orders, sites and (order, site) pairs must be unique")
        if unknown := [key for key in pairs if key[0] not in orders or key[1] not in sites]:
            raise ValueError(f"pairs name unknown orders or sites: {unknown[:3]}")
        for site in self.sites:
            if any(len(hours) != len(self.buckets) for hours in site.capacity.values()):
                raise ValueError(f"site {site.name}: one capacity per bucket and capability")
        object.__setattr__(self, "_orders", orders)
        object.__setattr__(self, "_sites", sites)
        object.__setattr__(self, "_pairs", pairs)
        cumulative = {(s.name, c): tuple(accumulate(hours)) for s in self.sites for c, hours in s.capacity.items()}
        object.__setattr__(self, "_cumulative", cumulative)
        object.__setattr__(self, "_ends", tuple(ends))

    def order(self, order_id: str) -> PlanOrder:
        """The order called *order_id*."""
        return self._orders[order_id]

    def site(self, name: str) -> PlanSite:
        """The site called *name*."""
        return self._sites[name]

    def pair(self, order: str, site: str) -> PairCost | None:
        """The cost of serving *order* from *site*, or None when none was given."""
        return self._pairs.get((order, site))

    def cumulative(self, site: str, capability: str) -> tuple[float, ...]:
        """Hours of *capability* at *site* from the horizon start to the end of each bucket (zeros if none)."""
        return self._cumulative.get((site, capability), (0.0,) * len(self.buckets))

    def window(self, site: str, capability: str, first: int, last: int) -> float:
        """Hours of *capability* at *site* from the start of bucket *first* to the end of bucket *last*."""
        cumulative = self.cumulative(site, capability)
        return cumulative[last] - (cumulative[first - 1] if first > 0 else 0.0)

    def release_bucket(self, order: PlanOrder) -> int:
        """The first bucket *order* may be made in: the one its release falls in (the number of buckets if none)."""
        return bisect_right(self._ends, order.release) if order.release > 0 else 0

    def releases(self) -> tuple[int, ...]:
        """The distinct release buckets of the orders, 0 always included, in increasing order."""
        return tuple(sorted({0, *(self.release_bucket(o) for o in self.orders)} - {len(self.buckets)}))

    def why_not(self, order: str, site: str) -> str | None:
        """Why *site* cannot serve *order* (None when it can)."""
        pair = self.pair(order, site)
        if pair is None:
            return "no cost given"
        if pair.reason is not None:
            return pair.reason
        needed = sorted(c for c, h in self.order(order).work.items() if h > 0)
        missing = [c for c in needed if c not in self.site(site).capacity]
        return f"no capacity for {', '.join(missing)}" if missing else None

    def eligible(self, order: str) -> list[PairCost]:
        """The pairs of sites that can serve *order*, by site name."""
        return [self._pairs[(order, s.name)] for s in self.sites if self.why_not(order, s.name) is None]

    def tardiness(self, order: PlanOrder, pair: PairCost, bucket: int) -> float:
        """Hours late if *order* completes at *pair*'s site in *bucket*: max(0, bucket end + lead - due)."""
        return max(0.0, self.buckets[bucket].end + pair.lead - order.due)

    def fits(self, order: PlanOrder, site: str, bucket: int) -> bool:
        """Whether the whole order's work fits in the site's capacity from its release bucket to *bucket* (alone)."""
        first = self.release_bucket(order)
        return first <= bucket and all(
            hours <= self.window(site, c, first, bucket) * (1 + TOLERANCE) + TOLERANCE
            for c, hours in order.work.items()
        )

    def candidates(self, order: PlanOrder, pair: PairCost) -> list[int]:
        """Buckets worth considering for *order* at *pair*'s site, earliest first.

        Only buckets from the order's release bucket on. With cumulative capacity a later bucket
        never needs more capacity, so among the buckets that are on time only the last is kept; a
        late bucket is kept while serving there costs less than the reject penalty; a whole
        (unsplittable) order must fit alone by then.
        """
        base, penalty, weight = pair.total, float(order.reject_penalty), float(order.weight)
        if base >= penalty:
            return []
        keep: list[int] = []
        on_time: int | None = None
        for b in range(self.release_bucket(order), len(self.buckets)):
            late = self.tardiness(order, pair, b)
            if late <= 0:
                on_time = b
                continue
            if base + weight * late >= penalty:
                break
            keep.append(b)
        if on_time is not None:
            keep.insert(0, on_time)
        if order.splittable:
            return keep
        return [b for b in keep if self.fits(order, pair.site, b)]


class PlanStatus(enum.Enum):
    """How an allocation ended."""

    OPTIMAL = "optimal"  # within the requested gap
    FEASIBLE = "feasible"  # stopped by the time limit with a plan
    HEURISTIC = "heuristic"  # a greedy plan, no bound


@dataclass(frozen=True, slots=True)
class Share:
    """A fraction of an order made at *site*, completing in bucket *bucket*; ``units`` = fraction x quantity."""

    site: str
    bucket: int
    fraction: float
    units: float
    tardiness: float


@dataclass(frozen=True, slots=True)
class Piece:
    """What a solver decides: a *fraction* of *order* (1 when whole) made at *site*, completing in *bucket*."""

    order: str
    site: str
    bucket: int
    fraction: float = 1.0


@dataclass(frozen=True, slots=True)
class Rejection:
    """An order not served, and why."""

    order: str
    reason: str


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The plan's cost per component, rounded to the currency's minor unit."""

    production: Money
    freight: Money
    duty: Money
    tardiness: Money
    rejection: Money
    fixed: Money

    @property
    def total(self) -> Money:
        """The sum of the components (of the rounded figures)."""
        return self.production + self.freight + self.duty + self.tardiness + self.rejection + self.fixed


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """Where each order is made and when it completes, what is rejected, and at what cost.

    ``objective`` is the exact (float) cost of the plan; ``lower_bound`` and ``gap`` are the
    solver's (None for a heuristic plan); ``variables`` and ``constraints`` size the model.
    """

    status: PlanStatus
    assignments: Mapping[str, tuple[Share, ...]]
    rejections: tuple[Rejection, ...]
    objective: float
    costs: CostBreakdown
    lower_bound: float | None
    gap: float | None
    runtime: float
    solver: str
    variables: int = 0
    constraints: int = 0

    @property
    def open_sites(self) -> tuple[str, ...]:
        """Sites that make anything, by name."""
        return tuple(sorted({share.site for shares in self.assignments.values() for share in shares}))


def evaluate(problem: AllocationProblem, assignments: Mapping[str, tuple[Share, ...]]) -> dict[str, float]:
    """The cost of *assignments* per component (every order not assigned is rejected)."""
    parts = dict.fromkeys(("production", "freight", "duty", "tardiness", "rejection", "fixed"), 0.0)
    for order in problem.orders:
        shares = assignments.get(order.id, ())
        if not shares:
            parts["rejection"] += float(order.reject_penalty)
        for share in shares:
            pair = problem.pair(order.id, share.site)
            assert pair is not None
            parts["production"] += share.fraction * float(pair.production)
            parts["freight"] += share.fraction * float(pair.freight)
            parts["duty"] += share.fraction * float(pair.duty)
            parts["tardiness"] += share.fraction * float(order.weight) * share.tardiness
    used = {share.site for shares in assignments.values() for share in shares}
    parts["fixed"] = sum(float(problem.site(s).fixed_cost) for s in used)
    return parts


def breakdown(parts: Mapping[str, float], currency: str) -> CostBreakdown:
    """*parts* (from `evaluate`) as `Money` rounded to the minor unit of *currency*."""

    def money(name: str) -> Money:
        return Money(Decimal(repr(parts[name])), currency).quantize()

    names = ("production", "freight", "duty", "tardiness", "rejection", "fixed")
    return CostBreakdown(*(money(name) for name in names))


def earliest(problem: AllocationProblem, pieces: list[Piece]) -> list[Piece]:
    """Each piece moved to the earliest bucket its site's capacity allows, earliest due date first.

    Per site, pieces are taken in order of (bucket, due, order) and each completes in the first
    bucket, not before the previous piece's nor before its release bucket, by which the capacity
    covers it and every piece taken before it (each window from a release bucket on). No piece
    moves later: the solver's plan already fits by its buckets.
    """
    moved: list[Piece] = []
    for site in problem.sites:
        mine = sorted(
            (p for p in pieces if p.site == site.name), key=lambda p: (p.bucket, problem.order(p.order).due, p.order)
        )
        load: dict[str, dict[int, float]] = {}  # capability -> release bucket -> hours taken
        floor = 0
        for piece in mine:
            order = problem.order(piece.order)
            release = problem.release_bucket(order)
            for capability, hours in order.work.items():
                taken = load.setdefault(capability, {})
                taken[release] = taken.get(release, 0.0) + hours * piece.fraction
            bucket = min(piece.bucket, max(floor, release))
            while bucket < piece.bucket and not _covered(problem, site.name, order, load, bucket):
                bucket += 1
            floor = bucket
            moved.append(Piece(piece.order, piece.site, bucket, piece.fraction))
    return moved


def _covered(
    problem: AllocationProblem, site: str, order: PlanOrder, load: Mapping[str, Mapping[int, float]], end: int
) -> bool:
    """Whether the load taken so far (all of it completing by *end*) fits every window ``[g, end]`` holding *order*.

    Those are the windows from a release bucket g at or before *order*'s; the load of a window
    is that of the pieces released from g on.
    """
    upto = problem.release_bucket(order)
    for capability in order.work:
        hours = 0.0
        for release, taken in sorted(load[capability].items(), reverse=True):
            hours += taken
            if release <= upto and hours > problem.window(site, capability, release, end) * (1 + TOLERANCE) + TOLERANCE:
                return False
    return True


def rejection_reason(problem: AllocationProblem, order: PlanOrder) -> str:
    """Why *order* is not served: no eligible site, too costly, too large, or the capacity went to others."""
    eligible = problem.eligible(order.id)
    penalty = float(order.reject_penalty)
    if problem.release_bucket(order) >= len(problem.buckets):
        return f"released after the horizon (at {order.release:g} h)"
    if not eligible:
        reasons = "; ".join(f"{s.name}: {problem.why_not(order.id, s.name)}" for s in problem.sites)
        return f"no eligible site ({reasons or 'no sites'})"
    cheapest = min(eligible, key=lambda p: (p.total, p.site))
    if cheapest.total >= penalty:
        return (
            f"costs more than its penalty {penalty:.2f} at every site (cheapest: {cheapest.site}, {cheapest.total:.2f})"
        )
    if not any(problem.candidates(order, pair) for pair in eligible):
        whole = replace(order, splittable=True)
        if any(problem.candidates(whole, pair) for pair in eligible):
            return "does not fit any eligible site's capacity within the horizon"
        return f"cannot be delivered within the horizon for less than its penalty {penalty:.2f}"
    return f"capacity: serving it would cost more than its penalty {penalty:.2f}"


def assemble(problem: AllocationProblem, pieces: list[Piece], solver: str) -> AllocationPlan:
    """The plan of *pieces* (moved to their earliest buckets) and its costs, as a heuristic plan.

    A solver sets its own status, bound, gap, runtime and model size with `dataclasses.replace`.
    """
    merged: dict[tuple[str, str, int], float] = {}
    whole: dict[str, float] = {}
    for piece in earliest(problem, [p for p in pieces if p.fraction > 1e-7]):
        key = (piece.order, piece.site, piece.bucket)
        merged[key] = merged.get(key, 0.0) + piece.fraction
        whole[piece.order] = whole.get(piece.order, 0.0) + piece.fraction
    assignments: dict[str, list[Share]] = {}
    for (order_id, site, bucket), fraction in sorted(merged.items()):
        order, pair = problem.order(order_id), problem.pair(order_id, site)
        assert pair is not None
        share = fraction / whole[order_id]  # the solver's fractions sum to 1 up to its tolerance
        late = problem.tardiness(order, pair, bucket)
        assignments.setdefault(order_id, []).append(Share(site, bucket, share, share * order.quantity, late))
    shares = {order: tuple(found) for order, found in assignments.items()}
    rejected = tuple(Rejection(o.id, rejection_reason(problem, o)) for o in problem.orders if o.id not in shares)
    parts = evaluate(problem, shares)
    return AllocationPlan(
        status=PlanStatus.HEURISTIC,
        assignments=shares,
        rejections=rejected,
        objective=sum(parts.values()),
        costs=breakdown(parts, problem.currency),
        lower_bound=None,
        gap=None,
        runtime=0.0,
        solver=solver,
    )
