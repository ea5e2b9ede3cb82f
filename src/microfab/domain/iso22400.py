"""ISO 22400-2 performance ratios over time buckets, shared by the KPI engine and the twin's statistics."""

from __future__ import annotations


class OeeRatios:
    """Availability, effectiveness, quality, OEE and utilisation of a module or a group of modules.

    Subclasses provide the buckets as attributes: ``pbt`` (planned busy time), ``apt`` (actual
    production time), ``aust`` (actual unit setup time), ``ideal`` (ideal time of the finished
    work, PRI x PQ), ``produced`` (PQ) and ``good`` (GQ); any consistent time unit.
    """

    __slots__ = ()
    pbt: float
    apt: float
    aust: float
    ideal: float
    produced: int
    good: int

    @property
    def availability(self) -> float:
        """APT / PBT."""
        return self.apt / self.pbt if self.pbt else 0.0

    @property
    def effectiveness(self) -> float:
        """Ideal time of the finished work / APT (performance), at most 1."""
        return min(1.0, self.ideal / self.apt) if self.apt else 0.0

    @property
    def quality(self) -> float:
        """GQ / PQ."""
        return self.good / self.produced if self.produced else 0.0

    @property
    def oee(self) -> float:
        """Availability x effectiveness x quality."""
        return self.availability * self.effectiveness * self.quality

    @property
    def utilisation(self) -> float:
        """(APT + AUST) / PBT: the share of the calendar spent setting up or producing."""
        return (self.apt + self.aust) / self.pbt if self.pbt else 0.0
