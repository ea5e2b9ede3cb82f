"""The configurator over HTTP: valid values (no dead ends), check, explain a conflict, derive BOM and routing.

Every role may ask; nothing is recorded. A value the product does not offer is a 422 naming
``body.config.<option>``; an unknown product a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Path

from microfab import configurator
from microfab.api.deps import PrincipalDep, ServicesDep
from microfab.api.problems import Problem, documented
from microfab.api.schemas import (
    BomLinePublic,
    CheckPublic,
    ConfigIn,
    ConflictPublic,
    DerivationPublic,
    MoneyPublic,
    RoutingStepPublic,
    RuleMessage,
    ValidValuesPublic,
)
from microfab.control.bootstrap import Services
from microfab.domain.errors import DomainError, InvalidConfigurationError
from microfab.domain.products import ConfigValue, ProductTemplate

router = APIRouter(prefix="/v1/products", tags=["configurator"])
ProductName = Annotated[str, Path(max_length=63, description="The product's name.")]
_ERRORS = documented(404, 422)


def _product(services: Services, name: str) -> ProductTemplate:
    product = services.state.network.products.get(name)
    if product is None:
        raise Problem(404, "Not found", f"unknown product {name!r}")
    return product


def _invalid(product: ProductTemplate, config: Mapping[str, ConfigValue], exc: Exception) -> Problem:
    """A 422 naming the option whose value (or name) the product does not offer."""
    options = {o.name: o for o in product.options}
    field = "body.config"
    for name, value in config.items():
        option = options.get(name)
        if option is None:
            field = f"body.config.{name}"
            break
        try:
            option.parse(value)
        except (InvalidConfigurationError, ValueError):
            field = f"body.config.{name}"
            break
    return Problem(422, "Invalid configuration", str(exc), errors=[{"field": field, "message": str(exc)}])


def _conflict(product: ProductTemplate, chosen: Mapping[str, ConfigValue]) -> ConflictPublic | None:
    found = configurator.explain(product, chosen)
    if found is None:
        return None
    try:
        fixed = configurator.repair(product, chosen)
        nearest, changed = dict(fixed.config), list(fixed.changed)
    except DomainError:
        nearest, changed = None, []
    return ConflictPublic(
        choices=dict(found.choices),
        rules=[RuleMessage(rule=r.rule_id, message=r.message) for r in found.rules],
        nearest=nearest,
        changed=changed,
    )


@router.post("/{name}/valid-values", response_model=ValidValuesPublic, responses=_ERRORS)
async def valid_values(name: ProductName, body: ConfigIn, services: ServicesDep, _: PrincipalDep) -> ValidValuesPublic:
    """For the options not chosen yet, exactly the values that extend the choices to a valid product.

    When the choices already conflict every list is empty and ``conflict`` names a minimal set of
    choices and rules, with the nearest valid configuration.
    """
    product = _product(services, name)
    try:
        valid = configurator.valid_values(product, body.config)
        chosen = dict(product.parse(body.config))
        dead_end = not valid or not any(valid.values())
        conflict = _conflict(product, body.config) if dead_end else None
    except InvalidConfigurationError as exc:
        raise _invalid(product, body.config, exc) from None
    return ValidValuesPublic(
        product=product.name,
        chosen=chosen,
        valid={option: list(values) for option, values in valid.items()},
        conflict=conflict,
    )


@router.post("/{name}/check", response_model=CheckPublic, responses=_ERRORS)
async def check(name: ProductName, body: ConfigIn, services: ServicesDep, _: PrincipalDep) -> CheckPublic:
    """Fill in the defaults and check every rule; the violations carry their rule's message."""
    product = _product(services, name)
    try:
        full = product.configure(body.config)
        violations = configurator.validate(product, full)
    except InvalidConfigurationError as exc:
        raise _invalid(product, body.config, exc) from None
    except (DomainError, ValueError) as exc:  # a derived value's formula fails for these values
        raise Problem(
            422, "Invalid configuration", str(exc), errors=[{"field": "body.config", "message": str(exc)}]
        ) from None
    return CheckPublic(
        product=product.name,
        config=dict(full),
        valid=not violations,
        violations=[RuleMessage(rule=v.rule_id, message=v.message) for v in violations],
    )


@router.post("/{name}/explain", response_model=ConflictPublic | None, responses=_ERRORS)
async def explain(name: ProductName, body: ConfigIn, services: ServicesDep, _: PrincipalDep) -> ConflictPublic | None:
    """Why these choices have no valid completion (a minimal set of choices and rules), or null when they have."""
    product = _product(services, name)
    try:
        return _conflict(product, body.config)
    except InvalidConfigurationError as exc:
        raise _invalid(product, body.config, exc) from None


@router.post("/{name}/derive", response_model=DerivationPublic, responses=_ERRORS)
async def derive(name: ProductName, body: ConfigIn, services: ServicesDep, _: PrincipalDep) -> DerivationPublic:
    """BOM, routing at standard time, list price, material cost and mass of one unit of a valid configuration."""
    product = _product(services, name)
    try:
        full = product.configure(body.config)
        violations = configurator.validate(product, full)
        if violations:
            messages = "; ".join(v.message for v in violations)
            errors = [{"field": "body.config", "message": f"{v.rule_id}: {v.message}"} for v in violations]
            raise Problem(422, "Invalid configuration", f"the configuration breaks a rule: {messages}", errors=errors)
        derived = configurator.derive(product, full)
    except InvalidConfigurationError as exc:
        raise _invalid(product, body.config, exc) from None
    return DerivationPublic(
        product=product.name,
        config=dict(derived.config),
        bom=[
            BomLinePublic(
                item=b.item,
                quantity=str(b.quantity),
                unit=b.unit,
                unit_cost=MoneyPublic.of(b.unit_cost),
                cost=MoneyPublic.of(b.cost),
                origin=b.origin,
                hs_code=b.hs_code,
            )
            for b in derived.bom
        ],
        routing=[
            RoutingStepPublic(name=o.name, capability=o.capability, duration_s=o.duration.seconds, family=o.family)
            for o in derived.routing
        ],
        list_price=MoneyPublic.of(derived.price),
        material_cost=MoneyPublic.of(derived.cost),
        mass_kg=str(derived.mass.kg),
    )
