"""Configurator latency: valid values per click and exact counts, CP-SAT beside the brute-force reference.

Partial configurations are drawn the way a customer clicks: a seeded valid configuration, of
which the first k choices are kept (k = 0 .. all). ``valid_values`` is timed with the API's
``auto`` path (a compiled answer table for small spaces, CP-SAT rounds for large ones), the
CP-SAT rounds alone, and plain-Python brute force where the space allows it. Targets from the
issue: laptop stand <= 10 ms median, the large example <= 100 ms median, count <= 1 s.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from microfab import configurator
from microfab.configurator import search
from microfab.configurator.api import BRUTE_LIMIT, TABLE_LIMIT
from microfab.control.scenarios import random_configuration
from microfab.domain.products import ConfigValue, ProductTemplate
from microfab.manifests import build_product, load_resources

PRODUCTS = Path(__file__).resolve().parents[1] / "examples" / "network" / "products"


def _product(name: str) -> ProductTemplate:
    (resource,) = [r for r in load_resources(PRODUCTS / f"{name}.yaml") if r.kind == "Product"]
    return build_product(resource)


def _partials(product: ProductTemplate, count: int, seed: int = 1) -> list[dict[str, ConfigValue]]:
    rng = random.Random(seed)
    partials: list[dict[str, ConfigValue]] = []
    while len(partials) < count:
        full = random_configuration(product, rng)
        names = [o.name for o in product.options]
        rng.shuffle(names)
        keep = rng.randint(0, len(names) - 1)
        partials.append({n: full[n] for n in names[:keep]})
    return partials


def _median_ms(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _latency(product: ProductTemplate, method: str, partials: list[dict[str, ConfigValue]]) -> float:
    """Median ms of one valid_values call over *partials* (the table is built before timing)."""
    times = []
    for partial in partials:
        start = time.perf_counter()
        configurator.valid_values(product, partial, method=method)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(*, quick: bool = False) -> None:
    """Print the valid-values and count tables."""
    console = Console()
    stand, shelving, planter = _product("laptop-stand"), _product("shelving-unit"), _product("planter-box")
    clicks = 10 if quick else 40
    values = Table(
        "product",
        "raw combinations",
        "partials",
        "auto (ms)",
        "CP-SAT rounds (ms)",
        "brute force (ms)",
        title="valid_values: median latency per call",
    )
    for product in (stand, planter, shelving):
        partials = _partials(product, clicks)
        raw = configurator.raw_space(product)
        if raw <= TABLE_LIMIT:
            search.table(product)  # compiled once per product; its build time is in the count table
        auto = _latency(product, "auto", partials)
        cpsat = _latency(product, "cpsat", partials)
        brute = (
            f"{_latency(product, 'brute', partials[: max(3, clicks // 4)]):.1f}"
            if raw <= BRUTE_LIMIT
            else "n/a (space)"
        )
        values.add_row(product.name, f"{raw:,}", str(len(partials)), f"{auto:.1f}", f"{cpsat:.1f}", brute)
    console.print(values)

    repeat = 3 if quick else 5
    counts = Table("product", "valid", "brute (ms)", "CP-SAT enumeration (ms)", "memoised DP (ms)", title="count")
    for product in (stand, planter, shelving):
        raw = configurator.raw_space(product)
        number = configurator.count(product, method="dp")
        brute = (
            f"{_median_ms(lambda p=product: configurator.count(p, method='brute'), repeat):.0f}"
            if raw <= BRUTE_LIMIT
            else "n/a"
        )
        small = raw <= TABLE_LIMIT
        cpsat = f"{_median_ms(lambda p=product: configurator.count(p, method='cpsat'), repeat):.0f}" if small else "n/a"
        dp = _median_ms(lambda p=product: configurator.count(p, method="dp"), repeat)
        counts.add_row(product.name, f"{number:,}", brute, cpsat, f"{dp:.0f}")
    console.print(counts)
    explain = _median_ms(
        lambda: configurator.explain(stand, {"material": "walnut", "usb_hub": True, "width": 250}), repeat
    )
    repair = _median_ms(
        lambda: configurator.repair(stand, {"material": "walnut", "usb_hub": True, "width": 250}), repeat
    )
    console.print(f"laptop stand: explain {explain:.1f} ms, repair {repair:.1f} ms (median of {repeat})")


if __name__ == "__main__":
    main()
