"""A stress test's network from decoded JSON (``docs/stress-tests.md``): shared by ``microfab plan stress`` and the API.

The document: ``nodes`` [{id, kind, inventory, pipeline, capacity, ttr_days, weight}], ``demand``
{product: units/day}, ``bom`` [{parent, part, qty}], ``sources`` [{part, parent, supplier}],
``horizon_days``, ``currency``. Numbers with a fraction should be `Decimal` (a weight must be: it is
money). Every error is an `InputError` (the shape) or a `NetworkError` (the values, from the
engine), whose message starts with the field's path (``nodes[4].inventory``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from microfab.planning.stress_network import BomLine, NetworkError, NodeKind, Source, StressNetwork, StressNode

__all__ = ["InputError", "error_path", "network_from_json"]

_TOP = {"nodes", "demand", "bom", "sources", "horizon_days", "currency"}
_NODE = {"id", "kind", "inventory", "pipeline", "capacity", "ttr_days", "weight"}
_BOM = {"parent", "part", "qty"}
_SOURCE = {"part", "parent", "supplier"}


class InputError(ValueError):
    """The input is not shaped as ``docs/stress-tests.md`` says (the message starts with where)."""


def error_path(exc: InputError | NetworkError) -> tuple[str, str]:
    """The field path an input or network error names (``nodes[4].inventory``) and the rest of its message."""
    if isinstance(exc, NetworkError):
        return exc.path, exc.message
    path, _, message = str(exc).partition(": ")
    return path, message


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
