"""Problem data: validated on construction, immutable, precedence acyclic."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from microfab import scheduling
from microfab.scheduling.problem import SchedulingProblem, Task, topological_order


def test_public_api_is_pinned() -> None:
    assert sorted(scheduling.__all__) == [
        "Conditions",
        "Criterion",
        "Objective",
        "Pin",
        "Placement",
        "Result",
        "Rule",
        "SchedulingProblem",
        "Setup",
        "Status",
        "Task",
        "dispatch",
        "greedy_schedule",
        "lower_bound",
        "problem_from_operations",
        "repair",
        "solve",
        "to_schedule",
        "validate",
    ]


def test_valid_problem_keeps_its_data() -> None:
    a = Task("a", "J", {"M1": 3, "M2": 5}, release=2, due=20, weight=3)
    b = Task("b", "J", {"M2": 1}, ("a",))
    problem = SchedulingProblem((a, b), ("M1", "M2"), horizon=50, module_release={"M2": 4})
    assert problem.jobs == ("J",)
    assert problem.task("b").predecessors == ("a",)
    assert a.min_duration == 3
    assert problem.module_release == {"M2": 4}
    with pytest.raises(KeyError):
        problem.task("zzz")


def test_problem_is_immutable_and_copies_mappings() -> None:
    durations = {"M1": 3}
    task = Task("a", "J", durations)
    durations["M1"] = 99
    assert task.durations == {"M1": 3}
    with pytest.raises(TypeError):
        task.durations["M1"] = 4  # type: ignore[index]
    problem = SchedulingProblem([task], ["M1"])  # type: ignore[arg-type]
    assert problem.tasks == (task,)
    assert problem.modules == ("M1",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.horizon = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"durations": {}}, "task 'a' has no eligible module"),
        ({"durations": {"M1": 0}}, "task 'a' on module 'M1': expected int > 0"),
        ({"durations": {"M1": 1.5}}, "expected int > 0"),
        ({"release": -1}, "release: task 'a'"),
        ({"weight": -1}, "weight: task 'a'"),
        ({"predecessors": ("a",)}, "task 'a' precedes itself"),
        ({"id": ""}, "id:"),
    ],
)
def test_invalid_task_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"id": "a", "job": "J", "durations": {"M1": 1}} | kwargs
    with pytest.raises(ValueError, match=message):
        Task(**fields)


def test_unknown_module_is_rejected() -> None:
    with pytest.raises(ValueError, match="task 'a' names unknown module 'M9'"):
        SchedulingProblem((Task("a", "J", {"M9": 1}),), ("M1",))


def test_unknown_predecessor_is_rejected() -> None:
    with pytest.raises(ValueError, match="task 'b' names unknown task 'ghost'"):
        SchedulingProblem((Task("a", "J", {"M1": 1}), Task("b", "J", {"M1": 1}, ("ghost",))), ("M1",))


def test_precedence_cycle_is_rejected_naming_a_task() -> None:
    tasks = (
        Task("free", "J0", {"M1": 1}),
        Task("a", "J", {"M1": 1}, ("c",)),
        Task("b", "J", {"M1": 1}, ("a",)),
        Task("c", "J", {"M1": 1}, ("b",)),
    )
    with pytest.raises(ValueError, match=r"precedence cycle through task 'a' \(tasks involved: a, b, c\)"):
        SchedulingProblem(tasks, ("M1",))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"modules": ("M1", "M1")}, "duplicate module 'M1'"),
        ({"tasks": (Task("a", "J", {"M1": 1}), Task("a", "K", {"M1": 2}))}, "duplicate task id 'a'"),
        ({"horizon": -1}, "horizon: expected >= 0"),
        ({"module_release": {"M7": 3}}, "module_release: unknown module 'M7'"),
        ({"module_release": {"M1": -3}}, "module_release: module 'M1': expected >= 0"),
    ],
)
def test_invalid_problem_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"tasks": (Task("a", "J", {"M1": 1}),), "modules": ("M1",)} | kwargs
    with pytest.raises(ValueError, match=message):
        SchedulingProblem(**fields)


def test_topological_order_puts_predecessors_first_and_keeps_input_order() -> None:
    tasks = (
        Task("c", "J", {"M1": 1}, ("b",)),
        Task("x", "K", {"M1": 1}),
        Task("b", "J", {"M1": 1}, ("a", "a")),
        Task("a", "J", {"M1": 1}),
    )
    assert topological_order(tasks) == ("x", "a", "b", "c")
