"""Screen runs of one user (seed 003): start, per-ticker results and progress, finish, read.

:meth:`StrategyRunRepository.record_ticker` writes the ticker's result, its progress row and the
run's counters in the caller's transaction, so a reader never sees a result without progress.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.store.runs import StrategyExecutionProgress, StrategyResult, StrategyRun, iso_now

RUN_STATES = ("pending", "running", "completed", "failed", "cancelled", "archived")


class StrategyRunRepository:
    """Runs started by one user and their results."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def start(
        self,
        strategy_code: str,
        *,
        total_count: int,
        universe_source: str | None = None,
        params: dict[str, Any] | None = None,
        version: str | None = None,
        min_score: float | None = None,
    ) -> StrategyRun:
        """A new run in state ``running`` with 0 % progress."""
        now = iso_now()
        params_json = json.dumps(params or {}, sort_keys=True)
        run = StrategyRun(
            run_id=str(uuid.uuid4()),
            user_id=self.user_id,
            strategy_code=strategy_code,
            version=version,
            params_json=params_json,
            params_hash=_sha256(params_json),
            started_at=now,
            universe_source=universe_source,
            universe_size=total_count,
            min_score=min_score,
            execution_status="running",
            total_count=total_count,
            processed_count=0,
            progress_percent=0.0,
            last_progress_update=now,
        )
        self.session.add(run)
        self.session.flush()
        return run

    def get(self, run_id: str) -> StrategyRun | None:
        query = sa.select(StrategyRun).where(
            StrategyRun.run_id == run_id, StrategyRun.user_id == self.user_id
        )
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def record_ticker(
        self,
        run_id: str,
        ticker: str,
        *,
        strategy_code: str,
        passed: bool | None,
        score: float | None = None,
        classification: str | None = None,
        reasons: list[str] | None = None,
        metrics: dict[str, Any] | None = None,
        processing_time_ms: int | None = None,
        error_message: str | None = None,
    ) -> int:
        """Store one ticker's outcome and advance the run; returns its sequence number."""
        now = iso_now()
        sequence = (
            self.session.scalar(
                sa.select(
                    sa.func.coalesce(sa.func.max(StrategyExecutionProgress.sequence_number), 0)
                ).where(StrategyExecutionProgress.run_id == run_id)
            )
            or 0
        ) + 1
        self.session.add(
            StrategyResult(
                run_id=run_id,
                ticker=ticker,
                strategy_code=strategy_code,
                passed=passed,
                score=score,
                classification=classification,
                reasons=json.dumps(reasons) if reasons is not None else None,
                metrics_json=json.dumps(metrics, sort_keys=True) if metrics is not None else None,
                created_at=now,
            )
        )
        self.session.add(
            StrategyExecutionProgress(
                run_id=run_id,
                ticker=ticker,
                sequence_number=sequence,
                processed_at=now,
                passed=passed,
                score=score,
                classification=classification,
                error_message=error_message,
                processing_time_ms=processing_time_ms,
            )
        )
        processed = StrategyRun.processed_count + 1
        self.session.execute(
            sa.update(StrategyRun)
            .where(StrategyRun.run_id == run_id, StrategyRun.user_id == self.user_id)
            .values(
                current_ticker=ticker,
                processed_count=processed,
                progress_percent=sa.case(
                    (StrategyRun.total_count > 0, processed * 100.0 / StrategyRun.total_count),
                    else_=0.0,
                ),
                last_progress_update=now,
            )
            .execution_options(synchronize_session=False)
        )
        self.session.flush()
        return sequence

    def finish(
        self, run_id: str, status: str = "completed", *, exit_status: str | None = None
    ) -> bool:
        """End a running run as completed, failed or cancelled."""
        if status not in ("completed", "failed", "cancelled"):
            raise ValueError(f"a run finishes as completed, failed or cancelled, not {status!r}")
        run = self.get(run_id)
        if run is None:
            return False
        now = iso_now()
        run.execution_status = status
        run.exit_status = exit_status or status
        run.completed_at = now
        run.last_progress_update = now
        if status == "completed":
            run.progress_percent = 100.0
        run.duration_ms = _elapsed_ms(run.started_at, now)
        self.session.flush()
        return True

    def recent_progress(self, run_id: str, *, limit: int = 10) -> list[StrategyExecutionProgress]:
        """The last tickers processed, newest first."""
        return self._progress(run_id, StrategyExecutionProgress.sequence_number.desc(), limit)

    def timeline(self, run_id: str) -> list[StrategyExecutionProgress]:
        """Every ticker of the run in processing order."""
        return self._progress(run_id, StrategyExecutionProgress.sequence_number, None)

    def _progress(
        self, run_id: str, order: Any, limit: int | None
    ) -> list[StrategyExecutionProgress]:
        query = (
            sa.select(StrategyExecutionProgress)
            .join(StrategyRun, StrategyRun.run_id == StrategyExecutionProgress.run_id)
            .where(StrategyRun.run_id == run_id, StrategyRun.user_id == self.user_id)
            .order_by(order)
        )
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def results(self, run_id: str, *, passed: bool | None = None) -> list[StrategyResult]:
        """The run's per-ticker results, best score first."""
        query = (
            sa.select(StrategyResult)
            .join(StrategyRun, StrategyRun.run_id == StrategyResult.run_id)
            .where(StrategyRun.run_id == run_id, StrategyRun.user_id == self.user_id)
        )
        if passed is not None:
            query = query.where(StrategyResult.passed.is_(passed))
        query = query.order_by(StrategyResult.score.desc(), StrategyResult.ticker)
        return list(self.session.scalars(query))

    def history(
        self, *, strategy_code: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[StrategyRun]:
        query = sa.select(StrategyRun).where(StrategyRun.user_id == self.user_id)
        if strategy_code is not None:
            query = query.where(StrategyRun.strategy_code == strategy_code)
        query = query.order_by(StrategyRun.started_at.desc()).offset(offset).limit(limit)
        return list(self.session.scalars(query))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _elapsed_ms(started_at: str, finished_at: str) -> int | None:
    try:
        delta = datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)
    except ValueError:
        return None
    return int(delta.total_seconds() * 1000)
