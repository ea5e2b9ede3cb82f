"""The planning job runner: queued -> running -> succeeded/failed, bounded queue, forgetting old jobs."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import pytest

from microfab.control.jobs import JobQueueFullError, JobRunner, JobStatus
from microfab.domain.errors import UnknownReferenceError

GATE = threading.Event()


def square(x: int) -> dict[str, Any]:
    return {"square": x * x}


def gated(x: int) -> dict[str, Any]:
    assert GATE.wait(10)
    return {"x": x}


def broken() -> dict[str, Any]:
    raise ValueError("no feasible plan: order o-1 fits no site")


def test_a_job_runs_in_another_process_and_keeps_its_result() -> None:
    runner = JobRunner(workers=1)
    try:
        job = runner.submit("square", square, 12, by="planner")
        assert job.status is JobStatus.QUEUED
        done = runner.wait(job.id, timeout=60)
        assert done.status is JobStatus.SUCCEEDED
        assert done.result == {"square": 144}
        assert done.started_at is not None
        assert done.finished_at is not None
        assert done.started_at <= done.finished_at
    finally:
        runner.close()


def test_a_failing_job_keeps_its_error() -> None:
    runner = JobRunner(processes=False)
    try:
        job = runner.wait(runner.submit("broken", broken, by="p").id, timeout=10)
        assert job.status is JobStatus.FAILED
        assert job.error == "no feasible plan: order o-1 fits no site"
        assert job.result is None
    finally:
        runner.close()


def test_the_queue_is_bounded_and_old_jobs_are_forgotten() -> None:
    GATE.clear()
    runner = JobRunner(processes=False, max_pending=2, keep=2)
    try:
        first = runner.submit("gated", gated, 1, by="p")  # takes the one worker and waits at the gate
        for _ in range(50):
            if runner.get(first.id).status is JobStatus.RUNNING:
                break
            threading.Event().wait(0.02)
        queued = [runner.submit("gated", gated, n, by="p") for n in (2, 3)]
        with pytest.raises(JobQueueFullError, match="2 planning jobs are waiting"):
            runner.submit("gated", gated, 4, by="p")
        GATE.set()
        for job in (first, *queued):
            assert runner.wait(job.id, timeout=10).status is JobStatus.SUCCEEDED
        runner.submit("square", square, 2, by="p")
        runner.wait(runner.jobs()[0].id, timeout=10)
        kept = [j.id for j in runner.jobs()]
        assert first.id not in kept  # the oldest finished jobs go first
        with pytest.raises(UnknownReferenceError):
            runner.get(first.id)
    finally:
        GATE.set()
        runner.close()


def sleepy() -> dict[str, Any]:
    time.sleep(60)
    return {}


def test_a_job_over_its_time_is_stopped_and_close_leaves_no_process_behind() -> None:
    runner = JobRunner(timeout=1.0)
    try:
        job = runner.wait(runner.submit("sleepy", sleepy, by="p").id, timeout=30)
        assert job.status is JobStatus.FAILED
        assert job.error == "the job ran over 1 s and was stopped"
    finally:
        runner.close()
    runner = JobRunner()
    job = runner.submit("sleepy", sleepy, by="p")
    for _ in range(100):
        if runner.get(job.id).status is JobStatus.RUNNING:
            break
        time.sleep(0.02)
    started = time.monotonic()
    runner.close()
    assert time.monotonic() - started < 10
    assert runner.get(job.id).error == "the server stopped before the job finished"
    assert not [p for p in multiprocessing.active_children() if p.name == "plan-job"]
