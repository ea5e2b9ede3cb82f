"""`make demo` installs only the core: the CLI must work without any optional extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

# Importing any of these raises ImportError in the child (a None entry in sys.modules does that).
OPTIONAL = ["asyncua", "paho", "google.protobuf", "fastapi", "uvicorn", "ray", "simpy", "httpx", "psycopg"]
BLOCK = "import sys\nfor name in {names!r}:\n    sys.modules[name] = None\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = BLOCK.format(names=OPTIONAL) + f"from microfab.cli.main import app\napp({list(args)!r})\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_runs_without_optional_extras() -> None:
    result = _cli("--help")
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout


def test_an_optional_command_names_the_extra_to_install() -> None:
    result = _cli("module-server", "--type", "cnc-mill")
    assert result.returncode == 1
    assert "microfab[opcua,mqtt]" in result.stdout + result.stderr
