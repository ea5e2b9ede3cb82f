"""The telemetry link: node deaths and rebirths become faults and repairs, merged with the driver's, once per outage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap, sim_controller
from microfab.control.escalation import Escalation
from microfab.control.state import module_stream
from microfab.control.telemetry_link import LOST_AT_START, LOST_MID_RUN, TELEMETRY_STREAM, TelemetryLink
from microfab.domain.alerts import AlertCleared, AlertKind, AlertRaised
from microfab.domain.commands import PlaceOrder
from microfab.domain.events import ModuleFaulted, ModuleRepaired, ScheduleCreated, TelemetryLost, TelemetryRestored
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import Network
from microfab.domain.quantities import Duration, Money
from microfab.drivers.base import DispatchRequest, DriverEvent
from microfab.manifests import load_resources
from microfab.settings import Settings
from microfab.store import MemoryEventLog
from microfab.telemetry.base import NODE_DEATH, NodeBorn, NodeDied, SignalFeed

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network"
MILL = ModuleType(
    name="cnc-mill",
    capabilities=frozenset({"mill"}),
    speed=Decimal(1),
    setup_time=Duration(0),
    mtbf=Duration.parse("250h"),
    mttr=Duration.parse("2h"),
    yield_rate=Decimal(1),
    cost_per_hour=Money.parse("95 USD"),
    deploy_lead_time=Duration.parse("45d"),
)


class FakeHost(SignalFeed):
    """A host application the test drives: signals and connection changes on demand."""

    def __init__(self, *, connected: bool = True) -> None:
        super().__init__()
        self.connected = connected
        self.broker = "mqtt://127.0.0.1:1883"
        self.started = self.closed = False
        self._connection: list[Callable[[bool], None]] = []

    def add_connection_listener(self, listener: Callable[[bool], None]) -> None:
        self._connection.append(listener)

    def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    def died(self, node: str) -> None:
        self._emit(NodeDied(T0, node))

    def born(self, node: str) -> None:
        self._emit(NodeBorn(T0, node))

    def link_changed(self, connected: bool) -> None:
        self.connected = connected
        for listener in self._connection:
            listener(connected)


class FakeDriver:
    """A driver whose events the test queues; it waits (a little wall time) like a real one."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[DriverEvent] = asyncio.Queue()
        self.clock = T0
        self.closed = False

    def now(self) -> datetime:
        return self.clock

    async def dispatch(self, request: DispatchRequest) -> None:
        raise AssertionError("not used")

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        raise AssertionError("not used")

    async def next_event(self, until: datetime) -> DriverEvent | None:
        try:
            return await asyncio.wait_for(self.events.get(), 0.05)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self.closed = True


def network() -> Network:
    modules = {
        "mill-1": Module("mill-1", "cnc-mill", "ohio"),
        "mill-2": Module("mill-2", "cnc-mill", "ohio"),
        "mill-9": Module("mill-9", "cnc-mill", "porto"),
    }
    return Network("acme", "USD", module_types={"cnc-mill": MILL}, modules=modules)


def linked(
    host: FakeHost, *, log: MemoryEventLog | None = None, grace: float = 5.0
) -> tuple[TelemetryLink, FakeDriver]:
    driver = FakeDriver()
    return TelemetryLink(driver, {"ohio": host}, network=network(), log=log or MemoryEventLog(), grace=grace), driver


async def drain(link: TelemetryLink, rounds: int = 3) -> list[DriverEvent]:
    """Everything the link reports over a few short waits."""
    events: list[DriverEvent] = []
    for _ in range(rounds):
        event = await link.next_event(T0 + timedelta(hours=1))
        if event is not None:
            events.append(event)
    return events


def kinds(events: list[DriverEvent]) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "module", "")) for e in events]


def test_a_node_death_wakes_a_waiting_controller_and_a_rebirth_repairs() -> None:
    async def body() -> tuple[list[DriverEvent], list[DriverEvent]]:
        host = FakeHost()
        link, driver = linked(host)
        driver.clock = T0 + timedelta(minutes=7)
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, host.died, "mill-1")  # while the link waits for the driver
        died = [await link.next_event(T0 + timedelta(days=1))]
        host.born("mill-1")
        born = await drain(link)
        await link.close()
        assert host.started
        assert host.closed
        assert driver.closed
        return died, born

    died, born = asyncio.run(body())
    assert died == [ModuleFaulted(T0 + timedelta(minutes=7), "mill-1", NODE_DEATH)]  # stamped by the driver's clock
    assert kinds(born) == [("ModuleRepaired", "mill-1")]


def test_two_sources_of_one_outage_make_one_fault_and_one_repair() -> None:
    async def body() -> list[DriverEvent]:
        host = FakeHost()
        link, driver = linked(host)
        host.died("mill-1")
        seen = await drain(link, 1)
        driver.events.put_nowait(ModuleFaulted(T0, "mill-1", "unqualified downtime: connection lost"))
        host.born("mill-1")  # the node is back, the OPC UA server is not: still down
        seen += await drain(link)
        assert link.down_sources("mill-1") == {"driver"}
        driver.events.put_nowait(ModuleRepaired(T0, "mill-1"))
        seen += await drain(link)
        assert link.down_sources("mill-1") == frozenset()
        return seen

    assert kinds(asyncio.run(body())) == [("ModuleFaulted", "mill-1"), ("ModuleRepaired", "mill-1")]


def test_a_death_during_a_driver_fault_is_not_recorded_and_the_last_source_repairs() -> None:
    async def body() -> list[DriverEvent]:
        host = FakeHost()
        link, driver = linked(host)
        driver.events.put_nowait(ModuleFaulted(T0, "mill-2", "breakdown"))
        seen = await drain(link, 1)
        host.died("mill-2")
        host.died("mill-2")  # a repeated death changes nothing
        driver.events.put_nowait(ModuleRepaired(T0, "mill-2"))  # the machine is fine, the node is still dead
        seen += await drain(link)
        host.born("mill-2")
        seen += await drain(link)
        return seen

    events = asyncio.run(body())
    assert kinds(events) == [("ModuleFaulted", "mill-2"), ("ModuleRepaired", "mill-2")]
    assert isinstance(events[0], ModuleFaulted)
    assert events[0].reason == "breakdown"


def test_nodes_that_are_not_modules_of_the_site_are_ignored() -> None:
    async def body() -> tuple[list[DriverEvent], int]:
        host = FakeHost()
        link, _ = linked(host)
        await link.next_event(T0)  # starts the link
        host.died("mill-9")  # a module of another site
        host.died("press-7")  # no such module
        host.born("mill-1")  # a birth without a death: nothing to repair
        return await drain(link), link.ignored_nodes

    events, ignored = asyncio.run(body())
    assert events == []
    assert ignored == 2


def test_broker_loss_and_return_are_recorded_once_each() -> None:
    async def body(log: MemoryEventLog) -> None:
        host = FakeHost(connected=False)
        link, _ = linked(host, log=log, grace=0.01)
        await drain(link, 2)  # the grace passes: unreachable at start
        host.link_changed(False)  # paho's retries change nothing
        host.link_changed(True)
        host.link_changed(True)
        host.link_changed(False)
        host.link_changed(False)
        await link.close()
        host.link_changed(True)  # after close: not recorded

    log = MemoryEventLog()
    asyncio.run(body(log))
    facts = [r.event for r in log.read_stream(TELEMETRY_STREAM)]
    assert [type(f).__name__ for f in facts] == ["TelemetryLost", "TelemetryRestored", "TelemetryLost"]
    assert isinstance(facts[0], TelemetryLost)
    assert isinstance(facts[2], TelemetryLost)
    assert (facts[0].site, facts[0].broker, facts[0].reason) == ("ohio", "mqtt://127.0.0.1:1883", LOST_AT_START)
    assert facts[2].reason == LOST_MID_RUN

    async def restarted() -> None:  # a new process, broker still down: nothing new; then it is back
        host = FakeHost(connected=False)
        link, _ = linked(host, log=log, grace=0.01)
        await drain(link, 2)
        host.link_changed(True)
        await link.close()

    asyncio.run(restarted())
    facts = [r.event for r in log.read_stream(TELEMETRY_STREAM)]
    assert [type(f).__name__ for f in facts] == [
        "TelemetryLost",
        "TelemetryRestored",
        "TelemetryLost",
        "TelemetryRestored",
    ]


def test_escalation_raises_one_alert_per_broker_and_clears_it(services: Services) -> None:
    log, at = services.log, services.now()
    log.append(TELEMETRY_STREAM, [TelemetryLost(at, "ohio", "mqtt://b:1883", LOST_MID_RUN)], expected_version=0)
    log.append(TELEMETRY_STREAM, [TelemetryLost(at, "bavaria", "mqtt://b:1883", LOST_MID_RUN)], expected_version=1)
    escalation = Escalation(services.state, log)
    raised = [e for e in escalation.poll(at) if isinstance(e, AlertRaised)]
    assert [(a.kind, a.subject) for a in raised] == [(AlertKind.TELEMETRY_LOST, "mqtt://b:1883")]
    assert "sites bavaria, ohio" in raised[0].message
    assert "control goes on" in raised[0].message
    assert escalation.poll(at + timedelta(hours=1)) == []  # once, not per poll
    log.append(TELEMETRY_STREAM, [TelemetryRestored(at, "ohio", "mqtt://b:1883")], expected_version=2)
    assert escalation.poll(at + timedelta(hours=2)) == []  # bavaria still has none
    log.append(TELEMETRY_STREAM, [TelemetryRestored(at, "bavaria", "mqtt://b:1883")], expected_version=3)
    cleared = escalation.poll(at + timedelta(hours=3))
    assert [type(e) for e in cleared] == [AlertCleared]
    assert isinstance(cleared[0], AlertCleared)
    assert cleared[0].reason == "the telemetry broker is reachable again"


@pytest.fixture(name="services")
def fixture_services() -> Iterator[Services]:
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=3))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    yield services
    services.close()


def test_the_controller_records_a_node_death_and_moves_the_work_then_the_repair(services: Services) -> None:
    placed = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 6, "us"))
    site = placed.order.site
    assert site == "ohio"
    controller = sim_controller(services, breakdowns=False)
    host = FakeHost()
    controller.driver = TelemetryLink(controller.driver, {site: host}, network=services.state.network, log=services.log)

    async def body() -> tuple[str, datetime]:
        await controller.start()
        queued = next(m for m, q in controller.sequence.items() if len(q) > 1 and m.startswith(site))
        host.died(queued)
        died_at = controller.driver.now()
        await controller.run(died_at + timedelta(minutes=1))
        host.died(queued)  # the same death twice (a retained or repeated NDEATH)
        await controller.handle(ModuleFaulted(died_at, queued, "unqualified downtime: connection lost"))
        await controller.run(died_at + timedelta(minutes=2))
        host.born(queued)
        await controller.run(died_at + timedelta(minutes=3))
        return queued, died_at

    module, died_at = asyncio.run(body())
    stream = [r.event for r in services.log.read_stream(module_stream(module))]
    assert [type(e).__name__ for e in stream] == ["ModuleFaulted", "ModuleRepaired"]
    assert isinstance(stream[0], ModuleFaulted)
    assert (stream[0].at, stream[0].reason) == (died_at, NODE_DEATH)
    made_at_fault = [r.event for r in services.log.read_stream(f"site-{site}") if isinstance(r.event, ScheduleCreated)]
    made_at_fault = [e for e in made_at_fault if e.at == died_at]
    assert made_at_fault, "the fault re-scheduled the site"
    mttr = services.state.network.module_types[services.state.network.modules[module].module_type].mttr
    on_module = [op for op in made_at_fault[-1].operations if op.module == module]
    assert all(op.start >= died_at + mttr.to_timedelta() for op in on_module)  # its queue moved or waits
