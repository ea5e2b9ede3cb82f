"""Replications and sweeps: tasks, confidence intervals, local processes and a small local Ray instance."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.twin import app, run_tasks
from microfab.twin.replications import Task, aggregate, build, estimate, run_task, t_quantile, tasks
from microfab.twin.scenario import FailureClock, RepairPolicy

runner = CliRunner()


def test_t_quantiles() -> None:
    assert t_quantile(1) == 12.706
    assert t_quantile(30) == 2.042
    assert t_quantile(60) == pytest.approx(2.000, abs=2e-3)
    assert t_quantile(10_000) == pytest.approx(1.960, abs=1e-3)
    with pytest.raises(ValueError, match="df"):
        t_quantile(0)


def test_estimate_is_a_student_t_interval() -> None:
    values = [10.0, 12.0, 11.0, 13.0]
    e = estimate(values)
    assert e.mean == 11.5
    assert e.half_width == pytest.approx(3.182 * statistics.stdev(values) / 2)
    assert e.low < e.mean < e.high
    assert math.isnan(estimate([1.0]).half_width)


def test_tasks_cross_scenarios_grid_and_seeds() -> None:
    todo = tasks(["line"], seeds=[1, 2, 3], jobs=20, grid={"mttr": ["5", "50"], "repair_policy": ["resume", "restart"]})
    assert len(todo) == 12
    assert todo[0] == Task("line", 20, 1, (("mttr", "5"), ("repair_policy", "resume")))
    assert todo[0].variant == "line[mttr=5,repair_policy=resume]"
    built = build(Task("mf-ref-1", 10, 1, (("failure_clock", "busy"), ("repair_policy", "restart"))))
    assert {s.failure_clock for s in built.stations} == {FailureClock.BUSY}
    assert {s.repair_policy for s in built.stations} == {RepairPolicy.RESTART}
    with pytest.raises(ValueError, match="unknown parameter 'colour'"):
        tasks(["line"], seeds=[1], jobs=5, grid={"colour": ["red"]})
    with pytest.raises(ValueError, match="unknown 'nope'"):
        tasks(["nope"], seeds=[1], jobs=5)
    with pytest.raises(ValueError, match=r"mtbf=-3: mean: expected a finite number > 0"):
        tasks(["line"], seeds=[1], jobs=5, grid={"mtbf": ["-3"]})


def test_aggregate_groups_by_variant() -> None:
    rows = [run_task(t) for t in tasks(["line"], seeds=[1, 2, 3], jobs=30, grid={"mtbf": ["50", "5000"]})]
    summary = aggregate(rows)
    assert set(summary) == {"line[mtbf=50]", "line[mtbf=5000]"}
    assert summary["line[mtbf=50]"]["jobs_done"].mean == 30
    assert summary["line[mtbf=50]"]["makespan"].n == 3
    assert summary["line[mtbf=50]"]["failures"].mean > summary["line[mtbf=5000]"]["failures"].mean


def test_local_processes_give_the_serial_results() -> None:
    todo = tasks(["line"], seeds=[1, 2], jobs=20)
    ticks: list[int] = []
    serial = run_tasks(todo, workers=1, tick=lambda: ticks.append(1))
    parallel = run_tasks(todo, workers=2)
    strip = [{k: v for k, v in r.items() if k != "wall_s"} for r in serial]
    assert strip == [{k: v for k, v in r.items() if k != "wall_s"} for r in parallel]
    assert len(ticks) == 2


@pytest.mark.slow
def test_ray_local_instance_runs_the_replications() -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        todo = tasks(["line"], seeds=[1, 2], jobs=10)
        on_ray = run_tasks(todo, ray_address="local")
        assert ray.is_initialized()  # an instance the caller started is left to the caller
    finally:
        ray.shutdown()
    serial = run_tasks(todo, workers=1)
    assert [r["makespan"] for r in on_ray] == [r["makespan"] for r in serial]


def test_cli_mf_ref_1_json_and_gantt(tmp_path: Path) -> None:
    gantt, trace = tmp_path / "g.svg", tmp_path / "t.csv"
    result = runner.invoke(app, ["mf-ref-1", "--jobs", "200", "--json", "--gantt", str(gantt), "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures) == {
        "makespan_min", "jobs_done", "ops_done", "setups", "failures", "preemptions",
        "mean_flow_time_min", "model_events", "wall_s", "model_events_per_s",
    }  # fmt: skip
    assert figures["jobs_done"] == 200
    assert gantt.read_text().startswith("<svg")
    assert trace.read_text().splitlines()[0] == "t,kind,module,job,operation"


def test_cli_mf_ref_1_table() -> None:
    result = runner.invoke(app, ["mf-ref-1", "--jobs", "100"])
    assert result.exit_code == 0, result.output
    assert "OEE" in result.output
    assert "m19" in result.output


def test_cli_sweep(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["sweep", "line", "--seeds", "2", "--jobs", "10", "--set", "mttr=1,9", "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert set(summary) == {"line[mttr=1]", "line[mttr=9]"}
    bad = runner.invoke(app, ["sweep", "line", "--set", "mttr"])
    assert bad.exit_code == 1
    assert "--set: expected KEY=V1,V2" in bad.output
