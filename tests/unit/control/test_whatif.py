"""What-if studies: the file and its errors at file:line:field, each change on a copy, demand, allocation, summaries."""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from microfab.control.parallel import RayError, run_parallel
from microfab.control.whatif import WhatIfError, allocation_problem, summarize
from microfab.control.whatif_changes import Variant, apply_changes, merge
from microfab.control.whatif_demand import DemandOrder, draw_demand
from microfab.control.whatif_read import read_whatif, resolve
from microfab.control.whatif_scenario import (
    BASELINE,
    Change,
    DemandModel,
    DemandSurge,
    LaneCut,
    ModuleTypeRecall,
    Scenario,
    Setup,
    SiteOutage,
    TariffChange,
    WhatIf,
    describe_change,
)
from microfab.domain.network import Network
from microfab.manifests import ManifestErrors, load_network
from microfab.planning.milp import allocate_milp
from microfab.planning.problem import AllocationProblem
from microfab.planning.validate import validate

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "network"
EXAMPLES = ROOT / "examples" / "whatif"
T0 = datetime(2027, 1, 4, tzinfo=UTC)
DAY = timedelta(days=1)

# The file every error case starts from; the change under test is line 17, its key at column 7.
HEAD = """\
apiVersion: microfab.dev/v1
kind: WhatIf
metadata:
  name: study
spec:
  start: 2027-01-04T00:00:00+00:00
  horizon: 3d
  seeds: 2
  demand:
    ordersPerDay: {de: 4, us: 2}
    mix: [{product: laptop-stand, share: "1"}]
    samples: 2
    quantity: {min: 2, max: 6}
    dueIn: 4d
  allocation: {timeLimit: 2s}
"""


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(EXAMPLE)


def study_file(tmp_path: Path, tail: str, head: str = HEAD) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(head + tail, encoding="utf-8")
    return path


def errors_of(path: Path, network: Network) -> list[str]:
    with pytest.raises(ManifestErrors) as info:
        resolve(read_whatif(path), network)
    return [str(e) for e in info.value.errors]


# ---------------------------------------------------------------------------------------- the file


def test_the_example_reads_into_one_scenario_with_offsets_from_the_start(network: Network) -> None:
    file = read_whatif(EXAMPLES / "bavaria-outage.yaml")
    assert file.baseline_manifests == EXAMPLE
    study = resolve(file, network)
    assert study.name == "bavaria-outage"
    assert study.seeds == 5
    assert study.setup.start == T0
    assert study.setup.horizon == 14 * DAY
    assert study.setup.drain == 7 * DAY  # the run goes on dueIn after the horizon
    assert study.scenarios == (Scenario("bavaria-outage", (SiteOutage("bavaria", T0 + 2 * DAY, T0 + 9 * DAY),)),)
    assert resolve(file, network, seeds=2).seeds == 2  # --seeds wins over the file


def test_the_sweep_example_shows_every_kind_of_change_and_expands_its_grid(network: Network) -> None:
    study = resolve(read_whatif(EXAMPLES / "sweep.yaml"), network)
    names = [s.name for s in study.scenarios]
    assert "us-tariff[rate=0.10]" in names
    assert "us-tariff[rate=0.25]" in names
    kinds = {type(c) for s in study.scenarios for c in s.changes}
    assert kinds == {SiteOutage, LaneCut, TariffChange, DemandSurge, ModuleTypeRecall}
    rates = [c.rate for s in study.scenarios for c in s.changes if isinstance(c, TariffChange)]
    assert rates == [Decimal("0.10"), Decimal("0.25")]


def test_iso_times_open_ends_and_a_lane_named_by_site_and_market(tmp_path: Path, network: Network) -> None:
    path = study_file(
        tmp_path,
        """\
  changes:
    - laneCut: {site: ohio, market: us, from: "2027-01-05T12:00:00+01:00"}
    - moduleTypeRecall: {moduleType: anodizing, from: 36h}
    - tariffChange: {importer: US, hsPrefix: "7616", origin: [DE, JP], rate: "0.2", effective: 2d, until: 5d,
                     exemptUnder: [USMCA]}
""",
    )
    (scenario,) = resolve(read_whatif(path), network).scenarios
    cut, recall, tariff = scenario.changes
    assert cut == LaneCut("ohio-us", datetime(2027, 1, 5, 11, tzinfo=UTC), None)
    assert recall == ModuleTypeRecall("anodizing", T0 + timedelta(hours=36), None)
    assert isinstance(tariff, TariffChange)
    assert (tariff.importer, tariff.origins, tariff.rate) == ("US", ("DE", "JP"), Decimal("0.2"))
    assert (tariff.effective, tariff.until) == ((T0 + 2 * DAY).date(), (T0 + 5 * DAY).date())
    assert describe_change(tariff) == (
        "what-if tariff: +20 % on HS 7616 from DE, JP into US, exempt under USMCA, in force 2027-01-06 to 2027-01-09"
    )


BAD_CHANGES = [
    pytest.param(
        "    - siteOutage: {site: atlantis, from: 2d, to: 9d}\n",
        "w.yaml:17:20: spec.changes[0].siteOutage.site: no Site named 'atlantis'; expected one of bavaria, japan,",
        id="unknown-site",
    ),
    pytest.param(
        "    - siteOutage: {site: ohio, from: 9d, to: 2d}\n",
        "w.yaml:17:42: spec.changes[0].siteOutage.to: expected a time after from (2027-01-13T00:00:00+00:00), "
        "got 2027-01-06T00:00:00+00:00",
        id="from-after-to",
    ),
    pytest.param(
        "    - siteOutage: {site: ohio, from: 2d, to: 2d}\n",
        "w.yaml:17:42: spec.changes[0].siteOutage.to: expected a time after from (2027-01-06T00:00:00+00:00), "
        "got 2027-01-06T00:00:00+00:00",
        id="empty-window",
    ),
    pytest.param(
        "    - siteOutage: {site: ohio, from: 2d}\n",
        "w.yaml:17:7: spec.changes[0].siteOutage.to: missing: expected when the site is back, like 9d",
        id="outage-without-end",
    ),
    pytest.param(
        "    - volcano: {site: ohio}\n",
        "w.yaml:17:7: spec.changes[0].volcano: unknown field 'volcano'; expected one of: siteOutage, laneCut, "
        "tariffChange, demandSurge, moduleTypeRecall",
        id="unknown-kind",
    ),
    pytest.param(
        "    - {siteOutage: {site: ohio, from: 1d, to: 2d}, laneCut: {lane: ohio-us, from: 1d}}\n",
        "w.yaml:17:7: spec.changes[0]: expected exactly one of siteOutage, laneCut, tariffChange, demandSurge, "
        "moduleTypeRecall, got siteOutage, laneCut",
        id="two-kinds",
    ),
    pytest.param(
        "    - demandSurge: {market: us, factor: '-1.5', from: 1d, to: 3d}\n",
        "w.yaml:17:33: spec.changes[0].demandSurge.factor: expected a factor >= 0, got -1.5",
        id="negative-surge",
    ),
    pytest.param(
        "    - demandSurge: {market: atlantis, factor: '2', from: 1d, to: 3d}\n",
        "w.yaml:17:21: spec.changes[0].demandSurge.market: no Market named 'atlantis'; "
        "expected one of de, jp, mx, us, vn",
        id="surge-unknown-market",
    ),
    pytest.param(
        "    - demandSurge: {market: us, factor: lots, from: 1d, to: 3d}\n",
        "w.yaml:17:33: spec.changes[0].demandSurge.factor: expected a decimal number like '0.92' or 1.25, got 'lots'",
        id="surge-not-a-number",
    ),
    pytest.param(
        "    - laneCut: {lane: nowhere, from: 1d}\n",
        "w.yaml:17:17: spec.changes[0].laneCut.lane: no Lane named 'nowhere'; expected one of bavaria-de,",
        id="unknown-lane",
    ),
    pytest.param(
        "    - laneCut: {lane: ohio-de, from: 1d}\n",
        "w.yaml:17:7: spec.changes[0].laneCut: Lane 'ohio-de' is closed in the baseline (open: false)",
        id="closed-lane",
    ),
    pytest.param(
        "    - laneCut: {lane: ohio-us, site: ohio, from: 1d}\n",
        "w.yaml:17:17: spec.changes[0].laneCut.lane: expected lane, or site and market, not both",
        id="lane-and-site",
    ),
    pytest.param(
        "    - laneCut: {site: ohio, from: 1d}\n",
        "w.yaml:17:7: spec.changes[0].laneCut: expected lane, or site and market",
        id="site-without-market",
    ),
    pytest.param(
        "    - laneCut: {site: ohio, market: jp, from: 1d}\n",
        "w.yaml:17:17: spec.changes[0].laneCut.site: no Lane from site 'ohio' to market 'jp'",
        id="no-lane-between",
    ),
    pytest.param(
        "    - laneCut: {lane: ohio-us, from: tomorrow}\n",
        "w.yaml:17:32: spec.changes[0].laneCut.from: expected an ISO 8601 time with an offset like "
        "2027-01-06T08:00:00+01:00, or an offset from the start like '2d', got 'tomorrow'",
        id="bad-time",
    ),
    pytest.param(
        "    - laneCut: {lane: ohio-us, from: '2027-01-05T00:00:00'}\n",
        "w.yaml:17:32: spec.changes[0].laneCut.from: expected a UTC offset (like +00:00) in '2027-01-05T00:00:00': "
        "times are timezone-aware",
        id="naive-time",
    ),
    pytest.param(
        "    - tariffChange: {market: us, hsPrefix: '*', rate: '-0.1', effective: 3d}\n",
        "w.yaml:17:49: spec.changes[0].tariffChange.rate: expected a rate >= 0 like '0.25', got -0.1",
        id="negative-rate",
    ),
    pytest.param(
        "    - tariffChange: {importer: XX, hsPrefix: '*', rate: '0.1', effective: 3d}\n",
        "w.yaml:17:22: spec.changes[0].tariffChange.importer: no Tariff covers the importer 'XX'",
        id="unknown-importer",
    ),
    pytest.param(
        "    - tariffChange: {importer: US, market: us, hsPrefix: '*', rate: '0.1', effective: 3d}\n",
        "w.yaml:17:7: spec.changes[0].tariffChange: expected importer (a country like US) or market (like us), "
        "got both",
        id="importer-and-market",
    ),
    pytest.param(
        "    - tariffChange: {market: us, hsPrefix: '*', rate: '0.1', effective: 3d, until: 1d}\n",
        "w.yaml:17:77: spec.changes[0].tariffChange.until: expected a date on or after 2027-01-07, got 2027-01-05",
        id="until-before-effective",
    ),
    pytest.param(
        "    - tariffChange: {market: us, hsPrefix: '*', rate: '0.1', effective: 3d, exemptUnder: [NAFTA]}\n",
        "w.yaml:17:77: spec.changes[0].tariffChange.exemptUnder: no TradeAgreement named 'NAFTA'; expected one of "
        "CPTPP, EU-JP, USMCA",
        id="unknown-agreement",
    ),
    pytest.param(
        "    - tariffChange: {market: us, rate: '0.1', effective: 3d}\n",
        "w.yaml:17:7: spec.changes[0].tariffChange.hsPrefix: missing: expected an HS prefix like '7616' or '*'",
        id="tariff-without-hs",
    ),
    pytest.param(
        "    - moduleTypeRecall: {moduleType: teleporter, from: 1d}\n",
        "w.yaml:17:26: spec.changes[0].moduleTypeRecall.moduleType: no ModuleType named 'teleporter'; expected one "
        "of anodizing,",
        id="unknown-module-type",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BAD_CHANGES)
def test_a_bad_change_is_named_at_file_line_and_field(
    tmp_path: Path, network: Network, change: str, expected: str
) -> None:
    errors = errors_of(study_file(tmp_path, "  changes:\n" + change), network)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{tmp_path}/"), errors
    assert expected in errors[0], errors


BAD_FILES = [
    pytest.param(
        "  changes: [{siteOutage: {site: ohio, from: 1d, to: 2d}}]\n  scenarios: [{name: a}]\n",
        "w.yaml:5:1: spec: expected changes (one scenario) or scenarios (a list), got both",
        id="changes-and-scenarios",
    ),
    pytest.param("", "spec: expected changes (one scenario) or scenarios (a list), got neither", id="neither"),
    pytest.param(
        "  scenarios:\n    - {name: baseline, changes: []}\n",
        "w.yaml:17:8: spec.scenarios[0].name: expected a unique name other than 'baseline', got 'baseline'",
        id="scenario-called-baseline",
    ),
    pytest.param(
        "  scenarios:\n    - {name: a, changes: []}\n    - {name: a, changes: []}\n",
        "w.yaml:18:8: spec.scenarios[1].name: expected a unique name other than 'baseline', got 'a'",
        id="duplicate-names",
    ),
    pytest.param(
        "  scenarios:\n"
        "    - {name: 'a[factor=2]', changes: []}\n"
        "    - name: a\n"
        "      changes: [{demandSurge: {market: us, factor: '1', from: 0d, to: 1d}}]\n"
        "      vary: {field: factor, values: [2, 3]}\n",
        "w.yaml:20:38: spec.scenarios[1].vary.values[0]: expected a unique scenario name, got 'a[factor=2]' twice",
        id="grid-name-taken",
    ),
    pytest.param(
        "  scenarios:\n"
        "    - name: a\n"
        "      changes: [{demandSurge: {market: us, factor: '1', from: 0d, to: 1d}}]\n"
        "      vary: {change: 1, field: factor, values: [2]}\n",
        "w.yaml:19:14: spec.scenarios[0].vary.change: expected an index below 1, got 1",
        id="vary-change-out-of-range",
    ),
    pytest.param(
        "  scenarios:\n"
        "    - name: a\n"
        "      changes: [{demandSurge: {market: us, factor: '1', from: 0d, to: 1d}}]\n"
        "      vary: {field: colour, values: [red]}\n",
        "w.yaml:19:14: spec.scenarios[0].vary.field: expected a field of demandSurge (market, factor, from, to), "
        "got 'colour'",
        id="vary-unknown-field",
    ),
    pytest.param(
        "  scenarios:\n"
        "    - name: a\n"
        "      changes: [{demandSurge: {market: us, factor: '1', from: 0d, to: 1d}}]\n"
        "      vary: {field: factor, values: ['2', '-1']}\n",
        "w.yaml:19:43: spec.scenarios[0].vary.values[1].factor: expected a factor >= 0, got -1",
        id="vary-bad-value",
    ),
]


@pytest.mark.parametrize(("tail", "expected"), BAD_FILES)
def test_a_bad_file_is_named_at_file_line_and_field(tmp_path: Path, network: Network, tail: str, expected: str) -> None:
    errors = errors_of(study_file(tmp_path, tail), network)
    assert len(errors) == 1, errors
    assert expected in errors[0], errors


def test_bad_demand_and_envelope_are_named(tmp_path: Path, network: Network) -> None:
    head = HEAD.replace("{de: 4, us: 2}", "{de: 4, xx: 2, us: '-1'}").replace("{min: 2, max: 6}", "{min: 6, max: 2}")
    head = head.replace("product: laptop-stand", "product: hoverboard")
    errors = errors_of(study_file(tmp_path, "  changes: []\n", head), network)
    assert [e.split(": ", 1)[1] for e in errors] == [
        "spec.demand.ordersPerDay.xx: no Market named 'xx'; expected one of de, jp, mx, us, vn",
        "spec.demand.ordersPerDay.us: expected orders per day >= 0, got -1",
        "spec.demand.mix[0].product: no Product named 'hoverboard'; expected one of laptop-stand, monitor-riser, "
        "planter-box, shelving-unit",
        "spec.demand.quantity.max: expected max >= min (6)",
    ]
    wrong_kind = errors_of(study_file(tmp_path, "  changes: []\n", HEAD.replace("kind: WhatIf", "kind: Site")), network)
    assert wrong_kind == [f"{tmp_path}/w.yaml:2:1: kind: expected 'WhatIf', got 'Site'"]


# -------------------------------------------------------------------------- changes on a copy


CHANGES: list[Change] = [
    SiteOutage("bavaria", T0 + DAY, T0 + 3 * DAY),
    LaneCut("ohio-us", T0 + DAY, None),
    TariffChange("US", "*", ("*",), Decimal("0.25"), (T0 + 2 * DAY).date(), None, (), "what-if tariff"),
    DemandSurge("us", 2.0, T0, T0 + 2 * DAY),
    ModuleTypeRecall("anodizing", T0 + DAY, None),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: type(c).__name__)
def test_each_change_leaves_the_network_as_it_was(network: Network, change: Change) -> None:
    before = copy.deepcopy(network)
    variant = apply_changes(network, [change])
    assert network == before
    assert isinstance(variant, Variant)
    if isinstance(change, TariffChange):
        assert variant.network is not network
        assert variant.network != network
    else:
        assert variant.network is network  # nothing to copy: the change lives beside the network


def test_what_each_change_does_to_the_variant(network: Network) -> None:
    outage, cut, tariff, surge, recall = CHANGES
    bavaria = {m.name for m in network.modules_at("bavaria")}
    assert set(apply_changes(network, [outage]).downtime) == bavaria
    assert all(spans == ((T0 + DAY, T0 + 3 * DAY),) for spans in apply_changes(network, [outage]).downtime.values())

    assert apply_changes(network, [cut]).lane_cuts == {"ohio-us": ((T0 + DAY, None),)}

    taxed = apply_changes(network, [tariff]).network
    us, us_before = taxed.trade.tariff_for("US"), network.trade.tariff_for("US")
    assert us is not None
    assert us_before is not None
    assert [d.name for d in us.extra] == [*(d.name for d in us_before.extra), "what-if tariff"]
    eu = taxed.trade.tariff_for("DE")
    assert eu is not None
    assert eu == network.trade.tariff_for("DE")  # another territory: untouched

    assert apply_changes(network, [surge]).surges == (surge,)

    recalled = apply_changes(network, [recall])
    anodizing = {m.name for m in network.modules.values() if m.module_type == "anodizing"}
    assert set(recalled.downtime) == anodizing
    maintenance, retire = recalled.twin_windows(T0)
    assert maintenance == {}
    assert retire == dict.fromkeys(anodizing, T0 + DAY)
    closed = recalled.closed_downtime(T0 + 10 * DAY)
    assert closed == {m: [(T0 + DAY, T0 + 10 * DAY)] for m in anodizing}


def test_windows_merge_and_are_clipped_at_the_start(network: Network) -> None:
    assert merge([(T0 + 2 * DAY, T0 + 3 * DAY), (T0, T0 + DAY), (T0 + DAY, T0 + 2 * DAY)]) == ((T0, T0 + 3 * DAY),)
    assert merge([(T0, None), (T0 + DAY, T0 + 2 * DAY)]) == ((T0, None),)
    assert merge([(T0, T0 + DAY), (T0 + 2 * DAY, None)]) == ((T0, T0 + DAY), (T0 + 2 * DAY, None))
    early = apply_changes(network, [SiteOutage("ohio", T0 - DAY, T0 + DAY)])
    maintenance, retire = early.twin_windows(T0)
    assert retire == {}
    assert set(maintenance) == {m.name for m in network.modules_at("ohio")}
    assert all(w == [(T0, T0 + DAY)] for w in maintenance.values())
    cut = apply_changes(network, [LaneCut("ohio-us", T0 + 2 * DAY, T0 + 3 * DAY)])
    assert cut.lane_blocked("ohio-us", T0, T0 + 2 * DAY) == (T0 + 2 * DAY, T0 + 3 * DAY)  # touches the cut
    assert cut.lane_blocked("ohio-us", T0, T0 + DAY) is None
    assert cut.lane_blocked("ohio-us", T0 + 3 * DAY, T0 + 5 * DAY) is None  # the cut is over
    assert cut.lane_blocked("ohio-mx", T0, T0 + 9 * DAY) is None


# ------------------------------------------------------------------------------------------- demand


@pytest.fixture(scope="module")
def setup(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    path = study_file(tmp_path_factory.mktemp("setup"), "  changes: []\n")
    return resolve(read_whatif(path), network).setup


def test_demand_draws_common_random_numbers_and_surges_add_or_thin(setup: Setup) -> None:
    model = DemandModel({"us": 20.0, "de": 10.0}, setup.demand.mix, 1, 5, 4 * DAY)
    end = T0 + 6 * DAY
    base = draw_demand(model, start=T0, end=end, seed=3)
    assert base == draw_demand(model, start=T0, end=end, seed=3)
    assert base != draw_demand(model, start=T0, end=end, seed=4)
    assert all(T0 <= o.arrival < end and o.due == o.arrival + 4 * DAY and 1 <= o.quantity <= 5 for o in base)

    window = (T0 + DAY, T0 + 3 * DAY)
    doubled = draw_demand(model, start=T0, end=end, seed=3, surges=[DemandSurge("us", 2.0, *window)])
    extra = [o for o in doubled if o not in base]
    assert [o for o in doubled if o in base] == base  # every base order is still there, unchanged
    assert extra
    assert all(o.market == "us" and window[0] <= o.arrival < window[1] for o in extra)

    halved = draw_demand(model, start=T0, end=end, seed=3, surges=[DemandSurge("us", 0.5, *window)])
    assert all(o in base for o in halved)
    dropped = [o for o in base if o not in halved]
    assert dropped
    assert all(o.market == "us" and window[0] <= o.arrival < window[1] for o in dropped)

    none = draw_demand(model, start=T0, end=end, seed=3, surges=[DemandSurge("de", 0.0, *window)])
    assert [o for o in none if o.market == "de" and window[0] <= o.arrival < window[1]] == []
    assert [o for o in none if o.market == "us"] == [o for o in base if o.market == "us"]


# --------------------------------------------------------------------------------------- allocation


def order(setup: Setup, oid: str, market: str, arrival: datetime) -> DemandOrder:
    (entry,) = setup.demand.mix
    return DemandOrder(oid, market, entry.product, entry.configs["us"][0], 4, arrival, arrival + 4 * DAY)


def test_an_outage_takes_its_hours_out_of_the_sites_capacity(network: Network, setup: Setup) -> None:
    orders = [order(setup, "o1", "de", T0)]
    base = allocation_problem(apply_changes(network, []), orders, setup)
    down = allocation_problem(apply_changes(network, [SiteOutage("bavaria", T0 + DAY, T0 + 3 * DAY)]), orders, setup)
    assert len(base.buckets) == 7  # horizon 3 days + the drain (dueIn, 4 days), daily buckets
    for site, site_down in zip(base.sites, down.sites, strict=True):
        for capability, hours in site.capacity.items():
            changed = site_down.capacity[capability]
            if site.name == "bavaria":
                assert changed[0] == hours[0]
                assert changed[3:] == hours[3:]
                assert changed[1] == changed[2] == 0.0 < hours[1]
            else:
                assert changed == hours


def test_a_short_outage_moves_the_orders_that_arrive_during_it(network: Network, setup: Setup) -> None:
    # Ohio makes US orders cheaply (no duty; 2 days to the customer); Monterrey pays US duty (3 days). Ohio is
    # down from day 2 to day 4 (three days, after its first day). Lateness costs the order's value a day.
    costly = replace(setup, lateness_rate=Decimal(1), penalty_factor=Decimal(2))
    hour = timedelta(hours=2)
    arrivals = {"before": T0 + hour, "day2": T0 + DAY + hour, "day3": T0 + 2 * DAY + hour, "day4": T0 + 3 * DAY + hour}
    orders = [order(setup, oid, "us", at) for oid, at in arrivals.items()]
    outage = apply_changes(network, [SiteOutage("ohio", T0 + DAY, T0 + 4 * DAY)])

    def sites(problem: AllocationProblem) -> dict[str, str]:
        plan = allocate_milp(problem, time_limit=5.0, gap=0.0)
        assert validate(problem, plan) == []
        return {o: shares[0].site for o, shares in plan.assignments.items()}

    base = allocation_problem(apply_changes(network, []), orders, costly)
    assert [o.release for o in base.orders] == [2.0, 26.0, 50.0, 74.0]  # hours after the start: their arrival
    assert sites(base) == dict.fromkeys(arrivals, "ohio")
    # Ohio's first day is gone for the orders arriving during the outage: made there after it, the first two
    # would reach the customer a day or two late; Monterrey makes them on time. The last one waits for Ohio.
    down = allocation_problem(outage, orders, costly)
    assert sites(down) == {"before": "ohio", "day2": "monterrey", "day3": "monterrey", "day4": "ohio"}
    # Without release dates Ohio's first day would have held them all, before they arrived: nothing moved.
    at_start = replace(down, orders=tuple(replace(o, release=0.0) for o in down.orders))
    assert sites(at_start) == dict.fromkeys(arrivals, "ohio")


def test_a_tariff_raises_duty_from_its_effective_date_only(network: Network, setup: Setup) -> None:
    orders = [order(setup, "before", "us", T0 + DAY), order(setup, "after", "us", T0 + 2 * DAY + timedelta(hours=1))]
    tariff = TariffChange("US", "*", ("*",), Decimal("0.25"), (T0 + 2 * DAY).date(), None, (), "what-if tariff")
    base = {(p.order, p.site): p for p in allocation_problem(apply_changes(network, []), orders, setup).pairs}
    taxed = {(p.order, p.site): p for p in allocation_problem(apply_changes(network, [tariff]), orders, setup).pairs}
    eligible = [k for k, p in base.items() if p.reason is None]
    assert {site for _, site in eligible} >= {"bavaria", "japan", "monterrey", "ohio"}
    for key in eligible:
        if key[0] == "before":
            assert taxed[key].duty == base[key].duty
        else:  # imports into the US, and the US site's imported components, pay 25 % more
            assert taxed[key].duty > base[key].duty
        assert taxed[key].production == base[key].production


def test_a_lane_cut_closes_the_pair_for_orders_that_would_ship_during_it(network: Network, setup: Setup) -> None:
    orders = [order(setup, "early", "us", T0), order(setup, "late", "us", T0 + 3 * DAY)]
    cut = apply_changes(network, [LaneCut("ohio-us", T0 + DAY, T0 + 2 * DAY)])
    pairs = {(p.order, p.site): p for p in allocation_problem(cut, orders, setup).pairs}
    assert pairs["early", "ohio"].reason is not None
    assert "lane ohio-us cut 2027-01-05" in pairs["early", "ohio"].reason
    assert pairs["early", "monterrey"].reason is None
    assert pairs["late", "ohio"].reason is None  # arrives after the cut


# ---------------------------------------------------------------------------------------- summaries


def study_of(*names: str) -> WhatIf:
    setup = Setup(T0, 3 * DAY, DAY, DemandModel({}, (), 1, 1, DAY))
    return WhatIf("hand", "hand.yaml", setup, 3, tuple(Scenario(n, ()) for n in names))


def rows(variant: str, costs: list[float], on_time: list[float]) -> list[dict[str, Any]]:
    return [
        {"variant": variant, "seed": s, "cost:total": c, "on_time": o}
        for s, c, o in zip((1, 2, 3), costs, on_time, strict=True)
    ]


def test_summarize_pairs_the_seeds_and_gives_student_t_intervals_of_the_differences() -> None:
    data = rows(BASELINE, [100, 110, 120], [0.9, 0.8, 1.0]) + rows("s", [103, 112, 124], [0.7, 0.8, 0.9])
    result = summarize(study_of("s"), data, "USD")
    (scenario,) = result.scenarios
    assert result.seeds == (1, 2, 3)
    cost = scenario.metric("cost:total")
    assert (cost.label, cost.unit) == ("total cost", "USD")
    # Differences 3, 2, 4: mean 3, standard deviation 1, t(0.975; 2 df) = 4.303 -> 4.303 / sqrt(3) = 2.48434.
    assert cost.delta.mean == pytest.approx(3.0)
    assert cost.delta.half_width == pytest.approx(2.48434, abs=1e-5)
    assert (cost.delta.low, cost.delta.high) == (pytest.approx(0.51566, abs=1e-5), pytest.approx(5.48434, abs=1e-5))
    # Each side alone: baseline 100, 110, 120 (sd 10 -> 24.8434);
    # variant 103, 112, 124 (sd sqrt(111) -> 4.303 x sqrt(37) = 26.1741).
    assert cost.baseline.mean == pytest.approx(110.0)
    assert cost.baseline.half_width == pytest.approx(24.8434, abs=1e-4)
    assert cost.variant.mean == pytest.approx(113.0)
    assert cost.variant.half_width == pytest.approx(4.303 * math.sqrt(111) / math.sqrt(3))
    assert cost.variant.half_width == pytest.approx(26.1741, abs=1e-4)
    # On time: differences -0.2, 0.0, -0.1: mean -0.1, sd 0.1 -> half width 0.248434.
    on_time = scenario.metric("on_time")
    assert (on_time.unit, on_time.delta.mean) == ("share", pytest.approx(-0.1))
    assert on_time.delta.half_width == pytest.approx(0.248434, abs=1e-6)
    assert [int(r["seed"]) for r in result.rows] == [1, 2, 3, 1, 2, 3]
    assert [r["variant"] for r in result.rows[:3]] == [BASELINE] * 3  # the baseline's rows first


def test_summarize_with_one_seed_has_no_interval_and_refuses_unpaired_rows() -> None:
    one = summarize(
        study_of("s"), rows(BASELINE, [1, 2, 3], [1, 1, 1])[:1] + rows("s", [4, 5, 6], [1, 1, 1])[:1], "USD"
    )
    delta = one.scenarios[0].metric("cost:total").delta
    assert (delta.mean, delta.n) == (3.0, 1)
    assert math.isnan(delta.half_width)
    with pytest.raises(WhatIfError, match=r"scenario s: seeds \[1, 2\] do not match the baseline's \[1, 2, 3\]"):
        summarize(study_of("s"), rows(BASELINE, [1, 2, 3], [1, 1, 1]) + rows("s", [4, 5, 6], [1, 1, 1])[:2], "USD")
    with pytest.raises(WhatIfError, match="no baseline runs"):
        summarize(study_of("s"), rows("s", [4, 5, 6], [1, 1, 1]), "USD")


# ----------------------------------------------------------------------------------------- parallel


def test_run_parallel_keeps_the_order_and_ticks_once_per_task() -> None:
    ticks: list[int] = []
    assert run_parallel(abs, [-3, 1, -2], workers=1, tick=lambda: ticks.append(1)) == [3, 1, 2]
    assert ticks == [1, 1, 1]
    assert run_parallel(abs, [-3, 1, -2, -7], workers=2) == [3, 1, 2, 7]


def test_ray_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # importing it now raises ImportError
    with pytest.raises(RayError, match=r"pip install 'microfab\[ray\]'"):
        run_parallel(abs, [1], ray_address="local")
