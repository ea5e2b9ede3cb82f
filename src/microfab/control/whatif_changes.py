"""Apply what-if changes to a copy of the network: what each change means for allocation and the twin.

Nothing here mutates its input: the network is a frozen dataclass and a tariff change builds a
new one with `dataclasses.replace`; the applied state and the event log are never touched.

- ``siteOutage``: every module of the site is down over the window (hours out of the
  allocation's capacity; a forced outage in the twin: unplanned downtime, ADOT, that suspends
  work in progress as a breakdown does).
- ``moduleTypeRecall``: every module of the type is down over the window (as an outage); without
  an end, it is retired at the start (the allocation loses its capacity to the end of the run,
  the twin retires it: jobs left needing only it are not delivered).
- ``laneCut``: orders whose shipping window (arrival to due minus the lane's transit) overlaps
  the cut may not use the lane: the allocation must serve them from another site or reject
  them. Orders placed on the lane before the cut are not held back in the twin (a limit).
- ``tariffChange``: an `ExtraDuty` stacked on the importer's `TariffSchedule` in force from the
  effective date (assessed on the order's placement day, as quotes do).
- ``demandSurge``: handled by the demand draw (`microfab.control.whatif_demand`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from microfab.control.whatif_scenario import (
    Change,
    DemandSurge,
    LaneCut,
    ModuleTypeRecall,
    SiteOutage,
    TariffChange,
)
from microfab.domain.network import Network
from microfab.domain.trade import ExtraDuty, Period, TradeRules

Interval = tuple[datetime, datetime | None]
"""``[start, end)``; ``end=None`` is for good."""


@dataclass(frozen=True, slots=True)
class Variant:
    """A network with changes applied: the network copy, downtime per module, cuts per lane, demand surges."""

    network: Network
    downtime: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)
    lane_cuts: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)
    surges: tuple[DemandSurge, ...] = ()

    def lane_blocked(self, lane: str, start: datetime, end: datetime) -> Interval | None:
        """The cut of *lane* that overlaps ``[start, end]``, if any."""
        for cut_start, cut_end in self.lane_cuts.get(lane, ()):
            if cut_start <= end and (cut_end is None or start < cut_end):
                return cut_start, cut_end
        return None

    def closed_downtime(self, end: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
        """Downtime per module with open ends closed at *end* (for the allocation's capacity)."""
        return {m: [(a, b or end) for a, b in spans if a < (b or end)] for m, spans in self.downtime.items()}

    def twin_windows(self, start: datetime) -> tuple[dict[str, list[tuple[datetime, datetime]]], dict[str, datetime]]:
        """Forced outage windows (clipped at *start*) and retirement times per module, for the twin."""
        outages: dict[str, list[tuple[datetime, datetime]]] = {}
        retire: dict[str, datetime] = {}
        for module, spans in self.downtime.items():
            for a, b in spans:
                if b is None:
                    retire[module] = max(a, start)
                    break
                if b > start:
                    outages.setdefault(module, []).append((max(a, start), b))
        return outages, retire


def apply_changes(network: Network, changes: Sequence[Change]) -> Variant:
    """The variant of *network* under *changes* (the network itself is left as it is)."""
    trade = network.trade
    downtime: dict[str, list[Interval]] = {}
    cuts: dict[str, list[Interval]] = {}
    surges: list[DemandSurge] = []
    for change in changes:
        if isinstance(change, SiteOutage):
            for module in network.modules_at(change.site):
                downtime.setdefault(module.name, []).append((change.start, change.end))
        elif isinstance(change, ModuleTypeRecall):
            for module in sorted(network.modules.values(), key=lambda m: m.name):
                if module.module_type == change.module_type:
                    downtime.setdefault(module.name, []).append((change.start, change.end))
        elif isinstance(change, LaneCut):
            cuts.setdefault(change.lane, []).append((change.start, change.end))
        elif isinstance(change, TariffChange):
            trade = _with_extra_duty(trade, change)
        else:
            surges.append(change)
    copy = replace(network, trade=trade) if trade is not network.trade else network
    return Variant(
        copy,
        {m: merge(spans) for m, spans in sorted(downtime.items())},
        {lane: merge(spans) for lane, spans in sorted(cuts.items())},
        tuple(surges),
    )


def _with_extra_duty(trade: TradeRules, change: TariffChange) -> TradeRules:
    duty = ExtraDuty(
        name=change.name,
        rate=change.rate,
        hs=(change.hs_prefix,),
        origins=change.origins,
        period=Period(change.effective, change.until),
        exempt_under=change.exempt_under,
    )
    tariffs = tuple(replace(t, extra=(*t.extra, duty)) if change.importer in t.countries else t for t in trade.tariffs)
    return replace(trade, tariffs=tariffs)


def merge(spans: Sequence[Interval]) -> tuple[Interval, ...]:
    """Overlapping or touching intervals merged, by start (an open end swallows what follows)."""
    out: list[Interval] = []
    for start, end in sorted(spans, key=lambda s: s[0]):
        if out:
            last_start, last_end = out[-1]
            if last_end is None:
                continue
            if start <= last_end:
                out[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        out.append((start, end))
    return tuple(out)
