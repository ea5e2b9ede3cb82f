"""What ``microfab plan expand`` and the expansion planning job share: the twin's check, the header, YAML, input.

`twin_check` runs the plan on the twin (optionally only its first periods), `plan_header` says
what a plan deploys and retires (the comment heading its Module files), `manifests_yaml` is
every site's Module documents at the end of the horizon as one YAML stream (what the API offers
for download; the CLI writes one file per site with `expand_output.write_modules`), and
`read_forecast` reads a forecast given as text (a request body) with errors that name it.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from microfab.control.expand import ExpansionInputs
from microfab.control.expand_output import ModulePlan, twin_case
from microfab.control.forecast import Forecast, load_forecast
from microfab.control.network_twin import NetworkEstimates, simulate_network
from microfab.domain.network import Network
from microfab.manifests import ManifestError, ManifestErrors
from microfab.manifests.guard import yaml_size
from microfab.manifests.writer import dump_documents
from microfab.planning.expand_problem import ExpansionPlan

__all__ = ["manifests_yaml", "plan_header", "read_forecast", "twin_check"]

MAX_DEPTH = 32
"""Nesting of mappings and lists a forecast given as text may have (the reader recurses)."""
MAX_VALUES = 50_000
"""Values a forecast given as text may hold once aliases are expanded (no "billion laughs")."""


def text_guard(text: str, name: str) -> ManifestError | None:
    """The error when a plan's input *text* nests deeper than `MAX_DEPTH` or expands beyond `MAX_VALUES`."""
    size = yaml_size(text, name, MAX_VALUES, depth=MAX_DEPTH)
    return size if isinstance(size, ManifestError) else None


def twin_check(
    inputs: ExpansionInputs,
    plan: ExpansionPlan,
    modules: ModulePlan,
    *,
    replications: int,
    periods: int | None = None,
    seed: int = 0,
    workers: int = 1,
    tick: Callable[[], None] | None = None,
) -> NetworkEstimates | None:
    """The plan on the twin over *replications* seeded runs (None for 0); only the first *periods* when given."""
    if replications == 0:
        return None
    case = twin_case(inputs, plan, modules)
    spans = inputs.forecast.spans
    if periods is not None and periods < len(spans):
        demanded: dict[str, float] = {}
        for d in inputs.forecast.demand:
            demanded[d.market] = demanded.get(d.market, 0.0) + sum(d.units[:periods])
        case = case.until(spans[periods - 1].end, demanded=demanded)
    return simulate_network(case, replications=replications, seed=seed, workers=workers, tick=tick)


def plan_header(inputs: ExpansionInputs, plan: ExpansionPlan, modules: ModulePlan, *, by: str) -> str:
    """What the plan is and does, one line per deployment or retirement (*by*: what wrote it)."""
    spans = inputs.forecast.spans
    lines = [
        f"Written by {by} from {inputs.forecast.file}: {plan.status.value}, "
        f"total cost {plan.costs.total} over {spans[0].label} .. {spans[-1].label}.",
        "These files replace the network's Module documents (in examples/network: modules/<site>.yaml).",
    ]
    for a in modules.actions:
        when = f"order by {a.order_by.date()}, productive from {a.at.date()}" if a.order_by else f"from {a.at.date()}"
        lines.append(f"{a.action} {a.count} x {a.module_type} at {a.site} ({when}): {', '.join(a.modules)}")
    return "\n".join(lines)


def manifests_yaml(modules: ModulePlan, *, header: str) -> str:
    """Every site's Module documents at the end of the horizon, as one YAML stream headed by *header* (comments)."""
    stream = io.StringIO()
    stream.write("\n".join(f"# {line}" if line else "#" for line in header.splitlines()) + "\n")
    for site, documents in sorted(modules.documents.items()):
        stream.write(f"# Site {site}: {len(documents)} Module document(s) at the end of the plan's horizon.\n")
        dump_documents(documents, stream)
    return stream.getvalue()


def read_forecast(text: str, network: Network, *, name: str = "forecast") -> Forecast:
    """The forecast in *text* (YAML or JSON), checked against *network*; errors name *name* as their file.

    Raises
    ------
    ManifestErrors
        Every problem with its line, column and field path, like `load_forecast`'s; text that nests
        deeper than `MAX_DEPTH` or expands beyond `MAX_VALUES` values is refused before it is read.
    """
    too_big = text_guard(text, name)
    if too_big is not None:
        raise ManifestErrors([too_big])
    # `load_forecast` reads a path (its positions come from the file's text): hand it one.
    with tempfile.TemporaryDirectory(prefix="microfab-forecast-") as folder:
        path = Path(folder) / "forecast.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            forecast = load_forecast(path, network)
        except ManifestErrors as exc:
            raise ManifestErrors([replace(e, file=name) for e in exc.errors]) from None
    return replace(forecast, file=name)
