"""Crash safety: a controller killed with SIGKILL at random moments neither loses nor repeats work.

Each round starts ``microfab run`` as its own process on the same store and kills it with
SIGKILL at a random moment; the next round rebuilds from the log. At the end a normal run
finishes the work and the log must show every operation completed good exactly once, every
order delivered, and contiguous stream versions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.control.state import State
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import OperationCompleted
from microfab.domain.orders import OrderStatus
from microfab.manifests import load_resources
from microfab.settings import Settings
from microfab.store import open_event_log
from microfab.store.base import EventLog
from tests.e2e.conftest import EXAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KILLS = 20
CLI = [sys.executable, "-c", "from microfab.cli.main import app; app()"]


def _last(log: EventLog, known: int) -> int:
    """The log's last position, reading only what came after *known*."""
    rows = log.read_all(after_position=known)
    return rows[-1].position if rows else known


def _run(url: str, span: str, errors: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROFAB_SEED": "11"}
    with errors.open("ab") as err:
        return subprocess.Popen(
            [*CLI, "run", "--until", span, "--db", url], stdout=subprocess.DEVNULL, stderr=err, env=env
        )


def _kill_while_working(process: subprocess.Popen[bytes], probe: EventLog, after: int, delay: float) -> bool:
    """Wait until the process has written to the log, let it work *delay* seconds more, SIGKILL it.

    Returns whether it was killed (False when it finished first).
    """
    deadline = time.monotonic() + 60
    while process.poll() is None and not probe.read_all(after_position=after, limit=1):
        if time.monotonic() > deadline:
            raise AssertionError("the run wrote nothing for 60 s")
        time.sleep(0.02)
    time.sleep(delay)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return True


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_at_random_moments_loses_and_repeats_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    services = bootstrap(Settings(db=url))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    for i, market in enumerate(["us", "mx", "de", "jp", "vn"] * 2):
        operations.place(services, PlaceOrder(f"c{i}", "laptop-stand", {}, 3, market))
    services.close()

    rng = random.Random(20261125)
    errors = tmp_path / "stderr.txt"
    probe = open_event_log(url)
    kills = rounds = position = 0
    while kills < KILLS:
        rounds += 1
        assert rounds < KILLS * 3, "the runs keep finishing before they can be killed"
        position = _last(probe, position)
        process = _run(url, "6h", errors)
        kills += _kill_while_working(process, probe, position, rng.uniform(0.0, 0.6))
        assert process.returncode in (0, -signal.SIGKILL), errors.read_text()
    probe.close()

    final = _run(url, "8d", errors)
    assert final.wait(timeout=300) == 0, errors.read_text()

    log = open_event_log(url)
    try:
        state = State.load(log)
        assert all(o.status is OrderStatus.DELIVERED for o in state.orders.values())
        good = Counter(
            r.event.operation_id
            for r in log.read_all(types=["OperationCompleted"])
            if isinstance(r.event, OperationCompleted) and r.event.good
        )
        released = {r.event.operation_id for r in log.read_all(types=["OperationReleased"])}  # type: ignore[attr-defined]
        assert set(good) == released, "an operation was lost"
        assert max(good.values()) == 1, "an operation was completed twice"
        for stream in log.streams():
            versions = [r.version for r in log.read_stream(stream)]
            assert versions == list(range(1, len(versions) + 1)), stream
    finally:
        log.close()
