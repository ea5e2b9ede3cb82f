"""FX: rates with effective dates in the rate table, and the rate a quote locks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from microfab.commerce.fx import FxLock, lock_rate
from microfab.domain.errors import CurrencyMismatchError, NoFxRateError
from microfab.domain.network import FxRate, RateTable
from microfab.domain.quantities import Money

D = Decimal
NOV2, NOV9 = date(2026, 11, 2), date(2026, 11, 9)
TOKYO = ZoneInfo("Asia/Tokyo")


def usd(amount: str) -> Money:
    return Money(D(amount), "USD")


@pytest.fixture
def table() -> RateTable:
    return RateTable(
        (
            FxRate("USD", "EUR", D("0.92"), NOV2, "ECB reference"),
            FxRate("EUR", "USD", D("1.25"), NOV9, "ECB reference"),  # the same pair, declared the other way
            FxRate("USD", "JPY", D("150"), NOV2, "BoJ reference", valid_until=date(2026, 11, 6)),
            FxRate("USD", "JPY", D("149.20"), NOV9, "BoJ reference"),
            FxRate("USD", "VND", D("25480"), NOV2, "SBV central rate"),
        )
    )


# ------------------------------------------------------------------------------ the rate table


def test_the_rate_in_force_runs_until_the_next_as_of(table: RateTable) -> None:
    assert table.rate("USD", "EUR", date(2026, 11, 2)) == D("0.92")
    assert table.rate("USD", "EUR", date(2026, 11, 8)) == D("0.92")
    assert table.rate("USD", "EUR", date(2026, 11, 9)) == 1 / D("1.25")  # 0.8, read through the inverse
    assert table.rate("EUR", "USD", date(2026, 11, 3)) == 1 / D("0.92")


def test_without_a_date_each_pair_uses_its_latest_rate(table: RateTable) -> None:
    assert table.rate("USD", "EUR") == D("0.8")
    assert table.rate("USD", "JPY") == D("149.20")
    assert table.convert(usd("10"), "EUR") == Money(D("8.00"), "EUR")


def test_valid_until_leaves_a_gap_and_the_error_names_pair_date_and_what_exists(table: RateTable) -> None:
    assert table.rate("USD", "JPY", date(2026, 11, 6)) == 150
    message = (
        r"no FX rate from USD to JPY in force on 2026-11-07 "
        r"\(declared: USD/JPY from 2026-11-02 until 2026-11-06; USD/JPY from 2026-11-09\)"
    )
    with pytest.raises(NoFxRateError, match=message):
        table.rate("USD", "JPY", date(2026, 11, 7))
    with pytest.raises(NoFxRateError, match="no FX rate from USD to EUR in force on 2026-11-01"):
        table.rate("USD", "EUR", date(2026, 11, 1))  # before the first rate


def test_pivot_legs_on_a_date(table: RateTable) -> None:
    # EUR -> JPY on 4 Nov: via USD, 1 / 0.92 x 150 = 163.0434782608695652173913043...
    legs = table.legs("EUR", "JPY", date(2026, 11, 4))
    assert [(leg.pair, leg.as_of) for leg in legs] == [("USD/EUR", NOV2), ("USD/JPY", NOV2)]
    assert table.rate("EUR", "JPY", date(2026, 11, 4)) == (1 / D("0.92")) * 150
    assert RateTable.chain("EUR", legs) == (1 / D("0.92")) * 150
    assert table.legs("USD", "USD", NOV2) == ()
    # On 7 Nov the JPY leg has expired: no chain.
    with pytest.raises(NoFxRateError, match="EUR to JPY in force on 2026-11-07"):
        table.legs("EUR", "JPY", date(2026, 11, 7))


def test_convert_on_a_date_rounds_to_the_target_minor_unit(table: RateTable) -> None:
    assert table.convert(usd("38.50"), "JPY", NOV2) == Money(D(5775), "JPY")
    assert table.convert(usd("38.50"), "VND", NOV2) == Money(D(980980), "VND")


@pytest.mark.parametrize(
    "rates",
    [
        # the same day twice, either direction
        (FxRate("USD", "EUR", D("0.92"), NOV2), FxRate("EUR", "USD", D("1.08"), NOV2)),
        (FxRate("USD", "EUR", D("0.92"), NOV2), FxRate("USD", "EUR", D("0.93"), NOV2)),
        # a valid_until reaching the next as_of
        (FxRate("USD", "EUR", D("0.93"), NOV9), FxRate("USD", "EUR", D("0.92"), NOV2, valid_until=NOV9)),
    ],
)
def test_overlapping_rates_of_one_pair_are_an_error(rates: tuple[FxRate, ...]) -> None:
    with pytest.raises(ValueError, match=r"^fxRates: (USD/EUR|EUR/USD) has two rates in force on 2026-11-0[29]"):
        RateTable(rates)


def test_back_to_back_rates_and_other_pairs_do_not_overlap() -> None:
    table = RateTable(
        (
            FxRate("USD", "EUR", D("0.92"), NOV2, valid_until=date(2026, 11, 8)),
            FxRate("USD", "EUR", D("0.93"), NOV9),
            FxRate("USD", "JPY", D("150"), NOV2),
        )
    )
    assert table.rate("USD", "EUR", date(2026, 11, 8)) == D("0.92")


def test_fx_rate_validation() -> None:
    with pytest.raises(ValueError, match="valid_until: 2026-11-01 is before as_of 2026-11-02"):
        FxRate("USD", "EUR", D("0.92"), NOV2, valid_until=date(2026, 11, 1))
    with pytest.raises(ValueError, match="quote: expected a currency other than the base USD"):
        FxRate("USD", "USD", D(1), NOV2)
    with pytest.raises(ValueError, match="base: the USD/EUR rate cannot convert USD to JPY"):
        FxRate("USD", "EUR", D("0.92"), NOV2).towards("USD", "JPY")


# ------------------------------------------------------------------------------------- the lock


def test_a_lock_records_rate_source_and_window(table: RateTable) -> None:
    at = datetime(2026, 11, 3, 9, 30, tzinfo=TOKYO)
    lock = lock_rate(table, "USD", "JPY", at=at, validity=timedelta(hours=72))
    assert (lock.rate, lock.source, lock.as_of) == (D(150), "BoJ reference", NOV2)
    assert lock.locked_at == at
    assert lock.valid_until == at + timedelta(hours=72)
    assert lock.legs == (table.legs("USD", "JPY", NOV2)[0],)


def test_the_rate_is_the_one_in_force_on_the_utc_date(table: RateTable) -> None:
    # 08:00 on 9 Nov in Tokyo is 23:00 on 8 Nov UTC: the 2 Nov USD/EUR rate is still in force.
    lock = lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 9, 8, tzinfo=TOKYO), validity=timedelta(days=3))
    assert lock.rate == D("0.92")
    later = lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 9, 10, tzinfo=TOKYO), validity=timedelta(days=3))
    assert later.rate == D("0.8")
    chosen = lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 9, 10, tzinfo=TOKYO), validity=timedelta(1), on=NOV2)
    assert chosen.rate == D("0.92")


def test_convert_once_rounding_half_up_to_the_minor_unit(table: RateTable) -> None:
    lock = lock_rate(table, "USD", "JPY", at=datetime(2026, 11, 3, tzinfo=UTC), validity=timedelta(hours=1))
    # 0.03 USD x 150 = 4.5 JPY: half-up gives 5 (half-even would give 4); JPY has no minor unit.
    assert lock.convert(usd("0.03")) == Money(D(5), "JPY")
    # 38.50 USD x 150 = 5775 JPY exactly.
    assert lock.convert(usd("38.50")) == Money(D(5775), "JPY")
    eur = lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 10, tzinfo=UTC), validity=timedelta(hours=1))
    # 0.15625 USD x 0.8 = 0.125 EUR -> 0.13 EUR (half-even would give 0.12); 12.34 x 0.8 = 9.872 -> 9.87.
    assert eur.rate == D("0.8")
    assert eur.convert(usd("0.15625")) == Money(D("0.13"), "EUR")
    assert eur.convert(usd("12.34")) == Money(D("9.87"), "EUR")
    with pytest.raises(CurrencyMismatchError, match="cannot combine EUR with USD"):
        eur.convert(Money(D(1), "EUR"))


def test_a_pivot_lock_names_both_sources_and_the_oldest_date(table: RateTable) -> None:
    lock = lock_rate(table, "EUR", "VND", at=datetime(2026, 11, 10, tzinfo=UTC), validity=timedelta(days=1))
    # EUR -> USD at 1.25 (9 Nov, ECB), USD -> VND at 25480 (2 Nov, SBV): 1 EUR = 31850 VND.
    assert lock.rate == D("31850.00")
    assert lock.source == "ECB reference + SBV central rate via USD"
    assert lock.as_of == NOV2
    assert [leg.as_of for leg in lock.legs] == [NOV9, NOV2]
    assert lock.convert(Money(D("12.34"), "EUR")) == Money(D(393029), "VND")  # 393,029 VND exactly


def test_a_pivot_with_one_source_names_it_once() -> None:
    table = RateTable((FxRate("USD", "EUR", D("0.92"), NOV2, "ECB"), FxRate("USD", "GBP", D("0.80"), NOV2, "ECB")))
    lock = lock_rate(table, "EUR", "GBP", at=datetime(2026, 11, 2, 12, tzinfo=UTC), validity=timedelta(hours=1))
    assert lock.source == "ECB via USD"
    assert lock.rate == (1 / D("0.92")) * D("0.80")


def test_a_same_currency_lock_is_the_identity(table: RateTable) -> None:
    lock = lock_rate(table, "JPY", "JPY", at=datetime(2026, 11, 2, tzinfo=UTC), validity=timedelta(hours=1))
    assert (lock.rate, lock.source, lock.legs) == (1, "same currency", ())
    assert lock.convert(Money(D(1000), "JPY")) == Money(D(1000), "JPY")


def test_validity_window_is_inclusive_and_needs_aware_times(table: RateTable) -> None:
    at = datetime(2026, 11, 3, 12, tzinfo=UTC)
    lock = lock_rate(table, "USD", "EUR", at=at, validity=timedelta(hours=72))
    assert lock.is_valid(at)
    assert lock.is_valid(datetime(2026, 11, 6, 21, tzinfo=TOKYO))  # = 12:00 UTC, the last instant
    assert not lock.is_valid(datetime(2026, 11, 6, 12, 0, 1, tzinfo=UTC))
    assert not lock.is_valid(at - timedelta(seconds=1))
    with pytest.raises(ValueError, match="at: expected a time-zone-aware datetime"):
        lock.is_valid(datetime(2026, 11, 4))


def test_lock_rate_rejects_naive_times_short_validity_and_missing_rates(table: RateTable) -> None:
    with pytest.raises(ValueError, match="at: expected a time-zone-aware datetime, got naive 2026-11-03T00:00:00"):
        lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 3), validity=timedelta(hours=1))
    with pytest.raises(ValueError, match="validity: expected a positive duration"):
        lock_rate(table, "USD", "EUR", at=datetime(2026, 11, 3, tzinfo=UTC), validity=timedelta(0))
    with pytest.raises(NoFxRateError, match="USD to JPY in force on 2026-11-07"):
        lock_rate(table, "USD", "JPY", at=datetime(2026, 11, 7, tzinfo=UTC), validity=timedelta(hours=1))


def test_fx_lock_validation() -> None:
    at = datetime(2026, 11, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="rate: expected > 0"):
        FxLock("USD", "EUR", D(0), "x", NOV2, at, at)
    with pytest.raises(ValueError, match=r"valid_until: .* is before locked_at"):
        FxLock("USD", "EUR", D(1), "x", NOV2, at, at - timedelta(seconds=1))
    with pytest.raises(ValueError, match="locked_at: expected a time-zone-aware"):
        FxLock("USD", "EUR", D(1), "x", NOV2, datetime(2026, 11, 3), at)
