"""The peer baseline for capacity expansion: add one module at a time where it saves most per money spent.

Marginal analysis, as a planner with a spreadsheet and an LP for the flows would do it: start
from the modules in place (no deployment, no retirement), flows by the LP. Then repeatedly:
rank every deployment not yet tried — one more module of type *t* at site *s* productive
from period *q*, where the slots stay free from *q* to the end — by its first-order saving
(minus the LP's reduced cost of that deployment) per money it costs (deploy cost + capex to
the horizon's end); re-solve the LP for the best *verify* of them and keep the one whose real
saving per money spent is largest, while some real saving is positive. It never retires.
"""

from __future__ import annotations

import time

import numpy as np
from highspy._core import _Highs

from microfab.planning.expand import build, plan_of
from microfab.planning.expand_problem import ExpansionPlan, ExpansionProblem, ExpansionStatus


def _spend(problem: ExpansionProblem, name: str, period: int) -> float:
    """Deploy cost + capex of one module of *name* from *period* to the end."""
    option = problem.option(name)
    months = sum(p.months for p in problem.periods[period:])
    return float(option.deploy_cost) + float(option.capex) * months


def _free(problem: ExpansionProblem, used: dict[str, list[int]], site: str, name: str, period: int) -> bool:
    """Whether one more module of *name* fits in *site*'s slots from *period* on."""
    slots = problem.option(name).slots
    return all(u + slots <= problem.site(site).slots for u in used[site][period:])


def expand_greedy(
    problem: ExpansionProblem, *, verify: int = 5, max_steps: int = 500, threads: int = 2
) -> ExpansionPlan:
    """The marginal-analysis plan of *problem* (see the module docstring); status HEURISTIC, no bound.

    *threads* is HiGHS's: one process must use the same number in every solve (HiGHS keeps one
    scheduler per process), so it defaults to `expand_milp`'s.
    """
    started = time.perf_counter()
    model = build(problem)
    lp = model.highs(threads=threads, relax=True)
    deploy = np.array(sorted(model.dep.values()), dtype=np.int32)
    fixed = np.zeros(len(model.cost))
    changes = np.concatenate((deploy, np.array(sorted(model.ret.values()), dtype=np.int32)))
    lp.changeColsBounds(len(changes), changes, np.zeros(len(changes)), np.zeros(len(changes)))
    lp.run()
    objective = lp.getInfo().objective_function_value
    used = {
        s.name: [sum(problem.option(t).slots * n for t, n in s.existing.items())] * len(problem.periods)
        for s in problem.sites
    }
    where = {column: key for key, column in model.dep.items()}
    for _ in range(max_steps):
        reduced = np.array(lp.getSolution().col_dual)
        ranked = sorted(
            ((-reduced[c] / max(_spend(problem, where[c][1], where[c][2]), 1e-9), int(c)) for c in deploy),
            reverse=True,
        )
        tried: list[tuple[float, int, float]] = []
        for estimate, column in ranked:
            if len(tried) == verify or estimate <= 1e-12:
                break
            site, name, period = where[column]
            if not _free(problem, used, site, name, period):
                continue
            saving = objective - _try(lp, column, fixed[column] + 1.0)
            _set(lp, column, fixed[column])
            tried.append((saving / _spend(problem, name, period), column, saving))
        best = max(tried, default=None)
        if best is None or best[2] <= 1e-9 * max(1.0, abs(objective)):
            break
        column = best[1]
        fixed[column] += 1.0
        site, name, period = where[column]
        for p in range(period, len(problem.periods)):
            used[site][p] += problem.option(name).slots
        objective = _try(lp, column, fixed[column])
    lp.run()  # the last solve may have been a trial: solve the kept plan again (warm, no iteration when it was not)
    values = np.array(lp.getSolution().col_value)
    return plan_of(
        problem,
        model,
        values,
        solver="greedy",
        status=ExpansionStatus.HEURISTIC,
        bound=None,
        runtime=time.perf_counter() - started,
    )


def _set(lp: _Highs, column: int, value: float) -> None:
    lp.changeColBounds(column, value, value)


def _try(lp: _Highs, column: int, value: float) -> float:
    """Fix *column* at *value*, re-solve (warm), return the objective."""
    _set(lp, column, value)
    lp.run()
    return float(lp.getInfo().objective_function_value)
