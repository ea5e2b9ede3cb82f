"""`PackMLUnit` on its own (no sockets): timing, yield, hold/resume, abort and the PackML rules."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

import pytest

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.modules import PackMLCommand, PackMLState
from microfab.domain.quantities import Duration
from microfab.drivers.packml_unit import Job, JobNotLoadedError, PackMLUnit
from tests.integration.conftest import mill_type


class Log:
    def __init__(self) -> None:
        self.states: list[str] = []
        self.values: dict[str, object] = {}

    async def __call__(self, module: str, values: Mapping[str, object]) -> None:
        self.values.update(values)
        if "State" in values:
            self.states.append(str(values["State"]))


def test_a_job_runs_through_the_acting_states_and_reports_its_result() -> None:
    log = Log()

    async def body() -> None:
        unit = PackMLUnit("m", mill_type(setup="10m"), log, time_scale=0.0001, variability=0.0)
        await unit.load_job(Job("op-1", "o", "s", "stands", 60.0, attempt=2))
        await unit.command(PackMLCommand.START)
        await asyncio.sleep(0.2)
        assert unit.state is PackMLState.COMPLETE
        await unit.command(PackMLCommand.RESET)

    asyncio.run(body())
    assert log.states == ["Starting", "Execute", "Completing", "Complete", "Resetting", "Idle"]
    assert log.values["LastOperationId"] == "op-1"
    assert log.values["LastAttempt"] == 2
    assert log.values["LastGood"] is True
    assert log.values["SetupSeconds"] == 600.0


def test_hold_keeps_the_remaining_time_and_unhold_resumes() -> None:
    log = Log()

    async def body() -> float:
        unit = PackMLUnit("m", mill_type(setup="0s"), log, time_scale=0.001, variability=0.0)
        await unit.load_job(Job("op-1", "o", "s", "f", 200.0))  # 0.2 s
        await unit.command(PackMLCommand.START)
        await asyncio.sleep(0.1)
        await unit.fault("overload")
        assert unit.state is PackMLState.HELD
        await asyncio.sleep(0.3)  # held: no progress
        assert unit.state is PackMLState.HELD
        started = asyncio.get_running_loop().time()
        await unit.repair()
        while unit.state is not PackMLState.COMPLETE:
            await asyncio.sleep(0.005)
        return asyncio.get_running_loop().time() - started

    rest = asyncio.run(body())
    assert 0.05 < rest < 0.2  # about the 0.1 s left, not a fresh 0.2 s
    assert "Held" in log.states
    assert log.values["Faulted"] is False


def test_packml_rules() -> None:
    async def body() -> None:
        unit = PackMLUnit("m", mill_type(), Log(), time_scale=0.0)
        with pytest.raises(JobNotLoadedError):
            await unit.command(PackMLCommand.START)
        with pytest.raises(InvalidTransitionError):
            await unit.command(PackMLCommand.UNHOLD)
        await unit.fault("e-stop")  # idle: abort
        assert unit.state is PackMLState.ABORTED
        with pytest.raises(InvalidTransitionError):
            await unit.load_job(Job("op", "o", "s", "f", 1.0))
        await unit.repair()
        assert unit.state is PackMLState.IDLE
        with pytest.raises(ValueError, match="ideal_seconds"):
            Job("op", "o", "s", "f", float("nan"))
        with pytest.raises(ValueError, match="operation_id"):
            Job("", "o", "s", "f", 1.0)
        with pytest.raises(ValueError, match="time_scale"):
            PackMLUnit("m", mill_type(), Log(), time_scale=-1)

    asyncio.run(body())


def test_breakdowns_fault_and_repair_on_their_own() -> None:
    log = Log()
    mtype = replace(mill_type(), mtbf=Duration.parse("1h"), mttr=Duration.parse("30m"))

    async def body() -> None:
        unit = PackMLUnit("m", mtype, log, time_scale=0.0001)  # MTBF 0.36 s, MTTR 0.18 s
        task = asyncio.create_task(unit.breakdowns())
        await asyncio.sleep(2.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(body())
    assert log.states.count("Aborted") >= 1  # idle when it failed: aborted
    assert log.states.count("Idle") >= 1  # repaired: cleared and reset
