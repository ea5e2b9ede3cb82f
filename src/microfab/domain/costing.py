"""What making an order at each site would cost: production on the site's modules plus freight on its lane.

Production cost of a site = each routing step on the cheapest capable module type present at
the site, at its cost per hour, plus the bill of materials; freight = the lane's cost per kg x
the shipping mass. Amounts are in the network's base currency. Capacity and load are ignored:
this is the per-order cost table that allocation (`microfab.planning`) and quotes
(`microfab.commerce`) build on.
"""

from __future__ import annotations

from dataclasses import dataclass

from microfab.domain.network import Lane, Network
from microfab.domain.products import Configuration
from microfab.domain.quantities import Duration, Money


@dataclass(frozen=True, slots=True)
class SiteOption:
    """What making an order at one site would cost, or why it cannot."""

    site: str
    lane: str | None
    production_cost: Money | None
    freight_cost: Money | None
    lead_time: Duration | None
    work: Duration | None
    reason: str | None = None

    @property
    def eligible(self) -> bool:
        """Whether the site can make and ship the order."""
        return self.reason is None

    @property
    def total_cost(self) -> Money | None:
        """Production plus freight, when eligible."""
        if self.production_cost is None or self.freight_cost is None:
            return None
        return self.production_cost + self.freight_cost


def site_options(network: Network, product: str, config: Configuration, quantity: int, market: str) -> list[SiteOption]:
    """Cost every site of the network for the order, eligible or not (with the reason)."""
    template = network.product(product)
    full = template.configure(config)
    steps = template.routing_for(full)
    mass = template.unit_mass(full) * quantity
    lanes = {lane.site: lane for lane in network.lanes_to(network.market(market).name)}
    options = []
    for site in sorted(network.sites):
        lane = lanes.get(site)
        missing = sorted({s.capability for s in steps} - network.capabilities_at(site))
        if missing:
            options.append(_ineligible(site, lane, f"no module for {', '.join(missing)}"))
        elif lane is None:
            options.append(_ineligible(site, None, f"no open lane to market {market}"))
        else:
            production, work = _production_cost(network, site, [(s.capability, s.duration) for s in steps])
            freight = network.fx.convert(lane.cost_per_kg * mass.kg, network.base_currency)
            options.append(SiteOption(site, lane.name, production * quantity, freight, lane.lead_time, work * quantity))
    return options


def _production_cost(network: Network, site: str, steps: list[tuple[str, Duration]]) -> tuple[Money, Duration]:
    types = {network.module_types[m.module_type] for m in network.modules_at(site)}
    cost, work = Money.zero(network.base_currency), Duration(0)
    for capability, standard in steps:
        best: tuple[Money, Duration] | None = None
        for module_type in types:
            if capability not in module_type.capabilities:
                continue
            time = module_type.processing_time(standard)
            rate = network.fx.convert(module_type.cost_per_hour, network.base_currency)
            step_cost = Money(rate.amount * time.hours, network.base_currency)
            if best is None or step_cost < best[0]:
                best = (step_cost, time)
        assert best is not None  # eligibility was checked by the caller
        cost, work = cost + best[0], work + best[1]
    return cost.quantize(), work


def _ineligible(site: str, lane: Lane | None, reason: str) -> SiteOption:
    return SiteOption(site, lane.name if lane else None, None, None, None, None, reason)
