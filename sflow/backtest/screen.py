"""Screens (seed 003): a strategy's signals on one day over its universe, tracked per ticker.

``ScreenService(settings).run(text, source_path, …)`` generates and validates the module (as the
quick test does), starts a ``strategy_run`` row, and runs :func:`sflow.backtest.jobs.screen_job` in
a worker process. Every ticker the job evaluates arrives as a progress message and is written at
once with ``StrategyRunRepository.record_ticker`` (its ``strategy_result`` row, its
``strategy_execution_progress`` row and the run's counters, in one transaction); the run ends
``completed``, ``failed`` (with the error as its exit status) or ``cancelled``.

Importing this module loads no qlib, pandas or numpy.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sflow.backtest.quicktest import shared_service, user_library
from sflow.backtest.quicktest_config import code_sha256, write_module
from sflow.backtest.worker import CANCELLED, COMPLETED, JobOutcome, ProgressEvent, Worker
from sflow.config import Settings
from sflow.errors import SflowError

JOB = "sflow.backtest.jobs:screen_job"
StatusCallback = Callable[[dict[str, Any]], None]


class ScreenService:
    """Screens of one user against one database."""

    def __init__(self, settings: Settings, *, worker: Worker | None = None) -> None:
        """``worker``: a running worker to use (e.g. the quick-test service's warm one)."""
        self.settings = settings
        self._worker = worker

    def _tx(self, fn: Callable[[Any], Any]) -> Any:
        from sflow.store import ensure_database, transaction

        with transaction(ensure_database(self.settings.database_url)) as session:
            return fn(session)

    def _runs(self, session: Any) -> Any:
        from sflow.store import StrategyRunRepository

        return StrategyRunRepository(session, self.settings.user_id)

    def run(
        self,
        text: str,
        source_path: str,
        *,
        strategy: str | None = None,
        date: str | None = None,
        universe: str | None = None,
        provider_uri: str | None = None,
        timeout: float | None = 600.0,
        library: Any = None,
        on_status: StatusCallback | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """Screen and wait: ``{"runId", "status", "strategy", "date", "universe", "rows",
        "counts", "error"}``; rows are ranked by score (best first)."""
        from sflow.codegen import generate_for

        if library is None:
            library = user_library(self.settings)
        gen = generate_for(text, source_path, strategy, None, library, store=self.settings)
        if gen.status not in ("VALID", "WARNING"):
            raise SflowError(
                f"the generated module did not pass validation ({gen.status}); not run"
            )
        module = write_module(gen.code)
        provider = str(Path(provider_uri or self.settings.qlib_data).expanduser())
        chosen = universe or (gen.parameters.get("test") or {}).get("universe")
        run_id = self._tx(
            lambda s: (
                self._runs(s)
                .start(
                    gen.strategy,
                    total_count=0,
                    universe_source=chosen,
                    params={"date": date, "universe": chosen, "nodes": gen.parameters.get("nodes")},
                    version=gen.generation_id,
                )
                .run_id
            )
        )
        kwargs = {
            "module_path": str(module),
            "code_hash": code_sha256(gen.code),
            "provider_uri": provider,
            "date": date,
            "universe": universe,
        }
        if cancelled is not None and cancelled():  # cancelled while it was being prepared
            self._tx(lambda s: self._runs(s).finish(run_id, "cancelled"))
            return {
                "runId": run_id,
                "status": "cancelled",
                "strategy": gen.strategy,
                "date": date,
                "universe": chosen,
                "rows": [],
                "counts": {},
                "error": None,
            }
        own = self._worker is None
        worker = self._worker or Worker(warm=False)
        finished = threading.Event()
        try:
            handle = worker.submit(
                JOB,
                kwargs,
                on_progress=lambda ev: self._on_progress(run_id, gen.strategy, ev, on_status),
                on_done=lambda out: (self._on_done(run_id, out), finished.set()),
                timeout=timeout or 0,
            )
            while not finished.wait(0.1):
                if cancelled is not None and cancelled():
                    handle.cancel()
            outcome = handle.wait()
        except BaseException:
            if "handle" in locals():
                handle.cancel()
                handle.wait(5)
            raise
        finally:
            if own:
                worker.close()
        assert outcome is not None
        value = outcome.value if outcome.state == COMPLETED else {}
        rows = value.get("rows", [])
        return {
            "runId": run_id,
            "status": self.status(run_id)["status"],
            "strategy": gen.strategy,
            "date": value.get("date", date),
            "universe": value.get("universe", chosen),
            "rows": rows,
            "counts": dict(Counter(r["classification"] for r in rows)),
            "error": outcome.error,
        }

    def _on_progress(
        self, run_id: str, code: str, ev: ProgressEvent, on_status: StatusCallback | None
    ) -> None:
        if ev.message:
            row = json.loads(ev.message)
            self._tx(
                lambda s: self._runs(s).record_ticker(
                    run_id,
                    row["ticker"],
                    strategy_code=code,
                    passed=row["passed"],
                    score=row["score"],
                    classification=row["classification"],
                    reasons=row["reasons"],
                    metrics=row["metrics"],
                    processing_time_ms=row["processing_time_ms"],
                )
            )
        elif ev.total:
            self._tx(lambda s: _set_total(s, run_id, ev.total))
        if on_status is not None:
            percent = ev.processed * 100.0 / ev.total if ev.total else 0.0
            on_status(
                {
                    "runId": run_id,
                    "status": "RUNNING",
                    "percent": percent,
                    "processed": ev.processed,
                    "total": ev.total,
                    "current": ev.current,
                }
            )

    def _on_done(self, run_id: str, out: JobOutcome) -> None:
        state = {COMPLETED: "completed", CANCELLED: "cancelled"}.get(out.state, "failed")
        exit_status = None if state != "failed" else (out.error or "failed")[:50]
        self._tx(lambda s: self._runs(s).finish(run_id, state, exit_status=exit_status))

    def status(self, run_id: str) -> dict[str, Any]:
        """Seed 003's execution status of a run, with its last ten tickers."""

        def read(session: Any) -> dict[str, Any] | None:
            runs = self._runs(session)
            run = runs.get(run_id)
            if run is None:
                return None
            recent = runs.recent_progress(run_id)
            return {
                "runId": run.run_id,
                "status": run.execution_status,
                "currentTicker": run.current_ticker,
                "percent": run.progress_percent,
                "processed": run.processed_count,
                "total": run.total_count,
                "lastUpdate": run.last_progress_update,
                "exitStatus": run.exit_status,
                "recent": [
                    {
                        "ticker": p.ticker,
                        "passed": p.passed,
                        "score": p.score,
                        "classification": p.classification,
                    }
                    for p in recent
                ],
            }

        found = self._tx(read)
        if found is None:
            raise SflowError(f"no screen run {run_id!r}")
        return found


def _set_total(session: Any, run_id: str, total: int) -> None:
    import sqlalchemy as sa

    from sflow.store import StrategyRun

    session.execute(
        sa.update(StrategyRun)
        .where(StrategyRun.run_id == run_id)
        .values(total_count=total, universe_size=total)
        .execution_options(synchronize_session=False)
    )


def run_screen(
    text: str,
    strategy: str | None = None,
    *,
    source_path: str | None = None,
    date: str | None = None,
    library: Any = None,
    database_url: str | None = None,
    user_id: str | None = None,
    qlib_data: str | None = None,
    progress: Callable[..., Any] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Screen on the shared warm worker and wait (for ``sflow.screen``; run it in a thread).

    ``progress(percent=…, message=…)`` may raise to cancel. Returns :meth:`ScreenService.run`'s
    dict (``runId``, ``rows`` of ticker/passed/score/classification/reasons/metrics, ``date``…).
    """
    settings = Settings.resolve(database_url, user_id, qlib_data)
    service = ScreenService(settings, worker=shared_service(settings).worker())

    stop = threading.Event()

    def on_status(status: dict[str, Any]) -> None:
        if progress is None:
            return
        try:
            progress(percent=status["percent"], message=status.get("current") or "screening")
        except Exception:  # the caller's way to cancel
            stop.set()

    return service.run(
        text,
        source_path or f"{strategy or 'screen'}.sflow",
        strategy=strategy,
        date=date if isinstance(date, str) else None,
        library=library,
        on_status=on_status,
        cancelled=lambda: stop.is_set() or bool(cancelled and cancelled()),
    )
