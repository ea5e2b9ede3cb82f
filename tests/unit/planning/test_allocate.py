from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from microfab.domain.errors import NoEligibleSiteError
from microfab.domain.quantities import Duration
from microfab.planning import allocate, site_options
from tests.support.network import tiny_network


def test_cheapest_site_with_every_capability_wins() -> None:
    chosen = allocate(tiny_network(), "stand", {}, 2, "us").chosen
    assert chosen.site == "ohio"
    # cut 10 min at 50 USD/h + pack 5 min at 20 USD/h = 8.33 + 1.67 = 10.00 USD a unit
    assert chosen.production_cost is not None
    assert chosen.production_cost.amount == Decimal("20.00")
    assert chosen.freight_cost is not None
    assert chosen.freight_cost.amount == Decimal("1.50")  # 0.50 USD/kg x 1.5 kg x 2
    assert chosen.work == Duration.parse("30m")


def test_a_site_missing_a_capability_is_not_eligible_and_says_why() -> None:
    options = {o.site: o for o in site_options(tiny_network(), "stand", {"finish": "anodized"}, 1, "us")}
    assert options["ohio"].reason == "no module for anodize"
    assert options["bavaria"].eligible
    assert allocate(tiny_network(), "stand", {"finish": "anodized"}, 1, "us").chosen.site == "bavaria"


def test_module_speed_and_currency_conversion_enter_the_cost() -> None:
    option = next(o for o in site_options(tiny_network(), "stand", {}, 1, "de") if o.site == "bavaria")
    # laser-de is 1.5x faster: 10 min -> 400 s at 90 USD/h = 10.00; pack 5 min at 20 USD/h = 1.67
    assert option.production_cost is not None
    assert option.production_cost.amount == Decimal("11.67")
    assert option.freight_cost is not None
    assert option.freight_cost.currency == "USD"  # 0.40 EUR/kg converted to the base currency


def test_no_site_can_serve_names_every_reason() -> None:
    net = tiny_network(close_lane=True)
    net = replace(net, lanes={name: lane for name, lane in net.lanes.items() if name != "bavaria-de"})
    with pytest.raises(NoEligibleSiteError, match=r"bavaria: no open lane to market de; ohio: no module for anodize"):
        allocate(net, "stand", {"finish": "anodized"}, 1, "de")
