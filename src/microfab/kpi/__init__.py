"""KPI engine: ISO 22400-2 time buckets, OEE and delivery figures computed from recorded events."""

from microfab.kpi.delivery import DeliveryKpis, delivery_kpis
from microfab.kpi.oee import ModuleKpis, module_kpis, site_kpis

__all__ = ["DeliveryKpis", "ModuleKpis", "delivery_kpis", "module_kpis", "site_kpis"]
