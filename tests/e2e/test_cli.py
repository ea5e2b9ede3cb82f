"""The CLI: validate, apply (plan, no-op re-apply), bad input that writes nothing, an unreachable store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.store import open_event_log
from tests.e2e.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.e2e
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output  # Click >= 8.2 mixes stderr into output


def test_validate_example_network() -> None:
    code, out = invoke("validate", str(EXAMPLE))
    assert code == 0, out
    assert "valid" in out


def test_validate_reports_every_seeded_mistake_with_file_and_line() -> None:
    code, out = invoke("validate", str(ROOT / "tests" / "data" / "bad_network"))
    assert code == 1
    located = re.findall(r"^error: \S+\.ya?ml:\d+:\d+: ", out, flags=re.MULTILINE)
    assert len(located) == 5, out
    assert "5 error(s)" in out


def test_apply_twice_is_a_no_op_the_second_time(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    code, out = invoke("apply", str(EXAMPLE), "--db", db)
    assert code == 0, out
    assert "Plan:" in out
    assert "applied" in out
    log = open_event_log(db)
    count = len(log.read_all())
    log.close()
    code, out = invoke("apply", str(EXAMPLE), "--db", db)
    assert code == 0, out
    assert "No changes" in out
    log = open_event_log(db)
    assert len(log.read_all()) == count
    log.close()


def test_invalid_folder_applies_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    code, _ = invoke("apply", str(ROOT / "tests" / "data" / "bad_network"), "--db", db)
    assert code == 1
    log = open_event_log(db)
    assert log.read_all() == []
    log.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--product", "flux-capacitor", "--market", "us"], "unknown product"),
        (["--product", "laptop-stand", "--market", "us", "-o", "finish=gold"], "not offered"),
        (["--product", "laptop-stand", "--market", "us", "-o", "colour=red"], "no option"),
        (["--product", "laptop-stand", "--market", "atlantis"], "unknown market"),
    ],
)
def test_bad_orders_write_no_event(tmp_path: Path, args: list[str], message: str) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert invoke("apply", str(EXAMPLE), "--db", db)[0] == 0
    log = open_event_log(db)
    before = len(log.read_all())
    log.close()
    code, out = invoke("order", "place", *args, "--db", db)
    assert code == 1
    assert message in out
    log = open_event_log(db)
    assert len(log.read_all()) == before
    log.close()


def test_order_place_run_and_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert invoke("apply", str(EXAMPLE), "--db", db)[0] == 0
    code, out = invoke("order", "place", "--product", "laptop-stand", "--market", "de", "--qty", "2", "--db", db)
    assert code == 0, out
    assert "EUR" in out
    code, out = invoke("run", "--until", "4d", "--db", db)
    assert code == 0, out
    code, out = invoke("get", "orders", "--db", db)
    assert "delivered" in out
    code, out = invoke("kpi", "--db", db)
    assert code == 0
    assert "OEE" in out
    code, out = invoke("kpi", "--site", "bavaria", "--since", "2d", "--no-modules", "--db", db)
    assert code == 0, out
    assert "bavaria" in out
    assert "ohio" not in out
    assert invoke("kpi", "--site", "atlantis", "--db", db)[0] == 1
    code, out = invoke("kpi", "--json", "--db", db)
    assert code == 0, out
    figures = json.loads(out)
    assert figures["total"]["produced"] == sum(s["produced"] for s in figures["sites"].values())
    assert figures["total"]["produced"] == sum(m["produced"] for m in figures["modules"].values())
    assert {"mtbf_h", "mttr_h", "throughput_per_h", "scrap_ratio", "oee"} <= figures["total"].keys()
    assert figures["delivery"]["delivered"] >= 1
    assert invoke("kpi", "--since", "2026-01-01T00:00:00", "--db", db)[0] == 1
    code, out = invoke("events", "--stream", "order-", "--limit", "5", "--db", db)
    assert code == 0
    assert "OrderDelivered" in out


def test_unreachable_store_is_one_clear_line() -> None:
    code, out = invoke("get", "sites", "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/nowhere")
    assert code == 1
    assert "secret" not in out
    assert len([line for line in out.splitlines() if line.strip()]) == 1, out


def test_demo_writes_a_report_with_a_gantt(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, text = invoke(
        "demo",
        "--orders",
        "6",
        "--days",
        "3",
        "--network",
        str(EXAMPLE),
        "--db",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "placed 6 orders (0 rejected)" in text
    html = out.read_text()
    assert html.count("<rect") > 10
    for site in ("ohio", "monterrey", "bavaria", "japan", "vietnam"):
        assert f"<td>{site}</td>" in html
    assert "http" not in html, "the report must not load anything from the network"


def test_keys_are_created_listed_and_revoked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert invoke("apply", str(EXAMPLE), "--db", db)[0] == 0
    code, out = invoke("keys", "create", "--role", "customer", "--customer", "acme", "--market", "de", "--db", db)
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("mfk_")
    key_id = secret.split("_")[1]
    code, out = invoke("keys", "list", "--db", db)
    assert key_id in out
    assert secret not in out
    assert invoke("keys", "revoke", key_id, "--db", db)[0] == 0
    assert "yes" in invoke("keys", "list", "--db", db)[1]
    code, out = invoke("keys", "create", "--role", "customer", "--db", db)
    assert code == 1
    assert "needs --customer" in out


def test_alerts_and_passport(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert invoke("apply", str(EXAMPLE), "--db", db)[0] == 0
    code, out = invoke(
        "order",
        "place",
        "--product",
        "laptop-stand",
        "--market",
        "jp",
        "--due",
        "2020-01-01T00:00:00+00:00",
        "--db",
        db,
    )
    assert code == 0, out
    assert invoke("run", "--until", "3d", "--db", db)[0] == 0
    code, out = invoke("alerts", "--all", "--json", "--db", db)
    assert code == 0, out
    alerts = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    late = [a for a in alerts if a["kind"] == "order-will-be-late"]
    assert late, out
    assert late[0]["cleared_at"] is not None, "cleared once the order was delivered"
    assert invoke("alerts", "ack", late[0]["alert_id"], "--by", "planner-on-call", "--db", db)[0] == 0
    code, out = invoke("passport", "ord-00001-001", "--json", "--db", db)
    assert code == 0, out
    passport = json.loads(out)
    assert passport["status"] == "delivered"
    assert all(step["module"] and step["good"] for step in passport["steps"])
    assert invoke("passport", "ord-00001-999", "--db", db)[0] == 1


def test_run_with_demand_reports_its_figures_as_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert invoke("apply", str(EXAMPLE), "--db", db)[0] == 0
    code, out = invoke("run", "--until", "3d", "--demand", "4", "--seed", "5", "--json", "--db", db)
    assert code == 0, out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["placed"] == figures["orders"] == 12
    assert figures["duplicates"] == 0
    assert figures["lost"] == 0
    assert figures["operations_executed"] > 0
    assert set(figures["oee_by_site"]) <= {"ohio", "monterrey", "bavaria", "japan", "vietnam"}
