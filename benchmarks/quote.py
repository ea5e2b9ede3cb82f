"""Quote latency: the engine, the ``microfab quote`` command in process, and a cold ``microfab quote`` process.

Target from the issue: a quote through the CLI under 50 ms. The engine and the in-process
command (open the SQLite log, rebuild the applied network, quote, render the localized table)
are measured against it; the cold process is shown beside a bare ``python -c pass`` and a bare
``import microfab.cli.main`` (the interpreter and import floor every CLI call pays).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from microfab.cli.main import app
from microfab.commerce import quote
from microfab.manifests import load_network

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "network"
MARKETS = ("us", "mx", "de", "jp", "vn")
TARGET_MS = 50.0


def _times_ms(run: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _row(table: Table, what: str, times: list[float], floor: float | None = None) -> None:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    ratio = f"{median / floor:.2f}" if floor else "—"
    verdict = "yes" if median <= TARGET_MS else "no"
    table.add_row(what, str(len(times)), f"{median:.2f}", f"{p95:.2f}", ratio, verdict)


def main(*, quick: bool = False) -> None:
    """Print the quote latency table."""
    repeat = 20 if quick else 200
    network = load_network(EXAMPLE)
    at = datetime(2026, 11, 25, 10, tzinfo=UTC)
    product = network.product("laptop-stand")
    table = Table("what", "runs", "median ms", "p95 ms", "x floor", f"<= {TARGET_MS:.0f} ms", title="quote latency")
    for market in MARKETS:
        times = _times_ms(lambda m=market: quote(product, {}, 1, network.market(m), network=network, at=at), repeat)
        _row(table, f"engine quote(), market {market} (5 sites)", times)
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'log.db'}"
        runner.invoke(app, ["apply", str(EXAMPLE), "--db", db])
        args = ["quote", "laptop-stand", "--market", "de", "--b2c", "--db", db]

        def command() -> None:
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output

        _row(
            table,
            "microfab quote, in process (open log, rebuild network, quote, render)",
            _times_ms(command, repeat // 4),
        )
        cold = 3 if quick else 7
        bare = _times_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), cold, warmup=1)
        imports = _times_ms(
            lambda: subprocess.run([sys.executable, "-c", "import microfab.cli.main"], check=True), cold, warmup=1
        )
        cli = [str(Path(sys.executable).with_name("microfab")), *args]
        process = _times_ms(lambda: subprocess.run(cli, check=True, capture_output=True), cold, warmup=1)
        floor = statistics.median(bare)
        _row(table, "python -c pass (interpreter floor)", bare, floor)
        _row(table, "python -c 'import microfab.cli.main' (import floor)", imports, floor)
        _row(table, "microfab quote, cold process", process, floor)
    Console().print(table)
