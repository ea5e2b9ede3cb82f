"""KPI engine: ISO 22400-2 time buckets, OEE and delivery figures computed from recorded events."""

from microfab.kpi.delivery import DeliveryKpis, delivery_kpis
from microfab.kpi.downtime import DowntimeCause, downtime_pareto
from microfab.kpi.oee import ModuleKpis, module_kpis, site_kpis, total_kpis

__all__ = [
    "DeliveryKpis",
    "DowntimeCause",
    "ModuleKpis",
    "delivery_kpis",
    "downtime_pareto",
    "module_kpis",
    "site_kpis",
    "total_kpis",
]
