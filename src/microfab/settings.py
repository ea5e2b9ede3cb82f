"""Settings, read once from the environment by the composition root (nothing connects at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DB = "sqlite:///.microfab/microfab.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the event log lives and how the engines are tuned."""

    db: str = DEFAULT_DB
    schedule_time_limit: float = 2.0
    # On the twin every re-solve stops the simulated clock, so simulated runs re-solve briefly (the
    # dispatching-rule warm start is always feasible); real sites afford `schedule_time_limit`.
    sim_schedule_time_limit: float = 0.1
    solver_workers: int = 2
    seed: int = 0
    # The medium loop looks at every site this often (network time, seconds; 0: never) and
    # re-plans one whose schedule has fallen more than `medium_loop_tolerance` behind.
    medium_loop_interval: float = 900.0
    medium_loop_tolerance: float = 600.0

    @classmethod
    def from_env(cls, db: str | None = None) -> Settings:
        """Build settings from ``MICROFAB_*`` environment variables; an explicit *db* wins."""
        return cls(
            db=db or os.environ.get("MICROFAB_DB", DEFAULT_DB),
            schedule_time_limit=float(os.environ.get("MICROFAB_SCHEDULE_TIME_LIMIT", "2.0")),
            sim_schedule_time_limit=float(os.environ.get("MICROFAB_SIM_SCHEDULE_TIME_LIMIT", "0.1")),
            solver_workers=int(os.environ.get("MICROFAB_SOLVER_WORKERS", "2")),
            seed=int(os.environ.get("MICROFAB_SEED", "0")),
            medium_loop_interval=float(os.environ.get("MICROFAB_MEDIUM_LOOP_INTERVAL", "900")),
            medium_loop_tolerance=float(os.environ.get("MICROFAB_MEDIUM_LOOP_TOLERANCE", "600")),
        )
