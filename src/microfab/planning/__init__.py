"""Planning engine: which site makes an order (the planning issue adds MILP allocation and stress tests)."""

from microfab.domain.costing import SiteOption, site_options
from microfab.planning.allocate import Allocation, allocate

__all__ = ["Allocation", "SiteOption", "allocate", "site_options"]
