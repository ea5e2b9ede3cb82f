"""The whole loop over real sockets: the controller drives every module of the example network
through the OPC UA driver against a module server, and an order is made and shipped."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.commands import PlaceOrder
from microfab.domain.orders import OrderStatus
from microfab.domain.quantities import Duration
from microfab.drivers.packml_server import ModuleServer
from microfab.manifests import load_network, load_resources
from microfab.settings import Settings
from tests.e2e.conftest import EXAMPLE

pytestmark = pytest.mark.e2e
SCALE = 0.0005  # wall seconds per network second: an hour of work takes 1.8 s


def _with_endpoints(folder: Path, endpoint: str) -> None:
    for path in (folder / "modules").glob("*.yaml"):
        text = re.sub(r"^spec:\n", f"spec:\n  endpoint: {endpoint}\n", path.read_text(), flags=re.MULTILINE)
        path.write_text(text)


async def _scenario(folder: Path, db: str) -> None:
    network = load_network(folder)
    server = ModuleServer(
        [(m.name, network.module_types[m.module_type]) for m in network.modules.values()],
        port=0, time_scale=SCALE, variability=0.0, seed=1,
    )  # fmt: skip
    await server.start()
    try:
        _with_endpoints(folder, f"opc.tcp://127.0.0.1:{server.port}")
        services = bootstrap(Settings(db=db, schedule_time_limit=0.2))
        operations.apply_plan(services, operations.plan_apply(services, load_resources(folder)))
        assert all(m.endpoint for m in services.state.network.modules.values())
        order = operations.place(services, PlaceOrder("acme", "laptop-stand", {}, 2, "de")).order
        await operations.run(services, Duration.parse("6h"), driver="opcua", time_scale=SCALE)
        order = services.state.orders[order.id]
        assert order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED), order.status
        for unit in order.units.values():
            for entry in unit.passport.values():
                assert entry.good is True
                assert entry.module is not None
                assert network.modules[entry.module].site == order.site
                assert entry.started_at is not None
                assert entry.completed_at is not None
                assert entry.started_at < entry.completed_at
        services.close()
    finally:
        await server.stop()


def test_an_order_is_made_over_opc_ua(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / "network"))
    asyncio.run(_scenario(folder, f"sqlite:///{tmp_path / 'log.db'}"))


def test_opcua_run_refuses_modules_without_endpoints(tmp_path: Path) -> None:
    services = bootstrap(Settings(db="memory://"))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    with pytest.raises(ValueError, match="needs an endpoint on every module"):
        asyncio.run(operations.run(services, Duration.parse("1h"), driver="opcua", time_scale=SCALE))
