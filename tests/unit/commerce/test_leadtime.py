"""Lead time in the producing site's business days, plus transit, in the buyer's time zone.

Holiday dates come from the ``holidays`` package; each case below was checked against it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from microfab.commerce.leadtime import (
    LeadTime,
    add_business_days,
    closed_because,
    is_business_day,
    lead_time,
    production_days_for,
)
from microfab.domain.quantities import Duration

BERLIN, TOKYO, SAIGON = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo"), ZoneInfo("Asia/Ho_Chi_Minh")
NEW_YORK, MEXICO = ZoneInfo("America/New_York"), ZoneInfo("America/Mexico_City")


def ohio(at: datetime, production_days: int, transit: str = "0s", buyer: str = "America/New_York") -> LeadTime:
    return lead_time(
        at,
        site_country="US",
        site_subdivision="OH",
        site_zone="America/New_York",
        production_days=production_days,
        transit=Duration.parse(transit),
        buyer_zone=buyer,
    )


# ----------------------------------------------------------------------------------- business days


def test_add_business_days_does_not_count_the_start_day() -> None:
    # Fri 6 Nov 2026 + 1 -> Mon 9 Nov; + 0 on a Saturday -> the next business day.
    assert add_business_days(date(2026, 11, 6), 1, country="DE") == date(2026, 11, 9)
    assert add_business_days(date(2026, 11, 7), 0, country="DE") == date(2026, 11, 9)
    assert add_business_days(date(2026, 11, 4), 0, country="DE") == date(2026, 11, 4)
    assert add_business_days(date(2026, 11, 4), 5, country="DE") == date(2026, 11, 11)


def test_subdivisions_have_their_own_holidays() -> None:
    # Epiphany (Wed 6 Jan 2027) is a public holiday in Bavaria, not in Berlin.
    assert add_business_days(date(2027, 1, 5), 1, country="DE", subdivision="BY") == date(2027, 1, 7)
    assert add_business_days(date(2027, 1, 5), 1, country="DE", subdivision="BE") == date(2027, 1, 6)
    assert closed_because(date(2027, 1, 6), country="DE", subdivision="BY") == "Epiphany"


def test_christmas_eve_is_a_working_day_in_germany_unless_the_site_closes() -> None:
    assert is_business_day(date(2026, 12, 24), country="DE", subdivision="BY")
    assert not is_business_day(date(2026, 12, 24), country="DE", subdivision="BY", closures={date(2026, 12, 24)})
    assert closed_because(date(2026, 12, 24), country="DE", closures=[date(2026, 12, 24)]) == "site closure"
    assert closed_because(date(2026, 12, 26), country="DE") == "weekend"  # Second Day of Christmas is a Saturday


def test_unknown_calendars_and_negative_days_are_errors() -> None:
    with pytest.raises(ValueError, match="country: no public-holiday calendar for 'XX'"):
        add_business_days(date(2026, 11, 2), 1, country="XX")
    with pytest.raises(ValueError, match="country: no public-holiday calendar for 'DE-ZZ'"):
        add_business_days(date(2026, 11, 2), 1, country="DE", subdivision="ZZ")
    with pytest.raises(ValueError, match="days: expected >= 0"):
        add_business_days(date(2026, 11, 2), -1, country="DE")


# ----------------------------------------------------------------------------------- lead times


def test_german_christmas_in_bavaria() -> None:
    # Ordered Wed 23 Dec 2026 10:00 (before the 14:00 cutoff): production day 1 = Wed 23, day 2 = Thu 24
    # (Christmas Eve is not a public holiday), Fri 25 Christmas Day and Sat 26 are closed, day 3 = Mon 28.
    # Ships Mon 28 at 17:00; 2 days of transit -> Wed 30 Dec 17:00 Berlin; 7 calendar days.
    at = datetime(2026, 12, 23, 10, tzinfo=BERLIN)
    lt = lead_time(
        at,
        site_country="DE",
        site_subdivision="BY",
        site_zone="Europe/Berlin",
        production_days=3,
        transit=Duration.parse("2d"),
        buyer_zone="Europe/Berlin",
    )
    assert lt.ship_date == date(2026, 12, 28)
    assert lt.delivery == datetime(2026, 12, 30, 17, tzinfo=BERLIN)
    assert (lt.delivery_date, lt.calendar_days) == (date(2026, 12, 30), 7)
    assert lt.holidays_skipped == ((date(2026, 12, 25), "Christmas Day"),)
    # With the site closed on 24 and 31 Dec: day 2 = Mon 28, day 3 = Tue 29.
    closed = lead_time(
        at,
        site_country="DE",
        site_subdivision="BY",
        site_zone="Europe/Berlin",
        production_days=3,
        transit=Duration.parse("2d"),
        buyer_zone="Europe/Berlin",
        closures={date(2026, 12, 24), date(2026, 12, 31)},
    )
    assert closed.ship_date == date(2026, 12, 29)
    assert closed.holidays_skipped == ((date(2026, 12, 24), "site closure"), (date(2026, 12, 25), "Christmas Day"))


def test_japanese_new_year() -> None:
    # Ordered Wed 31 Dec 2025 15:00 in Osaka, after the cutoff: Thu 1 Jan 2026 is New Year's Day, Fri 2 Jan is
    # a business day by law (only banks close), so production runs Fri 2 and Mon 5 and ships Mon 5 Jan.
    at = datetime(2025, 12, 31, 15, tzinfo=TOKYO)
    common = {"site_country": "JP", "site_subdivision": None, "site_zone": "Asia/Tokyo", "buyer_zone": "Asia/Tokyo"}
    lt = lead_time(at, production_days=2, transit=Duration.parse("1d"), **common)  # type: ignore[arg-type]
    assert lt.ship_date == date(2026, 1, 5)
    assert lt.holidays_skipped == ((date(2026, 1, 1), "New Year's Day"),)
    assert lt.delivery_date == date(2026, 1, 6)
    # A site that closes for shōgatsu (31 Dec, 2 Jan) starts Mon 5 and ships Tue 6 Jan.
    shut = {date(2025, 12, 31), date(2026, 1, 2)}
    closed = lead_time(at, production_days=2, transit=Duration(0), closures=shut, **common)  # type: ignore[arg-type]
    assert closed.ship_date == date(2026, 1, 6)
    assert [day for day, _ in closed.holidays_skipped] == [date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)]


def test_vietnamese_tet_2027() -> None:
    # Tết 2027: the package closes Thu 4 to Wed 10 Feb (29th of the 12th month to the 5th day of the new year).
    # Ordered Wed 3 Feb 09:00 in Ho Chi Minh City: day 1 = Wed 3, day 2 = Thu 11 Feb.
    lt = lead_time(
        datetime(2027, 2, 3, 9, tzinfo=SAIGON),
        site_country="VN",
        site_subdivision=None,
        site_zone="Asia/Ho_Chi_Minh",
        production_days=2,
        transit=Duration.parse("3d"),
        buyer_zone="Asia/Tokyo",
    )
    assert lt.ship_date == date(2027, 2, 11)
    skipped = [day for day, _ in lt.holidays_skipped]
    assert skipped == [date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)]
    assert all("Lunar New Year" in name for _, name in lt.holidays_skipped)
    # Ships Thu 11 Feb 17:00 ICT (10:00 UTC) + 3 days -> Sun 14 Feb 19:00 JST.
    assert lt.delivery == datetime(2027, 2, 14, 19, tzinfo=TOKYO)


def test_mexican_revolution_day_after_the_cutoff() -> None:
    # Ordered Fri 13 Nov 2026 16:00 in Mexico City, after the cutoff: the weekend, then Mon 16 Nov is Revolution
    # Day (third Monday of November), so production starts and ends Tue 17 Nov.
    lt = lead_time(
        datetime(2026, 11, 13, 16, tzinfo=MEXICO),
        site_country="MX",
        site_subdivision=None,
        site_zone="America/Mexico_City",
        production_days=1,
        transit=Duration.parse("1d"),
        buyer_zone="America/Mexico_City",
    )
    assert lt.ship_date == date(2026, 11, 17)
    assert lt.holidays_skipped == ((date(2026, 11, 16), "Revolution Day"),)
    assert (lt.delivery_date, lt.calendar_days) == (date(2026, 11, 18), 5)


def test_us_thanksgiving_in_ohio_and_the_cutoff() -> None:
    # Wed 25 Nov 2026 13:59: day 1 = Wed 25, Thu 26 is Thanksgiving, day 2 = Fri 27.
    assert ohio(datetime(2026, 11, 25, 13, 59, tzinfo=NEW_YORK), 2).ship_date == date(2026, 11, 27)
    # 14:00 is past the cutoff: day 1 = Fri 27, day 2 = Mon 30.
    late = ohio(datetime(2026, 11, 25, 14, tzinfo=NEW_YORK), 2)
    assert late.ship_date == date(2026, 11, 30)
    assert late.holidays_skipped == ((date(2026, 11, 26), "Thanksgiving Day"),)


def test_the_order_time_is_read_in_the_sites_zone() -> None:
    # 03:00 Wed 25 Nov in Tokyo is 13:00 Tue 24 Nov in Ohio: before the cutoff, production starts Tue 24.
    lt = ohio(datetime(2026, 11, 25, 3, tzinfo=TOKYO), 1, buyer="Asia/Tokyo")
    assert lt.ship_date == date(2026, 11, 24)


def test_an_ohio_shipment_lands_on_the_next_calendar_date_in_japan() -> None:
    # Ships Fri 27 Nov 17:00 EST (22:00 UTC); 1 day of transit -> Sat 28 Nov 22:00 UTC, which is still
    # Saturday 17:00 in Ohio but Sunday 07:00 on 29 Nov in Tokyo.
    lt = ohio(datetime(2026, 11, 25, 10, tzinfo=NEW_YORK), 2, "1d", buyer="Asia/Tokyo")
    assert lt.delivery == datetime(2026, 11, 29, 7, tzinfo=TOKYO)
    assert lt.delivery.tzinfo == TOKYO
    assert lt.delivery.astimezone(NEW_YORK).date() == date(2026, 11, 28)
    assert lt.delivery_date == date(2026, 11, 29)
    # Ordered Wed 25 Nov 10:00 EST = Thu 26 Nov 00:00 in Tokyo, delivered Sun 29 Nov: 3 calendar days for the buyer.
    assert lt.calendar_days == 3


def test_transit_is_elapsed_time_across_a_dst_change() -> None:
    # Ships Fri 23 Oct 2026 17:00 CEST (15:00 UTC); 72 h later is Mon 26 Oct 15:00 UTC = 16:00 CET (DST ended 25 Oct).
    lt = lead_time(
        datetime(2026, 10, 23, 9, tzinfo=BERLIN),
        site_country="DE",
        site_subdivision="BY",
        site_zone="Europe/Berlin",
        production_days=1,
        transit=Duration.parse("3d"),
        buyer_zone="Europe/Berlin",
    )
    assert lt.delivery == datetime(2026, 10, 26, 16, tzinfo=BERLIN)


def test_zero_production_days_ships_on_the_start_day() -> None:
    assert ohio(datetime(2026, 11, 24, 9, tzinfo=NEW_YORK), 0).ship_date == date(2026, 11, 24)
    assert ohio(datetime(2026, 11, 28, 9, tzinfo=NEW_YORK), 0).ship_date == date(2026, 11, 30)  # a Saturday


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"at": datetime(2026, 11, 25, 10)}, "at: expected a time-zone-aware datetime"),
        ({"site_zone": "Mars/Olympus"}, "site_zone: unknown IANA time zone 'Mars/Olympus'"),
        ({"buyer_zone": "nowhere"}, "buyer_zone: unknown IANA time zone"),
        ({"cutoff_hour": 25}, "cutoff_hour: expected 0..24"),
        ({"production_days": -1}, "production_days: expected >= 0"),
    ],
)
def test_lead_time_validation(overrides: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "at": datetime(2026, 11, 25, 10, tzinfo=NEW_YORK),
        "site_country": "US",
        "site_subdivision": "OH",
        "site_zone": "America/New_York",
        "production_days": 1,
        "transit": Duration(0),
        "buyer_zone": "Asia/Tokyo",
    }
    with pytest.raises(ValueError, match=message):
        lead_time(**(arguments | overrides))  # type: ignore[arg-type]


def test_cutoff_hours_at_the_edges() -> None:
    at = datetime(2026, 11, 24, 0, 30, tzinfo=NEW_YORK)
    common = {"site_country": "US", "site_subdivision": "OH", "site_zone": "America/New_York", "buyer_zone": "UTC"}
    early = lead_time(at, production_days=1, transit=Duration(0), cutoff_hour=0, **common)  # type: ignore[arg-type]
    assert early.ship_date == date(2026, 11, 25)  # every order is after a 00:00 cutoff
    never = lead_time(at, production_days=1, transit=Duration(0), cutoff_hour=24, **common)  # type: ignore[arg-type]
    assert never.ship_date == date(2026, 11, 24)


# ------------------------------------------------------------------------------ production days


@pytest.mark.parametrize(
    ("work", "hours_per_day", "days"),
    [
        ("0s", "16", 1),  # queueing alone
        ("10h", "16", 2),  # ceil(10 / 16) = 1, + 1
        ("32h", "16", 3),  # exactly two days of capacity, + 1
        ("32h1m", "16", 4),
        ("10h", "8", 3),
        ("90m", "1.5", 2),
    ],
)
def test_production_days_for(work: str, hours_per_day: str, days: int) -> None:
    assert production_days_for(Duration.parse(work), Decimal(hours_per_day)) == days


def test_production_days_for_defaults_and_validation() -> None:
    assert production_days_for(Duration.parse("20h")) == 3
    with pytest.raises(ValueError, match="hours_per_day: expected in \\(0, 24\\]"):
        production_days_for(Duration.parse("1h"), Decimal(0))
    with pytest.raises(ValueError, match="hours_per_day"):
        production_days_for(Duration.parse("1h"), Decimal(25))
