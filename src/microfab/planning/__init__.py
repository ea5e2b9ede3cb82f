"""Planning engine: which site makes an order, and when.

`allocate` is the per-order cheapest-site policy; `microfab.planning.milp.allocate_milp` allocates
a whole backlog over sites and time buckets (imported from its module: HiGHS and numpy load there).
"""

from microfab.domain.costing import SiteOption, site_options
from microfab.planning.allocate import Allocation, allocate
from microfab.planning.greedy import allocate_greedy
from microfab.planning.problem import (
    AllocationPlan,
    AllocationProblem,
    Bucket,
    PairCost,
    PlanOrder,
    PlanSite,
    PlanStatus,
    Rejection,
    Share,
)
from microfab.planning.validate import validate as validate_plan

__all__ = [
    "Allocation",
    "AllocationPlan",
    "AllocationProblem",
    "Bucket",
    "PairCost",
    "PlanOrder",
    "PlanSite",
    "PlanStatus",
    "Rejection",
    "Share",
    "SiteOption",
    "allocate",
    "allocate_greedy",
    "site_options",
    "validate_plan",
]
