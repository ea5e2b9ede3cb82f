"""The shipped broker config (deploy/mosquitto/microfab.conf) runs, with TLS and passwords, on free ports."""

from __future__ import annotations

import asyncio
import getpass
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from microfab.telemetry.base import DeviceBorn
from microfab.telemetry.mqtt import BrokerSettings
from microfab.telemetry.sparkplug import SparkplugEdgeNode
from microfab.telemetry.sparkplug_host import SparkplugHost
from tests.integration.conftest import MOSQUITTO, free_port, wait_port
from tests.support.shared import unavailable

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "microfab.conf"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(directory: Path) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=microfab test CA", cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "1", "-extfile", "san.ext", cwd=directory)  # fmt: skip


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if not (Path(MOSQUITTO).exists() and shutil.which("openssl") and shutil.which("mosquitto_passwd")):
        unavailable("mosquitto, mosquitto_passwd or openssl missing")
    _certificates(tmp_path)
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "site", "s3cret"], check=True, capture_output=True)
    plain, tls = free_port(), free_port()
    # mosquitto started as root drops to the "mosquitto" user, which cannot read pytest's tmp dir.
    text = f"user {getpass.getuser()}\n" + CONFIG.read_text()
    text = text.replace("persistence true", "persistence false")
    text = text.replace("listener 1883 127.0.0.1", f"listener {plain} 127.0.0.1")
    text = text.replace("listener 8883", f"listener {tls} 127.0.0.1")
    text = re.sub(r"/etc/mosquitto/certs/", f"{tmp_path}/", text)
    text = text.replace("/etc/mosquitto/microfab.passwd", str(passwd))
    config = tmp_path / "microfab.conf"
    config.write_text(text)
    log = tmp_path / "mosquitto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=sink)
        try:
            wait_port(tls)
        except TimeoutError:
            process.kill()
            process.wait(5)
            pytest.fail(f"mosquitto refused the shipped config: {log.read_text()}")
        yield tls, tmp_path / "ca.crt"
        process.terminate()
        process.wait(5)


async def _until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return False


def test_tls_and_password(secure_broker: tuple[int, Path]) -> None:
    port, ca = secure_broker

    async def body() -> None:
        good = BrokerSettings.parse(f"mqtts://site:s3cret@127.0.0.1:{port}", ca_file=str(ca))
        host = SparkplugHost("ohio", "controller", good)
        host.start()
        assert await _until(lambda: host.connected, 10)
        edge = SparkplugEdgeNode("ohio", "ohio-cnc-mill-1", good)
        await edge.birth("cnc-mill", {"PackML/State": "Idle"})
        edge.start()
        signal = None
        deadline = time.monotonic() + 10
        while not isinstance(signal, DeviceBorn) and time.monotonic() < deadline:
            signal = await host.next_signal(0.2)
        assert isinstance(signal, DeviceBorn)
        bad = BrokerSettings.parse(f"mqtts://site:wrong@127.0.0.1:{port}", ca_file=str(ca))
        intruder = SparkplugEdgeNode("ohio", "intruder", bad)
        intruder.start()
        assert not await _until(lambda: intruder.connected, 1.5)
        await intruder.close()
        await edge.close()
        await host.close()

    asyncio.run(asyncio.wait_for(body(), 30))
