"""The composition root: build adapters from `Settings` and hand them to the controllers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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


def sim_controller(services: Services, *, breakdowns: bool = True) -> Controller:
    """A controller on the in-process twin, starting at network time."""
    driver = SimDriver(services.state.network, services.now(), seed=services.settings.seed, breakdowns=breakdowns)
    return Controller(state=services.state, log=services.log, driver=driver, settings=services.settings)
