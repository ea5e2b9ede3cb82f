"""`SimDriver`: the `ModuleDriver` backed by the in-process twin (the default, and the fake in tests)."""

from __future__ import annotations

from datetime import datetime, timedelta

from microfab.domain.events import ModuleFaulted, ModuleRepaired, OperationCompleted, OperationStarted
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import Network
from microfab.domain.quantities import Duration
from microfab.drivers.base import DispatchRequest, DriverEvent, ShipmentArrived
from microfab.twin.model import SimModel
from microfab.twin.records import Arrived, Completed, Faulted, Record, Repaired, Started, TwinJob

FAULT_REASON = "breakdown (simulated)"


class SimDriver:
    """Drive the modules of *network* in the twin, on a simulated clock that starts at *origin*.

    Parameters
    ----------
    network
        Every module of ``network.modules`` is put in service, in name order (which fixes
        each module's random stream).
    origin
        Timezone-aware wall-clock time of simulated time 0.
    seed, breakdowns, variability
        Passed to `microfab.twin.SimModel`.
    """

    def __init__(
        self,
        network: Network,
        origin: datetime,
        *,
        seed: int = 0,
        breakdowns: bool = True,
        variability: float = 0.1,
    ) -> None:
        self._model = SimModel(origin, seed=seed, variability=variability, breakdowns=breakdowns)
        self._origin = origin
        self._closed = False
        for name in sorted(network.modules):
            module = network.modules[name]
            self.deploy(module, network.module_types[module.module_type])

    @property
    def model(self) -> SimModel:
        """The twin behind the driver, for statistics."""
        return self._model

    def now(self) -> datetime:
        """Return the simulated clock as an aware datetime (to the microsecond)."""
        return self._at(self._model.now)

    def deploy(self, module: Module, module_type: ModuleType) -> None:
        """Put *module* in service now (a module added by a later apply)."""
        if module.module_type != module_type.name:
            raise ValueError(
                f"module_type: module {module.name!r} is of type {module.module_type!r}, got {module_type.name!r}"
            )
        self._model.add_module(module.name, module_type)

    def retire(self, name: str) -> None:
        """Take module *name* out of service; it must be idle with an empty queue."""
        self._model.remove_module(name)

    async def dispatch(self, request: DispatchRequest) -> None:
        """Queue the operation on its module (rework goes to the front)."""
        self._check_open()
        self._model.submit(
            TwinJob(
                request.operation_id,
                request.order_id,
                request.serial,
                request.module,
                request.family,
                request.ideal.seconds,
                request.attempt,
                request.rework,
            )
        )

    async def ship(self, order_id: str, lane: str, lead_time: Duration) -> None:
        """Send the order over *lane*; `ShipmentArrived` follows after *lead_time*."""
        self._check_open()
        self._model.ship(order_id, lane, lead_time.seconds)

    async def next_event(self, until: datetime) -> DriverEvent | None:
        """Advance the twin to the next event at or before *until*; None (clock at *until*) when none is left."""
        self._check_open()
        model = self._model
        limit = max((until - self._origin) / timedelta(seconds=1), model.now)
        record = model.next_record(limit)
        return None if record is None else self._event(record)

    async def close(self) -> None:
        """Stop using the driver; later calls raise `RuntimeError`."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("SimDriver is closed")

    def _at(self, seconds: float) -> datetime:
        return self._origin + timedelta(seconds=seconds)

    def _event(self, record: Record) -> DriverEvent:
        at = self._at(record.t)
        match record:
            case Started():
                return OperationStarted(
                    at,
                    record.order_id,
                    record.operation_id,
                    record.serial,
                    record.module,
                    setup=Duration(round(record.setup_seconds)),
                )
            case Completed():
                return OperationCompleted(
                    at,
                    record.order_id,
                    record.operation_id,
                    record.serial,
                    record.module,
                    good=record.good,
                    ideal=Duration(record.ideal_seconds),
                    attempt=record.attempt,
                )
            case Faulted():
                return ModuleFaulted(at, record.module, reason=FAULT_REASON)
            case Repaired():
                return ModuleRepaired(at, record.module)
            case Arrived():
                return ShipmentArrived(at, record.order_id, record.lane)
