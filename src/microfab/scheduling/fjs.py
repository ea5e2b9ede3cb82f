"""Read flexible job-shop benchmark instances in the Brandimarte / FJSPLIB text format (``.fjs``).

The header holds the number of jobs and machines (a third, informative number may follow).
Each following line is one job: its number of operations, then per operation the number
``k`` of eligible machines and ``k`` pairs ``machine duration`` (machines numbered from 1).
Operations of a job run in the listed order. The parser takes text, not a path: engines
never open files.
"""

from __future__ import annotations

from microfab.scheduling.problem import Objective, SchedulingProblem, Task


def parse_fjs(text: str) -> SchedulingProblem:
    """Parse an ``.fjs`` instance into a problem whose objective is the makespan.

    Job ``j`` (from 1) becomes job ``"J{j}"`` with tasks ``"J{j}.{o}"`` (``o`` from 1), each
    preceded by the job's previous task; machine ``m`` becomes module ``"M{m}"``. A machine
    listed twice for one operation keeps its shorter time.

    Parameters
    ----------
    text
        The whole file's content.

    Returns
    -------
    SchedulingProblem
        The instance.

    Raises
    ------
    ValueError
        A malformed line, naming the line number (from 1) and what is wrong.
    """
    rows = [(number, line.split()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows or len(rows[0][1]) < 2:
        raise ValueError("fjs: line 1: expected a header '<jobs> <machines> [<flexibility>]'")
    header_line, header = rows[0]
    num_jobs, num_machines = (_integer(token, header_line, "header") for token in header[:2])
    if num_jobs < 0 or num_machines < 1:
        raise ValueError(f"fjs: line {header_line}: expected jobs >= 0 and machines >= 1")
    if len(rows) < 1 + num_jobs:
        raise ValueError(f"fjs: header announces {num_jobs} jobs, found {len(rows) - 1} job lines")
    modules = tuple(f"M{m}" for m in range(1, num_machines + 1))
    tasks: list[Task] = []
    for j, (number, row) in enumerate(rows[1 : 1 + num_jobs], start=1):
        values = [_integer(token, number, f"job J{j}") for token in row]
        tasks += _parse_job(f"J{j}", values, num_machines, number)
    return SchedulingProblem(tuple(tasks), modules, objective=Objective.makespan())


def _integer(token: str, line: int, where: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise ValueError(f"fjs: line {line}: {where}: expected an integer, got {token!r}") from None


def _parse_job(job: str, values: list[int], num_machines: int, line: int) -> list[Task]:
    tasks: list[Task] = []
    pos = 1
    where = f"fjs: line {line}: job {job}"
    try:
        for o in range(1, values[0] + 1):
            count = values[pos]
            if count < 1:
                raise ValueError(f"{where} operation {o}: expected at least one machine, got {count}")
            pairs = values[pos + 1 : pos + 1 + 2 * count]
            if len(pairs) < 2 * count:
                raise IndexError
            pos += 1 + 2 * count
            durations: dict[str, int] = {}
            for machine, seconds in zip(pairs[::2], pairs[1::2], strict=True):
                if not 1 <= machine <= num_machines:
                    raise ValueError(f"{where} operation {o}: machine {machine} is not in 1..{num_machines}")
                if seconds <= 0:
                    raise ValueError(f"{where} operation {o}: machine {machine}: expected a time > 0, got {seconds}")
                durations[f"M{machine}"] = min(seconds, durations.get(f"M{machine}", seconds))
            predecessors = (tasks[-1].id,) if tasks else ()
            tasks.append(Task(f"{job}.{o}", job, durations, predecessors))
    except IndexError:
        raise ValueError(f"{where}: line ends early") from None
    if pos != len(values):
        raise ValueError(f"{where}: {len(values) - pos} unexpected values at the end of the line")
    return tasks
