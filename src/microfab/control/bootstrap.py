"""The composition root: build adapters from `Settings` and hand them to the controllers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from microfab.control.controller import Controller
from microfab.control.state import State
from microfab.control.telemetry_link import HostApplication, TelemetryLink
from microfab.drivers.base import ModuleDriver
from microfab.drivers.sim import SimDriver
from microfab.settings import Settings
from microfab.store import open_event_log
from microfab.store.base import EventLog, mask_url


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

    driver = OpcUaDriver(services.state.network, clock=network_clock(services, time_scale), time_scale=time_scale)
    return Controller(state=services.state, log=services.log, driver=driver, settings=services.settings)


def mixed_controller(services: Services, *, time_scale: float = 1.0, breakdowns: bool = True) -> Controller:
    """A controller on modules with an ``endpoint`` over OPC UA and on the twin for the others, on one clock.

    Network time runs as for `opcua_controller`; the twin's modules are paced by it.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale: expected > 0, got {time_scale}")
    try:
        from microfab.drivers.composite import CompositeDriver  # noqa: PLC0415 - asyncua is the `opcua` extra
    except ImportError as exc:
        raise ValueError(f"--driver mixed needs asyncua: pip install 'microfab[opcua]' ({exc})") from None

    driver = CompositeDriver(
        services.state.network,
        clock=network_clock(services, time_scale),
        time_scale=time_scale,
        seed=services.settings.seed,
        breakdowns=breakdowns,
    )
    return Controller(state=services.state, log=services.log, driver=driver, settings=services.settings)


def network_clock(services: Services, time_scale: float) -> Callable[[], datetime]:
    """Network time from the log's time on, running ``1 / time_scale`` times faster than the wall clock."""
    origin, started = services.now(), time.monotonic()

    def clock() -> datetime:
        return origin + timedelta(seconds=(time.monotonic() - started) / time_scale)

    return clock


def link_telemetry(services: Services, driver: ModuleDriver, mqtt: str, *, grace: float = 5.0) -> TelemetryLink:
    """Wrap *driver* so module deaths and rebirths heard over Sparkplug B (broker *mqtt*) become faults and repairs.

    One primary host application per site with modules: Sparkplug group = the site, host id
    ``<site>-controller`` (start module servers with ``--group <site> --primary-host <site>-controller``).
    """
    try:
        from microfab.telemetry.mqtt import BrokerSettings  # noqa: PLC0415 - paho is the optional `mqtt` extra
        from microfab.telemetry.sparkplug_host import SparkplugHost  # noqa: PLC0415
    except ImportError as exc:
        raise ValueError(f"--mqtt needs paho-mqtt and protobuf: pip install 'microfab[mqtt]' ({exc})") from None
    try:
        settings = BrokerSettings.parse(mqtt)
    except ValueError:
        raise ValueError(f"--mqtt: expected mqtt[s]://[user:password@]host[:port], got {mask_url(mqtt)!r}") from None
    network = services.state.network
    hosts: dict[str, HostApplication] = {
        site: SparkplugHost(site, f"{site}-controller", settings)
        for site in sorted(network.sites)
        if network.modules_at(site)
    }
    return TelemetryLink(driver, hosts, network=network, log=services.log, grace=grace)


def sim_controller(services: Services, *, breakdowns: bool = True) -> Controller:
    """A controller on the in-process twin, starting at network time."""
    driver = SimDriver(services.state.network, services.now(), seed=services.settings.seed, breakdowns=breakdowns)
    settings = replace(services.settings, schedule_time_limit=services.settings.sim_schedule_time_limit)
    return Controller(state=services.state, log=services.log, driver=driver, settings=settings)
