from __future__ import annotations

from pathlib import Path

import pytest

from microfab.domain.products import ProductTemplate
from microfab.manifests import build_product, load_resources

PRODUCTS = Path(__file__).parents[3] / "examples" / "network" / "products"


def example(name: str) -> ProductTemplate:
    (resource,) = [r for r in load_resources(PRODUCTS / f"{name}.yaml") if r.kind == "Product"]
    return build_product(resource)


@pytest.fixture(scope="session")
def stand() -> ProductTemplate:
    return example("laptop-stand")


@pytest.fixture(scope="session")
def shelving() -> ProductTemplate:
    return example("shelving-unit")


@pytest.fixture(scope="session")
def planter() -> ProductTemplate:
    return example("planter-box")
