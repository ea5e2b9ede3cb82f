"""The CP-SAT backend of the scheduler, split as variables / constraints / objective / model."""

from microfab.scheduling.cpsat.model import CpSatModel, Outcome

__all__ = ["CpSatModel", "Outcome"]
