"""``microfab plan expand``: where the next container goes — a capacity plan, checked on the twin, as Module files."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfab.cli.common import errors, fail, services_for
from microfab.control.expand import ExpansionInputs, expansion_problem
from microfab.control.expand_export import plan_header, twin_check
from microfab.control.expand_output import ModulePlan, module_plan, plan_json, write_modules
from microfab.control.forecast import Forecast, load_forecast
from microfab.control.network_twin import NetworkEstimates
from microfab.domain.network import Network
from microfab.manifests import ManifestErrors, Resource, build_network, load_resources
from microfab.planning.expand_problem import ExpansionCosts, ExpansionPlan

console = Console(width=None if sys.stdout.isatty() else 150)

DbOption = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]


@dataclass(frozen=True, slots=True)
class _Loaded:
    network: Network
    resources: list[Resource]
    forecast: Forecast


def expand_command(  # noqa: PLR0913, PLR0917 - inputs, solver limits, twin size, outputs: independent options
    forecast: Annotated[Path, typer.Option("--forecast", help="The demand forecast (YAML or JSON).")],
    network_dir: Annotated[
        Path | None,
        typer.Option(
            "--network", help="A folder of manifests instead of the applied network (--db).", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the Module documents (one file per site) and plan.json here.")
    ] = None,
    replications: Annotated[int, typer.Option(min=0, help="Twin replications checking the plan (0: none).")] = 5,
    twin_periods: Annotated[
        int | None, typer.Option("--twin-periods", min=1, help="Simulate only the first N periods.", show_default=False)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of sampled configurations and of the twin.")] = 0,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.1, help="Seconds for the MILP.")] = 10.0,
    gap: Annotated[float, typer.Option(min=0.0, max=1.0, help="Relative gap to stop the MILP at.")] = 1e-4,
    workers: Annotated[int, typer.Option(min=1, help="Processes for the replications.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Choose which module types to deploy (or retire) where and when at least cost; check the plan on the twin."""
    from microfab.planning.expand import expand_milp  # noqa: PLC0415 - HiGHS and numpy take 0.2 s to import
    from microfab.planning.expand_validate import validate  # noqa: PLC0415 - imports numpy too

    loaded = _load(forecast, network_dir, db)
    total = 3 + replications
    with _progress(disabled=as_json, total=total) as advance:
        advance("building the problem")
        with _errors():
            inputs = expansion_problem(loaded.network, loaded.forecast, seed=seed)
        advance("solving (HiGHS)")
        plan = expand_milp(inputs.problem, time_limit=time_limit, gap=gap)
        issues = validate(inputs.problem, plan)
        if issues:
            fail(f"the plan breaks {len(issues)} rule(s): {'; '.join(issues[:3])}")
        modules = module_plan(inputs, plan, loaded.resources)
        advance("twin replications")
        with _errors():
            estimates = twin_check(
                inputs, plan, modules, replications=replications, periods=twin_periods, seed=seed, workers=workers,
                tick=advance,
            )  # fmt: skip
    document = plan_json(inputs, plan, modules, estimates)
    if out is not None:
        header = plan_header(inputs, plan, modules, by="`microfab plan expand`")
        with _errors():
            write_modules(modules, out, header=header, extra={"plan.json": json.dumps(document, indent=2) + "\n"})
    if as_json:
        typer.echo(json.dumps(document | {"out": str(out) if out else None}, ensure_ascii=False, indent=2))
        return
    _show(inputs, plan, modules, estimates, out)


def _load(forecast: Path, network_dir: Path | None, db: str | None) -> _Loaded:
    with _errors():
        if network_dir is not None:
            resources = load_resources(network_dir)
            network = build_network(resources)
        else:
            with services_for(db) as services:
                if not services.state.has_network:
                    fail("no network applied: run `microfab apply DIR` first, or give --network DIR")
                resources = list(services.state.resources.values())
                network = services.state.network
        return _Loaded(network, resources, load_forecast(forecast, network))


@contextmanager
def _errors() -> Iterator[None]:
    """Manifest and forecast errors, one per line with file:line:field; other expected failures as one line."""
    try:
        yield
    except ManifestErrors as exc:
        for error in exc.errors:
            errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False, soft_wrap=True)
        errors.print(f"{len(exc.errors)} error(s); nothing was planned.")
        raise typer.Exit(1) from None
    except (OSError, ValueError, LookupError) as exc:
        fail(str(exc))


@contextmanager
def _progress(*, disabled: bool, total: int) -> Iterator[_Advance]:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=disabled) as progress:
        task = progress.add_task("expansion", total=total)

        def advance(description: str | None = None) -> None:
            progress.advance(task)
            if description:
                progress.update(task, description=description)

        yield advance


class _Advance(Protocol):
    """The progress callback: one step, optionally a new description."""

    def __call__(self, description: str | None = None) -> None: ...  # pragma: no cover - a type only


def _show(
    inputs: ExpansionInputs,
    plan: ExpansionPlan,
    modules: ModulePlan,
    estimates: NetworkEstimates | None,
    out: Path | None,
) -> None:
    problem = inputs.problem
    summary = Table("status", "objective", "bound", "gap", "wall s", "variables", "constraints", "served")
    summary.title = (
        f"Expansion over {len(problem.periods)} periods ({problem.periods[0].label} .. {problem.periods[-1].label}), "
        f"{len(problem.sites)} sites, {len(problem.types)} module types"
    )
    summary.add_row(
        plan.status.value,
        f"{plan.objective:,.2f} {problem.currency}",
        "-" if plan.lower_bound is None else f"{plan.lower_bound:,.2f}",
        "-" if plan.gap is None else f"{plan.gap:.3%}",
        f"{plan.runtime:.2f}",
        f"{plan.variables:,}",
        f"{plan.constraints:,}",
        f"{plan.served_share(problem):.2%}",
    )
    console.print(summary)
    actions = Table(
        "action",
        "site",
        "module type",
        "count",
        "from period",
        "order by",
        "document",
        title="Deployments and retirements",
    )
    for a in modules.actions:
        actions.add_row(
            a.action,
            a.site,
            a.module_type,
            str(a.count),
            a.period,
            a.order_by.date().isoformat() if a.order_by else "-",
            a.document,
        )
    if not modules.actions:
        actions.add_row("none", "-", "-", "-", "-", "-", "-")
    console.print(actions)
    costs = Table(*ExpansionCosts.NAMES, "total", title=f"Costs by kind ({problem.currency})")
    costs.add_row(*(f"{getattr(plan.costs, n).amount:,}" for n in ExpansionCosts.NAMES), f"{plan.costs.total.amount:,}")
    console.print(costs)
    if estimates is not None:
        console.print(_twin_table(estimates))
    if out is not None:
        console.print(f"Module documents written to {out}/ (one file per site) with plan.json.")


def _ci(mean: float, half: float, *, percent: bool) -> str:
    if percent:
        return f"{mean:.2%}" + ("" if not math.isfinite(half) else f" ± {half:.2%}")
    return f"{mean:,.1f}" + ("" if not math.isfinite(half) else f" ± {half:,.1f}")


def _twin_table(estimates: NetworkEstimates) -> Table:
    table = Table(
        "figure",
        "mean ± 95 % CI",
        title=f"On the twin: {estimates.replications} replications ({estimates.wall_s:.1f} s)",
    )
    for label, e, percent in (
        ("service level (units on time / demanded)", estimates.service_level, True),
        ("fill rate (units delivered / demanded)", estimates.fill_rate, True),
        ("orders on time", estimates.on_time, True),
        ("throughput (units/day)", estimates.throughput_per_day, False),
        ("late units", estimates.late_units, False),
        ("undelivered units", estimates.undelivered_units, False),
        ("lost units (not planned)", estimates.lost_units, False),
    ):
        table.add_row(label, _ci(e.mean, e.half_width, percent=percent))
    for market, e in sorted(estimates.service_by_market.items()):
        table.add_row(f"service level {market}", _ci(e.mean, e.half_width, percent=True))
    for site, e in sorted(estimates.oee.items()):
        table.add_row(f"OEE {site}", _ci(e.mean, e.half_width, percent=True))
    return table
