"""Planning engine: which site makes an order (the planning issue adds MILP allocation and stress tests)."""

from microfab.planning.allocate import Allocation, SiteOption, allocate, site_options

__all__ = ["Allocation", "SiteOption", "allocate", "site_options"]
