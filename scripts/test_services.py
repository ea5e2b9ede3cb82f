"""Make sure the services the tests use are up, then run the test command in their place.

Usage: ``python scripts/test_services.py -- python -m pytest [args...]``

- PostgreSQL at ``MICROFAB_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``):
  if it does not answer, start the machine's cluster (``pg_ctlcluster <version> main start`` for
  each ``/etc/postgresql/<version>``, newest first) and wait up to 20 s.
- Mosquitto on 127.0.0.1:1883: if nothing listens, ``mosquitto -d``; only a warning if that fails.
- Debian's chromium for the browser tests: ``apt-get install chromium`` when missing (as root).
- Debian's fonts-noto-cjk for the Japanese invoice PDFs, the same way.

Prints one status line per service, then replaces itself with the command (``os.execvp``), so
the exit code is the command's own: pytest's 5 (no tests collected) stays a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_WAIT_S = 20
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
MQTT_WAIT_S = 5
CONNECT_TIMEOUT_S = 3


def status(service: str, state: str, detail: str) -> None:
    """Print one status line."""
    print(f"test-services: {service:<10} {state:<8} {detail}", flush=True)  # noqa: T201 - a script's output


def masked(url: str) -> str:
    """Return *url* with its password hidden."""
    return re.sub(r"(://[^/:@]*:)[^@]*@", r"\1***@", url, count=1)


def libpq_url(url: str) -> str:
    """Turn an SQLAlchemy URL (``postgresql+psycopg://``) into one libpq understands."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgres") else url


def pg_error(url: str) -> str | None:
    """Return why PostgreSQL at *url* cannot be reached, or None if it answers."""
    try:
        import psycopg  # noqa: PLC0415 - optional: fall back to a TCP check without it
    except ImportError:
        parts = urlsplit(libpq_url(url))
        return tcp_error(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S):
            return None
    except psycopg.Error as exc:
        return " ".join(str(exc).split())


def tcp_error(host: str, port: int) -> str | None:
    """Return why nothing accepts TCP connections on *host*:*port*, or None if something does."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return None
    except OSError as exc:
        return str(exc)


def start_postgres() -> str:
    """Start the machine's PostgreSQL clusters; return what was tried."""
    root = Path("/etc/postgresql")
    versions = sorted((p.name for p in root.iterdir() if p.is_dir()), key=_version_key, reverse=True)
    if not versions or shutil.which("pg_ctlcluster") is None:
        return "no local cluster to start (no /etc/postgresql/<version> or pg_ctlcluster)"
    tried = []
    for version in versions:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
        run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=PG_WAIT_S)
        output = " ".join((run.stdout + run.stderr).split())
        tried.append(f"{' '.join(command)} -> exit {run.returncode}{': ' + output if output else ''}")
    return "; ".join(tried)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def ensure_postgres() -> None:
    """Check PostgreSQL; start it if needed and wait for it."""
    url = os.environ.get("MICROFAB_TEST_PG", PG_DEFAULT)
    error = pg_error(url)
    if error is None:
        status("postgresql", "up", masked(url))
        return
    try:
        tried = start_postgres() if Path("/etc/postgresql").is_dir() else "no /etc/postgresql on this machine"
    except (OSError, subprocess.SubprocessError) as exc:
        tried = f"could not start: {exc}"
    deadline = time.monotonic() + PG_WAIT_S
    while time.monotonic() < deadline:
        error = pg_error(url)
        if error is None:
            status("postgresql", "started", f"{masked(url)} ({tried})")
            return
        time.sleep(0.5)
    status("postgresql", "DOWN", f"{masked(url)}: {error} ({tried}); PostgreSQL tests will skip, or fail under CI")


def ensure_mosquitto() -> None:
    """Check the MQTT broker; start ``mosquitto -d`` if needed (a warning only if that fails)."""
    where = f"{MQTT_HOST}:{MQTT_PORT}"
    if tcp_error(MQTT_HOST, MQTT_PORT) is None:
        status("mosquitto", "up", where)
        return
    if shutil.which("mosquitto") is None and not os.path.exists("/usr/sbin/mosquitto"):
        _apt_install("mosquitto")  # the MQTT integration tests start their own brokers from this binary
    if shutil.which("mosquitto") is None and not os.path.exists("/usr/sbin/mosquitto"):
        status("mosquitto", "WARNING", f"{where}: not running and mosquitto is not installed (nothing needs it yet)")
        return
    try:
        subprocess.run(["mosquitto", "-d"], capture_output=True, check=False, timeout=MQTT_WAIT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        status("mosquitto", "WARNING", f"{where}: could not start mosquitto: {exc}")
        return
    deadline = time.monotonic() + MQTT_WAIT_S
    while time.monotonic() < deadline:
        if tcp_error(MQTT_HOST, MQTT_PORT) is None:
            status("mosquitto", "started", where)
            return
        time.sleep(0.2)
    status("mosquitto", "WARNING", f"{where}: mosquitto -d did not start listening (nothing needs it yet)")


def ensure_chromium() -> None:
    """Install Debian's chromium for the browser tests when it is missing and we may (root + apt-get)."""
    path = os.environ.get("MICROFAB_CHROMIUM", "/usr/bin/chromium")
    if os.path.exists(path):
        status("chromium", "up", path)
        return
    problem = _apt_install("chromium")
    status("chromium", "MISSING" if problem else "installed", problem or path)


CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
"""What the Japanese invoice tests print with (Debian's fonts-noto-cjk); other fonts would draw tofu."""


def ensure_fonts() -> None:
    """Install Debian's Noto CJK fonts for the Japanese invoice PDFs when they are missing and we may."""
    if os.path.exists(CJK_FONT):
        status("fonts", "up", CJK_FONT)
        return
    problem = _apt_install("fonts-noto-cjk")
    status("fonts", "MISSING" if problem else "installed", problem or CJK_FONT)


def _apt_install(package: str) -> str | None:
    """``apt-get install -y PACKAGE`` as root; the error text, or None when it worked."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"cannot install {package}: not root or no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=900)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-200:]}"
    return None


def main(argv: list[str]) -> int:
    """Check the services, then exec the command after ``--``."""
    command = argv[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print(f"usage: {argv[0]} -- <command...>", file=sys.stderr)  # noqa: T201 - a script's output
        return 2
    ensure_postgres()
    ensure_mosquitto()
    ensure_chromium()
    ensure_fonts()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], command)  # replaces this process: the exit code is the command's
    except OSError as exc:
        print(f"test-services: cannot run {command[0]!r}: {exc}", file=sys.stderr)  # noqa: T201 - a script's output
        return 127
    return 0  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv))
