"""Commands: imperative requests that may fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from microfab.domain.buyers import Buyer


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place an order for *quantity* units of a configured product in a market."""

    customer: str
    product: str
    config: Mapping[str, str | int | bool]
    quantity: int
    market: str
    due: datetime | None = None
    order_id: str | None = None
    locale: str | None = None
    currency: str | None = None
    tax_jurisdiction: str | None = None
    b2b: bool = False
    buyer: Buyer | None = None  # legal name, address and tax numbers for the invoice

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"quantity: expected >= 1, got {self.quantity}")
        if self.due is not None and self.due.tzinfo is None:
            raise ValueError("due: expected a timezone-aware datetime")
