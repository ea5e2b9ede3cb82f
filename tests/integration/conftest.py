"""Integration fixtures: a mosquitto per test on a free port, module types, free TCP ports. No fixed port anywhere."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from microfab.domain.modules import ModuleType
from microfab.domain.quantities import Duration, Money
from tests.support.shared import unavailable

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, *, up: bool = True, timeout: float = 10.0) -> None:
    """Wait until 127.0.0.1:*port* accepts connections (or refuses them, with ``up=False``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.02)
    raise TimeoutError(f"port {port} did not come {'up' if up else 'down'} in {timeout} s")


class Broker:
    """A mosquitto process on a free port that a test may stop and start again (same port)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 10000\nlog_dest stderr\nlog_type error\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        wait_port(self.port, up=False)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        unavailable("mosquitto is not installed (make test installs it as root: apt-get install mosquitto)")
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def mill_type(*, setup: str = "10m", yield_rate: str = "1") -> ModuleType:
    return ModuleType(
        name="cnc-mill",
        capabilities=frozenset({"mill"}),
        speed=Decimal(1),
        setup_time=Duration.parse(setup),
        mtbf=Duration.parse("250h"),
        mttr=Duration.parse("2h"),
        yield_rate=Decimal(yield_rate),
        cost_per_hour=Money.parse("95 USD"),
        deploy_lead_time=Duration.parse("45d"),
    )
