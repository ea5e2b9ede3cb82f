"""The Sparkplug B payload: round trips, the wire format of known fields, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microfab.telemetry.payload import (
    DataType,
    Metric,
    Payload,
    PayloadError,
    decode,
    encode,
    infer_datatype,
    metrics_of,
)


def test_round_trip_of_every_supported_type() -> None:
    payload = Payload(
        timestamp=1_764_000_000_000,
        seq=255,
        uuid="u-1",
        body=b"\x00\x01",
        metrics=(
            Metric("bdSeq", DataType.INT64, 3),
            Metric("i8", DataType.INT8, -128),
            Metric("i16", DataType.INT16, -2),
            Metric("i32", DataType.INT32, -(2**31)),
            Metric("i64", DataType.INT64, -(2**63)),
            Metric("u8", DataType.UINT8, 255),
            Metric("u32", DataType.UINT32, 2**32 - 1),
            Metric("u64", DataType.UINT64, 2**64 - 1),
            Metric("f", DataType.FLOAT, 1.5),
            Metric("d", DataType.DOUBLE, 0.1),
            Metric("b", DataType.BOOLEAN, True),
            Metric("s", DataType.STRING, "Execute"),
            Metric("t", DataType.TEXT, "long text"),
            Metric("when", DataType.DATETIME, 1_764_000_000_000),
            Metric("raw", DataType.BYTES, b"\xff"),
            Metric("null", DataType.STRING, None),
            Metric(None, DataType.INT64, 7, alias=12, timestamp=5, is_historical=True),
        ),
    )
    assert decode(encode(payload)) == payload


def test_wire_format_matches_the_sparkplug_field_numbers() -> None:
    # timestamp=1 (field 1 varint), metric {name "a" (1), datatype Boolean=11 (4), boolean_value (14)}, seq=2 (field 3)
    data = encode(Payload(1, (Metric("a", DataType.BOOLEAN, True),), seq=2))
    assert data == bytes.fromhex("0801" + "1207" + "0a0161" + "200b" + "7001" + "1802")


def test_negative_int32_uses_twos_complement_in_the_uint32_field() -> None:
    data = encode(Payload(None, (Metric("x", DataType.INT32, -1),)))
    assert bytes.fromhex("50ffffffff0f") in data  # int_value (field 10) = 0xFFFFFFFF
    assert decode(data).metrics[0].value == -1


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(min_value=0, max_value=255))
def test_int64_and_seq_round_trip(value: int, seq: int) -> None:
    payload = Payload(0, (Metric("n", DataType.INT64, value),), seq=seq)
    assert decode(encode(payload)) == payload


@given(st.text(max_size=50), st.booleans(), st.floats(allow_nan=False))
def test_inferred_types_round_trip(text: str, flag: bool, number: float) -> None:
    payload = Payload(0, metrics_of([("s", text), ("b", flag), ("d", number)]))
    assert decode(encode(payload)) == payload


def test_inference() -> None:
    assert infer_datatype(True) is DataType.BOOLEAN
    assert infer_datatype(3) is DataType.INT64
    assert infer_datatype(3.0) is DataType.DOUBLE
    assert infer_datatype("x") is DataType.STRING
    assert infer_datatype(b"x") is DataType.BYTES


@pytest.mark.parametrize(
    ("datatype", "value"),
    [
        (DataType.INT8, 128),
        (DataType.UINT8, -1),
        (DataType.INT64, True),
        (DataType.BOOLEAN, 1),
        (DataType.STRING, 3),
        (DataType.DOUBLE, "1.0"),
        (DataType.BYTES, "x"),
    ],
)
def test_values_that_do_not_fit_their_type_are_refused(datatype: DataType, value: object) -> None:
    with pytest.raises(PayloadError, match="value"):
        Metric("m", datatype, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"\x12\x05\x0a", b"\x0a"])
def test_garbage_is_a_payload_error(data: bytes) -> None:
    with pytest.raises(PayloadError):
        decode(data)


def test_unsupported_datatype_and_mismatched_value_field_are_payload_errors() -> None:
    with pytest.raises(PayloadError, match="datatype"):
        decode(bytes.fromhex("1204" + "2063" + "5001"))  # datatype 99
    with pytest.raises(PayloadError, match="carried in"):
        decode(bytes.fromhex("1204" + "200b" + "5001"))  # Boolean in int_value
    with pytest.raises(PayloadError, match="carried in"):
        decode(bytes.fromhex("1204" + "2003" + "7001"))  # Int32 in boolean_value


def test_empty_bytes_are_an_empty_payload() -> None:
    assert decode(b"") == Payload(None)
    assert Payload(None).metric("x") is None
