"""Reading the input of ``microfab origin``: the case, the agreement (reference data or the input's rule), overrides.

Every error is an `InputError` whose message starts with the field path (``materials[2].value``).
The reference agreements are package data (``microfab/commerce/data/agreements.json``: members
and sample rules, indication only), read here so that the engine stays pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from microfab.cli.common import read_json_input
from microfab.commerce.origin import Good, Material, OriginCase, ProcessStep, TrailEntry, override_thresholds
from microfab.domain.trade import (
    ANY,
    Combine,
    OriginRule,
    Period,
    ShiftLevel,
    TradeAgreement,
    ValueBase,
    ValueMethod,
    hs_digits,
)

_HUNDRED = Decimal(100)
_TOP = {"agreement", "good", "materials", "operations", "destination", "thresholds", "rule"}
_GOOD = {"hs", "transaction_value", "net_cost", "currency", "ex_works", "wholesale_value"}
_MATERIAL = {"item", "value", "origin", "hs", "indirect", "essential", "unavailable_domestically"}
_OPERATION = {"name", "country", "confers_origin", "significant", "essential"}
_RULE = {"hs", "combine", "shift", "shift_except", "values", "note"}

T = TypeVar("T")
E = TypeVar("E", Combine, ShiftLevel, ValueMethod)


class InputError(ValueError):
    """The input file is missing, not JSON, or a field is missing or invalid (the message names it)."""


def read_input(path: Path) -> dict[str, Any]:
    """The JSON object in *path*; numbers with a fraction are read as exact `Decimal`."""
    return _object(read_json_input(path, InputError), "input", _TOP)


def parse_case(data: dict[str, Any]) -> OriginCase:
    """The `OriginCase` in the input; every error names its field (``materials[2].value``)."""
    for key in ("good", "materials", "operations", "destination"):
        if key not in data:
            raise InputError(f"{key}: missing")
    materials = tuple(_material(m, f"materials[{i}]") for i, m in enumerate(_list(data["materials"], "materials")))
    operations = tuple(_operation(o, f"operations[{i}]") for i, o in enumerate(_list(data["operations"], "operations")))
    destination = _country(data["destination"], "destination")
    return _build(lambda: OriginCase(_good(data["good"]), materials, operations, destination), "")


def _good(raw: object) -> Good:
    obj = _object(raw, "good", _GOOD)
    return _build(
        lambda: Good(
            hs=_text(obj, "hs", "good"),
            transaction_value=_amount(obj, "transaction_value", "good"),
            net_cost=_amount(obj, "net_cost", "good"),
            currency=_text(obj, "currency", "good").upper(),
            ex_works=_optional_amount(obj, "ex_works", "good"),
            wholesale_value=_optional_amount(obj, "wholesale_value", "good"),
        ),
        "good.",
    )


def _material(raw: object, path: str) -> Material:
    obj = _object(raw, path, _MATERIAL)
    origin = obj.get("origin")
    return _build(
        lambda: Material(
            item=_text(obj, "item", path),
            value=_amount(obj, "value", path),
            origin=_country(origin, f"{path}.origin") if origin not in (None, "") else None,
            hs=_text(obj, "hs", path, required=False),
            indirect=_flag(obj, "indirect", path),
            essential=_flag(obj, "essential", path),
            unavailable_domestically=_flag(obj, "unavailable_domestically", path),
        ),
        f"{path}.",
    )


def _operation(raw: object, path: str) -> ProcessStep:
    obj = _object(raw, path, _OPERATION)
    return _build(
        lambda: ProcessStep(
            name=_text(obj, "name", path),
            country=_country(obj.get("country"), f"{path}.country"),
            confers_origin=_flag(obj, "confers_origin", path),
            significant=_flag(obj, "significant", path),
            essential=_flag(obj, "essential", path),
        ),
        f"{path}.",
    )


def _build(make: Callable[[], T], prefix: str) -> T:
    """Call *make*; a `ValueError` from a constructor (``"value: …"``) gets the field path as prefix."""
    try:
        built: T = make()
    except InputError:
        raise
    except (ValueError, TypeError) as exc:
        raise InputError(f"{prefix}{exc}") from None
    return built


# ------------------------------------------------------------------------------ agreement and rule


def resolve_agreement(data: dict[str, Any], hs: str) -> tuple[TradeAgreement | None, tuple[TrailEntry, ...]]:
    """The named agreement from the reference data, with the input's rule and threshold overrides applied."""
    name = data.get("agreement")
    if name is None:
        for key in ("rule", "thresholds"):
            if data.get(key) is not None:
                raise InputError(f"{key}: needs an agreement (its members); 'agreement' is null")
        return None, ()
    if not isinstance(name, str):
        raise InputError(f"agreement: expected a name like 'USMCA', got {name!r}")
    known = load_agreements()
    if name.upper() not in known:
        raise InputError(f"agreement: unknown {name!r}; known: {', '.join(sorted(known))}")
    agreement, source = known[name.upper()], "reference data agreements.json (samples, indication only)"
    notes = [TrailEntry("agreement", agreement.name, f"members and de minimis from {source}")]
    if data.get("rule") is not None:
        rule = parse_rule(data["rule"], "rule", hs=hs)
        agreement = replace(agreement, rules=(rule, *agreement.rules))
        notes.append(TrailEntry("rule source", "input", f"the input's rule for HS {hs} replaces the reference data"))
    else:
        notes.append(TrailEntry("rule source", "reference data", f"{source}; verify against the annex"))
    if data.get("thresholds") is not None:
        overrides = {k: _percent(v, f"thresholds.{k}") for k, v in _object(data["thresholds"], "thresholds").items()}
        agreement, more = override_thresholds(agreement, hs, overrides)
        notes.extend(more)
    return agreement, tuple(notes)


def parse_rule(raw: object, path: str, *, hs: str | None = None) -> OriginRule:
    """An `OriginRule` from ``{"shift": "heading", "combine": "shift-or-value", "values": {...}}``."""
    obj = _object(raw, path, _RULE)
    if hs is not None and "hs" in obj:
        raise InputError(f"{path}.hs: not allowed here; the input's rule applies to the good's HS code {hs}")
    rule_hs = hs if hs is not None else _text(obj, "hs", path)
    shift = obj.get("shift")
    values = _object(obj.get("values", {}), f"{path}.values")
    excepts = _list(obj.get("shift_except", []), f"{path}.shift_except")
    return _build(
        lambda: OriginRule(
            hs=rule_hs,
            combine=_choice(Combine, _text(obj, "combine", path), f"{path}.combine"),
            shift=None if shift is None else _choice(ShiftLevel, shift, f"{path}.shift"),
            shift_except=tuple(_hs_text(e, f"{path}.shift_except[{i}]") for i, e in enumerate(excepts)),
            values={
                _choice(ValueMethod, k, f"{path}.values.{k}"): _percent(v, f"{path}.values.{k}")
                for k, v in values.items()
            },
        ),
        f"{path}.",
    )


@cache
def load_agreements() -> dict[str, TradeAgreement]:
    """The reference agreements shipped as package data (members, sample rules), by upper-case name."""
    text = resources.files("microfab.commerce").joinpath("data/agreements.json").read_text(encoding="utf-8")
    raw = json.loads(text, parse_float=Decimal)
    return {name.upper(): _agreement(name, spec) for name, spec in raw["agreements"].items()}


def _agreement(name: str, spec: dict[str, Any]) -> TradeAgreement:
    path = f"agreements.json {name}"
    return TradeAgreement(
        name=name,
        members=tuple(spec["members"]),
        rules=tuple(parse_rule(r, f"{path} rules[{i}]") for i, r in enumerate(spec["rules"])),
        de_minimis=_percent(spec["de_minimis_percent"], f"{path} de_minimis_percent") / _HUNDRED,
        period=Period(date.fromisoformat(spec["from"])),
        de_minimis_base=ValueBase(spec.get("de_minimis_base", ValueBase.TRANSACTION_VALUE)),
    )


# ------------------------------------------------------------------------------------ field parsing


def _object(raw: object, path: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a JSON object, got {_kind(raw)}")
    unknown = sorted(k for k in raw if allowed is not None and k not in allowed and not k.startswith("_"))
    if unknown:
        raise InputError(f"{path}.{unknown[0]}: unknown field; expected one of {', '.join(sorted(allowed or ()))}")
    return raw


def _list(raw: object, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise InputError(f"{path}: expected a JSON array, got {_kind(raw)}")
    return raw


def _text(obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if value is None:
        raise InputError(f"{path}.{key}: missing")
    if not isinstance(value, str):
        raise InputError(f"{path}.{key}: expected a string, got {_kind(value)}")
    return value


def _hs_text(value: object, path: str) -> str:
    if not isinstance(value, str) or (value != ANY and not hs_digits(value)):
        raise InputError(f"{path}: expected an HS code as a string like '7604', got {value!r}")
    return value


def _country(value: object, path: str) -> str:
    if value is None:
        raise InputError(f"{path}: missing")
    if not isinstance(value, str):
        raise InputError(f"{path}: expected a country code like 'US', got {_kind(value)}")
    return value.strip().upper()


def _flag(obj: dict[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{path}.{key}: expected true or false, got {value!r}")
    return value


def _number(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InputError(f"{path}: expected a number, got {_kind(value)}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InputError(f"{path}: expected a number, got {value!r}") from None
    if not number.is_finite():
        raise InputError(f"{path}: expected a finite number, got {value!r}")
    return number


def _amount(obj: dict[str, Any], key: str, path: str) -> Decimal:
    if obj.get(key) is None:
        raise InputError(f"{path}.{key}: missing")
    number = _number(obj[key], f"{path}.{key}")
    if number < 0:
        raise InputError(f"{path}.{key}: expected an amount >= 0, got {number}")
    return number


def _optional_amount(obj: dict[str, Any], key: str, path: str) -> Decimal | None:
    return None if obj.get(key) is None else _amount(obj, key, path)


def _percent(value: object, path: str) -> Decimal:
    number = _number(value, path)
    if not 0 <= number <= _HUNDRED:
        raise InputError(f"{path}: expected a percent in [0, 100], got {number}")
    return number


def _choice(kind: type[E], value: object, path: str) -> E:
    try:
        return kind(value if isinstance(value, str) else repr(value))
    except ValueError:
        raise InputError(f"{path}: expected one of {', '.join(kind)}, got {value!r}") from None


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
