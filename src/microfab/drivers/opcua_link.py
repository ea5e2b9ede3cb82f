"""One OPC UA connection of `OpcUaDriver`: the modules behind one endpoint, their PackML mirror, reconnects.

`EndpointLink` keeps a client session to one module server, subscribes to every variable of
its modules (no polling) and turns PackML state changes into domain events:

==============================  ==========================================================
PackML change                   event
==============================  ==========================================================
Starting -> Execute             `OperationStarted` (setup from ``SetupSeconds``)
-> Complete                     `OperationCompleted` (``LastGood``, ``LastAttempt``); then Reset
-> Held with ``Faulted``        `ModuleFaulted` (``FaultReason``)
-> Aborting / Aborted           `ModuleFaulted`; the job in progress is queued again
Held -> Execute, -> Idle        `ModuleRepaired` (after a fault)
connection lost                 `ModuleFaulted` ("unqualified downtime: connection lost")
connection back                 `ModuleRepaired`; work that did not survive is queued again
==============================  ==========================================================

Each module runs one job at a time; the link keeps the module's queue (rework first) and
loads the next job (``LoadJob`` then ``Start``) when the module reports Idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.subscription import DataChangeNotif
from asyncua.ua.uaerrors import UaError

from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.modules import PackMLState
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent
from microfab.drivers.opcua_model import NAMESPACE_URI, VARIABLES, node_id, node_name

_log = logging.getLogger(__name__)
_S = PackMLState

CONNECTION_LOST = "unqualified downtime: connection lost"
"""`ModuleFaulted.reason` when a module server stops answering."""

_RUNNING = frozenset({_S.STARTING, _S.EXECUTE, _S.COMPLETING, _S.HOLDING, _S.HELD, _S.UNHOLDING})
_RUNNING |= frozenset({_S.SUSPENDING, _S.SUSPENDED, _S.UNSUSPENDING})
_CONNECT_ERRORS = (OSError, asyncio.TimeoutError, ConnectionError, UaError)


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Tuning of every link: publishing interval, request timeout, reconnect backoff (seconds)."""

    publishing_interval: float = 0.005
    timeout: float = 4.0
    watchdog: float = 0.5
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    queue_size: int = 1000


@dataclass(slots=True)
class ModuleMirror:
    """What the driver knows of one module: PackML state, last values, its queue and its job."""

    name: str
    state: PackMLState | None = None
    values: dict[str, object] = field(default_factory=dict)
    queue: deque[DispatchRequest] = field(default_factory=deque)
    current: DispatchRequest | None = None
    announced: set[str] = field(default_factory=set)
    faulted: bool = False  # a ModuleFaulted was reported and no ModuleRepaired yet
    sending: bool = False


Emit = Callable[[DriverEvent], None]
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _number(value: object) -> float:
    """A numeric variable's value; 0 when it is missing or not a number."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _source_time(change: tuple[Node, object, DataChangeNotif]) -> datetime:
    value = change[2].monitored_item.Value
    stamp: datetime | None = value.SourceTimestamp if value is not None else None
    if stamp is None:
        return _EPOCH
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


class _Batcher:
    """Subscription handler: collects the data changes of a publish and hands them over together.

    asyncua calls the handler once per monitored item, each call in its own task created in
    one go for a whole publish; a flush scheduled with ``call_soon`` from the first call runs
    after all of them.
    """

    def __init__(self, apply: Callable[[list[tuple[Node, object, DataChangeNotif]]], None]) -> None:
        self._apply = apply
        self._pending: list[tuple[Node, object, DataChangeNotif]] = []

    def datachange_notification(self, node: Node, val: object, data: DataChangeNotif) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append((node, val, data))

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        _log.warning("OPC UA subscription status changed: %s", status.Status)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            self._apply(batch)
        except Exception:  # a bug here must not stop the subscription
            _log.exception("OPC UA: applying %d data changes failed", len(batch))


class EndpointLink:
    """The session to one module server and the modules it hosts.

    Parameters
    ----------
    url
        ``opc.tcp://host:port``.
    modules
        Names of the module objects on that server.
    emit
        Receives every driver event, in order.
    clock
        Aware-UTC wall clock for event times.
    """

    def __init__(
        self, url: str, modules: list[str], emit: Emit, clock: Callable[[], datetime], options: LinkOptions
    ) -> None:
        self.url = url
        self.modules = {name: ModuleMirror(name) for name in modules}
        self._emit = emit
        self._clock = clock
        self._options = options
        self._client: Client | None = None
        self._ns = 0
        self._nodes: dict[str, tuple[str, str]] = {}  # node id text -> (module, variable)
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closed = False
        self._fresh: set[str] = set()  # modules whose first state after a (re)connect is pending
        self._background: set[asyncio.Task[object]] = set()
        self.connects = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start connecting (and reconnecting) in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"opcua-link {self.url}")

    @property
    def connected(self) -> bool:
        """Whether the session is up and subscribed."""
        return self._connected.is_set()

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until the link is up (True) or *timeout* seconds passed (False)."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop reconnecting and drop the session."""
        self._closed = True
        tasks = [t for t in (self._task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._disconnect()

    # ------------------------------------------------------------------ commands
    async def dispatch(self, request: DispatchRequest) -> None:
        """Queue *request* on its module (rework first) and load it if the module is Idle."""
        mirror = self.modules[request.module]
        if request.rework:
            mirror.queue.appendleft(request)
        else:
            mirror.queue.append(request)
        await self._pump(mirror)

    async def _pump(self, mirror: ModuleMirror, *, reset: bool = False) -> None:
        """Load and start the next job when the module is Idle (or Complete, with *reset*), healthy and free.

        The calls are pipelined: an asyncua server handles one session's requests in order, so
        ``Reset``, ``LoadJob`` and ``Start`` go out together and cost one round trip. A module
        still Resetting refuses ``LoadJob`` (and then ``Start``): the job waits for Idle.
        """
        client = self._client
        if mirror.sending or client is None or not self._connected.is_set():
            return
        ready = mirror.state is _S.IDLE or (reset and mirror.state is _S.COMPLETE)
        if not ready or mirror.current is not None or mirror.faulted or not mirror.queue:
            if reset:
                await self._call(mirror.name, "Reset")
            return
        request = mirror.queue.popleft()
        mirror.current = request
        mirror.sending = True
        try:
            obj = client.get_node(node_id(mirror.name, self._ns))
            calls = [obj.call_method(node_id(node_name(mirror.name, "Reset"), self._ns))] if reset else []
            calls.append(
                obj.call_method(
                    node_id(node_name(mirror.name, "LoadJob"), self._ns),
                    ua.Variant(request.operation_id, ua.VariantType.String),
                    ua.Variant(request.order_id, ua.VariantType.String),
                    ua.Variant(request.serial, ua.VariantType.String),
                    ua.Variant(request.family, ua.VariantType.String),
                    ua.Variant(float(request.ideal.seconds), ua.VariantType.Double),
                    ua.Variant(request.attempt, ua.VariantType.Int32),
                )
            )
            calls.append(obj.call_method(node_id(node_name(mirror.name, "Start"), self._ns)))
            results = await asyncio.gather(*calls, return_exceptions=True)
            failed = next((r for r in results[-2:] if isinstance(r, BaseException)), None)
            if failed is not None:
                if not isinstance(failed, _CONNECT_ERRORS):
                    raise failed
                _log.info("module %s: %s not started yet: %r", mirror.name, request.operation_id, failed)
                if mirror.current is request:
                    mirror.current = None
                    mirror.queue.appendleft(request)
        finally:
            mirror.sending = False

    async def _call(self, module: str, method: str) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            obj = client.get_node(node_id(module, self._ns))
            await obj.call_method(node_id(node_name(module, method), self._ns))
        except _CONNECT_ERRORS as exc:
            _log.warning("module %s: %s failed: %r", module, method, exc)
            return False
        return True

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ connection
    async def _supervise(self) -> None:
        delay = self._options.backoff_initial
        while not self._closed:
            lost = asyncio.Event()
            try:
                await self._connect(lost)
            except _CONNECT_ERRORS as exc:
                _log.info("OPC UA %s: connect failed: %r", self.url, exc)
            else:
                delay = self._options.backoff_initial
                await lost.wait()
                _log.warning("OPC UA %s: connection lost", self.url)
            await self._disconnect()
            self._lost()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._options.backoff_max)

    async def _connect(self, lost: asyncio.Event) -> None:
        options = self._options
        client = Client(self.url, timeout=options.timeout, watchdog_intervall=options.watchdog)

        async def on_lost(exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        await client.connect(auto_reconnect=False)
        self._client = client
        self._ns = await client.get_namespace_index(NAMESPACE_URI)
        subscription = await client.create_subscription(options.publishing_interval * 1000, _Batcher(self._apply))
        nodes = []
        self._nodes = {}
        for module in self.modules:
            for variable in VARIABLES:
                nodeid = node_id(node_name(module, variable), self._ns)
                self._nodes[nodeid.to_string()] = (module, variable)
                nodes.append(client.get_node(nodeid))
        self._fresh = set(self.modules)
        results = await subscription.subscribe_data_change(nodes, queuesize=options.queue_size)
        for result in results:
            if isinstance(result, ua.StatusCode):
                result.check()  # an unknown module name: BadNodeIdUnknown
        self.connects += 1
        self._connected.set()
        _log.info("OPC UA %s: connected (%s)", self.url, ", ".join(self.modules))

    def _apply(self, batch: list[tuple[Node, object, DataChangeNotif]]) -> None:
        """Apply the changes of one or more publishes in the order the server made them."""
        batch.sort(key=_source_time)
        for node, value, _ in batch:
            key = self._nodes.get(node.nodeid.to_string())
            if key is not None:
                self._changed(key[0], key[1], value)

    async def _disconnect(self) -> None:
        self._connected.clear()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self._options.timeout)

    def _lost(self) -> None:
        """The server is gone: every module is down until it answers again."""
        at = self._clock()
        for mirror in self.modules.values():
            mirror.state = None
            if not mirror.faulted:
                mirror.faulted = True
                self._emit(ModuleFaulted(at, mirror.name, reason=CONNECTION_LOST))

    # ------------------------------------------------------------------ notifications
    def _changed(self, module: str, variable: str, value: object) -> None:
        mirror = self.modules[module]
        mirror.values[variable] = value
        if variable != "State":
            return
        try:
            state = PackMLState(str(value))
        except ValueError:
            _log.warning("module %s: unknown PackML state %r", module, value)
            return
        previous, mirror.state = mirror.state, state
        if module in self._fresh:
            self._fresh.discard(module)
            self._reconcile(mirror)
        self._transition(mirror, previous, state)

    def _reconcile(self, mirror: ModuleMirror) -> None:
        """First state after a (re)connect: report the module back and requeue work that did not survive."""
        state, current = mirror.state, mirror.current
        if current is not None:
            alive = state in _RUNNING and mirror.values.get("CurrentOperationId") == current.operation_id
            done = state is _S.COMPLETE and mirror.values.get("LastOperationId") == current.operation_id
            if not (alive or done):
                mirror.current = None
                mirror.queue.appendleft(current)
        broken = bool(mirror.values.get("Faulted")) or state in (_S.ABORTING, _S.ABORTED)
        if mirror.faulted and not broken:
            mirror.faulted = False
            self._emit(ModuleRepaired(self._clock(), mirror.name))

    def _transition(self, mirror: ModuleMirror, previous: PackMLState | None, state: PackMLState) -> None:
        at = self._clock()
        if state is _S.EXECUTE:
            self._executing(mirror, previous, at)
        elif state is _S.COMPLETE:
            self._completed(mirror, at)
            self._spawn(self._pump(mirror, reset=True))
        elif state is _S.HELD and mirror.values.get("Faulted"):
            self._fault(mirror, str(mirror.values.get("FaultReason") or "held"), at)
        elif state in (_S.ABORTING, _S.ABORTED):
            self._fault(mirror, str(mirror.values.get("FaultReason") or "aborted"), at)
            if mirror.current is not None:
                mirror.queue.appendleft(mirror.current)
                mirror.current = None
        elif state is _S.STOPPED and not mirror.values.get("Faulted"):
            self._spawn(self._call(mirror.name, "Reset"))
        elif state is _S.IDLE:
            self._repaired(mirror, at)
            self._spawn(self._pump(mirror))

    def _executing(self, mirror: ModuleMirror, previous: PackMLState | None, at: datetime) -> None:
        current = mirror.current
        if previous in (_S.UNHOLDING, _S.HELD, _S.UNSUSPENDING):
            self._repaired(mirror, at)
        if current is not None and current.operation_id not in mirror.announced:
            if mirror.values.get("CurrentOperationId") != current.operation_id:
                return
            mirror.announced.add(current.operation_id)
            setup = Duration(round(_number(mirror.values.get("SetupSeconds"))))
            self._emit(
                OperationStarted(at, current.order_id, current.operation_id, current.serial, mirror.name, setup=setup)
            )

    def _completed(self, mirror: ModuleMirror, at: datetime) -> None:
        current = mirror.current
        if current is None or mirror.values.get("LastOperationId") != current.operation_id:
            return
        mirror.current = None
        mirror.announced.discard(current.operation_id)
        good = bool(mirror.values.get("LastGood"))
        attempt = int(_number(mirror.values.get("LastAttempt"))) or current.attempt
        self._emit(
            OperationCompleted(
                at,
                current.order_id,
                current.operation_id,
                current.serial,
                mirror.name,
                good=good,
                ideal=current.ideal,
                attempt=attempt,
            )
        )

    def _fault(self, mirror: ModuleMirror, reason: str, at: datetime) -> None:
        if not mirror.faulted:
            mirror.faulted = True
            self._emit(ModuleFaulted(at, mirror.name, reason=reason))

    def _repaired(self, mirror: ModuleMirror, at: datetime) -> None:
        if mirror.faulted:
            mirror.faulted = False
            self._emit(ModuleRepaired(at, mirror.name))
