"""Delivery figures: orders delivered, on time (ISO 22400 *on-time delivery*), lead times."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from microfab.domain.orders import Order, OrderStatus


@dataclass(frozen=True, slots=True)
class DeliveryKpis:
    """Counts and lead-time statistics (hours) over a set of orders."""

    orders: int
    delivered: int
    on_time: int
    shipped: int
    in_production: int
    lead_time_mean_h: float | None
    lead_time_median_h: float | None
    lead_time_p90_h: float | None

    @property
    def on_time_rate(self) -> float | None:
        """On-time deliveries / deliveries."""
        return self.on_time / self.delivered if self.delivered else None


def delivery_kpis(orders: Iterable[Order]) -> DeliveryKpis:
    """Summarise *orders* by status and lead time (placement to delivery)."""
    items = list(orders)
    leads = sorted(o.lead_time.seconds / 3600 for o in items if o.lead_time is not None)
    return DeliveryKpis(
        orders=len(items),
        delivered=sum(o.status is OrderStatus.DELIVERED for o in items),
        on_time=sum(bool(o.on_time) for o in items),
        shipped=sum(o.status is OrderStatus.SHIPPED for o in items),
        in_production=sum(o.status is OrderStatus.IN_PRODUCTION for o in items),
        lead_time_mean_h=statistics.fmean(leads) if leads else None,
        lead_time_median_h=statistics.median(leads) if leads else None,
        lead_time_p90_h=_percentile(leads, 0.9) if leads else None,
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, round(q * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]
