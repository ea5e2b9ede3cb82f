"""A small discrete-event engine: a binary heap of timed callbacks, in float seconds.

Entries are ``[time, seq, handler, payload]`` lists ordered by time, then by the
insertion sequence, so events due at the same time run in the order they were
scheduled. Cancelling is lazy: the entry stays in the heap with its handler cleared
and is skipped when it comes up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Generic, TypeVar

R = TypeVar("R")

Handler = Callable[[Any], R | None]
"""A callback run with the event's payload; a non-None result stops `Engine.step`."""

EventHandle = list[Any]
"""An opaque handle to a scheduled event (its heap entry), for `Engine.cancel`."""

_TIME, _HANDLER, _PAYLOAD = 0, 2, 3


class Engine(Generic[R]):
    """Run callbacks in time order; each callback may return a result of type *R* or None.

    Parameters
    ----------
    start
        The initial clock value, in seconds.
    """

    __slots__ = ("_heap", "_seq", "now", "processed")

    def __init__(self, start: float = 0.0) -> None:
        self.now: float = start
        """The current simulated time, in seconds."""
        self.processed = 0
        """Events run so far (cancelled ones excluded)."""
        self._heap: list[EventHandle] = []
        self._seq = 0

    @property
    def scheduled(self) -> int:
        """Events scheduled so far, cancelled ones included."""
        return self._seq

    def schedule(self, delay: float, handler: Handler[R], payload: Any = None) -> EventHandle:
        """Run ``handler(payload)`` *delay* seconds from now; return a handle for `cancel`."""
        if not delay >= 0.0:  # also rejects NaN
            raise ValueError(f"delay: expected >= 0 seconds, got {delay}")
        entry = [self.now + delay, self._seq, handler, payload]
        self._seq += 1
        heappush(self._heap, entry)
        return entry

    def schedule_at(self, time: float, handler: Handler[R], payload: Any = None) -> EventHandle:
        """Run ``handler(payload)`` at absolute *time* (not before now)."""
        return self.schedule(time - self.now, handler, payload)

    @staticmethod
    def cancel(handle: EventHandle) -> None:
        """Cancel a scheduled event; cancelling one that already ran or was cancelled does nothing."""
        handle[_HANDLER] = None
        handle[_PAYLOAD] = None

    @staticmethod
    def due(handle: EventHandle) -> float:
        """Return the time the event of *handle* is (or was) due."""
        return float(handle[_TIME])

    def peek(self) -> float:
        """Time of the next pending event, or ``math.inf`` when none is pending."""
        heap = self._heap
        while heap and heap[0][_HANDLER] is None:
            heappop(heap)
        return float(heap[0][_TIME]) if heap else math.inf

    def step(self, until: float) -> R | None:
        """Run events due at or before *until* until a handler returns a result, and return it.

        Returns None when no event before *until* returns a result; the clock is then
        *until* (or unchanged when *until* is infinite).
        """
        if until < self.now:
            raise ValueError(f"until: expected >= now ({self.now}), got {until}")
        heap = self._heap
        while heap:
            entry = heap[0]
            time = entry[0]
            if time > until:
                break
            heappop(heap)
            handler = entry[2]
            if handler is None:
                continue
            self.now = time
            self.processed += 1
            result: R | None = handler(entry[3])
            if result is not None:
                return result
        if until < math.inf:
            self.now = until
        return None
