"""Current state as a projection of the event log: applied resources, the network, orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from microfab.domain.access import ApiKeyCreated, ApiKeyRevoked
from microfab.domain.events import Event, OrderPlaced, ResourceApplied, ResourceDeleted
from microfab.domain.network import Network
from microfab.domain.orders import Order
from microfab.manifests import Resource, build_network
from microfab.store.base import EventLog, RecordedEvent

NETWORK_STREAM = "network"
ACCESS_STREAM = "access"


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
class KeyRecord:
    """An issued API key as the log knows it."""

    key_id: str
    role: str
    customer: str | None
    market: str | None
    digest: str
    label: str
    revoked: bool = False


@dataclass(slots=True)
class State:
    """Everything the controllers need, rebuilt by replaying the log in order."""

    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
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

    def catch_up(self, log: EventLog) -> int:
        """Fold in what other processes appended since the last position; return how many events."""
        fresh = log.read_all(after_position=self.position)
        for recorded in fresh:
            if recorded.version <= self.versions.get(recorded.stream, 0):  # this process applied it already
                self.position = recorded.position
                continue
            self.apply(recorded)
        return len(fresh)

    @property
    def network_version(self) -> int:
        """Version of the ``network`` stream."""
        return self.versions.get(NETWORK_STREAM, 0)

    @property
    def access_version(self) -> int:
        """Version of the ``access`` stream."""
        return self.versions.get(ACCESS_STREAM, 0)

    def apply_event(self, stream: str, event: Event) -> None:
        """Fold one event of *stream* into the state."""
        self.last_at = event.at if self.last_at is None else max(self.last_at, event.at)
        self.versions[stream] = self.versions.get(stream, 0) + 1
        if stream == NETWORK_STREAM:
            if isinstance(event, ResourceApplied):
                key = (event.kind, event.name)
                self.resources[key] = Resource(event.kind, event.name, dict(event.spec), "<log>", 0, event.digest)
                self._network = None
            elif isinstance(event, ResourceDeleted):
                self.resources.pop((event.kind, event.name), None)
                self._network = None
        elif stream == ACCESS_STREAM:
            self._apply_access(event)
        elif isinstance(event, OrderPlaced):
            self.orders[event.order_id] = Order.replay([event])
        elif stream.startswith("order-"):
            self.orders[stream.removeprefix("order-")].apply(event)

    def _apply_access(self, event: Event) -> None:
        if isinstance(event, ApiKeyCreated):
            self.keys[event.key_id] = KeyRecord(
                event.key_id, event.role, event.customer, event.market, event.digest, event.label
            )
        elif isinstance(event, ApiKeyRevoked) and event.key_id in self.keys:
            self.keys[event.key_id].revoked = True

    @property
    def network(self) -> Network:
        """The applied network (built once per change of resources)."""
        if self._network is None:
            if not self.resources:
                raise LookupError("no network applied yet: run `microfab apply DIR` first")
            # Every recorded product passed the satisfiability check when it was applied.
            self._network = build_network(list(self.resources.values()), check_products=False)
        return self._network

    @property
    def has_network(self) -> bool:
        """Whether a network has been applied."""
        return bool(self.resources)
