"""Planning jobs: long computations (allocation, stress test, expansion, what-if) run off the request path.

A `JobRunner` takes a job — a top-level function and its (picklable) arguments, usually a pure
problem built from the state under the caller's lock — and runs it in a fresh **process** of its
own (solvers hold the CPU and some hold the GIL; the API keeps answering meanwhile; a job that
runs over *timeout* or outlives the server is terminated, never left behind). Jobs run one
at a time per worker, oldest first; at most *max_pending* wait, beyond that `submit` refuses
(`JobQueueFullError`, a 429 at the API). The runner keeps the last *keep* finished jobs in
memory with their JSON result or error: a restarted server forgets them (the plans are advice
computed from the log, which can be asked again; nothing they say is a decision).
"""

from __future__ import annotations

import concurrent.futures
import enum
import itertools
import logging
import multiprocessing
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from microfab.domain.errors import DomainError, UnknownReferenceError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)
JobFunction = Callable[..., dict[str, Any]]
"""A job: a module-level function returning a JSON-ready dict (it runs in another process)."""


class JobStatus(enum.StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobQueueFullError(DomainError):
    """Too many jobs are waiting: try again when some have finished."""


@dataclass(frozen=True, slots=True)
class Job:
    """A job's record: what was asked, by whom, where it is, and its result or error."""

    id: str
    kind: str
    by: str
    submitted_at: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        """Whether the job has finished, one way or the other."""
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class JobRunner:
    """Runs jobs in worker processes (spawned lazily), keeps their records; thread-safe."""

    def __init__(
        self,
        *,
        workers: int = 1,
        keep: int = 100,
        max_pending: int = 8,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        processes: bool = True,
        timeout: float = 600.0,
    ) -> None:
        if workers < 1 or keep < 1 or max_pending < 0:
            raise ValueError("workers and keep: expected >= 1, max_pending >= 0")
        self.workers, self.keep, self.max_pending, self.clock = workers, keep, max_pending, clock
        self._processes, self.timeout = processes, timeout
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan-job")
        self._closing = threading.Event()
        self._sequence = itertools.count(1)

    def submit(
        self, kind: str, function: JobFunction, *args: Any, by: str, params: Mapping[str, Any] | None = None
    ) -> Job:
        """Queue *function(*args)*; the job record, status ``queued``."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.status is JobStatus.QUEUED)
            if waiting >= self.max_pending:
                raise JobQueueFullError(f"{waiting} planning jobs are waiting already; try again later")
            job = Job(
                id=f"job-{next(self._sequence):05d}-{secrets.token_hex(4)}",
                kind=kind,
                by=by,
                submitted_at=self.clock(),
                params=dict(params or {}),
            )
            self._jobs[job.id] = job
            self._forget_old()
        self._threads.submit(self._run, job.id, function, args)
        return job

    def get(self, job_id: str) -> Job:
        """A job by id (`UnknownReferenceError` when unknown or forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise UnknownReferenceError("planning job", job_id)
        return job

    def jobs(self) -> list[Job]:
        """Every job kept, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def wait(self, job_id: str, timeout: float) -> Job:
        """Block until the job is done or *timeout* seconds passed; its record then (for tests and the CLI)."""
        deadline = threading.Event()
        waited = 0.0
        while waited < timeout:
            job = self.get(job_id)
            if job.done:
                return job
            deadline.wait(0.05)
            waited += 0.05
        return self.get(job_id)

    def close(self) -> None:
        """Stop: queued jobs never start, running ones are stopped (their processes terminated)."""
        self._closing.set()
        self._threads.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ running
    def _run(self, job_id: str, function: JobFunction, args: tuple[Any, ...]) -> None:
        if self._closing.is_set():
            return
        self._update(job_id, status=JobStatus.RUNNING, started_at=self.clock())
        try:
            result = self._in_process(function, args) if self._processes else function(*args)
        except Exception as exc:  # any failure of the job is its result, reported to the caller
            log.warning("planning job %s failed: %s", job_id, exc)
            self._update(job_id, status=JobStatus.FAILED, finished_at=self.clock(), error=_message(exc))
            return
        self._update(job_id, status=JobStatus.SUCCEEDED, finished_at=self.clock(), result=result)

    def _in_process(self, function: JobFunction, args: tuple[Any, ...]) -> dict[str, Any]:
        """Run the job in a fresh process (spawned: never a fork of a threaded server); killed on close or timeout."""
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(sender, function, args), daemon=True, name="plan-job")
        process.start()
        sender.close()
        started = time.monotonic()
        try:
            while not receiver.poll(0.1):
                if self._closing.is_set():
                    raise JobCancelledError("the server stopped before the job finished")
                if time.monotonic() - started > self.timeout:
                    raise JobCancelledError(f"the job ran over {self.timeout:g} s and was stopped")
                if not process.is_alive():
                    raise JobCancelledError(f"the planning process died (exit code {process.exitcode})")
            ok, payload = receiver.recv()
        finally:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
            receiver.close()
        if not ok:
            raise JobFailedError(payload)
        result: dict[str, Any] = payload
        return result

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _forget_old(self) -> None:
        done = [j.id for j in self._jobs.values() if j.done]
        for job_id in done[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job_id]


class JobCancelledError(RuntimeError):
    """The job was stopped: the server closed, it ran too long, or its process died."""


class JobFailedError(RuntimeError):
    """The job raised in its process; the message is the job's error."""


def _child(sender: Connection, function: JobFunction, args: tuple[Any, ...]) -> None:
    """In the job's process: run it and send ``(True, result)`` or ``(False, message)`` back."""
    try:
        result = function(*args)
    except Exception as exc:  # the job's failure is sent back as its error
        sender.send((False, _message(exc)))
    else:
        sender.send((True, result))
    finally:
        sender.close()


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
