"""Property-based checks of the API against its own OpenAPI document (a bounded run).

Every operation, with an admin key, many generated requests: never a 5xx, and every response
conforms to the documented schema and status codes. The app runs on an in-memory log.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from microfab.api import create_app
from microfab.api.app import ApiSettings
from microfab.control import access, operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.access import Role
from microfab.manifests import load_resources
from microfab.settings import Settings
from tests.api.conftest import AT
from tests.e2e.conftest import EXAMPLE

_services = bootstrap(Settings(db="memory://", schedule_time_limit=0.1))
operations.apply_plan(_services, operations.plan_apply(_services, load_resources(EXAMPLE)))
_ADMIN = access.create_key(
    _services.state, _services.log, role=Role.ADMIN, customer=None, market=None, label="schemathesis", at=AT
)[1]
_app = create_app(services=_services, api=ApiSettings(order_rate_per_s=1000, order_burst=1000))
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.exclude(path="/v1/events/stream").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    # A schema-valid name of a product that does not exist is rightly a 422, so "every
    # schema-valid request succeeds" (positive_data_acceptance) cannot hold for this API.
    case.call_and_validate(headers={"Authorization": f"Bearer {_ADMIN}"}, excluded_checks=[positive_data_acceptance])
