"""`ModuleServer`: an OPC UA server that hosts one or more simulated PackML modules.

It plays real container modules over real sockets so the whole loop can run against
`microfab.drivers.opcua.OpcUaDriver`. The address space is described in
`microfab.drivers.opcua_model`; each module is a `microfab.drivers.packml_unit.PackMLUnit`.
Method calls answer ``BadInvalidState`` when PackML does not allow the command in the
current state (ISA-TR88.00.02 state model) and ``BadInvalidArgument`` for bad job parameters.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.modules import ModuleType, PackMLCommand
from microfab.drivers.opcua_model import METHODS, MODULES_FOLDER, NAMESPACE_URI, StatusCodes, node_id, node_name, status
from microfab.drivers.packml_unit import Job, PackMLUnit, Publisher

_log = logging.getLogger(__name__)

_VARIANT_TYPES: dict[str, ua.VariantType] = {
    "ModuleType": ua.VariantType.String,
    "Faulted": ua.VariantType.Boolean,
    "FaultReason": ua.VariantType.String,
    "CurrentOperationId": ua.VariantType.String,
    "SetupSeconds": ua.VariantType.Double,
    "LastOperationId": ua.VariantType.String,
    "LastGood": ua.VariantType.Boolean,
    "LastAttempt": ua.VariantType.Int32,
    "CompletedCount": ua.VariantType.UInt32,
    "StateCurrent": ua.VariantType.Int32,
    "State": ua.VariantType.String,
}

_UNSET = object()

_LOAD_JOB_ARGUMENTS = (
    ("operation_id", ua.VariantType.String),
    ("order_id", ua.VariantType.String),
    ("serial", ua.VariantType.String),
    ("family", ua.VariantType.String),
    ("ideal_seconds", ua.VariantType.Double),
    ("attempt", ua.VariantType.Int32),
)


class _SharedDataValue(ua.DataValue):
    """A value the server writes once and never mutates, so monitored items may share it.

    asyncua deep-copies every written value for each monitored item (to guard against a
    caller mutating it later); that copy was most of the server's time per dispatch. Ours are
    built fresh for each write and never touched again, so sharing them is safe.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> _SharedDataValue:
        return self


def _argument(name: str, vtype: ua.VariantType) -> ua.Argument:
    argument = ua.Argument()
    argument.Name = name
    argument.DataType = ua.NodeId(ua.Int32(vtype.value))
    argument.ValueRank = -1
    argument.Description = ua.LocalizedText(name)
    return argument


class ModuleServer:
    """An OPC UA server hosting *modules* (name and type), each a simulated PackML unit.

    Parameters
    ----------
    modules
        ``(name, module_type)`` pairs; names must be unique.
    host, port
        Where to listen; port 0 picks a free port (read `port` after `start`).
    time_scale
        Wall seconds per simulated second, for every unit.
    variability
        Processing-time variability, as in the twin.
    seed
        Seeds one random stream per unit (``seed * 7919 + index``, as the twin does).
    breakdowns
        Whether units fail and get repaired with their type's MTBF and MTTR (scaled).
    on_change
        Also called with every change of a module's variables (telemetry).
    """

    def __init__(
        self,
        modules: Sequence[tuple[str, ModuleType]],
        *,
        host: str = "127.0.0.1",
        port: int = 4840,
        time_scale: float = 1.0,
        variability: float = 0.1,
        seed: int = 0,
        breakdowns: bool = False,
        on_change: Publisher | None = None,
    ) -> None:
        names = [name for name, _ in modules]
        if not names:
            raise ValueError("modules: expected at least one module")
        if len(set(names)) != len(names):
            raise ValueError(f"modules: names must be unique, got {names}")
        self._host = host
        self._port = port
        self._breakdowns = breakdowns
        self._on_change = on_change
        self._server: Server | None = None
        self._ns = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._last_stamp = datetime.now(UTC)
        self._values: dict[str, dict[str, object]] = {}
        self.units: dict[str, PackMLUnit] = {
            name: PackMLUnit(
                name,
                module_type,
                self._write,
                time_scale=time_scale,
                variability=variability,
                rng=random.Random(seed * 7919 + index),
            )
            for index, (name, module_type) in enumerate(modules)
        }

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the real one once started with port 0)."""
        return self._port

    @property
    def endpoint(self) -> str:
        """The ``opc.tcp://`` URL clients connect to."""
        return f"opc.tcp://{self._host}:{self._port}"

    def set_listener(self, listener: Publisher | None) -> None:
        """Call *listener* with every change of a module's variables (replaces ``on_change``)."""
        self._on_change = listener

    async def start(self) -> None:
        """Build the address space and start listening."""
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://{self._host}:{self._port}/")
        server.set_server_name("microfab module server")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self._ns = await server.register_namespace(NAMESPACE_URI)
        folder = await server.nodes.objects.add_folder(node_id(MODULES_FOLDER, self._ns), MODULES_FOLDER)
        for unit in self.units.values():
            await self._add_module(folder, unit)
        await server.start()
        self._server = server
        if self._port == 0:
            listener: Any = server.bserver._server if server.bserver else None  # asyncio.Server
            self._port = int(listener.sockets[0].getsockname()[1])
        if self._breakdowns:
            self._tasks = [asyncio.create_task(unit.breakdowns()) for unit in self.units.values()]
        _log.info("module server on %s: %s", self.endpoint, ", ".join(self.units))

    async def stop(self) -> None:
        """Stop the units and the server (clients see the connection drop)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for unit in self.units.values():
            await unit.close()
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def __aenter__(self) -> ModuleServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ address space
    async def _add_module(self, folder: Node, unit: PackMLUnit) -> None:
        ns = self._ns
        obj = await folder.add_object(node_id(unit.name, ns), unit.name)
        self._values[unit.name] = dict(unit.initial_values())
        for name, value in unit.initial_values().items():
            await obj.add_variable(node_id(node_name(unit.name, name), ns), name, value, _VARIANT_TYPES[name])
        load_inputs = [_argument(name, vtype) for name, vtype in _LOAD_JOB_ARGUMENTS]
        await obj.add_method(
            node_id(node_name(unit.name, "LoadJob"), ns), "LoadJob", self._load_job_handler(unit), load_inputs, []
        )
        for method in METHODS:
            if method != "LoadJob":
                command = PackMLCommand(method)
                nodeid = node_id(node_name(unit.name, method), ns)
                await obj.add_method(nodeid, method, self._command_handler(unit, command), [], [])

    async def _write(self, module: str, values: Mapping[str, object]) -> None:
        server = self._server
        if server is None:
            return
        last = self._values.setdefault(module, {})
        for name, value in values.items():
            if name != "State" and last.get(name, _UNSET) == value and type(last.get(name)) is type(value):
                continue  # unchanged: no notification to make (State is always announced)
            last[name] = value
            variant = ua.Variant(value, _VARIANT_TYPES[name])
            nodeid = node_id(node_name(module, name), self._ns)
            stamp = self._stamp()
            await server.write_attribute_value(
                nodeid,
                _SharedDataValue(
                    variant, SourceTimestamp=cast("ua.DateTime", stamp), ServerTimestamp=cast("ua.DateTime", stamp)
                ),
            )
        if self._on_change is not None:
            try:
                await self._on_change(module, values)
            except Exception:  # telemetry must never stop the machine
                _log.exception("module %s: change listener failed", module)

    def _stamp(self) -> datetime:
        # Strictly increasing source timestamps: a client orders the changes of one publish by
        # them (the server groups a publish's notifications by monitored item, not by time).
        now = datetime.now(UTC)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    @staticmethod
    def _load_job_handler(unit: PackMLUnit) -> Any:
        async def load_job(parent: ua.NodeId, *args: ua.Variant) -> ua.StatusCode | list[ua.Variant]:
            values = [arg.Value for arg in args]
            if len(values) != len(_LOAD_JOB_ARGUMENTS):
                return status(StatusCodes.BadArgumentsMissing)
            try:
                job = Job(
                    str(values[0]),
                    str(values[1]),
                    str(values[2]),
                    str(values[3]),
                    float(values[4]),
                    int(values[5]),
                )
            except (TypeError, ValueError) as exc:
                _log.warning("module %s: LoadJob rejected: %s", unit.name, exc)
                return status(StatusCodes.BadInvalidArgument)
            try:
                await unit.load_job(job)
            except InvalidTransitionError as exc:
                _log.warning("module %s: %s", unit.name, exc)
                return status(StatusCodes.BadInvalidState)
            return []

        return load_job

    @staticmethod
    def _command_handler(unit: PackMLUnit, command: PackMLCommand) -> Any:
        async def handle(parent: ua.NodeId, *args: ua.Variant) -> ua.StatusCode | list[ua.Variant]:
            try:
                await unit.command(command)
            except InvalidTransitionError as exc:
                _log.warning("module %s: %s", unit.name, exc)
                return status(StatusCodes.BadInvalidState)
            return []

        return handle
