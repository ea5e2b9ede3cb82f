"""``microfab schedule``: the FJSP runner's JSON lines and errors, and the Gantt of a site's last schedule."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from microfab.cli.schedule import app, html_gantt, text_gantt
from microfab.control import operations
from microfab.control.bootstrap import bootstrap, sim_controller
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import ScheduleCreated
from microfab.domain.schedules import ScheduledOperation
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
runner = CliRunner()


def created() -> ScheduleCreated:
    ops = (
        ScheduledOperation("SN1#00", "mill-1", T0, T0 + timedelta(minutes=30)),
        ScheduledOperation("SN1#01", "paint<1>", T0 + timedelta(minutes=30), T0 + timedelta(hours=1)),
        ScheduledOperation("SN2#00", "mill-1", T0 + timedelta(minutes=30), T0 + timedelta(minutes=45)),
    )
    return ScheduleCreated(T0, "ohio", "optimal", 3600, 3600, 12, ops)


def test_fjs_prints_one_json_object_per_instance(tmp_path: Path) -> None:
    first, second = tmp_path / "a.fjs", tmp_path / "b.fjs"
    first.write_text("2 2\n2 1 1 3 1 2 2\n1 2 1 2 2 4\n")
    second.write_text("1 1\n1 1 1 5\n")
    result = runner.invoke(app, ["fjs", str(first), str(second), "--time-limit", "1", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["instance"] for r in rows] == ["a", "b"]
    assert rows[1] | {"wall_s": 0} == {
        "instance": "b", "makespan": 5, "lower_bound": 5, "status": "optimal", "valid": True, "wall_s": 0,
    }  # fmt: skip
    assert rows[0]["valid"] is True
    assert rows[0]["makespan"] == 5


def test_fjs_table_and_a_malformed_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "g.fjs", tmp_path / "bad.fjs"
    good.write_text("1 1\n1 1 1 5\n")
    bad.write_text("1 2\n1 1 9 4\n")
    result = runner.invoke(app, ["fjs", str(good), "--time-limit", "1"])
    assert result.exit_code == 0
    assert "optimal" in result.output
    result = runner.invoke(app, ["fjs", str(bad)])
    assert result.exit_code == 1
    assert "line 2: job J1 operation 1: machine 9 is not in 1..2" in result.output


def test_text_gantt_has_a_row_per_module() -> None:
    lines = text_gantt(created(), width=40)
    assert "3 operations" in lines[0]
    rows = {line.split("|")[0].strip(): line for line in lines[2:]}
    assert set(rows) == {"mill-1", "paint<1>"}
    assert rows["mill-1"].endswith("2 ops")
    assert len(rows["mill-1"].split("|")[1]) == 40


def test_html_gantt_is_self_contained_and_escaped() -> None:
    page = html_gantt(created())
    assert page.count("<rect") == 3
    assert "paint&lt;1&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_show_reads_the_last_schedule_from_the_log(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    services = bootstrap(Settings(db=db, schedule_time_limit=0.2, seed=3))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    site = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 1, "us")).order.site
    assert site is not None
    idle = next(name for name in sorted(services.state.network.sites) if name != site)
    asyncio.run(sim_controller(services, breakdowns=False).start())
    services.close()
    out = tmp_path / "gantt.html"
    result = runner.invoke(app, ["show", site, "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"schedule of {site}" in result.output
    assert "<svg" in out.read_text()
    result = runner.invoke(app, ["show", "atlantis", "--db", db])
    assert result.exit_code == 1
    assert "unknown site 'atlantis'" in result.output
    result = runner.invoke(app, ["show", idle, "--db", db])
    assert result.exit_code == 1
    assert f"site {idle!r} has no recorded schedule yet" in result.output
