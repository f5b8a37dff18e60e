"""Run jobs in a worker process isolated from the caller (the LSP server, the CLI).

``Worker.submit`` returns a :class:`JobHandle` at once; a dispatcher thread feeds jobs one at a time
to a child process (:mod:`sflow.backtest.worker_child`) started in its own process group with an
address-space limit. Progress and the final :class:`JobOutcome` reach the caller's callbacks (called
on the dispatcher thread: a database writer can use them directly). Cancel asks the job to stop at
its next progress call and kills the process group after a short grace; a timeout, a crash or a
hang always ends in ``FAILED``, never a stuck state. ``warm=True`` keeps one child alive between
jobs so qlib stays initialised (the speed lever of ``notes/qlib.md``); ``warm=False`` isolates each
job in a fresh process.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sflow.backtest.worker_proc import ChildProcess

PENDING, RUNNING, COMPLETED, FAILED, CANCELLED = (
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
)
CANCEL_GRACE = 1.0
DEFAULT_MEMORY_MB = 4096
DEFAULT_TIMEOUT = 900.0
QLIB_PRELOAD = "sflow.backtest.qlib_env:preload"
_ids = itertools.count(1)


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report of a running job."""

    job_id: str
    processed: int
    total: int
    current: str | None = None  # e.g. the trading date just processed
    message: str | None = None


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended. ``error_kind``: user, internal, memory, crash, timeout (None on success)."""

    job_id: str
    state: str
    value: Any = None
    error: str | None = None
    error_kind: str | None = None
    traceback: str | None = None
    elapsed: float = 0.0


@dataclass
class JobHandle:
    """The caller's view of a submitted job."""

    id: str
    target: str
    kwargs: dict
    timeout: float | None
    on_progress: Callable[[ProgressEvent], None] | None
    on_done: Callable[[JobOutcome], None] | None
    state: str = PENDING
    outcome: JobOutcome | None = None
    last_progress: ProgressEvent | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask for cancellation (queued jobs never start; running ones stop or are killed)."""
        self._cancel.set()

    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> JobOutcome | None:
        """The outcome, or None if the job has not ended within ``timeout`` seconds."""
        self._finished.wait(timeout)
        return self.outcome


class Worker:
    """A queue of jobs served by one child process at a time (see module docstring)."""

    def __init__(
        self,
        *,
        warm: bool = True,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        env: dict[str, str] | None = None,
        preload: str | None = None,
        eager: bool = False,
        default_timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        """``preload``: ``module:function`` each child runs at start (e.g. ``QLIB_PRELOAD``);
        ``eager``: start the child now, so the first job finds it up (see :meth:`wait_ready`);
        ``default_timeout``: seconds for jobs submitted without one (None: no limit)."""
        self.warm = warm
        self.default_timeout = default_timeout
        self.memory_mb = memory_mb
        self.env = dict(env or {})
        if preload:
            self.env["SFLOW_WORKER_PRELOAD"] = preload
        self._queue: queue.Queue[JobHandle | None] = queue.Queue()
        self._proc: ChildProcess | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="sflow-worker", daemon=True)
        self._thread.start()
        self._ready = self.submit("sflow.backtest.worker_child:noop") if eager else None

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the eagerly started child has finished its preload."""
        if self._ready is None:
            return True
        out = self._ready.wait(timeout)
        return out is not None and out.state == COMPLETED

    def submit(
        self,
        target: str | Callable[..., Any],
        kwargs: dict[str, Any] | None = None,
        *,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        on_done: Callable[[JobOutcome], None] | None = None,
        timeout: float | None = None,
        job_id: str | None = None,
    ) -> JobHandle:
        """Queue ``target(progress, **kwargs)`` (``"module:function"`` or a module-level function).

        ``timeout`` (seconds) defaults to the worker's ``default_timeout``; ``0`` means no limit.
        """
        if self._closed:
            raise RuntimeError("worker is closed")
        if callable(target):
            target = f"{target.__module__}:{target.__qualname__}"
        try:
            pickle.dumps(kwargs)
        except Exception as exc:
            raise TypeError(f"job arguments must be picklable: {exc}") from None
        limit = self.default_timeout if timeout is None else timeout
        handle = JobHandle(
            job_id or f"job-{next(_ids)}", target, dict(kwargs or {}), limit, on_progress, on_done
        )
        self._queue.put(handle)
        return handle

    def close(self) -> None:
        """Stop the dispatcher and the child (a running job is killed)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(10)
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The current child's process id (None when no child is running)."""
        return self._proc.popen.pid if self._proc is not None else None

    # -- dispatcher thread --------------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job._cancel.is_set() or self._closed:
                self._finish(job, JobOutcome(job.id, CANCELLED))
                continue
            try:
                self._run(job)
            except Exception as exc:  # never leave a job without an outcome
                self._drop_proc()
                self._finish(
                    job,
                    JobOutcome(job.id, FAILED, error=f"worker error: {exc}", error_kind="internal"),
                )
            if not self.warm:
                self._drop_proc()

    def _ensure_proc(self) -> ChildProcess:
        if self._proc is None or self._proc.popen.poll() is not None:
            self._drop_proc()
            self._proc = ChildProcess(self.memory_mb, self.env)
        return self._proc

    def _drop_proc(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    def _run(self, job: JobHandle) -> None:
        t0 = time.monotonic()
        proc = self._ensure_proc()
        with contextlib.suppress(OSError):
            proc.log_offset = proc.log.seek(0, os.SEEK_END)
        job.state = RUNNING
        if not proc.send(("run", job.id, job.target, job.kwargs)):
            self._crashed(job, proc, t0)
            return
        deadline = t0 + job.timeout if job.timeout else None
        cancel_sent: float | None = None
        while True:
            now = time.monotonic()
            if job._cancel.is_set() and cancel_sent is None:
                cancel_sent = now
                proc.send(("cancel", job.id))
            if self._closed:
                self._drop_proc()
                self._finish(
                    job, JobOutcome(job.id, CANCELLED, error="worker closed", elapsed=now - t0)
                )
                return
            if cancel_sent is not None and now - cancel_sent > CANCEL_GRACE:
                self._drop_proc()
                self._finish(job, JobOutcome(job.id, CANCELLED, elapsed=now - t0))
                return
            if deadline is not None and now > deadline:
                self._drop_proc()
                msg = f"timed out after {job.timeout:g} s"
                self._finish(
                    job,
                    JobOutcome(job.id, FAILED, error=msg, error_kind="timeout", elapsed=now - t0),
                )
                return
            msg = proc.poll(0.05)
            if msg is None or (isinstance(msg, tuple) and msg[0] == "ready"):
                continue
            if msg is False:
                self._crashed(job, proc, t0)
                return
            if self._handle(job, msg, proc, t0):
                return

    def _handle(self, job: JobHandle, msg: tuple, proc: ChildProcess, t0: float) -> bool:
        kind, elapsed = msg[0], time.monotonic() - t0
        if kind == "progress":
            ev = ProgressEvent(job.id, *msg[2:])
            job.last_progress = ev
            if job.on_progress is not None:
                with contextlib.suppress(Exception):
                    job.on_progress(ev)
            return False
        if kind == "done":
            self._finish(job, JobOutcome(job.id, COMPLETED, value=msg[2], elapsed=elapsed))
        elif kind == "cancelled":
            self._finish(job, JobOutcome(job.id, CANCELLED, elapsed=elapsed))
        elif kind == "error":
            _, _, err_kind, text, tb = msg
            if err_kind == "memory":
                self._drop_proc()
                text = f"{text} ({self.memory_mb} MB)"
            self._finish(
                job,
                JobOutcome(
                    job.id,
                    FAILED,
                    error=text,
                    error_kind=err_kind,
                    traceback=tb or None,
                    elapsed=elapsed,
                ),
            )
        else:
            return False
        return True

    def _crashed(self, job: JobHandle, proc: ChildProcess, t0: float) -> None:
        tail = proc.stderr_tail()
        code = proc.kill()
        self._proc = None
        how = (
            f"killed by signal {-code}"
            if code is not None and code < 0
            else f"exited with code {code}"
        )
        text = f"worker process {how}" + (f": {tail.splitlines()[-1]}" if tail else "")
        kind = "crash"
        if self.memory_mb and any(
            sign in (tail or "")
            for sign in ("MemoryError", "failed to map segment", "Cannot allocate memory")
        ):
            kind, text = (
                "memory",
                f"the job ran out of memory (worker memory limit {self.memory_mb} MB)",
            )
        self._finish(
            job,
            JobOutcome(
                job.id,
                FAILED,
                error=text,
                error_kind=kind,
                traceback=tail or None,
                elapsed=time.monotonic() - t0,
            ),
        )

    def _finish(self, job: JobHandle, outcome: JobOutcome) -> None:
        job.outcome = outcome
        job.state = outcome.state
        if job.on_done is not None:
            with contextlib.suppress(Exception):
                job.on_done(outcome)
        job._finished.set()  # after on_done: wait() returning means the callbacks have run


def run_isolated(
    target: str | Callable[..., Any], kwargs: dict[str, Any] | None = None, **options: Any
) -> JobOutcome:
    """Run one job in a fresh process and wait for it (``options``: timeout, memory_mb, on_progress)."""
    memory_mb = options.pop("memory_mb", DEFAULT_MEMORY_MB)
    with Worker(warm=False, memory_mb=memory_mb) as w:
        outcome = w.submit(target, kwargs, **options).wait()
    assert outcome is not None
    return outcome
