"""Read flexible job-shop benchmark instances in the Brandimarte / FJSPLIB text format (``.fjs``).

The header holds the number of jobs and machines (a third, informative number may follow).
Each following line is one job: its number of operations, then per operation the number
``k`` of eligible machines and ``k`` pairs ``machine duration`` (machines numbered from 1).
Operations of a job run in the listed order. The parser takes text, not a path: engines
never open files.
"""

from __future__ import annotations

from microfab.scheduling.problem import SchedulingProblem, Task


def parse_fjs(text: str) -> SchedulingProblem:
    """Parse an ``.fjs`` instance into a problem.

    Job ``j`` (from 1) becomes job ``"J{j}"`` with tasks ``"J{j}.{o}"`` (``o`` from 1), each
    preceded by the job's previous task; machine ``m`` becomes module ``"M{m}"``.

    Parameters
    ----------
    text
        The whole file's content.

    Returns
    -------
    SchedulingProblem
        The instance; the objective of the benchmark is the makespan.
    """
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if not rows or len(rows[0]) < 2:
        raise ValueError("fjs: expected a header '<jobs> <machines> [<flexibility>]'")
    num_jobs, num_machines = int(rows[0][0]), int(rows[0][1])
    if len(rows) < 1 + num_jobs:
        raise ValueError(f"fjs: header announces {num_jobs} jobs, found {len(rows) - 1} job lines")
    modules = tuple(f"M{m}" for m in range(1, num_machines + 1))
    tasks: list[Task] = []
    for j, row in enumerate(rows[1 : 1 + num_jobs], start=1):
        tasks += _parse_job(f"J{j}", [int(token) for token in row], num_machines)
    return SchedulingProblem(tuple(tasks), modules)


def _parse_job(job: str, values: list[int], num_machines: int) -> list[Task]:
    tasks: list[Task] = []
    pos = 1
    try:
        for o in range(1, values[0] + 1):
            count = values[pos]
            pairs = values[pos + 1 : pos + 1 + 2 * count]
            if len(pairs) < 2 * count:
                raise IndexError
            pos += 1 + 2 * count
            durations: dict[str, int] = {}
            for machine, seconds in zip(pairs[::2], pairs[1::2], strict=True):
                if not 1 <= machine <= num_machines:
                    raise ValueError(f"fjs: job {job} operation {o}: machine {machine} is not in 1..{num_machines}")
                durations[f"M{machine}"] = min(seconds, durations.get(f"M{machine}", seconds))
            predecessors = (tasks[-1].id,) if tasks else ()
            tasks.append(Task(f"{job}.{o}", job, durations, predecessors))
    except IndexError:
        raise ValueError(f"fjs: job {job}: line ends early") from None
    if pos != len(values):
        raise ValueError(f"fjs: job {job}: {len(values) - pos} unexpected values at the end of the line")
    return tasks
