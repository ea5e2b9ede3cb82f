"""``microfab plan``: allocate orders to sites and time buckets (MILP on HiGHS), generated or from the backlog."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from microfab.cli.common import fail, services_for
from microfab.control.plan_backlog import backlog_problem
from microfab.planning.export import COSTS as _COSTS
from microfab.planning.export import plan_json
from microfab.planning.generator import generate
from microfab.planning.greedy import allocate_greedy
from microfab.planning.problem import AllocationPlan, AllocationProblem
from microfab.planning.validate import validate

app = typer.Typer(help="Plan which site makes each order, and when.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 150)

DbOption = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]
_BUCKET_HOURS = {"day": 24.0, "shift": 8.0}


@app.callback()
def plan() -> None:
    """Plan which site makes each order, and when."""


@app.command("allocate")
def allocate_command(  # noqa: PLR0913, PLR0917 - the instance, then the solver's limits: independent options
    generated: Annotated[
        int | None, typer.Option("--generate", min=1, help="Orders of a generated instance (seeded).")
    ] = None,
    backlog: Annotated[bool, typer.Option("--backlog", help="The applied network's orders not started yet.")] = False,
    sites: Annotated[int, typer.Option(min=1, help="Sites of a generated instance.")] = 10,
    buckets: Annotated[
        str, typer.Option(help="Generated: how many daily buckets. Backlog: 'day' or 'shift' buckets.")
    ] = "",
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Backlog: how many buckets (default 14 days or 42 shifts).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of a generated instance.")] = 0,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.1, help="Seconds for the solve.")] = 10.0,
    gap: Annotated[float, typer.Option(min=0.0, max=1.0, help="Relative gap to stop at.")] = 0.01,
    threads: Annotated[int, typer.Option(min=1, help="HiGHS threads.")] = 2,
    greedy: Annotated[bool, typer.Option("--greedy", help="The greedy baseline instead of the MILP.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Assign each order to a site and completion bucket, or reject it, at least cost; every plan is validated."""
    if (generated is None) == (not backlog):
        fail("give either --generate N or --backlog")
    if backlog:
        problem = _backlog(db, buckets or "day", horizon)
    else:
        assert generated is not None
        problem = generate(generated, sites, _count(buckets or "30"), seed=seed)
    if greedy:
        plan = allocate_greedy(problem)
    else:
        from microfab.planning.milp import allocate_milp  # noqa: PLC0415 - HiGHS and numpy take 0.2 s to import

        plan = allocate_milp(problem, time_limit=time_limit, gap=gap, threads=threads)
    issues = validate(problem, plan)
    if issues:
        fail(f"the plan breaks {len(issues)} rule(s): {'; '.join(issues[:3])}")
    if as_json:
        typer.echo(json.dumps(plan_json(problem, plan), ensure_ascii=False, indent=2))
    else:
        _show(problem, plan)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        fail(f"--buckets: a generated instance needs a number of daily buckets, got {text!r}")
    return int(text)


def _backlog(db: str | None, size: str, horizon: int | None) -> AllocationProblem:
    if size not in _BUCKET_HOURS:
        fail(f"--buckets: the backlog is planned in 'day' or 'shift' buckets, got {size!r}")
    hours = _BUCKET_HOURS[size]
    with services_for(db) as services:
        at = services.now()
        return backlog_problem(services.state, at=at, bucket_hours=hours, buckets=horizon or int(14 * 24 / hours))


def _show(problem: AllocationProblem, plan: AllocationPlan) -> None:
    summary = Table("status", "solver", "orders", "served", "rejected", "objective", "bound", "gap", "wall s")
    summary.title = (
        f"Allocation of {len(problem.orders)} orders to {len(problem.sites)} sites over {len(problem.buckets)} buckets"
    )
    summary.add_row(
        plan.status.value,
        plan.solver,
        str(len(problem.orders)),
        str(len(plan.assignments)),
        str(len(plan.rejections)),
        f"{plan.objective:,.2f} {problem.currency}",
        "-" if plan.lower_bound is None else f"{plan.lower_bound:,.2f}",
        "-" if plan.gap is None else f"{plan.gap:.2%}",
        f"{plan.runtime:.2f}",
    )
    console.print(summary)
    costs = Table(*_COSTS)
    costs.add_row(*(str(getattr(plan.costs, name)) for name in _COSTS))
    console.print(costs)
    sites = Table("site", "orders", "last bucket", "fixed cost")
    for site in problem.sites:
        mine = [s for shares in plan.assignments.values() for s in shares if s.site == site.name]
        last = problem.buckets[max(s.bucket for s in mine)].label if mine else "-"
        orders = len({o for o, shares in plan.assignments.items() if any(s.site == site.name for s in shares)})
        sites.add_row(site.name, str(orders), last, f"{float(site.fixed_cost):,.2f}" if mine else "-")
    console.print(sites)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sub-app on its own (``python -m microfab.cli.plan``)."""
    app(args=list(argv) if argv is not None else None)


if __name__ == "__main__":
    main()

from microfab.cli import plan_expand, plan_stress  # noqa: E402 - commands in their own modules, registered last

app.command("expand")(plan_expand.expand_command)
app.command("stress")(plan_stress.stress_command)
