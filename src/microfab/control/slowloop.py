"""The slow loop: move orders that have not started to another site when their own site will deliver late.

Policy (deliberately simple; the planning issue replaces it with allocation over buckets): an
order at site S whose operations are all still pending, and whose planned completion at S plus
the lane's transit misses its due date, moves to the eligible site that delivers it earliest —
provided that site delivers it by the due date. A candidate's delivery is estimated as: its
planned backlog end (or now), plus the order's machine time there, plus its lane's transit. The
customer's price stays; where the order is made changes. Triggered when a module faults (a
site is down) and after a placement (a site is overloaded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from microfab.domain.costing import site_options
from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.domain.schedules import Schedule


@dataclass(frozen=True, slots=True)
class Move:
    """One order to move, where to, over which lane, and why (the reason is recorded)."""

    order_id: str
    to_site: str
    lane: str
    reason: str


def planned_completion(schedule: Schedule, order_of: Mapping[str, str]) -> dict[str, datetime]:
    """Per order, the end of its last operation in *schedule* (*order_of*: operation id -> order id)."""
    ends: dict[str, datetime] = {}
    for op in schedule.operations:
        order_id = order_of.get(op.operation_id)
        if order_id is not None and (order_id not in ends or op.end > ends[order_id]):
            ends[order_id] = op.end
    return ends


def backlog_end(schedule: Schedule | None, now: datetime) -> datetime:
    """When a site's planned work ends (now when it has none)."""
    if schedule is None or not schedule.operations:
        return now
    return max([now, *(op.end for op in schedule.operations)])


def moves(
    network: Network,
    site: str,
    *,
    orders: Iterable[Order],
    completion: Mapping[str, datetime],
    schedules: Mapping[str, Schedule],
    healthy: Mapping[str, frozenset[str]],
    now: datetime,
) -> list[Move]:
    """The orders of *site* to move (only orders with every operation pending may be passed in).

    *healthy* maps each site to the capabilities its healthy modules offer now.
    """
    found: list[Move] = []
    for order in sorted(orders, key=lambda o: o.id):
        end = completion.get(order.id)
        if end is None or order.lane is None or order.site != site:
            continue
        arrival = end + network.lanes[order.lane].lead_time.to_timedelta()
        if arrival <= order.due:
            continue
        best: tuple[datetime, str, str] | None = None
        needed = {entry.capability for unit in order.units.values() for entry in unit.passport.values()}
        for option in site_options(network, order.product, order.config, order.quantity, order.market):
            if not option.eligible or option.site == site or not needed <= healthy.get(option.site, frozenset()):
                continue
            assert option.work is not None and option.lead_time is not None and option.lane is not None
            start = backlog_end(schedules.get(option.site), now)
            delivery = start + timedelta(seconds=option.work.seconds + option.lead_time.seconds)
            if delivery <= order.due and (best is None or delivery < best[0]):
                best = (delivery, option.site, option.lane)
        if best is not None:
            delivery, to_site, lane = best
            reason = (
                f"{site} would deliver {arrival:%Y-%m-%d %H:%M %Z}, after the due date "
                f"{order.due:%Y-%m-%d %H:%M %Z}; {to_site} delivers by {delivery:%Y-%m-%d %H:%M %Z}"
            )
            found.append(Move(order.id, to_site, lane, reason))
    return found
