"""One way to make a HiGHS solver for every planning model, so that thread counts never clash.

HiGHS keeps one task scheduler per process, sized by the ``threads`` option of the first solve
that needs it; a later solve asking for another size fails ("Not Set") instead of waiting. The
allocation, the expansion and the stress LPs each choose their own thread count, and one process
(a test session, the CLI, an API worker) may run several of them, so `solver` resets the
scheduler whenever the count changes. Solves in one process are sequential here; the reset
waits for the old scheduler's workers to stop.
"""

from __future__ import annotations

import threading

from highspy._core import _Highs  # the solver without the Python wrapper: no banner on stdout

__all__ = ["solver"]

_lock = threading.Lock()
_threads: int | None = None


def solver(threads: int, **options: bool | int | float | str) -> _Highs:
    """A new HiGHS solver with *threads* and *options* set (``output_flag`` off unless given)."""
    global _threads  # noqa: PLW0603 - HiGHS's scheduler is per process, and so is this record of it
    with _lock:
        if _threads is not None and _threads != threads:
            _Highs.resetGlobalScheduler(True)
        _threads = threads
    highs = _Highs()
    for name, value in {"output_flag": False, **options, "threads": threads}.items():
        highs.setOptionValue(name, value)
    return highs
