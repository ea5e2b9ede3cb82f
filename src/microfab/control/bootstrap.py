"""The composition root: build adapters from `Settings` and hand them to the controllers."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from microfab.control.controller import Controller
from microfab.control.state import State
from microfab.drivers.sim import SimDriver
from microfab.settings import Settings
from microfab.store import open_event_log
from microfab.store.base import EventLog


@dataclass(slots=True)
class Services:
    """The opened adapters and the state rebuilt from the log."""

    settings: Settings
    log: EventLog
    state: State

    def now(self) -> datetime:
        """Network time: the time of the last recorded event (simulation), else the wall clock."""
        return self.state.last_at or datetime.now(UTC).replace(microsecond=0)

    def close(self) -> None:
        """Release the adapters."""
        self.log.close()


def bootstrap(settings: Settings, *, log: EventLog | None = None) -> Services:
    """Open the event log named by *settings* (or use *log*, e.g. a fake) and replay it.

    Raises `microfab.store.base.StoreUnavailableError` when the store cannot be reached.
    """
    opened = log if log is not None else open_event_log(settings.db)
    return Services(settings, opened, State.load(opened))


def opcua_controller(services: Services, *, time_scale: float = 1.0) -> Controller:
    """A controller on real modules over OPC UA (every module needs an ``endpoint``).

    Network time starts at the log's time and runs ``1 / time_scale`` times faster than the
    wall clock, matching module servers started with the same ``--time-scale``.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale: expected > 0, got {time_scale}")
    missing = sorted(m.name for m in services.state.network.modules.values() if not m.endpoint)
    if missing:
        raise ValueError(f"--driver opcua needs an endpoint on every module; none on {', '.join(missing[:5])}")
    from microfab.drivers.opcua import OpcUaDriver  # noqa: PLC0415 - asyncua is the optional `opcua` extra

    origin, started = services.now(), time.monotonic()

    def clock() -> datetime:
        return origin + timedelta(seconds=(time.monotonic() - started) / time_scale)

    driver = OpcUaDriver(services.state.network, clock=clock, time_scale=time_scale)
    return Controller(state=services.state, log=services.log, driver=driver, settings=services.settings)


def sim_controller(services: Services, *, breakdowns: bool = True) -> Controller:
    """A controller on the in-process twin, starting at network time."""
    driver = SimDriver(services.state.network, services.now(), seed=services.settings.seed, breakdowns=breakdowns)
    settings = replace(services.settings, schedule_time_limit=services.settings.sim_schedule_time_limit)
    return Controller(state=services.state, log=services.log, driver=driver, settings=settings)
