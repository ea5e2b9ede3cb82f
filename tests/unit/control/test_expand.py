"""The expansion problem of a declared network, the forecast file, and the plan's Module documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from microfab.control.expand import ExpansionInputs, expansion_problem
from microfab.control.expand_output import ORDER_BY, PRODUCTIVE_FROM, module_plan
from microfab.control.forecast import load_forecast
from microfab.domain.network import Network
from microfab.manifests import ManifestErrors, Resource, load_network, load_resources
from microfab.planning.expand_problem import Change, ExpansionPlan, ExpansionStatus, breakdown

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "network"
FORECAST = ROOT / "examples" / "forecast" / "forecast.yaml"


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(EXAMPLE)


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return load_resources(EXAMPLE)


@pytest.fixture(scope="module")
def inputs(network: Network) -> ExpansionInputs:
    return expansion_problem(network, load_forecast(FORECAST, network))


def write(tmp_path: Path, text: str, name: str = "forecast.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_forecast_reads_into_twelve_months(network: Network) -> None:
    forecast = load_forecast(FORECAST, network)
    assert [s.label for s in forecast.spans][:3] == ["2027-01", "2027-02", "2027-03"]
    assert forecast.start == datetime(2027, 1, 1, tzinfo=UTC)
    assert forecast.end == datetime(2028, 1, 1, tzinfo=UTC)
    vn = next(d for d in forecast.demand if d.market == "vn")
    assert vn.units[0] == 800
    assert vn.units[-1] == 3400
    assert forecast.retire is False


def test_weekly_periods_start_on_the_given_day(tmp_path: Path, network: Network) -> None:
    text = "start: 2027-01-04\nperiod: week\nperiods: 3\nfamilies: [{product: laptop-stand}]\n"
    text += "demand: [{market: us, family: stands, units: [1, 2, 3]}]\n"
    forecast = load_forecast(write(tmp_path, text), network)
    assert [s.label for s in forecast.spans] == ["2027-01-04", "2027-01-11", "2027-01-18"]
    assert all(s.hours == 168 for s in forecast.spans)


def test_forecast_errors_name_the_line_and_field(tmp_path: Path, network: Network) -> None:
    text = (
        "start: 2027-01-15\nperiods: 2\nfamilies: [{product: laptop-stand, mix: [{share: '1', "
        "config: {material: walnut, finish: raw}}]}]\nsites: {atlantis: {allow: [warp-drive]}}\n"
        "demand: [{market: us, family: stands, units: [1, 2], ramp: {from: 1, to: 2}}]\n"
    )
    with pytest.raises(ManifestErrors) as caught:
        load_forecast(write(tmp_path, text), network)
    messages = [str(e) for e in caught.value.errors]
    assert any(":1:1: start: expected the first day of a month" in m for m in messages), messages
    assert any("families[0].mix[0].config: the configuration breaks finish-per-material" in m for m in messages)
    assert any("sites.atlantis: unknown site 'atlantis'" in m for m in messages)
    assert any("sites.atlantis.allow[0]: unknown module type 'warp-drive'" in m for m in messages)
    assert any(":5:10: demand[0]: expected either units" in m for m in messages), messages


def test_families_split_into_variants_by_the_capabilities_a_site_lacks(inputs: ExpansionInputs) -> None:
    stands = {name: v for name, v in inputs.variants.items() if v.family == "stands"}
    assert sorted(stands) == ["stands", "stands+anodize"]  # only Vietnam lacks a capability: anodize
    assert sum(v.share for v in stands.values()) == pytest.approx(1.0)
    assert "anodize" in stands["stands+anodize"].work
    assert "anodize" not in stands["stands"].work
    assert all(v.price > v.materials > 0 for v in stands.values())


def test_module_types_carry_capex_and_lead_time_in_periods(inputs: ExpansionInputs) -> None:
    anodizing = inputs.problem.option("anodizing")
    assert anodizing.capex == 4800
    assert anodizing.deploy_cost == 45000
    assert anodizing.lead == 3  # 60 days from 2027-01-01: the first month starting after 2027-03-02
    assert inputs.problem.option("laser-engraver").lead == 1  # 14 days: February
    assert anodizing.slots == 2
    # 85 % of the hours after MTBF / (MTBF + MTTR) x speed x yield.
    assert anodizing.rate == pytest.approx(120 / 124 * 0.8 * 0.97 * 0.85)


def test_routes_need_an_open_lane_and_a_possible_capability(network: Network, tmp_path: Path) -> None:
    text = FORECAST.read_text(encoding="utf-8") + "sites: {vietnam: {deny: [anodizing]}}\n"
    inputs = expansion_problem(network, load_forecast(write(tmp_path, text), network))
    routes = {(r.site, r.market, r.family): r for r in inputs.problem.routes}
    assert routes[("vietnam", "vn", "stands+anodize")].reason == "no module type for anodize may be at vietnam"
    assert routes[("ohio", "de", "stands")].reason == "no open lane from ohio to de"
    served = routes[("ohio", "us", "stands")]
    assert served.reason is None
    assert served.production > 0
    assert served.freight > 0
    assert routes[("bavaria", "us", "stands")].duty > routes[("ohio", "us", "stands")].duty


def plan_with(
    inputs: ExpansionInputs, deployments: tuple[Change, ...], retirements: tuple[Change, ...]
) -> ExpansionPlan:
    """A plan holding only changes (module_plan reads nothing else)."""
    zero = breakdown(
        dict.fromkeys(("capex", "deploy", "retire", "production", "freight", "duty", "lost_sales"), 0.0), "USD"
    )
    return ExpansionPlan(
        ExpansionStatus.HEURISTIC, deployments, retirements, (), (), (), {}, 0.0, zero, None, None, 0.0, "test"
    )


def test_deployments_are_named_by_site_type_and_period_with_their_dates(
    inputs: ExpansionInputs, resources: list[Resource]
) -> None:
    plan = plan_with(inputs, (Change("vietnam", "anodizing", 6, 1),), ())
    modules = module_plan(inputs, plan, resources)
    (doc,) = [d for d in modules.documents["vietnam"] if d["spec"]["type"] == "anodizing"]
    assert doc["metadata"]["name"] == "vietnam-anodizing-2027-07"
    assert doc["spec"] == {"type": "anodizing", "site": "vietnam", "replicas": 1}
    assert doc["metadata"]["labels"][PRODUCTIVE_FROM] == "2027-07-01"
    assert doc["metadata"]["labels"][ORDER_BY] == "2027-05-02"
    assert modules.deploy_at == {"vietnam-anodizing-2027-07-1": datetime(2027, 7, 1, tzinfo=UTC)}
    assert set(modules.documents) == {"bavaria", "japan", "monterrey", "ohio", "vietnam"}


def test_retirements_go_last_in_first_out(inputs: ExpansionInputs, resources: list[Resource]) -> None:
    plan = plan_with(
        inputs,
        (Change("vietnam", "anodizing", 4, 2),),
        (Change("ohio", "anodizing", 2, 1), Change("vietnam", "anodizing", 8, 1), Change("ohio", "packing", 5, 1)),
    )
    modules = module_plan(inputs, plan, resources)
    assert modules.retire_at == {
        "ohio-anodizing-2": datetime(2027, 3, 1, tzinfo=UTC),
        "vietnam-anodizing-2027-05-2": datetime(2027, 9, 1, tzinfo=UTC),
        "ohio-packing": datetime(2027, 6, 1, tzinfo=UTC),
    }
    ohio = {d["metadata"]["name"]: d["spec"] for d in modules.documents["ohio"]}
    assert ohio["ohio-anodizing"]["replicas"] == 1
    assert "ohio-packing" not in ohio  # a single module's document goes with it
    vietnam = {d["metadata"]["name"]: d["spec"] for d in modules.documents["vietnam"]}
    assert vietnam["vietnam-anodizing-2027-05"]["replicas"] == 1
    assert [a.action for a in modules.actions] == ["retire", "deploy", "retire", "retire"]
