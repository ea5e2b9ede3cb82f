"""The Sparkplug B payload (protobuf), the subset microfab uses, with typed encode and decode.

The message definition follows the Eclipse Sparkplug B specification 3.0 (chapter 6.4, the
``sparkplug_b.proto`` of Eclipse Tahu, package ``org.eclipse.tahu.protobuf``): a ``Payload``
with ``timestamp`` (1), ``metrics`` (2), ``seq`` (3), ``uuid`` (4), ``body`` (5) and a nested
``Metric`` with ``name`` (1), ``alias`` (2), ``timestamp`` (3), ``datatype`` (4),
``is_historical`` (5), ``is_transient`` (6), ``is_null`` (7) and the scalar members of the
``value`` oneof (``int_value`` 10 .. ``bytes_value`` 16). Metadata, property sets, data sets
and templates are not used; a peer's payload that carries them still decodes (protobuf keeps
unknown fields). The descriptor is built in code, so no generated module and no ``protoc``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

__all__ = ["DataType", "DecodeError", "Metric", "Payload", "PayloadError", "decode", "encode"]

Value = bool | int | float | str | bytes
"""A scalar metric value."""


class PayloadError(ValueError):
    """Bytes that are not a Sparkplug B payload, or a metric whose value does not fit its data type."""


class DataType(enum.IntEnum):
    """Sparkplug B metric data types (specification 3.0, section 6.4.16), the scalar ones."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    BYTES = 17


_INT_BITS: Final = {
    DataType.INT8: (8, True),
    DataType.INT16: (16, True),
    DataType.INT32: (32, True),
    DataType.INT64: (64, True),
    DataType.UINT8: (8, False),
    DataType.UINT16: (16, False),
    DataType.UINT32: (32, False),
    DataType.UINT64: (64, False),
    DataType.DATETIME: (64, False),
}
_TEXT: Final = frozenset({DataType.STRING, DataType.TEXT, DataType.UUID})


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric of a payload; ``value`` None means a null value (``is_null``)."""

    name: str | None
    datatype: DataType
    value: Value | None
    alias: int | None = None
    timestamp: int | None = None
    is_historical: bool = False

    def __post_init__(self) -> None:
        if self.value is not None:
            _check_value(self.datatype, self.value)


@dataclass(frozen=True, slots=True)
class Payload:
    """A Sparkplug B payload: timestamp (ms since the epoch, UTC), sequence number and metrics."""

    timestamp: int | None
    metrics: tuple[Metric, ...] = ()
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None

    def metric(self, name: str) -> Metric | None:
        """The first metric called *name*, or None."""
        return next((m for m in self.metrics if m.name == name), None)


def infer_datatype(value: Value) -> DataType:
    """The data type microfab declares for a Python value (bool, int64, double, string, bytes)."""
    if isinstance(value, bool):
        return DataType.BOOLEAN
    if isinstance(value, int):
        return DataType.INT64
    if isinstance(value, float):
        return DataType.DOUBLE
    if isinstance(value, str):
        return DataType.STRING
    return DataType.BYTES


def _check_value(datatype: DataType, value: Value) -> None:
    if datatype in _INT_BITS:
        bits, signed = _INT_BITS[datatype]
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PayloadError(f"value: expected an integer in [{low}, {high}] for {datatype.name}, got {value!r}")
    elif datatype in (DataType.FLOAT, DataType.DOUBLE):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadError(f"value: expected a number for {datatype.name}, got {value!r}")
    elif datatype is DataType.BOOLEAN:
        if not isinstance(value, bool):
            raise PayloadError(f"value: expected a bool for BOOLEAN, got {value!r}")
    elif datatype in _TEXT:
        if not isinstance(value, str):
            raise PayloadError(f"value: expected a string for {datatype.name}, got {value!r}")
    elif not isinstance(value, bytes):
        raise PayloadError(f"value: expected bytes for {datatype.name}, got {value!r}")


# ---------------------------------------------------------------------- the protobuf message
_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE: Final = "org.eclipse.tahu.protobuf"


def _field(message: Any, name: str, number: int, kind: int, *, label: int = _F.LABEL_OPTIONAL) -> Any:
    return message.field.add(name=name, number=number, type=kind, label=label)


def _build_payload_class() -> Any:
    proto = descriptor_pb2.FileDescriptorProto(name="microfab/sparkplug_b.proto", package=_PACKAGE, syntax="proto2")
    payload = proto.message_type.add(name="Payload")
    metric = payload.nested_type.add(name="Metric")
    for name, number, kind in (
        ("name", 1, _F.TYPE_STRING),
        ("alias", 2, _F.TYPE_UINT64),
        ("timestamp", 3, _F.TYPE_UINT64),
        ("datatype", 4, _F.TYPE_UINT32),
        ("is_historical", 5, _F.TYPE_BOOL),
        ("is_transient", 6, _F.TYPE_BOOL),
        ("is_null", 7, _F.TYPE_BOOL),
    ):
        _field(metric, name, number, kind)
    metric.oneof_decl.add(name="value")
    for name, number, kind in (
        ("int_value", 10, _F.TYPE_UINT32),
        ("long_value", 11, _F.TYPE_UINT64),
        ("float_value", 12, _F.TYPE_FLOAT),
        ("double_value", 13, _F.TYPE_DOUBLE),
        ("boolean_value", 14, _F.TYPE_BOOL),
        ("string_value", 15, _F.TYPE_STRING),
        ("bytes_value", 16, _F.TYPE_BYTES),
    ):
        _field(metric, name, number, kind).oneof_index = 0
    _field(payload, "timestamp", 1, _F.TYPE_UINT64)
    metrics = _field(payload, "metrics", 2, _F.TYPE_MESSAGE, label=_F.LABEL_REPEATED)
    metrics.type_name = f".{_PACKAGE}.Payload.Metric"
    _field(payload, "seq", 3, _F.TYPE_UINT64)
    _field(payload, "uuid", 4, _F.TYPE_STRING)
    _field(payload, "body", 5, _F.TYPE_BYTES)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Payload"))


_PayloadMessage: Final = _build_payload_class()


def encode(payload: Payload) -> bytes:
    """Serialize *payload* to Sparkplug B protobuf bytes."""
    message = _PayloadMessage()
    if payload.timestamp is not None:
        message.timestamp = payload.timestamp
    if payload.seq is not None:
        message.seq = payload.seq
    if payload.uuid is not None:
        message.uuid = payload.uuid
    if payload.body is not None:
        message.body = payload.body
    for metric in payload.metrics:
        _encode_metric(message.metrics.add(), metric)
    data: bytes = message.SerializeToString()
    return data


def _encode_metric(out: Any, metric: Metric) -> None:
    if metric.name is not None:
        out.name = metric.name
    if metric.alias is not None:
        out.alias = metric.alias
    if metric.timestamp is not None:
        out.timestamp = metric.timestamp
    out.datatype = int(metric.datatype)
    if metric.is_historical:
        out.is_historical = True
    if metric.value is None:
        out.is_null = True
    else:
        _encode_value(out, metric.datatype, metric.value)


def _encode_value(out: Any, datatype: DataType, value: Value) -> None:
    if datatype in _INT_BITS:
        bits = _INT_BITS[datatype][0]
        unsigned = int(value) & ((1 << bits) - 1)  # two's complement for the signed types
        if bits == 64:
            out.long_value = unsigned
        else:
            out.int_value = unsigned
    elif datatype is DataType.FLOAT:
        out.float_value = float(value)
    elif datatype is DataType.DOUBLE:
        out.double_value = float(value)
    elif datatype is DataType.BOOLEAN:
        out.boolean_value = bool(value)
    elif datatype in _TEXT:
        out.string_value = str(value)
    else:
        out.bytes_value = value if isinstance(value, bytes) else str(value).encode()


def decode(data: bytes) -> Payload:
    """Parse Sparkplug B protobuf bytes; raise `PayloadError` when they are not a valid payload."""
    message = _PayloadMessage()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise PayloadError(f"not a Sparkplug B payload: {exc}") from None
    metrics = tuple(_decode_metric(m) for m in message.metrics)
    return Payload(
        timestamp=message.timestamp if message.HasField("timestamp") else None,
        metrics=metrics,
        seq=message.seq if message.HasField("seq") else None,
        uuid=message.uuid if message.HasField("uuid") else None,
        body=message.body if message.HasField("body") else None,
    )


def _decode_metric(m: Any) -> Metric:
    try:
        datatype = DataType(m.datatype)
    except ValueError:
        raise PayloadError(f"metric {m.name!r}: unsupported datatype {m.datatype}") from None
    value: Value | None = None
    kind = m.WhichOneof("value")
    if not m.is_null and kind is not None:
        value = _decode_value(datatype, kind, getattr(m, kind))
    return Metric(
        name=m.name if m.HasField("name") else None,
        datatype=datatype,
        value=value,
        alias=m.alias if m.HasField("alias") else None,
        timestamp=m.timestamp if m.HasField("timestamp") else None,
        is_historical=bool(m.is_historical),
    )


def _decode_value(datatype: DataType, kind: str, raw: Any) -> Value:
    if datatype in _INT_BITS:
        bits, signed = _INT_BITS[datatype]
        if kind not in ("int_value", "long_value"):
            raise PayloadError(f"{datatype.name} carried in {kind}")
        number = int(raw) & ((1 << bits) - 1)
        if signed and number >= 1 << (bits - 1):
            number -= 1 << bits
        return number
    expected = {
        DataType.FLOAT: "float_value",
        DataType.DOUBLE: "double_value",
        DataType.BOOLEAN: "boolean_value",
        DataType.BYTES: "bytes_value",
    }.get(datatype, "string_value")
    if kind != expected:
        raise PayloadError(f"{datatype.name} carried in {kind}")
    return raw  # type: ignore[no-any-return]


def metrics_of(values: Sequence[tuple[str, Value]], *, timestamp: int | None = None) -> tuple[Metric, ...]:
    """Metrics for ``(name, value)`` pairs with inferred data types."""
    return tuple(Metric(name, infer_datatype(value), value, timestamp=timestamp) for name, value in values)
