from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from microfab.domain.modules import ModuleType
from microfab.domain.quantities import Duration, Money

ORIGIN = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)

TypeFactory = Callable[..., ModuleType]


def module_type(
    *, setup: int = 0, mtbf: int = 8 * 3600, mttr: int = 1800, yield_rate: str = "1", name: str = "cell"
) -> ModuleType:
    return ModuleType(
        name=name,
        capabilities=frozenset({"mill"}),
        speed=Decimal(1),
        setup_time=Duration(setup),
        mtbf=Duration(mtbf),
        mttr=Duration(mttr),
        yield_rate=Decimal(yield_rate),
        cost_per_hour=Money(Decimal(40), "USD"),
        deploy_lead_time=Duration.of(days=7),
    )


@pytest.fixture(name="make_type")
def fixture_make_type() -> TypeFactory:
    return module_type


@pytest.fixture(name="origin")
def fixture_origin() -> datetime:
    return ORIGIN
