"""The validator catches a seeded violation of every kind, and only that one."""

from __future__ import annotations

import dataclasses

import pytest

from microfab.scheduling import Pin, Placement, SchedulingProblem, Setup, Task, validate

PROBLEM = SchedulingProblem(
    (
        Task("run", "J0", {"M": 2}, family="a", fixed=Pin("M", -1)),
        Task("a", "J1", {"M": 2, "N": 3}, family="a", release=1),
        Task("b", "J1", {"M": 2, "N": 3}, ("a",), family="b"),
        Task("c", "J2", {"N": 4}, family="a"),
    ),
    ("M", "N"),
    horizon=20,
    module_release={"N": 1},
    setups={"M": Setup(3)},
    unavailable={"N": ((10, 12),)},
)
GOOD = (
    Placement("run", "M", -1, 1),
    Placement("a", "M", 1, 3),
    Placement("b", "M", 6, 8),
    Placement("c", "N", 1, 5),
)


def with_(task: str, **changes: object) -> tuple[Placement, ...]:
    return tuple(dataclasses.replace(p, **changes) if p.task == task else p for p in GOOD)  # type: ignore[arg-type]


def test_the_good_schedule_is_valid() -> None:
    assert validate(PROBLEM, GOOD) == []


@pytest.mark.parametrize(
    ("placements", "message"),
    [
        (with_("b", start=5, end=7), "less than the 3 s setup after task 'a'"),
        (with_("c", start=8, end=12), "unavailable window [10, 12)"),
        (with_("run", start=0, end=2), "moved from where it is fixed"),
        (with_("a", start=0, end=2), "before its release 1"),
        (with_("c", start=0, end=4), "before the module is free at 1"),
        (with_("b", start=18, end=20), None),
        (with_("b", start=19, end=21), "ends after the horizon 20"),
        (with_("b", module="N", start=2, end=5), "before its predecessor 'a' ends at 3"),
        (with_("a", end=4), "lasts 3 s, expected 2 s"),
        (with_("c", module="M", start=8, end=12), "module is not eligible"),
        (with_("b", start=2, end=4), "overlaps task 'a'"),
        ((*GOOD, Placement("ghost", "M", 9, 10)), "task 'ghost' is not in the problem"),
        ((*GOOD, GOOD[1]), "task 'a' is placed 2 times"),
        (GOOD[:-1], "task 'c' is not placed"),
    ],
)
def test_each_seeded_violation_is_named(placements: tuple[Placement, ...], message: str | None) -> None:
    errors = validate(PROBLEM, placements)
    if message is None:
        assert errors == []
    else:
        assert any(message in e for e in errors), errors


def test_the_initial_family_needs_its_setup() -> None:
    problem = dataclasses.replace(PROBLEM, initial_family={"N": "b"}, setups={"N": Setup(2)})
    errors = validate(problem, GOOD)
    assert any("setup after the module's initial family" in e for e in errors), errors
