"""The quick-test service: generate, store, run in a worker, track in ``quick_tests``, report.

``QuickTestService(settings).submit(text, source_path, …)`` returns a test id at once: it generates
the module (``generate_for``, stored in ``code_generations``; anything not VALID/WARNING is
refused), writes it to sflow's data dir, creates the PENDING ``quick_tests`` row with the test's
config and snapshots, and queues :func:`sflow.backtest.jobs.quick_test_job` on a warm worker
process. The worker's callbacks (its dispatcher thread) move the row to RUNNING, write progress per
trading step, and end it COMPLETED (``test_result``, ``metrics_summary``, report files), FAILED
(with the error) or CANCELLED. A cancel in the database (e.g. by another process) stops the job at
its next step. :meth:`QuickTestService.mark_stuck` fails tests whose worker went away.

Importing this module loads no qlib, pandas or numpy: the language server imports it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sflow.backtest.quicktest_config import (
    PERIOD_MONTHS,
    PERIODS,
    SUMMARY_KEYS,
    QuickTestOptions,
    code_sha256,
    compare,
    metrics_summary,
    options_from,
    report_path,
    resolve_dates,
    test_config,
    write_module,
)
from sflow.backtest.worker import (
    CANCELLED,
    COMPLETED,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    FAILED,
    QLIB_PRELOAD,
    JobHandle,
    JobOutcome,
    ProgressEvent,
    Worker,
)
from sflow.config import Settings
from sflow.errors import SflowError

__all__ = [
    "PERIODS",
    "PERIOD_MONTHS",
    "SUMMARY_KEYS",
    "QuickTestOptions",
    "QuickTestService",
    "close_shared_services",
    "compare",
    "metrics_summary",
    "options_from",
    "report_path",
    "resolve_dates",
    "run_quick_test",
    "shared_service",
    "test_config",
    "user_library",
    "write_module",
]

TERMINAL = (COMPLETED, FAILED, CANCELLED)
KEEP_FINISHED = 256  # finished tests whose handles a service keeps (status comes from the db)
PENDING_AFTER = timedelta(hours=1)  # a queue may hold tests behind long runs: be patient
JOB = "sflow.backtest.jobs:quick_test_job"
StatusCallback = Callable[[dict[str, Any]], None]


@dataclass
class _Tracked:
    handle: JobHandle | None
    done: threading.Event
    on_status: StatusCallback | None
    started: float
    last: dict[str, Any]


class QuickTestService:
    """Quick tests of one user against one database (see module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        warm: bool = True,
        eager: bool = False,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        timeout: float | None = DEFAULT_TIMEOUT,
        library: Any = None,
    ) -> None:
        """``eager``: start the worker now so qlib imports while the first test is prepared."""
        self.settings = settings
        self.timeout = timeout
        self._library = library
        self._lock = threading.Lock()
        self._tracked: dict[str, _Tracked] = {}
        self._worker_args = {"warm": warm, "memory_mb": memory_mb}
        self._worker: Worker | None = None
        if eager:
            self.worker()

    # -- the worker -------------------------------------------------------------------------

    def worker(self) -> Worker:
        """The service's worker process shell, started on first use."""
        with self._lock:
            if self._worker is None:
                env = {}
                data = self.settings.qlib_data
                if data and Path(data).is_dir():
                    env["SFLOW_WORKER_QLIB_DATA"] = str(data)
                self._worker = Worker(
                    preload=QLIB_PRELOAD,
                    env=env,
                    eager=True,
                    default_timeout=self.timeout,
                    **self._worker_args,
                )
            return self._worker

    def close(self) -> None:
        """Stop the worker; running tests end CANCELLED (the worker was closed)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def __enter__(self) -> QuickTestService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- database ---------------------------------------------------------------------------

    def _engine(self) -> Any:
        from sflow.store import ensure_database

        return ensure_database(self.settings.database_url)

    def _tx(self, fn: Callable[[Any], Any]) -> Any:
        from sflow.store import transaction

        with transaction(self._engine()) as session:
            return fn(session)

    def _repo(self, session: Any) -> Any:
        from sflow.store import QuickTestRepository

        return QuickTestRepository(session, self.settings.user_id)

    def library(self) -> Any:
        """The user's template library (system templates plus their own), read once."""
        if self._library is None:
            self._library = user_library(self.settings)
        return self._library

    # -- submit -----------------------------------------------------------------------------

    def submit(
        self,
        text: str,
        source_path: str,
        *,
        strategy: str | None = None,
        test: str | None = None,
        options: QuickTestOptions | None = None,
        library: Any = None,
        on_status: StatusCallback | None = None,
    ) -> str:
        """Generate, store and queue a quick test; returns its id at once.

        ``on_status(status)`` is called (on the worker's thread) on every state change and step
        with the dict of :meth:`status`. Raises ``SflowError`` when the file has errors or the
        generated code does not validate (nothing is queued then).
        """
        from sflow.codegen import generate_for

        opts = options or QuickTestOptions()
        gen = generate_for(
            text, source_path, strategy, test, library or self.library(), store=self.settings
        )
        if gen.status not in ("VALID", "WARNING"):
            issues = "; ".join(str(i) for i in (gen.validation.issues or [])[:3])
            raise SflowError(
                f"the generated module did not pass validation ({gen.status}); not run: {issues}"
            )
        module = write_module(gen.code)
        provider = str(Path(opts.provider_uri or self.settings.qlib_data).expanduser())
        test_block = dict(gen.parameters.get("test") or {})
        cfg = test_config(test_block, opts, provider)
        cfg.update(
            {
                "generation_id": gen.generation_id,
                "module_path": str(module),
                "source_path": str(Path(source_path).expanduser().resolve()),
                "timeout": opts.timeout if opts.timeout is not None else self.timeout,
            }
        )
        early_error = cfg.pop("_error", None)

        def create(session: Any) -> str:
            from sflow.codegen.storage import instance_key
            from sflow.store import StrategyInstanceRepository

            instances = StrategyInstanceRepository(session, self.settings.user_id)
            inst = instances.find_by_source(instance_key(source_path), gen.strategy)
            if inst is None:
                inst, _ = instances.get_or_create(
                    instance_key(source_path), gen.strategy, logic_flow=gen.logic_flow
                )
            row = self._repo(session).create(
                inst.id,
                test_config=cfg,
                logic_flow_snapshot=gen.logic_flow,
                parameters_snapshot=gen.parameters,
                test_name=gen.test,
            )
            if early_error:
                self._repo(session).fail(row.id, early_error)
            return row.id

        test_id = self._tx(create)
        tracked = _Tracked(None, threading.Event(), on_status, time.monotonic(), {})
        with self._lock:
            self._tracked[test_id] = tracked
            self._forget_finished()
        if early_error:
            self._finished(test_id, tracked)
            return test_id
        if on_status is not None:  # before the job can report: states arrive in order
            queued = {"testId": test_id, "status": "PENDING", "percent": 0.0, "message": "queued"}
            _safe(on_status, queued)
        kwargs = {
            "module_path": str(module),
            "code_hash": code_sha256(gen.code),
            "provider_uri": provider,
            "overrides": opts.overrides(),
        }
        tracked.handle = self.worker().submit(
            JOB,
            kwargs,
            on_progress=lambda ev: self._on_progress(test_id, ev),
            on_done=lambda out: self._on_done(test_id, out),
            timeout=cfg["timeout"] or 0,
            job_id=test_id,
        )
        return test_id

    def _forget_finished(self, keep: int = KEEP_FINISHED) -> None:
        """Bound the memory of a long-lived service: drop the oldest finished tests' handles."""
        done = [k for k, t in self._tracked.items() if t.done.is_set()]
        for key in done[: max(0, len(done) - keep)]:
            del self._tracked[key]

    # -- worker callbacks (dispatcher thread) -----------------------------------------------

    def _on_progress(self, test_id: str, ev: ProgressEvent) -> None:
        tracked = self._tracked.get(test_id)
        if ev.message == "starting":
            ok = self._tx(lambda s: self._repo(s).start(test_id))
        else:
            ok = self._tx(
                lambda s: self._repo(s).report_progress(
                    test_id, processed=ev.processed, total=ev.total, step=ev.current
                )
            )
        if not ok and tracked is not None and tracked.handle is not None:
            tracked.handle.cancel()  # cancelled (or failed) in the database meanwhile
            return
        if tracked is not None and tracked.on_status is not None:
            percent = ev.processed * 100.0 / ev.total if ev.total else 0.0
            status = {
                "testId": test_id,
                "status": "RUNNING",
                "percent": percent,
                "processed": ev.processed,
                "total": ev.total,
                "current": ev.current,
                "message": f"{ev.current} ({ev.processed}/{ev.total})"
                if ev.current
                else "starting",
            }
            tracked.last = status
            _safe(tracked.on_status, status)

    def _on_done(self, test_id: str, out: JobOutcome) -> None:
        tracked = self._tracked.get(test_id)
        try:
            if out.state == COMPLETED:
                self._complete(test_id, out)
            elif out.state == CANCELLED:
                self._tx(lambda s: self._repo(s).cancel(test_id))
            else:
                self._tx(
                    lambda s: self._repo(s).fail(
                        test_id, failure_message(out), execution_time=out.elapsed
                    )
                )
        except Exception as exc:  # never leave the row active because a write failed
            msg = f"could not store the result: {type(exc).__name__}: {exc}"
            self._tx(lambda s: self._repo(s).fail(test_id, msg))
        if tracked is not None:
            self._finished(test_id, tracked)

    def _complete(self, test_id: str, out: JobOutcome) -> None:
        from sflow.backtest import report

        value = out.value
        row = self._tx(lambda s: _row_info(self._repo(s).get(test_id, with_instance=True)))
        cfg = {**row["config"], **value["config"]}
        result = report.clean(
            {
                "testId": test_id,
                "status": COMPLETED,
                "strategy": row["strategy"],
                "test": row["test"],
                "config": cfg,
                "metrics": value["metrics"],
                "series": value["series"],
                "trades": value["trades"],
                "timings": value.get("timings", {}),
            }
        )
        path = report_path(test_id)
        report.write_report(result, path)
        result["reportPath"] = str(path)

        def store(session: Any) -> None:
            import sqlalchemy as sa

            from sflow.store import QuickTest

            repo = self._repo(session)
            done = repo.complete(
                test_id,
                test_result=result,
                metrics_summary=metrics_summary(result["metrics"]),
                execution_time=out.elapsed,
            )
            if done:
                session.execute(
                    sa.update(QuickTest)
                    .where(QuickTest.id == test_id, QuickTest.user_id == self.settings.user_id)
                    .values(test_config=cfg)
                    .execution_options(synchronize_session=False)
                )

        self._tx(store)

    def _finished(self, test_id: str, tracked: _Tracked) -> None:
        if tracked.on_status is not None:
            _safe(tracked.on_status, self.status(test_id))
        tracked.done.set()  # after the callback: wait() returning means it has run

    # -- queries and control ----------------------------------------------------------------

    def status(self, test_id: str) -> dict[str, Any]:
        """State, progress, error, report path and metrics summary of one of the user's tests."""
        row = self._tx(lambda s: _status_of(self._repo(s).get(test_id, with_instance=True)))
        if row is None:
            raise SflowError(f"no quick test {test_id!r}")
        return row

    def result(self, test_id: str) -> dict[str, Any]:
        """The full ``test_result`` of a finished test (status and error when it has none)."""

        def read(session: Any) -> dict[str, Any] | None:
            row = self._repo(session).get(test_id, with_instance=True)
            if row is None:
                return None
            if row.test_result:
                return dict(row.test_result)
            info = _row_info(row)
            return {
                "testId": row.id,
                "status": row.status,
                "strategy": info["strategy"],
                "test": info["test"],
                "config": info["config"],
                "error": row.error_message,
            }

        found = self._tx(read)
        if found is None:
            raise SflowError(f"no quick test {test_id!r}")
        return found

    def cancel(self, test_id: str) -> bool:
        """Cancel a pending or running test; False if it had already finished."""
        tracked = self._tracked.get(test_id)
        if tracked is not None and tracked.handle is not None:
            tracked.handle.cancel()
        return bool(self._tx(lambda s: self._repo(s).cancel(test_id)))

    def wait(self, test_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait for a test this service runs to end (or ``timeout``); its :meth:`status`."""
        tracked = self._tracked.get(test_id)
        if tracked is not None:
            tracked.done.wait(timeout)
            return self.status(test_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:  # a test run by another process: poll the row
            status = self.status(test_id)
            if status["status"] in TERMINAL or (deadline and time.monotonic() > deadline):
                return status
            time.sleep(0.2)

    def mark_stuck(
        self, older_than: timedelta | None = None, pending_after: timedelta = PENDING_AFTER
    ) -> list[str]:
        """FAIL the user's RUNNING tests without progress for ``older_than`` (default 10 min)
        and PENDING ones never started within ``pending_after`` (their submitter is gone)."""
        from sflow.store.base import utcnow
        from sflow.store.repositories.quick_tests import STUCK_AFTER

        limit = older_than or STUCK_AFTER

        def ours(test_id: str) -> bool:  # alive here: the worker's own timeout governs it
            return test_id in self._tracked and not self._tracked[test_id].done.is_set()

        def sweep(session: Any) -> list[str]:
            repo = self._repo(session)
            ids = []
            minutes = limit.total_seconds() / 60
            for row in repo.stuck(older_than=limit):
                msg = f"no progress for {minutes:g} minutes: the worker stopped (marked stuck)"
                if not ours(row.id) and repo.fail(row.id, msg):
                    ids.append(row.id)
            floor = utcnow() - pending_after
            for row in repo.pending(limit=500):
                if row.created_at >= floor or ours(row.id):
                    continue
                msg = "never started: the process that submitted it is gone (marked stuck)"
                if repo.fail(row.id, msg):
                    ids.append(row.id)
            return ids

        return self._tx(sweep)

    def history(
        self, source_path: str | None = None, strategy: str | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """The user's tests, newest first (of one file and strategy when given)."""

        def read(session: Any) -> list[dict[str, Any]]:
            from sflow.codegen.storage import instance_key
            from sflow.store import StrategyInstanceRepository

            ids = None
            if source_path is not None:
                insts = StrategyInstanceRepository(session, self.settings.user_id).for_source(
                    instance_key(source_path)
                )
                ids = [i.id for i in insts if strategy is None or i.name == strategy]
                if not ids:
                    return []
            rows = self._repo(session).history(instance_ids=ids, limit=limit, with_instance=True)
            return [_status_of(r) for r in rows]

        return self._tx(read)


def user_library(settings: Settings) -> Any:
    """System templates plus the user's own, from the database."""
    from sflow.flow.templates import TemplateLibrary
    from sflow.store import ensure_database, load_template_records, transaction

    with transaction(ensure_database(settings.database_url)) as session:
        records = load_template_records(session, settings.user_id)
    return TemplateLibrary.from_records(records)


def failure_message(out: JobOutcome) -> str:
    """A clear one-line reason for a FAILED outcome."""
    err = out.error or "failed"
    if out.error_kind == "timeout":
        return f"the quick test {err} (raise --timeout or shorten the period)"
    if out.error_kind == "crash":
        return f"the worker process died: {err}"
    if out.error_kind == "memory":
        return f"out of memory: {err}"
    return err


def _safe(fn: Callable[[dict[str, Any]], None], status: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):  # a caller's callback must not break the bookkeeping
        fn(status)


def _row_info(row: Any) -> dict[str, Any]:
    return {
        "strategy": row.instance.name if row.instance is not None else None,
        "test": row.test_name,
        "config": dict(row.test_config or {}),
    }


def _status_of(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    path = report_path(row.id)
    return {
        "testId": row.id,
        "status": row.status,
        "strategy": row.instance.name if row.instance is not None else None,
        "test": row.test_name,
        "percent": row.progress_percent,
        "processed": row.processed_count,
        "total": row.total_count,
        "current": row.current_step,
        "error": row.error_message,
        "metrics": row.metrics_summary,
        "reportPath": str(path) if row.status == COMPLETED and path.is_file() else None,
        "created": row.created_at.isoformat() if row.created_at else None,
        "executionTime": row.execution_time,
        "config": dict(row.test_config or {}),
    }


# -- the blocking entry point of the language server ---------------------------------------

_services: dict[tuple, QuickTestService] = {}
_services_lock = threading.Lock()


def shared_service(settings: Settings) -> QuickTestService:
    """One warm service per (database, user, data) in this process (the server keeps it)."""
    key = (settings.database_url, settings.user_id, str(settings.qlib_data))
    with _services_lock:
        if key not in _services:
            _services[key] = QuickTestService(settings, eager=True)
        return _services[key]


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def close_shared_services() -> None:
    """Stop the workers of :func:`shared_service` (server shutdown, tests)."""
    with _services_lock:
        services = list(_services.values())
        _services.clear()
    for service in services:
        service.close()


def run_quick_test(
    text: str,
    source_path: str,
    strategy: str | None = None,
    test_name: str | None = None,
    *,
    library: Any = None,
    database_url: str | None = None,
    user_id: str | None = None,
    qlib_data: str | None = None,
    options: QuickTestOptions | dict[str, Any] | None = None,
    progress: Callable[..., Any] | None = None,
    on_status: StatusCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Submit a quick test and wait for it (for ``sflow.runQuickTest``; run it in a thread).

    ``progress(percent=…, message=…)`` is called per step and may raise to cancel;
    ``cancelled()`` is polled; ``on_status(status)`` gets every state change. Returns
    ``{"test_id", "status", "report_path", "metrics_summary", "test_result", "error"}``.
    """
    settings = Settings.resolve(database_url, user_id, qlib_data)
    service = shared_service(settings)
    opts = options_from(options) if isinstance(options, dict) else options
    latest: list[dict[str, Any]] = []
    test_id = service.submit(
        text,
        source_path,
        strategy=strategy,
        test=test_name,
        options=opts,
        library=library,
        on_status=lambda s: (latest.append(s), on_status and on_status(s)),
    )
    tracked = service._tracked.get(test_id)
    done = tracked.done if tracked is not None else _set_event()
    shown = None
    try:
        while not done.wait(0.1):
            if cancelled is not None and cancelled():
                service.cancel(test_id)
            if progress is not None and latest and latest[-1] is not shown:
                shown = latest[-1]
                progress(percent=shown.get("percent"), message=shown.get("message"))
        if progress is not None and latest and latest[-1] is not shown:
            final = latest[-1]  # the terminal status: 100 % when completed
            progress(percent=final.get("percent"), message=str(final.get("status")).lower())
    except BaseException:
        service.cancel(test_id)
        done.wait(5)
        raise
    status = service.status(test_id)
    return {
        "test_id": test_id,
        "status": status["status"],
        "report_path": status["reportPath"],
        "metrics_summary": status["metrics"],
        "test_result": service.result(test_id),
        "error": status["error"],
    }
