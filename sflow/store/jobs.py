"""Maintenance jobs of seed 000 and the retention table of seed 001 (``sflow db cleanup``).

These run for the whole database, across users: they are the operator's jobs, not a user's
queries. Each job is one or two set-based statements; none loads rows into Python.

Retention (seed 001):
  builder_sessions   inactive once ``expires_at`` passes or after 30 days without activity;
                     deleted 30 days after ``last_activity_at``
  quick_tests        archived (soft-deleted) when their strategy has been ARCHIVED for a year
                     (seed 000's daily job) or they finished more than a year ago; archived tests
                     of ARCHIVED strategies are deleted a year after they were archived
  code_generations   VALID kept forever; failed validations deleted after 90 days
  quick tests stuck  RUNNING without progress for 10 minutes -> FAILED (their worker is gone)
  run progress       strategy_execution_progress rows older than 30 days deleted, completed
                     runs older than 90 days marked ``archived`` (seed 003)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.store.base import utcnow
from sflow.store.models import (
    BuilderSession,
    CodeGeneration,
    QuickTest,
    QuickTestStatus,
    StrategyInstance,
    StrategyStatus,
    ValidationStatus,
)
from sflow.store.repositories.quick_tests import STUCK_AFTER, stuck_condition
from sflow.store.runs import StrategyExecutionProgress, StrategyRun


@dataclass(frozen=True)
class RetentionPolicy:
    session_idle: timedelta = timedelta(days=30)
    session_delete_after: timedelta = timedelta(days=30)
    quick_test_archive_after: timedelta = timedelta(days=365)
    quick_test_delete_after: timedelta = timedelta(days=365)
    failed_generation_delete_after: timedelta = timedelta(days=90)
    stuck_test_after: timedelta = STUCK_AFTER
    progress_delete_after: timedelta = timedelta(days=30)
    run_archive_after: timedelta = timedelta(days=90)


@dataclass
class CleanupReport:
    expired_sessions: int = 0
    deleted_sessions: int = 0
    failed_stuck_tests: int = 0
    archived_quick_tests: int = 0
    deleted_quick_tests: int = 0
    deleted_failed_generations: int = 0
    deleted_progress_rows: int = 0
    archived_runs: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _count(result: sa.Result[object]) -> int:
    return max(getattr(result, "rowcount", 0) or 0, 0)


def expire_sessions(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    """Seed 000 job 1: deactivate sessions past ``expires_at`` or idle for 30 days."""
    return _count(
        session.execute(
            sa.update(BuilderSession)
            .where(BuilderSession.is_active.is_(True))
            .where(
                sa.or_(
                    BuilderSession.expires_at < now,
                    BuilderSession.last_activity_at < now - policy.session_idle,
                )
            )
            .values(is_active=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )


def delete_old_sessions(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    """Delete inactive sessions 30 days after their last activity."""
    return _count(
        session.execute(
            sa.delete(BuilderSession)
            .where(BuilderSession.is_active.is_(False))
            .where(BuilderSession.last_activity_at < now - policy.session_delete_after)
            .execution_options(synchronize_session=False)
        )
    )


def fail_stuck_tests(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    minutes = int(policy.stuck_test_after.total_seconds() // 60)
    return _count(
        session.execute(
            sa.update(QuickTest)
            .where(stuck_condition(policy.stuck_test_after, now))
            .values(
                status=QuickTestStatus.FAILED.value,
                error_message=f"no progress for {minutes} minutes: the worker stopped",
                completed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )


def archive_quick_tests(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    """Seed 000 job 2 (tests of strategies ARCHIVED a year ago) and tests finished a year ago."""
    archived_instances = sa.select(StrategyInstance.id).where(
        StrategyInstance.status == StrategyStatus.ARCHIVED.value,
        StrategyInstance.updated_at < now - policy.quick_test_archive_after,
    )
    return _count(
        session.execute(
            sa.update(QuickTest)
            .where(QuickTest.is_deleted.is_(False))
            .where(
                sa.or_(
                    QuickTest.instance_id.in_(archived_instances),
                    QuickTest.completed_at < now - policy.quick_test_archive_after,
                )
            )
            .values(is_deleted=True, deleted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )


def delete_archived_quick_tests(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    """Delete archived tests of ARCHIVED strategies a year after archival."""
    archived_instances = sa.select(StrategyInstance.id).where(
        StrategyInstance.status == StrategyStatus.ARCHIVED.value
    )
    return _count(
        session.execute(
            sa.delete(QuickTest)
            .where(QuickTest.is_deleted.is_(True))
            .where(QuickTest.deleted_at < now - policy.quick_test_delete_after)
            .where(QuickTest.instance_id.in_(archived_instances))
            .execution_options(synchronize_session=False)
        )
    )


def delete_failed_generations(session: Session, now: datetime, policy: RetentionPolicy) -> int:
    kept = (ValidationStatus.VALID.value, ValidationStatus.PENDING.value)
    return _count(
        session.execute(
            sa.delete(CodeGeneration)
            .where(CodeGeneration.validation_status.not_in(kept))
            .where(CodeGeneration.created_at < now - policy.failed_generation_delete_after)
            .execution_options(synchronize_session=False)
        )
    )


def prune_run_progress(session: Session, now: datetime, policy: RetentionPolicy) -> tuple[int, int]:
    """Seed 003 cleanup: old progress rows deleted, old completed runs archived."""
    progress_cutoff = (now - policy.progress_delete_after).isoformat()
    run_cutoff = (now - policy.run_archive_after).isoformat()
    deleted = session.execute(
        sa.delete(StrategyExecutionProgress)
        .where(StrategyExecutionProgress.processed_at < progress_cutoff)
        .execution_options(synchronize_session=False)
    )
    archived = session.execute(
        sa.update(StrategyRun)
        .where(StrategyRun.execution_status == "completed", StrategyRun.completed_at < run_cutoff)
        .values(execution_status="archived")
        .execution_options(synchronize_session=False)
    )
    return _count(deleted), _count(archived)


def run_cleanup(
    session: Session, *, now: datetime | None = None, policy: RetentionPolicy | None = None
) -> CleanupReport:
    """Every job, in the caller's transaction."""
    now = now or utcnow()
    policy = policy or RetentionPolicy()
    report = CleanupReport()
    report.expired_sessions = expire_sessions(session, now, policy)
    report.deleted_sessions = delete_old_sessions(session, now, policy)
    report.failed_stuck_tests = fail_stuck_tests(session, now, policy)
    report.archived_quick_tests = archive_quick_tests(session, now, policy)
    report.deleted_quick_tests = delete_archived_quick_tests(session, now, policy)
    report.deleted_failed_generations = delete_failed_generations(session, now, policy)
    report.deleted_progress_rows, report.archived_runs = prune_run_progress(session, now, policy)
    return report
