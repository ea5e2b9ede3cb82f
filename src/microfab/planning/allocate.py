"""The skeleton's allocation policy: the cheapest site that has every capability and an open lane.

Cost of a site (`microfab.domain.costing`) = production + freight in the network's base
currency. Ties go to the shorter lane lead time, then the site name. Capacity and load are
ignored here on purpose: the planning issue replaces this with a MILP over orders x sites x
time buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from microfab.domain.costing import SiteOption, site_options
from microfab.domain.errors import NoEligibleSiteError
from microfab.domain.network import Network
from microfab.domain.products import Configuration


@dataclass(frozen=True, slots=True)
class Allocation:
    """The chosen site and the options it was chosen from."""

    chosen: SiteOption
    options: tuple[SiteOption, ...]


def allocate(network: Network, product: str, config: Configuration, quantity: int, market: str) -> Allocation:
    """Choose the cheapest eligible site; raise `NoEligibleSiteError` listing why each site fails."""
    options = site_options(network, product, config, quantity, market)
    eligible = [o for o in options if o.eligible]
    if not eligible:
        reasons = "; ".join(f"{o.site}: {o.reason}" for o in options) or "the network has no sites"
        raise NoEligibleSiteError(f"no site can serve market {market!r} with {product!r}: {reasons}")

    def key(option: SiteOption) -> tuple[Decimal, int, str]:
        assert option.total_cost is not None and option.lead_time is not None
        return (option.total_cost.amount, option.lead_time.seconds, option.site)

    return Allocation(min(eligible, key=key), tuple(options))
