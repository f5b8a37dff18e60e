"""The worker process shell: progress, cancel, timeout, crash, memory limit, warm reuse."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest
import worker_jobs as jobs

from sflow.backtest.worker import CANCELLED, COMPLETED, FAILED, ProgressEvent, Worker, run_isolated


@pytest.fixture(scope="module")
def worker():
    with Worker(warm=True, memory_mb=1024) as w:
        yield w


def test_progress_and_result_reach_the_callbacks(worker: Worker) -> None:
    seen: list[ProgressEvent] = []
    done = []
    h = worker.submit(jobs.count, {"n": 4}, on_progress=seen.append, on_done=done.append)
    out = h.wait(30)
    assert out is not None and out.state == COMPLETED and out.value["n"] == 4
    assert [(e.processed, e.total, e.current) for e in seen] == [
        (i, 4, f"step-{i}") for i in range(1, 5)
    ]
    assert done == [out] and h.state == COMPLETED and h.done()
    assert out.value["pid"] != os.getpid()


def test_submission_returns_at_once(worker: Worker) -> None:
    times, handles = [], []
    for _ in range(50):
        t0 = time.perf_counter()
        handles.append(worker.submit(jobs.pid))
        times.append(time.perf_counter() - t0)
    assert statistics.quantiles(times, n=20)[-1] < 0.020  # p95 under 20 ms
    assert {h.wait(30).state for h in handles} == {COMPLETED}  # type: ignore[union-attr]


def test_warm_worker_keeps_its_process(worker: Worker) -> None:
    a = worker.submit(jobs.pid).wait(30)
    b = worker.submit(jobs.pid).wait(30)
    assert a is not None and b is not None and a.value == b.value == worker.pid


def test_cancel_running_job_cooperatively(worker: Worker) -> None:
    pid = worker.submit(jobs.pid).wait(30).value  # type: ignore[union-attr]
    h = worker.submit(jobs.count, {"n": 1000, "delay": 0.01})
    while h.last_progress is None:
        time.sleep(0.01)
    h.cancel()
    out = h.wait(10)
    assert out is not None and out.state == CANCELLED and h.last_progress.processed < 1000
    assert worker.submit(jobs.pid).wait(30).value == pid  # cooperative: the worker stays warm


def test_cancel_silent_job_kills_the_process_group(worker: Worker) -> None:
    h = worker.submit(jobs.sleep_forever)
    time.sleep(0.3)
    pid = worker.pid
    h.cancel()
    out = h.wait(10)
    assert out is not None and out.state == CANCELLED
    assert pid is not None and not Path(f"/proc/{pid}").exists()
    assert worker.submit(jobs.pid).wait(30).state == COMPLETED  # a fresh child serves the next job


def test_cancel_queued_job_never_runs(worker: Worker) -> None:
    first = worker.submit(jobs.count, {"n": 20, "delay": 0.02})
    queued = worker.submit(jobs.count, {"n": 1})
    queued.cancel()
    assert first.wait(30).state == COMPLETED  # type: ignore[union-attr]
    out = queued.wait(10)
    assert out is not None and out.state == CANCELLED and queued.last_progress is None


def test_timeout_of_a_hung_job(worker: Worker) -> None:
    out = worker.submit(jobs.sleep_forever, timeout=0.5).wait(10)
    assert out is not None and out.state == FAILED and out.error_kind == "timeout"
    assert "timed out after 0.5 s" in out.error and 0.5 <= out.elapsed < 3


def test_crash_is_a_failure(worker: Worker) -> None:
    out = worker.submit(jobs.crash, {"code": 13}).wait(10)
    assert out is not None and out.state == FAILED and out.error_kind == "crash"
    assert "exited with code 13" in out.error
    assert worker.submit(jobs.pid).wait(30).state == COMPLETED


def test_memory_limit(worker: Worker) -> None:
    out = worker.submit(jobs.allocate, {"megabytes": 2048}).wait(30)
    assert out is not None and out.state == FAILED and out.error_kind == "memory"
    assert "1024 MB" in out.error
    assert worker.submit(jobs.allocate, {"megabytes": 50}).wait(30).state == COMPLETED


def test_unpicklable_arguments_fail_at_submission(worker: Worker) -> None:
    with pytest.raises(TypeError, match="picklable"):
        worker.submit(jobs.count, {"n": lambda: 1})


def test_job_exception_and_unknown_target(worker: Worker) -> None:
    out = worker.submit(jobs.fail).wait(10)
    assert out is not None and out.state == FAILED and out.error == "ValueError: boom"
    assert out.error_kind == "internal" and "Traceback" in out.traceback
    out = worker.submit("no_such_module:fn").wait(10)
    assert (
        out is not None and out.state == FAILED and "No module named 'no_such_module'" in out.error
    )


def test_bad_data_directory_is_a_user_error(tmp_path: Path) -> None:
    spec = {"provider_uri": str(tmp_path / "nope"), "start": "2021-01-04", "end": "2021-06-30"}
    out = run_isolated("sflow.backtest.runtime:run_topk_job", {"spec": spec}, timeout=60)
    assert out.state == FAILED and out.error_kind == "user"
    assert "does not exist" in out.error and "sflow data demo" in out.error


def test_isolated_mode_uses_a_fresh_process() -> None:
    with Worker(warm=False) as w:
        a = w.submit(jobs.pid).wait(30)
        b = w.submit(jobs.pid).wait(30)
    assert a is not None and b is not None and a.value != b.value
    assert not Path(f"/proc/{a.value}").exists()


def test_closing_the_worker_ends_the_child() -> None:
    w = Worker()
    running = w.submit(jobs.sleep_forever)
    queued = w.submit(jobs.pid)
    time.sleep(0.3)
    pid = w.pid
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 3
    assert pid is not None and not Path(f"/proc/{pid}").exists()
    assert running.wait(5).state == CANCELLED and queued.wait(5).state == CANCELLED  # type: ignore[union-attr]


def test_preload_runs_before_the_first_job(tmp_path: Path) -> None:
    marker = tmp_path / "preloaded"
    env = {"SFLOW_TEST_MARKER": str(marker)}
    with Worker(preload=f"{jobs.__name__}:mark", eager=True, env=env) as w:
        assert w.wait_ready(30)
        assert marker.read_text() == str(w.pid)
        assert w.submit(jobs.pid).wait(30).value == w.pid  # type: ignore[union-attr]


def test_default_timeout_applies() -> None:
    with Worker(default_timeout=0.3) as w:
        out = w.submit(jobs.sleep_forever).wait(10)
    assert out is not None and out.error_kind == "timeout"


def test_child_does_not_outlive_its_parent(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import os, sys, time; from sflow.backtest.worker import Worker; import worker_jobs as j\n"
        "w = Worker(); w.submit(j.sleep_forever); time.sleep(0.5); print(w.pid, flush=True); os._exit(0)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    child = int(out.stdout.strip())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{child}").exists()
