"""Run independent tasks serially, on local processes, or on a Ray cluster, with a tick after each.

Shared by the twin's sweeps (``microfab twin sweep``) and what-if studies (``microfab whatif``).
*fn* must be a top-level function and each task picklable: a process pool or a Ray worker
ships them. Ray is an optional extra (``pip install 'microfab[ray]'``), imported only when asked;
without it, or when its cluster cannot be reached, `run_parallel` raises `RayError`.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
Tick = Callable[[], None]

RAY_EXTRA = "pip install 'microfab[ray]'"
"""What to install for ``--ray`` (the optional extra)."""


class RayError(RuntimeError):
    """Ray was asked for but is not installed, or its cluster could not be reached."""


def run_parallel(
    fn: Callable[[T], R],
    todo: Sequence[T],
    *,
    workers: int = 0,
    ray_address: str | None = None,
    tick: Tick | None = None,
) -> list[R]:
    """``fn(task)`` for every task, in the order of *todo*.

    Parameters
    ----------
    workers
        ``1`` runs serially in this process; ``0`` uses every core; more is that many processes.
    ray_address
        Run on Ray instead: a cluster address, ``auto``, or ``local`` for a private local
        instance (started here and shut down after, unless the caller had already started one).
    tick
        Called once after each finished task (a progress bar).

    Raises
    ------
    RayError
        *ray_address* is given and Ray is not installed or cannot be reached.
    """
    tick = tick or (lambda: None)
    if ray_address is not None:
        return _on_ray(fn, todo, ray_address, tick)
    if workers == 1 or len(todo) <= 1:
        out = []
        for task in todo:
            out.append(fn(task))
            tick()
        return out
    results: dict[int, R] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(todo))) as pool:
        futures = {pool.submit(fn, task): i for i, task in enumerate(todo)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            tick()
    return [results[i] for i in range(len(todo))]


def _on_ray(fn: Callable[[T], R], todo: Sequence[T], address: str, tick: Tick) -> list[R]:
    try:
        import ray  # noqa: PLC0415 - optional and slow to import: only for --ray
    except ImportError:
        raise RayError(f"--ray needs Ray, an optional extra: {RAY_EXTRA}") from None
    owned = not ray.is_initialized()
    if owned:
        try:
            if address == "local":
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
            else:
                ray.init(address=address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RayError(f"--ray {address}: cannot start or reach Ray: {exc}") from None
    try:
        remote = ray.remote(fn)
        pending = [remote.remote(task) for task in todo]
        index = {ref: i for i, ref in enumerate(pending)}
        results: dict[int, R] = {}
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                results[index[ref]] = ray.get(ref)
            tick()
        return [results[i] for i in range(len(todo))]
    finally:
        if owned:
            ray.shutdown()
