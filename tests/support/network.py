"""A tiny network built from domain dataclasses, for unit tests that must not depend on manifests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from microfab.domain.formula import parse
from microfab.domain.modules import Module, ModuleType
from microfab.domain.network import FxRate, Lane, Market, Network, RateTable, Site
from microfab.domain.products import EnumOption, ProductTemplate, RoutingStep
from microfab.domain.quantities import Duration, Money


def module_type(name: str, caps: set[str], cost: str = "60 USD", speed: str = "1") -> ModuleType:
    return ModuleType(
        name=name,
        capabilities=frozenset(caps),
        speed=Decimal(speed),
        setup_time=Duration.parse("10m"),
        mtbf=Duration.parse("200h"),
        mttr=Duration.parse("1h"),
        yield_rate=Decimal("0.99"),
        cost_per_hour=Money.parse(cost),
        deploy_lead_time=Duration.parse("30d"),
    )


def product() -> ProductTemplate:
    finish = EnumOption("finish", ("raw", "anodized"), default="raw")
    return ProductTemplate(
        name="stand",
        family="stands",
        currency="USD",
        options=(finish,),
        rules=(),
        routing=(
            RoutingStep("cut", "laser-cut", parse("10")),
            RoutingStep("anodize", "anodize", parse("30"), when=parse('finish == "anodized"')),
            RoutingStep("pack", "pack", parse("5")),
        ),
        bom=(),
        price=parse('89 + (12 if finish == "anodized" else 0)'),
        mass=parse('1.5 + (0.05 if finish == "anodized" else 0)'),
    )


def tiny_network(*, close_lane: bool = False) -> Network:
    """Two sites: `ohio` (cheap, everything but anodizing) and `bavaria` (dear, everything)."""
    types = {
        "laser": module_type("laser", {"laser-cut"}, "50 USD"),
        "anod": module_type("anod", {"anodize"}, "80 USD"),
        "packer": module_type("packer", {"pack"}, "20 USD"),
        "laser-de": module_type("laser-de", {"laser-cut"}, "90 USD", speed="1.5"),
    }
    modules = {
        "oh-laser-1": Module("oh-laser-1", "laser", "ohio"),
        "oh-pack-1": Module("oh-pack-1", "packer", "ohio"),
        "de-laser-1": Module("de-laser-1", "laser-de", "bavaria"),
        "de-anod-1": Module("de-anod-1", "anod", "bavaria"),
        "de-pack-1": Module("de-pack-1", "packer", "bavaria"),
    }
    lanes = {
        "ohio-us": Lane("ohio-us", "ohio", "us", Duration.parse("1d"), Money.parse("0.50 USD")),
        "bavaria-us": Lane("bavaria-us", "bavaria", "us", Duration.parse("6d"), Money.parse("4 USD")),
        "bavaria-de": Lane("bavaria-de", "bavaria", "de", Duration.parse("1d"), Money.parse("0.40 EUR")),
        "ohio-de": Lane("ohio-de", "ohio", "de", Duration.parse("6d"), Money.parse("4 USD"), open=not close_lane),
    }
    return Network(
        name="tiny",
        base_currency="USD",
        sites={
            "ohio": Site("ohio", "US", "Ohio", "America/New_York", "USD", 10),
            "bavaria": Site("bavaria", "DE", "Bavaria", "Europe/Berlin", "EUR", 10),
        },
        markets={"us": Market("us", "US", "en-US", "USD"), "de": Market("de", "DE", "de-DE", "EUR")},
        lanes=lanes,
        module_types=types,
        modules=modules,
        products={"stand": product()},
        fx=RateTable((FxRate("USD", "EUR", Decimal("0.92"), date(2026, 11, 2)),)),
    )
