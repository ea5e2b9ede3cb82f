"""``microfab plan stress``: time to survive (TTS), time-to-recover impact and risk exposure of every node of a network.

The input is a JSON file (``docs/stress-tests.md``, ``examples/stress/network.json``): ``nodes``
[{id, kind, inventory, pipeline, capacity, ttr_days, weight}], ``demand`` {product: units/day},
``bom`` [{parent, part, qty}], ``sources`` [{part, parent, supplier}], ``horizon_days``,
``currency``. Bad input is one error line naming the field and the node, and exit status 2.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microfab.cli.common import errors
from microfab.planning.stress_network import BomLine, NetworkError, NodeKind, Source, StressNetwork, StressNode

if TYPE_CHECKING:
    from microfab.planning.stress import NodeResult, StressReport

__all__ = ["InputError", "network_from_json", "read_network", "report_json", "stress_command"]

console = Console(width=None if sys.stdout.isatty() else 150)

_TOP = {"nodes", "demand", "bom", "sources", "horizon_days", "currency"}
_NODE = {"id", "kind", "inventory", "pipeline", "capacity", "ttr_days", "weight"}
_BOM = {"parent", "part", "qty"}
_SOURCE = {"part", "parent", "supplier"}


class InputError(ValueError):
    """The input file is missing, not JSON, or not shaped as ``docs/stress-tests.md`` says (the message names where)."""


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--input: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--input: cannot read {path}: {exc}") from None
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--input: invalid JSON in {path}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return network_from_json(data)


def _no_constant(name: str) -> None:
    raise InputError(f"--input: {name} is not a number")


def network_from_json(data: object) -> StressNetwork:
    """The `StressNetwork` of a decoded JSON document; `InputError` or `NetworkError` naming the field otherwise."""
    top = _object(data, "input", _TOP)
    for key in ("nodes", "demand", "bom"):
        if key not in top:
            raise InputError(f"{key}: missing")
    bom = [_object(row, f"bom[{i}]", _BOM) for i, row in enumerate(_list(top["bom"], "bom"))]
    made = {row.get("parent") for row in bom}
    nodes = tuple(_node(row, i, made) for i, row in enumerate(_list(top["nodes"], "nodes")))
    lines = tuple(_line(row, i) for i, row in enumerate(bom))
    sources = tuple(_source(row, i) for i, row in enumerate(_list(top.get("sources", []), "sources")))
    demand = top["demand"]
    if not isinstance(demand, dict):
        raise InputError(f"demand: expected an object {{product: units per day}}, got {_kind(demand)}")
    currency = top.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise InputError(f"currency: expected an ISO 4217 code, got {currency!r}")
    return StressNetwork(
        nodes=nodes,
        demand=demand,
        bom=lines,
        sources=sources,
        horizon_days=top.get("horizon_days", 90),
        currency=currency,
    )


def _node(raw: object, i: int, made: set[object]) -> StressNode:
    path = f"nodes[{i}]"
    row = _object(raw, path, _NODE)
    node_id, kind = _text(row, "id", path), _text(row, "kind", path)
    if kind not in set(NodeKind):
        raise InputError(f"{path}.kind: node {node_id!r}: expected one of {', '.join(NodeKind)}, got {kind!r}")
    for key in ("ttr_days", *(("capacity",) if kind in (NodeKind.RAW, NodeKind.SITE) else ())):
        if key not in row:
            what = "days to recover" if key == "ttr_days" else "units per day (null: unlimited)"
            raise InputError(f"{path}.{key}: {kind} {node_id!r}: missing ({what})")
    capacity = row.get("capacity", math.inf if node_id in made else 0.0)  # a made node: no limit unless given
    weight = row.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | Decimal)):
        raise InputError(f"{path}.weight: {kind} {node_id!r}: expected money per unit lost > 0, got {weight!r}")
    try:
        return StressNode(
            id=node_id,
            kind=NodeKind(kind),
            ttr_days=row["ttr_days"],
            inventory=row.get("inventory", 0.0),
            capacity=math.inf if capacity is None else capacity,
            pipeline=row.get("pipeline", 0.0),
            weight=Decimal(weight) if isinstance(weight, int) else weight,
        )
    except NetworkError as exc:
        raise NetworkError(f"{path}.{exc.path}", exc.message) from None


def _line(row: dict[str, Any], i: int) -> BomLine:
    path = f"bom[{i}]"
    for key in _BOM:
        if key not in row:
            raise InputError(f"{path}.{key}: missing")
    try:
        return BomLine(row["parent"], row["part"], row["qty"])
    except NetworkError as exc:
        raise NetworkError(f"{path}.{exc.path}", f"{row['parent']!r} <- {row['part']!r}: {exc.message}") from None


def _source(raw: object, i: int) -> Source:
    path = f"sources[{i}]"
    row = _object(raw, path, _SOURCE)
    return Source(_text(row, "part", path), _text(row, "parent", path), _text(row, "supplier", path))


def _object(raw: object, path: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected an object, got {_kind(raw)}")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise InputError(f"{path}.{unknown[0]}: unknown field (expected {', '.join(sorted(keys))})")
    return raw


def _list(raw: object, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise InputError(f"{path}: expected a list, got {_kind(raw)}")
    return raw


def _text(row: dict[str, Any], key: str, path: str) -> str:
    if key not in row:
        raise InputError(f"{path}.{key}: missing")
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{path}.{key}: expected a non-empty string, got {value!r}")
    return value


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else repr(value)


# ------------------------------------------------------------------------------------------ output


def report_json(report: StressReport) -> dict[str, Any]:
    """The report as JSON: per node (input order) TTS, TTR impact, REI, at-risk, lost sales, mitigations."""
    ranks = {r.node: k for k, r in enumerate(report.ranked(), start=1)}
    return {
        "horizon_days": report.horizon_days,
        "currency": report.currency,
        "baseline_tts_days": _round(report.baseline_tts_days),
        "baseline_unbounded": report.baseline_tts_days is None,
        "at_risk": [r.node for r in report.ranked() if r.at_risk],
        "solves": report.solves,
        "runtime_s": round(report.runtime, 4),
        "nodes": [_node_json(r, ranks[r.node]) for r in report.nodes],
    }


def _node_json(r: NodeResult, rank: int) -> dict[str, Any]:
    return {
        "id": r.node,
        "kind": r.kind.value,
        "ttr_days": r.ttr_days,
        "tts_days": _round(r.tts_days),
        "unbounded": r.unbounded,
        "ttr_impact": float(r.ttr_impact),
        "rei": round(r.rei, 6),
        "at_risk": r.at_risk,
        "rank": rank,
        "lost_sales": [{"product": s.product, "units": s.units, "value": float(s.value)} for s in r.lost],
        "mitigations": [
            {
                "kind": m.kind.value,
                "node": m.node,
                "amount": m.amount,
                "unit": m.unit,
                "parents": list(m.parents),
                "together": list(m.together),
                "text": m.text,
            }
            for m in r.mitigations
        ],
    }


def _round(days: float | None) -> float | None:
    return None if days is None else round(days, 6)


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
