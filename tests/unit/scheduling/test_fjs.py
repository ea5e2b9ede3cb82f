"""The .fjs reader, and the scheduler on Brandimarte's Mk01 against its known optimum."""

from __future__ import annotations

import csv

import pytest

from microfab.scheduling import Status, solve, validate
from microfab.scheduling.fjs import parse_fjs
from tests.support.shared import shared_dir

SMALL = """2 3 1.5
2  2 1 4 3 6  1 2 5
1  1 3 2

"""


def test_small_instance_is_parsed() -> None:
    problem = parse_fjs(SMALL)
    assert problem.modules == ("M1", "M2", "M3")
    assert problem.jobs == ("J1", "J2")
    first, second, third = problem.tasks
    assert (first.id, first.durations, first.predecessors) == ("J1.1", {"M1": 4, "M3": 6}, ())
    assert (second.id, second.durations, second.predecessors) == ("J1.2", {"M2": 5}, ("J1.1",))
    assert (third.id, third.job, third.durations) == ("J2.1", "J2", {"M3": 2})
    result = solve(problem, time_limit=2)
    assert validate(problem, result.placements) == []
    assert result.status is Status.OPTIMAL
    assert result.objective == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a header"),
        ("2 3\n1 1 1 4\n", "header announces 2 jobs, found 1"),
        ("1 3\n2 1 1 4 1\n", "job J1: line ends early"),
        ("1 3\n1 1 1 4 7\n", "1 unexpected values"),
        ("1 3\n1 1 4 4\n", "machine 4 is not in 1..3"),
    ],
)
def test_malformed_instances_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fjs(text)


@pytest.mark.slow
def test_mk01_is_within_ten_percent_of_the_best_known() -> None:
    BRANDIMARTE = shared_dir("benchmarks", "fjsp", "brandimarte")  # noqa: N806 - a constant path
    with (BRANDIMARTE / "bks.csv").open(newline="") as fh:
        bounds = {row["instance"]: (int(row["lb"]), int(row["ub"])) for row in csv.DictReader(fh)}
    problem = parse_fjs((BRANDIMARTE / "Mk01.fjs").read_text())
    assert len(problem.tasks) == 55
    result = solve(problem, time_limit=5, workers=2, seed=0)
    assert validate(problem, result.placements) == []
    lb, ub = bounds["Mk01"]
    assert result.objective is not None
    assert lb <= result.objective <= 1.1 * ub
    assert result.lower_bound is not None
    assert result.lower_bound <= lb
    assert result.runtime < 7
