"""`microfab apply` as a diff: create, change, delete, deploy, retire; re-applying is a no-op."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from microfab.control.apply import Action, plan, record
from microfab.control.state import State
from microfab.domain.events import ModuleDeployed, ModuleRetired
from microfab.manifests import ManifestErrors, load_resources
from microfab.store import ConcurrencyError, MemoryEventLog

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
AT = datetime(2026, 11, 30, 8, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "network"))


def applied(folder: Path) -> tuple[MemoryEventLog, State]:
    log = MemoryEventLog()
    state = State()
    for event in record(plan(load_resources(folder), state), log, AT):
        state.apply_event("network", event)
    return log, state


def test_first_apply_creates_everything_and_deploys_every_module(folder: Path) -> None:
    log, state = applied(folder)
    resources = load_resources(folder)
    kinds = [r.type for r in log.read_stream("network")]
    assert kinds.count("ResourceApplied") == len(resources)
    deployed = [r.event for r in log.read_stream("network") if isinstance(r.event, ModuleDeployed)]
    assert {e.module for e in deployed} == set(state.network.modules)
    assert State.load(log).network == state.network


def test_reapplying_an_unchanged_folder_is_a_no_op(folder: Path) -> None:
    log, state = applied(folder)
    again = plan(load_resources(folder), state)
    assert again.empty
    assert again.unchanged == len(load_resources(folder))
    assert record(again, log, AT) == []


def test_changes_deletions_and_module_moves_are_planned(folder: Path) -> None:
    log, state = applied(folder)
    ohio = folder / "modules" / "ohio.yaml"
    text = ohio.read_text()
    # two laser cutters become three; the press brake moves to another site's file later
    ohio.write_text(
        text.replace(
            "  type: laser-cutter\n  site: ohio\n  replicas: 2", "  type: laser-cutter\n  site: ohio\n  replicas: 3"
        )
    )
    (folder / "modules" / "vietnam.yaml").unlink()
    change = plan(load_resources(folder), state)
    actions = {(c.action, c.kind) for c in change.changes}
    assert (Action.CHANGE, "Module") in actions
    assert (Action.DELETE, "Module") in actions
    assert "ohio-laser-cutter-3" in change.deployed
    assert all(site == "vietnam" for _, site in change.retired)
    assert len(change.retired) == len([m for m in state.network.modules.values() if m.site == "vietnam"])
    events = record(change, log, AT)
    retired = {e.module for e in events if isinstance(e, ModuleRetired)}
    assert retired == {name for name, _ in change.retired}
    rebuilt = State.load(log).network
    assert "ohio-laser-cutter-3" in rebuilt.modules
    assert not rebuilt.modules_at("vietnam")


def test_an_invalid_folder_plans_nothing(folder: Path) -> None:
    _, state = applied(folder)
    sites = folder / "sites.yaml"
    sites.write_text(sites.read_text().replace("containerSlots:", "containerSlot:", 1))
    with pytest.raises(ManifestErrors):
        plan(load_resources(folder), state)


def test_a_concurrent_apply_loses_and_writes_nothing(folder: Path) -> None:
    log, state = applied(folder)
    stale = State.load(log)
    (folder / "modules" / "vietnam.yaml").unlink()
    first = plan(load_resources(folder), state)
    second = plan(load_resources(folder), stale)
    record(first, log, AT)
    before = len(log.read_all())
    with pytest.raises(ConcurrencyError):
        record(second, log, AT)
    assert len(log.read_all()) == before
