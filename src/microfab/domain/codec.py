"""Encode events to JSON-ready dicts and back, driven by the dataclass field types."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from microfab.domain import access as _access
from microfab.domain import alerts as _alerts
from microfab.domain import events as _events
from microfab.domain import invoices as _invoices
from microfab.domain.events import Event
from microfab.domain.quantities import Duration, Mass, Money
from microfab.domain.schedules import ScheduledOperation

EVENT_TYPES: dict[str, type[Event]] = {
    name: obj
    for module in (_events, _access, _alerts, _invoices)
    for name, obj in vars(module).items()
    if isinstance(obj, type) and issubclass(obj, Event) and obj is not Event
}
_NESTED: dict[str, type[Any]] = {"ScheduledOperation": ScheduledOperation}


def encode(event: Event) -> tuple[str, dict[str, Any]]:
    """Return ``(type name, JSON-ready data)`` for *event*."""
    return type(event).__name__, _encode_value(event)


def decode(type_name: str, data: Mapping[str, Any]) -> Event:
    """Rebuild the event of *type_name* from *data*."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise ValueError(f"unknown event type {type_name!r}") from None
    result = _decode_dataclass(cls, data)
    assert isinstance(result, Event)
    return result


def _encode_value(value: Any) -> Any:  # noqa: C901, PLR0911 - one branch per supported type
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an event: expected timezone-aware")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Duration):
        return value.seconds
    if isinstance(value, Mass):
        return str(value.kg)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_value(v) for v in value]
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} in an event")


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode_dataclass(cls: type[Any], data: Mapping[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs = {f.name: _decode_value(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
    return cls(**kwargs)


def _decode_value(hint: Any, raw: Any) -> Any:  # noqa: PLR0911 - one branch per supported type
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if raw is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode_value(inner[0], raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is date:
        return date.fromisoformat(raw)
    if hint is Decimal:
        return Decimal(raw)
    if hint is Money:
        return Money(Decimal(raw["amount"]), raw["currency"])
    if hint is Duration:
        return Duration(int(raw))
    if hint is Mass:
        return Mass(Decimal(raw))
    if origin is tuple:
        (item, *_) = typing.get_args(hint)
        return tuple(_decode_value(item, v) for v in raw)
    if origin in (Mapping, dict):
        return dict(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, raw)
    return raw
