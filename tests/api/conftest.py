from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.control import access, operations
from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.access import Role
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.e2e.conftest import EXAMPLE

AT = datetime(2026, 11, 30, 8, tzinfo=UTC)


@dataclass
class Keys:
    admin: str
    operator: str
    planner: str
    alice: str  # customer "alice", market de
    bob: str  # customer "bob", any market


@pytest.fixture
def services() -> Iterator[Services]:
    services = bootstrap(Settings(db="memory://", schedule_time_limit=0.2, seed=1))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    yield services
    services.close()


@pytest.fixture
def keys(services: Services) -> Keys:
    def make(role: Role, customer: str | None = None, market: str | None = None) -> str:
        return access.create_key(
            services.state, services.log, role=role, customer=customer, market=market, label="test", at=AT
        )[1]

    return Keys(
        admin=make(Role.ADMIN),
        operator=make(Role.OPERATOR),
        planner=make(Role.PLANNER),
        alice=make(Role.CUSTOMER, "alice", "de"),
        bob=make(Role.CUSTOMER, "bob"),
    )


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(max_body_bytes=4096, order_rate_per_s=50.0, order_burst=50)


@pytest.fixture
def client(services: Services, api_settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, api=api_settings)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
