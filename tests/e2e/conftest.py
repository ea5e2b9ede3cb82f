from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from microfab.control import operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.manifests import load_resources
from microfab.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "network"


@pytest.fixture
def settings() -> Settings:
    return Settings(db="memory://", schedule_time_limit=0.2, seed=3)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = bootstrap(settings)
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    yield services
    services.close()
