"""``microfab genealogy``: a module's units in a window and a unit's modules, from a run's log; bad input named."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.commands import PlaceOrder
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.e2e.conftest import EXAMPLE

pytestmark = pytest.mark.e2e
runner = CliRunner()
CUTTER = "ohio-laser-cutter-1"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module", name="db")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('genealogy') / 'log.db'}"
    services = bootstrap(Settings(db=db))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    for customer in ("c1", "c2"):
        operations.place(services, PlaceOrder(customer, "laptop-stand", {}, 3, "us"))
    services.close()
    code, out = invoke("run", "--until", "8h", "--seed", "3", "--no-breakdowns", "--db", db)
    assert code == 0, out
    return db


def records(*args: str) -> list[dict[str, Any]]:
    code, out = invoke("genealogy", *args, "--json")
    assert code == 0, out
    document = json.loads(out)
    assert set(document) == {"module", "unit", "since", "until", "records"}
    found: list[dict[str, Any]] = document["records"]
    return found


def test_a_modules_units_and_each_units_modules_agree(db: str) -> None:
    found = records("--module", CUTTER, "--db", db)
    assert found, "the cutter cut something in 8 hours"
    assert {r["module"] for r in found} == {CUTTER}
    assert {r["step"] for r in found} == {"cut"}
    starts = [r["started_at"] for r in found]
    assert starts == sorted(starts)
    for record in found:  # the reverse question answers the same
        history = records("--unit", record["serial"], "--db", db)
        assert any(h["module"] == CUTTER and h["operation_id"] == record["operation_id"] for h in history)


def test_the_window_narrows_the_answer(db: str) -> None:
    everything = records("--module", CUTTER, "--db", db)
    first = everything[0]
    end = datetime.fromisoformat(first["completed_at"])
    narrowed = records("--module", CUTTER, "--until", (end - timedelta(seconds=1)).isoformat(), "--db", db)
    assert narrowed == [r for r in everything if r["started_at"] < end.isoformat()]
    later = records("--module", CUTTER, "--since", (end + timedelta(seconds=1)).isoformat(), "--db", db)
    assert first not in later
    assert len(later) < len(everything)


def test_the_table_counts_units_and_attempts(db: str) -> None:
    code, out = invoke("genealogy", "--module", CUTTER, "--db", db)
    assert code == 0, out
    assert f"Genealogy of module {CUTTER}" in out
    assert "unit(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --module NAME or --unit SERIAL"),
        (("--module", CUTTER, "--unit", "x-001"), "give --module NAME or --unit SERIAL"),
        (("--module", CUTTER, "--since", "last tuesday"), "--since: expected an ISO 8601 time"),
        (("--module", CUTTER, "--until", "2026-11-30T08:00:00"), "--until: '2026-11-30T08:00:00' needs a UTC offset"),
        (("--module", CUTTER, "--since", "1h", "--until", "2d"), "--until: "),
        (("--unit", "x-001", "--since", "1d"), "--since and --until go with --module"),
        (("--module", "ohio-warp-drive"), "ohio-warp-drive"),
        (("--unit", "nope-001"), "nope-001"),
    ],
)
def test_bad_input_is_one_error_line(db: str, args: tuple[str, ...], message: str) -> None:
    code, out = invoke("genealogy", *args, "--db", db)
    assert code == 1
    assert out.startswith("error: ")
    assert message in out
