"""Derive what a configuration means for the factory: BOM, routing, list price and cost roll-up."""

from __future__ import annotations

from dataclasses import dataclass

from microfab.domain.products import BomItem, Configuration, Operation, ProductTemplate
from microfab.domain.quantities import Mass, Money


@dataclass(frozen=True, slots=True)
class Derivation:
    """BOM lines, routing operations, list price and material cost of one configured unit.

    ``price`` and ``cost`` are exact decimals in the product currency, quantized to its minor unit;
    ``cost`` is the BOM roll-up (sum of the line costs); production cost depends on the site and
    is costed by `microfab.planning.allocate`.
    """

    config: dict[str, str | int | bool]
    bom: tuple[BomItem, ...]
    routing: tuple[Operation, ...]
    price: Money
    cost: Money
    mass: Mass


def derive(product: ProductTemplate, config: Configuration) -> Derivation:
    """BOM, routing, price and cost of *config* (completed with defaults and checked against the domains).

    Raises
    ------
    InvalidConfigurationError
        An unknown option or a value outside its domain. Rules are not checked here: call
        `microfab.configurator.validate` first.
    """
    full = product.configure(config)
    bom = product.bom_for(full)
    cost = sum((line.cost for line in bom), Money.zero(product.currency)).quantize()
    return Derivation(full, bom, product.routing_for(full), product.unit_price(full), cost, product.unit_mass(full))
