"""Module drivers: the `ModuleDriver` port and its implementations (`SimDriver` on the twin)."""

from microfab.drivers.base import DispatchRequest, DriverEvent, ModuleDriver, ShipmentArrived
from microfab.drivers.sim import SimDriver

__all__ = ["DispatchRequest", "DriverEvent", "ModuleDriver", "ShipmentArrived", "SimDriver"]
