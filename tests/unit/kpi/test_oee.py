from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.quantities import Duration
from microfab.kpi import module_kpis, site_kpis, total_kpis

T0 = datetime(2026, 11, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(op: str, start: float, end: float, *, setup: int = 0, good: bool = True, ideal: int = 3600) -> list:
    return [
        OperationStarted(at(start), "o1", op, "s1", "m1", Duration(setup)),
        OperationCompleted(at(end), "o1", op, "s1", "m1", good, Duration(ideal), 1),
    ]


def test_iso_22400_buckets_and_ratios() -> None:
    # 10 h window; op A: 10 min setup, runs 60 min at ideal 48 min; op B runs 0:90-3:00 with a
    # 30 min breakdown inside (APT 60 min at ideal 60 min) and fails inspection.
    events = [
        *run("A", 10, 70, setup=600, ideal=48 * 60)[:1],
        *run("A", 10, 70, ideal=48 * 60)[1:],
        OperationStarted(at(120), "o1", "B", "s1", "m1", Duration(0)),
        ModuleFaulted(at(140), "m1", "breakdown"),
        ModuleRepaired(at(170), "m1"),
        OperationCompleted(at(210), "o1", "B", "s1", "m1", False, Duration(3600), 1),
    ]
    k = module_kpis(events, ["m1"], T0, at(600))["m1"]
    assert k.pbt == 36000
    assert k.aust == 600
    assert k.adot == 1800
    assert k.apt == 3600 + 3600
    assert k.ideal == 48 * 60 + 3600
    assert (k.produced, k.good, k.faults) == (2, 1, 1)
    assert k.availability == pytest.approx(7200 / 36000)
    assert k.effectiveness == pytest.approx(6480 / 7200)
    assert k.quality == pytest.approx(0.5)
    assert k.oee == pytest.approx(0.2 * 0.9 * 0.5)
    assert k.utilisation == pytest.approx(7800 / 36000)
    assert k.mttr_hours == pytest.approx(0.5)
    # MTBF: (PBT - ADOT) / faults = (36000 - 1800) s / 1 = 9.5 h; scrap 1 of 2; 1 good unit in 10 h.
    assert k.mtbf_hours == pytest.approx(9.5)
    assert k.scrap_ratio == pytest.approx(0.5)
    assert k.throughput_per_hour(10) == pytest.approx(0.1)
    assert k.throughput_per_hour(0) is None


def test_window_clips_and_open_faults_count_to_the_end() -> None:
    events = [ModuleFaulted(at(-30), "m1", "x"), ModuleRepaired(at(30), "m1"), ModuleFaulted(at(50), "m1", "x")]
    k = module_kpis(events, ["m1", "m2"], T0, at(60))
    assert k["m1"].adot == 30 * 60 + 10 * 60
    assert k["m1"].faults == 1  # the one that started inside the window
    assert k["m2"].oee == 0.0


def test_sites_are_ratios_of_sums() -> None:
    events = [
        *run("A", 0, 60),
        OperationStarted(at(0), "o1", "B", "s1", "m2", Duration(0)),
        OperationCompleted(at(30), "o1", "B", "s1", "m2", True, Duration(900), 1),
    ]
    per_module = module_kpis(events, ["m1", "m2"], T0, at(60))
    site = site_kpis(per_module, {"m1": "ohio", "m2": "ohio"})["ohio"]
    assert site.apt == 5400
    assert site.pbt == 7200
    assert site.effectiveness == pytest.approx((3600 + 900) / 5400)
    network = total_kpis("net", [site, site_kpis(per_module, {"m1": "ohio", "m2": "bavaria"})["bavaria"]])
    # ohio (m1 + m2) and bavaria (m2 again): 3 modules' worth of buckets, ratios of the sums.
    assert network.pbt == 3 * 3600
    assert network.apt == 5400 + 1800
    assert (network.produced, network.good) == (3, 3)
    assert network.scrap_ratio == 0.0


def test_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="end"):
        module_kpis([], ["m1"], at(10), at(0))
