"""The network twin service: orders from demand, deploy times, replications with confidence intervals."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from microfab.control.network_twin import (
    DemandLine,
    NetworkCase,
    TwinOrder,
    compile_run,
    draw_orders,
    run_compiled,
    simulate_network,
)
from microfab.domain.modules import Module
from microfab.domain.network import Network
from microfab.manifests import load_network

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
START = datetime(2027, 1, 4, tzinfo=UTC)
RAW = {"width": 300, "material": "aluminium", "finish": "raw"}
ANODIZED = {"width": 300, "material": "aluminium", "finish": "anodized-black"}


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(EXAMPLE)


def line(site: str, market: str, units: float, config: dict[str, object], **kw: object) -> DemandLine:
    values: dict[str, object] = {
        "site": site,
        "market": market,
        "family": "stands",
        "product": "laptop-stand",
        "mix": ((1.0, config),),
        "units": units,
        "start": START,
        "end": START + timedelta(days=3),
        "order_size": 3.0,
        "due_window": timedelta(days=4),
    }
    values.update(kw)
    return DemandLine(**values)  # type: ignore[arg-type]


def test_demand_lines_become_orders_with_the_lanes_transit_in_the_due_date(network: Network) -> None:
    case = NetworkCase(network, START, START + timedelta(days=7), demand=(line("ohio", "us", 40, RAW),))
    orders = draw_orders(case, seed=1)
    assert sum(o.quantity for o in orders) == 40
    assert all(1 <= o.quantity <= 5 for o in orders)
    assert all(START <= o.release < START + timedelta(days=3) for o in orders)
    assert all(o.due - o.release == timedelta(days=4 + 2) for o in orders)  # ohio-us takes 2 days
    assert [o.release for o in orders] == sorted(o.release for o in orders)
    assert draw_orders(case, seed=1) == orders
    assert draw_orders(case, seed=2) != orders


def test_a_job_runs_the_routing_times_the_quantity_at_its_site(network: Network) -> None:
    order = TwinOrder("ohio", "us", "stands", "laptop-stand", RAW, 3, START, START + timedelta(days=5))
    run = compile_run(NetworkCase(network, START, START + timedelta(days=2), orders=(order,)), seed=0)
    (job,) = run.scenario.jobs
    template = network.product("laptop-stand")
    steps = template.routing_for(template.configure(RAW))
    assert job.site == "ohio"
    assert job.capabilities == tuple(s.capability for s in steps)
    assert job.durations == tuple(3.0 * s.duration.seconds for s in steps)
    assert job.transit == 2 * 86400
    assert job.due == 5 * 86400


def test_replications_give_service_level_with_a_confidence_interval(network: Network) -> None:
    case = NetworkCase(network, START, START + timedelta(days=7), demand=(line("ohio", "us", 30, RAW),))
    ticks: list[int] = []
    figures = simulate_network(case, replications=3, seed=0, tick=lambda: ticks.append(1))
    assert len(ticks) == 3
    assert figures.replications == 3
    assert figures.service_level.n == 3
    assert 0.9 <= figures.service_level.mean <= 1.0
    assert math.isfinite(figures.service_level.half_width)
    assert figures.fill_rate.mean == pytest.approx(1.0)
    assert figures.undelivered_units.mean == 0
    assert set(figures.oee) == set(network.sites)
    assert 0 < figures.oee["ohio"].mean < 1
    assert set(figures.service_by_market) == {"us"}
    assert figures.as_json()["service_level"]["n"] == 3


def test_demand_nobody_was_asked_to_make_counts_against_the_service_level(network: Network) -> None:
    case = NetworkCase(
        network, START, START + timedelta(days=7), demand=(line("ohio", "us", 30, RAW),), demanded={"us": 60.0}
    )
    figures = simulate_network(case, replications=3, seed=0)
    assert figures.service_level.mean <= 0.5 + 1e-9
    assert figures.lost_units.mean == pytest.approx(30)


def test_a_module_deployed_later_holds_work_back_until_it_arrives(network: Network) -> None:
    new = Module("vietnam-anodizing-new-1", "anodizing", "vietnam")
    planned = replace(network, modules={**network.modules, new.name: new})
    anodized = line("vietnam", "vn", 12, ANODIZED, due_window=timedelta(days=1))
    early = NetworkCase(planned, START, START + timedelta(days=7), demand=(anodized,))
    late = replace(early, deploy_at={new.name: START + timedelta(days=5)})
    now = run_compiled(compile_run(early, seed=4))
    held = run_compiled(compile_run(late, seed=4))
    assert now["service_level"] == pytest.approx(1.0)
    assert held["service_level"] < now["service_level"]
    assert held["late_units"] > 0


def test_without_a_module_for_a_step_the_order_is_not_delivered(network: Network) -> None:
    # Vietnam's only anodizing line is retired before anything reaches it.
    new = Module("vietnam-anodizing-new-1", "anodizing", "vietnam")
    planned = replace(network, modules={**network.modules, new.name: new})
    anodized = line("vietnam", "vn", 6, ANODIZED)
    case = NetworkCase(
        planned,
        START,
        START + timedelta(days=7),
        demand=(anodized,),
        retire_at={new.name: START + timedelta(seconds=60)},
    )
    figures = run_compiled(compile_run(case, seed=0))
    assert figures["undelivered_units"] == 6
    assert figures["service_level"] == 0


def test_a_case_cut_early_keeps_what_happens_before(network: Network) -> None:
    new = Module("ohio-packing-new-1", "packing", "ohio")
    planned = replace(network, modules={**network.modules, new.name: new})
    lines = (
        line("ohio", "us", 30, RAW),
        line("ohio", "us", 30, RAW, start=START + timedelta(days=4), end=START + timedelta(days=8)),
    )
    case = NetworkCase(
        planned, START, START + timedelta(days=10), demand=lines, deploy_at={new.name: START + timedelta(days=6)}
    )
    cut = case.until(START + timedelta(days=6))
    assert new.name not in cut.network.modules
    assert cut.deploy_at == {}
    assert [round(x.units, 6) for x in cut.demand] == [30, 15]
    with pytest.raises(ValueError, match="end"):
        case.until(START - timedelta(days=1))


def test_an_order_without_an_open_lane_is_named(network: Network) -> None:
    case = NetworkCase(network, START, START + timedelta(days=7), demand=(line("ohio", "de", 5, RAW),))
    with pytest.raises(ValueError, match="from ohio: no open lane"):
        compile_run(case, seed=0)


def test_an_outage_is_unplanned_downtime_and_lowers_oee_where_maintenance_would_not(network: Network) -> None:
    demand = (line("ohio", "us", 30, RAW),)
    window = {m.name: [(START + timedelta(days=1), START + timedelta(days=3))] for m in network.modules_at("ohio")}
    base = NetworkCase(network, START, START + timedelta(days=7), demand=demand, breakdowns=False, variability=0.0)
    planned = run_compiled(compile_run(replace(base, maintenance=window), seed=2))
    forced = run_compiled(compile_run(replace(base, outages=window), seed=2))
    none = run_compiled(compile_run(base, seed=2))
    assert forced["oee:ohio"] < none["oee:ohio"] < planned["oee:ohio"]  # planned downtime leaves PBT
    assert forced["service_level"] == pytest.approx(planned["service_level"])  # the same work held back
    assert forced["oee:monterrey"] == none["oee:monterrey"]
    cut = replace(base, outages=window).until(START + timedelta(days=2))
    assert set(cut.outages) == set(window)


def test_on_time_counts_orders_delivered_and_orders_demanded(network: Network) -> None:
    case = NetworkCase(network, START, START + timedelta(days=7), demand=(line("ohio", "us", 30, RAW),))
    figures = run_compiled(compile_run(case, seed=1))
    orders = len(draw_orders(case, seed=1))
    assert figures["orders_demanded"] == orders
    assert figures["delivered_orders"] <= orders
    assert figures["on_time"] == pytest.approx(figures["on_time_orders"] / figures["delivered_orders"])
    assert figures["on_time_demanded"] == pytest.approx(figures["on_time_orders"] / orders)
    # Four more orders were demanded and turned down before the twin: on-time of demanded counts them.
    more = run_compiled(compile_run(replace(case, orders_demanded=orders + 4), seed=1))
    assert more["on_time"] == figures["on_time"]
    assert more["on_time_demanded"] == pytest.approx(figures["on_time_orders"] / (orders + 4))
    assert more["orders_demanded"] == orders + 4
