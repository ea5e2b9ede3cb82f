"""Lead time: business days at the producing site, then lane transit, shown in the buyer's time zone.

Business days are the site country's (and subdivision's) working days: weekdays that are not
public holidays, as the ``holidays`` package knows them, and not one of the site's own
*closures* (a company shutdown such as Japan's 2–3 January, which are not public holidays).
Holiday names are the package's US-English ones, for the audit trail (not for display).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from microfab.domain.quantities import Duration

SHIP_HOUR = 17
"""Goods leave the site at 17:00 site time on the last production day."""

_CLOSURE = "site closure"


class _Where(TypedDict):
    country: str
    subdivision: str | None
    closures: Collection[date]


@dataclass(frozen=True, slots=True)
class LeadTime:
    """When an order ships and arrives.

    ``ship_date`` is in the site's zone; ``delivery`` and ``delivery_date`` in the buyer's;
    ``calendar_days`` counts from the order date to the delivery date, both as the buyer sees
    them. ``holidays_skipped`` lists the weekday holidays and closures production worked around.
    """

    production_days: int
    ship_date: date
    transit: Duration
    delivery: datetime
    delivery_date: date
    calendar_days: int
    holidays_skipped: tuple[tuple[date, str], ...]


@lru_cache(maxsize=512)
def _calendar(country: str, subdivision: str | None, year: int) -> tuple[Mapping[date, str], frozenset[int]]:
    """Public holidays of one year (date → name) and the weekend weekdays, cached per (country, subdivision, year)."""
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=year, language="en_US")
    except NotImplementedError as exc:
        place = country if subdivision is None else f"{country}-{subdivision}"
        raise ValueError(f"country: no public-holiday calendar for {place!r} ({exc})") from None
    return MappingProxyType(dict(found.items())), frozenset(found.weekend)


def closed_because(day: date, *, country: str, subdivision: str | None = None, closures: Collection[date] = ()) -> str:
    """Why *day* is not a business day (a holiday's name, ``"weekend"``, ``"site closure"``); ``""`` if it is one."""
    names, weekend = _calendar(country, subdivision, day.year)
    if day.weekday() in weekend:
        return "weekend"
    if day in names:
        return names[day]
    return _CLOSURE if day in closures else ""


def is_business_day(
    day: date, *, country: str, subdivision: str | None = None, closures: Collection[date] = ()
) -> bool:
    """Whether *day* is a working day at a site in *country* (and *subdivision*)."""
    return not closed_because(day, country=country, subdivision=subdivision, closures=closures)


def add_business_days(
    start: date, days: int, *, country: str, subdivision: str | None = None, closures: Collection[date] = ()
) -> date:
    """The business day *days* business days after *start* (*start* itself is not counted).

    ``days=0`` gives *start* when it is a business day, else the next business day.

    Raises
    ------
    ValueError
        When *days* is negative, or the country or subdivision has no holiday calendar.
    """
    if days < 0:
        raise ValueError(f"days: expected >= 0, got {days}")
    day, counted = start, 0
    while counted < days or not is_business_day(day, country=country, subdivision=subdivision, closures=closures):
        day += timedelta(days=1)
        if is_business_day(day, country=country, subdivision=subdivision, closures=closures):
            counted += 1
    return day


def lead_time(  # noqa: PLR0913 - the site's calendar, the work, the lane and the buyer, all by keyword
    at: datetime,
    *,
    site_country: str,
    site_subdivision: str | None,
    site_zone: str,
    production_days: int,
    transit: Duration,
    buyer_zone: str,
    cutoff_hour: int = 14,
    closures: Collection[date] = (),
) -> LeadTime:
    """When an order placed at *at* (aware) ships from the site and reaches the buyer.

    The order time is read in the site's zone. An order before *cutoff_hour* on a business day
    starts production that day; a later one, or one on a non-business day, starts on the next
    business day. Production takes *production_days* business days counting the start day
    (0: ships on the start day) and the goods leave at 17:00 site time on the last one. The
    delivery is that moment plus *transit*, expressed in *buyer_zone*.

    Raises
    ------
    ValueError
        When *at* is naive, a zone is unknown, the cutoff is outside 0–24 or *production_days* < 0.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at: expected a time-zone-aware datetime, got naive {at.isoformat()}")
    if not 0 <= cutoff_hour <= 24:
        raise ValueError(f"cutoff_hour: expected 0..24, got {cutoff_hour}")
    if production_days < 0:
        raise ValueError(f"production_days: expected >= 0, got {production_days}")
    site, buyer = _zone(site_zone, "site_zone"), _zone(buyer_zone, "buyer_zone")
    where: _Where = {"country": site_country, "subdivision": site_subdivision, "closures": closures}
    local = at.astimezone(site)
    late = cutoff_hour < 24 and local.time() >= time(cutoff_hour)
    start = add_business_days(local.date(), 1 if late else 0, **where)
    ship_date = add_business_days(start, max(production_days - 1, 0), **where)
    shipped = datetime.combine(ship_date, time(SHIP_HOUR), tzinfo=site)
    delivery = (shipped.astimezone(UTC) + transit.to_timedelta()).astimezone(buyer)
    reasons = ((day, closed_because(day, **where)) for day in _days(local.date(), ship_date))
    skipped = tuple((day, why) for day, why in reasons if why and why != "weekend")
    return LeadTime(
        production_days=production_days,
        ship_date=ship_date,
        transit=transit,
        delivery=delivery,
        delivery_date=delivery.date(),
        calendar_days=(delivery.date() - at.astimezone(buyer).date()).days,
        holidays_skipped=skipped,
    )


def production_days_for(work: Duration, hours_per_day: Decimal = Decimal(16)) -> int:
    """Business days to produce *work* at *hours_per_day* of capacity, plus one day of queueing.

    Policy: ``ceil(work / hours_per_day) + 1``. The extra day covers waiting for a free module,
    material staging and final inspection, so even a few minutes of work take one day.
    """
    if not Decimal(0) < hours_per_day <= 24:
        raise ValueError(f"hours_per_day: expected in (0, 24], got {hours_per_day}")
    return math.ceil(work.hours / hours_per_day) + 1


def _zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{field}: unknown IANA time zone {name!r}") from None


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
