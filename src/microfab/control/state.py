"""Current state as a projection of the event log: applied resources, the network, orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from microfab.domain.events import Event, OrderPlaced, ResourceApplied, ResourceDeleted
from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.manifests import Resource, build_network
from microfab.store.base import EventLog, RecordedEvent

NETWORK_STREAM = "network"


def order_stream(order_id: str) -> str:
    """The stream of one order."""
    return f"order-{order_id}"


def module_stream(module: str) -> str:
    """The stream of one module's faults and repairs."""
    return f"module-{module}"


def site_stream(site: str) -> str:
    """The stream of one site's schedules."""
    return f"site-{site}"


@dataclass(slots=True)
class State:
    """Everything the controllers need, rebuilt by replaying the log in order."""

    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    network_version: int = 0
    position: int = 0
    last_at: datetime | None = None
    _network: Network | None = None

    @classmethod
    def load(cls, log: EventLog) -> State:
        """Replay the whole log."""
        state = cls()
        for recorded in log.read_all():
            state.apply(recorded)
        return state

    def apply(self, recorded: RecordedEvent) -> None:
        """Fold one recorded event into the state."""
        self.position = recorded.position
        self.apply_event(recorded.stream, recorded.event)

    def apply_event(self, stream: str, event: Event) -> None:
        """Fold one event of *stream* into the state."""
        self.last_at = event.at if self.last_at is None else max(self.last_at, event.at)
        if stream == NETWORK_STREAM:
            self.network_version += 1
            if isinstance(event, ResourceApplied):
                key = (event.kind, event.name)
                self.resources[key] = Resource(event.kind, event.name, dict(event.spec), "<log>", 0, event.digest)
                self._network = None
            elif isinstance(event, ResourceDeleted):
                self.resources.pop((event.kind, event.name), None)
                self._network = None
        elif isinstance(event, OrderPlaced):
            self.orders[event.order_id] = Order.replay([event])
        elif stream.startswith("order-"):
            self.orders[stream.removeprefix("order-")].apply(event)

    @property
    def network(self) -> Network:
        """The applied network (built once per change of resources)."""
        if self._network is None:
            if not self.resources:
                raise LookupError("no network applied yet: run `microfab apply DIR` first")
            self._network = build_network(list(self.resources.values()))
        return self._network

    @property
    def has_network(self) -> bool:
        """Whether a network has been applied."""
        return bool(self.resources)
