"""Sites, modules and products: what the network is."""

from __future__ import annotations

from fastapi import APIRouter

from microfab.api.deps import LockDep, PrincipalDep, ServicesDep, Staff
from microfab.api.problems import Problem
from microfab.api.schemas import ModulePublic, MoneyPublic, ProductPublic, SitePublic
from microfab.control import operations
from microfab.domain.products import ProductTemplate

router = APIRouter(prefix="/v1", tags=["network"])


@router.get("/sites", response_model=list[SitePublic])
async def list_sites(services: ServicesDep, _: PrincipalDep) -> list[SitePublic]:
    """Every site with its module count and capabilities."""
    return SitePublic.list_of(services.state.network)


@router.get("/modules", response_model=list[ModulePublic])
async def list_modules(services: ServicesDep, lock: LockDep, _: Staff, site: str | None = None) -> list[ModulePublic]:
    """Every module (optionally of one site) with its last known condition."""
    network = services.state.network
    if site is not None and site not in network.sites:
        raise Problem(404, "Not found", f"unknown site {site!r}")
    async with lock:
        states = operations.module_states(services)
    return [
        ModulePublic(
            name=m.name,
            module_type=m.module_type,
            site=m.site,
            capabilities=sorted(network.module_types[m.module_type].capabilities),
            state=states.get(m.name, "idle"),
        )
        for m in sorted(network.modules.values(), key=lambda m: (m.site, m.name))
        if site is None or m.site == site
    ]


@router.get("/products", response_model=list[ProductPublic])
async def list_products(services: ServicesDep, _: PrincipalDep) -> list[ProductPublic]:
    """Every product with its options."""
    return [_product(p) for p in services.state.network.products.values()]


@router.get("/products/{name}", response_model=ProductPublic)
async def get_product(name: str, services: ServicesDep, _: PrincipalDep) -> ProductPublic:
    """One product."""
    product = services.state.network.products.get(name)
    if product is None:
        raise Problem(404, "Not found", f"unknown product {name!r}")
    return _product(product)


def _product(p: ProductTemplate) -> ProductPublic:
    options = [
        {"name": o.name, "kind": o.kind, "default": o.default, "domain": o.describe(), "values": list(o.domain())}
        for o in p.options
    ]
    return ProductPublic(
        name=p.name,
        family=p.family,
        description=p.description,
        list_price=MoneyPublic.of(p.unit_price(p.configure({}))),
        options=options,
    )
