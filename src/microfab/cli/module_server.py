"""``microfab module-server``: play container modules over OPC UA (PackML), optionally with Sparkplug B telemetry.

Register with ``app.add_typer(module_server.app)`` (the command is named ``module-server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from microfab.domain.errors import InvalidTransitionError
from microfab.domain.modules import ModuleType, PackMLCommand
from microfab.domain.network import Network
from microfab.drivers.packml_server import ModuleServer
from microfab.drivers.packml_unit import PackMLUnit
from microfab.manifests import ManifestErrors, load_network
from microfab.telemetry.base import MetricValue, TelemetrySink

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
_log = logging.getLogger(__name__)

COMMAND_METRIC = "PackML/Command"
"""The one writable metric of every machine (DCMD): a PackML command name such as ``Hold``."""

_METRIC_GROUP = {"State": "PackML", "StateCurrent": "PackML", "Faulted": "Fault", "FaultReason": "Fault"}


def metric_name(variable: str) -> str:
    """The Sparkplug metric of an OPC UA module variable (``State`` -> ``PackML/State``)."""
    return f"{_METRIC_GROUP.get(variable, 'Job')}/{variable}"


def _metrics(values: Mapping[str, object]) -> dict[str, MetricValue]:
    out: dict[str, MetricValue] = {}
    for name, value in values.items():
        if isinstance(value, bool | int | float | str):
            out[metric_name(name)] = value
    return out


def _module_type(network: Network, type_name: str) -> ModuleType:
    try:
        return network.module_types[type_name]
    except KeyError:
        known = ", ".join(sorted(network.module_types)) or "none"
        raise typer.BadParameter(f"unknown module type {type_name!r}; known: {known}", param_hint="--type") from None


async def _serve(server: ModuleServer, mqtt: str | None, group: str, module_type: str, primary: str | None) -> None:
    edges: dict[str, TelemetrySink] = {}
    if mqtt is not None:
        edges = await _start_telemetry(server, mqtt, group, module_type, primary)
    await server.start()
    typer.echo(f"module server listening on {server.endpoint}: {', '.join(server.units)}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for edge in edges.values():
        await edge.close()
    await server.stop()


async def _start_telemetry(
    server: ModuleServer, mqtt: str, group: str, device: str, primary: str | None
) -> dict[str, TelemetrySink]:
    """One Sparkplug edge node per module; DCMD ``PackML/Command`` drives the unit."""
    from microfab.telemetry.mqtt import BrokerSettings  # noqa: PLC0415 - needs the mqtt extra
    from microfab.telemetry.sparkplug import SparkplugEdgeNode  # noqa: PLC0415

    settings = BrokerSettings.parse(mqtt)
    edges: dict[str, SparkplugEdgeNode] = {}
    for name, unit in server.units.items():
        edge = SparkplugEdgeNode(group, name, settings, primary_host=primary)

        async def command(_device: str, metric: str, value: MetricValue, unit: PackMLUnit = unit) -> None:
            try:
                await unit.command(PackMLCommand(str(value)))
            except (ValueError, InvalidTransitionError) as exc:
                _log.warning("DCMD %s=%r refused: %s", metric, value, exc)

        edge.on_command(command)
        await edge.birth(device, {**_metrics(unit.initial_values()), COMMAND_METRIC: ""})
        edge.start()
        edges[name] = edge

    async def forward(module: str, values: Mapping[str, object]) -> None:
        edge = edges.get(module)
        if edge is not None:
            await edge.publish(device, _metrics(values))

    server.set_listener(forward)
    return dict(edges)


@app.command("module-server")
def module_server(  # noqa: PLR0913, PLR0917 - a Typer command: one parameter per option
    module_type: Annotated[str, typer.Option("--type", help="The ModuleType every hosted module runs.")],
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 4840,
    names: Annotated[
        list[str] | None, typer.Option("--name", help="A module to host (repeat for several); default <type>-1.")
    ] = None,
    manifests: Annotated[Path, typer.Option("--manifests", help="Manifest folder that declares the type.")] = Path(
        "examples/network"
    ),
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    time_scale: Annotated[
        float, typer.Option("--time-scale", help="Wall seconds per simulated second (0.001: 1 s = 1 ms).")
    ] = 1.0,
    variability: Annotated[float, typer.Option(help="Processing-time variability, as in the twin.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed of the units.")] = 0,
    breakdowns: Annotated[bool, typer.Option(help="Fail and repair with the type's MTBF / MTTR.")] = False,
    mqtt: Annotated[str | None, typer.Option(help="Also publish Sparkplug B: mqtt[s]://[user:pass@]host:port.")] = None,
    group: Annotated[str, typer.Option(help="Sparkplug group id (the site).")] = "microfab",
    primary_host: Annotated[
        str | None, typer.Option(help="Sparkplug primary host id: births wait for its STATE online.")
    ] = None,
) -> None:
    """Serve container modules over OPC UA with the PackML state machine, timed like the twin."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        network = load_network(manifests)
    except ManifestErrors as exc:
        for error in exc.errors:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    mtype = _module_type(network, module_type)
    hosted = names or [f"{module_type}-1"]
    server = ModuleServer(
        [(name, mtype) for name in hosted],
        host=host,
        port=port,
        time_scale=time_scale,
        variability=variability,
        seed=seed,
        breakdowns=breakdowns,
    )
    asyncio.run(_serve(server, mqtt, group, module_type, primary_host))
