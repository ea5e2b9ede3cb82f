"""Bad input fails early with a clear message naming the task, module or line."""

from __future__ import annotations

from typing import Any

import pytest

from microfab.scheduling import Objective, Pin, Placement, SchedulingProblem, Setup, Task
from microfab.scheduling.fjs import parse_fjs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"durations": {}}, "task 'a' has no eligible module"),
        ({"durations": {"M": -3}}, "task 'a' on module 'M': expected int > 0"),
        ({"fixed": Pin("N", 0)}, "task 'a' is fixed on 'N', which is not eligible"),
    ],
)
def test_bad_tasks_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Task(**({"id": "a", "job": "J", "durations": {"M": 1}} | kwargs))


def test_overlapping_fixed_tasks_are_named() -> None:
    tasks = (Task("x", "J1", {"M": 5}, fixed=Pin("M", 0)), Task("y", "J2", {"M": 5}, fixed=Pin("M", 3)))
    with pytest.raises(ValueError, match="tasks 'x' and 'y' overlap on module 'M'"):
        SchedulingProblem(tasks, ("M",))


def test_a_precedence_cycle_is_named() -> None:
    tasks = (Task("a", "J", {"M": 1}, ("b",)), Task("b", "J", {"M": 1}, ("a",)))
    with pytest.raises(ValueError, match="precedence cycle through task 'a'"):
        SchedulingProblem(tasks, ("M",))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"setups": {"X": Setup(1)}}, "setups: unknown module 'X'"),
        ({"initial_family": {"X": "a"}}, "initial_family: unknown module 'X'"),
        ({"unavailable": {"X": ((0, 1),)}}, "unavailable: unknown module 'X'"),
        ({"unavailable": {"M": ((4, 4),)}}, "window \\(4, 4\\) is empty"),
        ({"reference": {"ghost": Placement("ghost", "M", 0, 1)}}, "reference: unknown task 'ghost'"),
    ],
)
def test_bad_problem_fields_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchedulingProblem((Task("a", "J", {"M": 1}),), ("M",), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"default": -1}, "setup: expected seconds >= 0"), ({"pairs": {("a", "b"): -2}}, "setup: expected seconds")],
)
def test_negative_setups_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Setup(**kwargs)


def test_an_empty_objective_is_rejected() -> None:
    with pytest.raises(ValueError, match="objective"):
        Objective(({},))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 x\n", "line 1: header: expected an integer, got 'x'"),
        ("1 2\n\n1 1 1 oops\n", "line 3: job J1: expected an integer, got 'oops'"),
        ("2 2\n1 1 1 3\n1 0\n", "line 3: job J2 operation 1: expected at least one machine"),
        ("1 2\n1 1 2 -4\n", "line 2: job J1 operation 1: machine 2: expected a time > 0"),
        ("1 2\n1 1 3 4\n", "line 2: job J1 operation 1: machine 3 is not in 1..2"),
    ],
)
def test_a_malformed_fjs_line_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fjs(text)
