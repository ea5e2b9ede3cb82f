"""The event codec: JSON-ready dicts that decode to equal events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microfab.domain.codec import EVENT_TYPES, decode, encode
from microfab.domain.events import ModuleFaulted, OrderPlaced, ScheduleCreated
from microfab.domain.quantities import MINOR_UNITS, Duration, Money
from microfab.domain.schedules import ScheduledOperation

# Whole-second offsets: real zones have them (LMT); Python 3.11 cannot parse sub-second offsets back.
offsets = st.builds(lambda s: timezone(timedelta(seconds=s)), st.integers(min_value=-86399, max_value=86399))
aware = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets)
decimals = st.decimals(allow_nan=False, allow_infinity=False)
money = st.builds(Money, decimals, st.sampled_from(sorted(MINOR_UNITS)))


@given(
    at=aware,
    due=aware,
    unit_price=money,
    total=money,
    fx_rate=decimals,
    quantity=st.integers(min_value=1, max_value=10**6),
    config=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
def test_order_placed_round_trips(
    at: datetime,
    due: datetime,
    unit_price: Money,
    total: Money,
    fx_rate: Decimal,
    quantity: int,
    config: dict[str, str],
) -> None:
    event = OrderPlaced(at, "o-1", "acme", "bracket", config, quantity, "jp", due, unit_price, total, fx_rate)
    name, data = encode(event)
    assert name == "OrderPlaced"
    again = decode(name, json.loads(json.dumps(data)))
    assert again == event
    assert again.at.utcoffset() == at.utcoffset()  # the offset survives, not only the instant


@given(standard=st.builds(Duration, st.integers(min_value=0, max_value=10 * 366 * 86400)), start=aware)
def test_durations_and_nested_dataclasses_round_trip(standard: Duration, start: datetime) -> None:
    op = ScheduledOperation("u#00", "mill-1", start, start + standard.to_timedelta())
    event = ScheduleCreated(start, "porto", "OPTIMAL", standard.seconds, 0, 3, (op, op))
    assert decode(*encode(event)) == event


def test_encoded_forms_are_plain_json() -> None:
    event = OrderPlaced(
        datetime(2025, 3, 1, 10, tzinfo=ZoneInfo("Asia/Tokyo")), "o-1", "acme", "bracket", {"a": "b"}, 1, "jp",
        datetime(2025, 3, 9, tzinfo=UTC), Money(Decimal("5790"), "JPY"), Money(Decimal("5790"), "JPY"), Decimal("1.5"),
    )  # fmt: skip
    _, data = encode(event)
    assert data["at"] == "2025-03-01T10:00:00+09:00"
    assert data["unit_price"] == {"amount": "5790", "currency": "JPY"}
    assert data["fx_rate"] == "1.5"
    assert json.loads(json.dumps(data)) == data


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        encode(ModuleFaulted(datetime(2025, 1, 1), "m", "r"))


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="NoSuchEvent"):
        decode("NoSuchEvent", {})


def test_event_types_lists_every_event() -> None:
    assert "OrderPlaced" in EVENT_TYPES
    assert "Event" not in EVENT_TYPES
    assert all(name == cls.__name__ for name, cls in EVENT_TYPES.items())
