"""``microfab plan stress``: time to survive (TTS), time-to-recover impact and risk exposure of every node of a network.

The input is a JSON file (``docs/stress-tests.md``, ``examples/stress/network.json``): ``nodes``
[{id, kind, inventory, pipeline, capacity, ttr_days, weight}], ``demand`` {product: units/day},
``bom`` [{parent, part, qty}], ``sources`` [{part, parent, supplier}], ``horizon_days``,
``currency``. Bad input is one error line naming the field and the node, and exit status 2. The
reader of the decoded document and the JSON output are shared with the API
(`microfab.planning.stress_input`, `microfab.planning.stress_export`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microfab.cli.common import errors, read_json_input
from microfab.planning.stress_export import report_json
from microfab.planning.stress_input import InputError, network_from_json
from microfab.planning.stress_network import NetworkError, StressNetwork

if TYPE_CHECKING:
    from microfab.planning.stress import StressReport

__all__ = ["InputError", "network_from_json", "read_network", "report_json", "stress_command"]

console = Console(width=None if sys.stdout.isatty() else 150)


def stress_command(
    input_file: Annotated[Path, typer.Option("--input", "-i", help="The network as JSON (see docs/stress-tests.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """TTS, TTR impact, risk exposure index and mitigations of every node of a supply network (LPs on HiGHS)."""
    from microfab.planning.stress import stress_test  # noqa: PLC0415 - HiGHS and numpy take 0.2 s to import

    try:
        network = read_network(input_file)
    except (InputError, NetworkError) as exc:
        _fail(str(exc))
    report = stress_test(network)
    if as_json:
        typer.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        _show(network, report)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/]: {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


# ------------------------------------------------------------------------------------------ input


def read_network(path: Path) -> StressNetwork:
    """The network in the JSON file *path* (numbers with a fraction read as exact `Decimal`)."""
    return network_from_json(read_json_input(path, InputError))


# ------------------------------------------------------------------------------------------ output


def _days(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _show(network: StressNetwork, report: StressReport) -> None:
    money = report.currency or "units x weight"
    baseline = (
        f"≥ {_days(max([network.horizon_days, *(n.ttr_days for n in network.nodes)]))} days"
        if report.baseline_tts_days is None
        else f"{_days(report.baseline_tts_days)} days (it cannot meet demand even with nothing down)"
    )
    ranked = report.ranked()
    table = Table(
        "#", "node", "kind", "TTR d", "TTS d", f"TTR impact ({money})", "REI", "at risk", "lost sales (units)",
        title=(
            f"Stress test of {len(report.nodes)} nodes, horizon {_days(report.horizon_days)} days: "
            f"{sum(r.at_risk for r in ranked)} at risk (TTS < TTR), by risk exposure index"
        ),
    )  # fmt: skip
    for rank, r in enumerate(ranked, start=1):
        tts = f"≥ {_days(max(report.horizon_days, r.ttr_days))}" if r.unbounded else _days(r.tts_days or 0.0)
        lost = ", ".join(f"{s.product} {s.units:,.6g}" for s in r.lost) or "-"
        table.add_row(
            str(rank),
            escape(r.node),
            r.kind.value,
            _days(r.ttr_days),
            tts,
            f"{r.ttr_impact:,}",
            f"{r.rei:.3f}",
            "[bold red]AT RISK[/]" if r.at_risk else "-",
            escape(lost),
            style="red" if r.at_risk else None,
        )
    console.print(table)
    risky = [r for r in ranked if r.at_risk]
    if risky:
        options = Table("node", "option", "acts on", "what", title="Mitigations of the at-risk nodes")
        for r in risky:
            for m in r.mitigations or ():
                options.add_row(escape(r.node), m.kind.value.replace("_", " "), escape(m.node), escape(m.text))
            if not r.mitigations:
                options.add_row(escape(r.node), "-", "-", "none the model can size")
        console.print(options)
    console.print(
        f"Undisrupted network meets all demand for {baseline}. "
        f"{report.solves} LPs on HiGHS in {report.runtime:.3f} s. Model and formulas: docs/stress-tests.md"
    )
