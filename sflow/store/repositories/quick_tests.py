"""Quick tests of one user: creation, state transitions, per-step progress, history.

State changes are single guarded UPDATEs (``WHERE status = ...``), so a worker and a cancel
request racing on the same test cannot both win: PENDING -> RUNNING -> COMPLETED | FAILED, and
PENDING/RUNNING -> CANCELLED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from sflow.store.base import utcnow
from sflow.store.models import QuickTest, QuickTestStatus
from sflow.store.repositories.instances import StrategyInstanceRepository

STUCK_AFTER = timedelta(minutes=10)
ACTIVE_STATES = (QuickTestStatus.PENDING.value, QuickTestStatus.RUNNING.value)


class QuickTestRepository:
    """Create, advance and query one user's quick tests."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def _mine(self) -> sa.ColumnElement[bool]:
        return sa.and_(QuickTest.user_id == self.user_id, QuickTest.is_deleted.is_(False))

    def create(
        self,
        instance_id: str,
        *,
        test_config: dict[str, Any],
        logic_flow_snapshot: dict[str, Any],
        parameters_snapshot: dict[str, Any] | None = None,
        test_name: str | None = None,
    ) -> QuickTest:
        """A PENDING quick test of one of the user's instances."""
        StrategyInstanceRepository(self.session, self.user_id).require(instance_id)
        test = QuickTest(
            instance_id=instance_id,
            user_id=self.user_id,
            test_name=test_name,
            test_config=test_config,
            logic_flow_snapshot=logic_flow_snapshot,
            parameters_snapshot=parameters_snapshot or {},
            status=QuickTestStatus.PENDING.value,
            created_by=self.user_id,
            updated_by=self.user_id,
        )
        self.session.add(test)
        self.session.flush()
        return test

    def get(self, test_id: str, *, with_instance: bool = False) -> QuickTest | None:
        query = sa.select(QuickTest).where(QuickTest.id == test_id, self._mine())
        if with_instance:
            query = query.options(selectinload(QuickTest.instance))
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def history(
        self,
        *,
        instance_id: str | None = None,
        instance_ids: Sequence[str] | None = None,
        status: QuickTestStatus | str | None = None,
        limit: int = 20,
        offset: int = 0,
        with_instance: bool = False,
    ) -> list[QuickTest]:
        """Newest first, optionally of one instance (or several, in one query), in one state.

        ``with_instance`` loads every test's instance in one extra query (no N+1).
        """
        query = sa.select(QuickTest).where(self._mine())
        if instance_id is not None:
            query = query.where(QuickTest.instance_id == instance_id)
        if instance_ids is not None:
            query = query.where(QuickTest.instance_id.in_(list(instance_ids)))
        if status is not None:
            query = query.where(QuickTest.status == QuickTestStatus(status).value)
        if with_instance:
            query = query.options(selectinload(QuickTest.instance))
        query = query.order_by(QuickTest.created_at.desc(), QuickTest.id)
        return list(self.session.scalars(query.offset(offset).limit(limit)))

    def pending(self, *, limit: int = 50) -> list[QuickTest]:
        """Tests waiting for a worker, oldest first."""
        return self._in_state(QuickTestStatus.PENDING, QuickTest.created_at, limit)

    def running(self, *, limit: int = 50) -> list[QuickTest]:
        return self._in_state(QuickTestStatus.RUNNING, QuickTest.started_at, limit)

    def _in_state(self, status: QuickTestStatus, order: Any, limit: int) -> list[QuickTest]:
        query = (
            sa.select(QuickTest)
            .where(self._mine(), QuickTest.status == status.value)
            .order_by(order, QuickTest.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def stuck(
        self, *, older_than: timedelta = STUCK_AFTER, now: datetime | None = None
    ) -> list[QuickTest]:
        """RUNNING tests with no progress for ``older_than`` (seed 000 alert: 10 minutes)."""
        query = sa.select(QuickTest).where(
            self._mine(), stuck_condition(older_than, now or utcnow())
        )
        return list(self.session.scalars(query.order_by(QuickTest.started_at)))

    def start(self, test_id: str, *, total_count: int | None = None) -> bool:
        """PENDING -> RUNNING; False if the test was not pending (taken, cancelled)."""
        now = utcnow()
        return self._transition(
            test_id,
            (QuickTestStatus.PENDING.value,),
            status=QuickTestStatus.RUNNING.value,
            started_at=now,
            total_count=total_count,
            processed_count=0,
            progress_percent=0.0,
            last_progress_update=now,
        )

    def report_progress(
        self, test_id: str, *, processed: int, total: int | None = None, step: str | None = None
    ) -> bool:
        """Write per-step progress of a RUNNING test; False if it is no longer running."""
        values: dict[str, Any] = {
            "processed_count": processed,
            "current_step": step,
            "last_progress_update": utcnow(),
        }
        if total is not None:
            values["total_count"] = total
            values["progress_percent"] = min(100.0, processed * 100.0 / total) if total else 0.0
        return self._transition(test_id, (QuickTestStatus.RUNNING.value,), **values)

    def complete(
        self,
        test_id: str,
        *,
        test_result: dict[str, Any],
        metrics_summary: dict[str, Any],
        execution_time: float | None = None,
    ) -> bool:
        """RUNNING -> COMPLETED with its results."""
        now = utcnow()
        return self._transition(
            test_id,
            (QuickTestStatus.RUNNING.value,),
            status=QuickTestStatus.COMPLETED.value,
            test_result=test_result,
            metrics_summary=metrics_summary,
            execution_time=execution_time,
            completed_at=now,
            progress_percent=100.0,
            last_progress_update=now,
        )

    def fail(
        self, test_id: str, error_message: str, *, execution_time: float | None = None
    ) -> bool:
        """PENDING/RUNNING -> FAILED with the reason."""
        now = utcnow()
        return self._transition(
            test_id,
            ACTIVE_STATES,
            status=QuickTestStatus.FAILED.value,
            error_message=error_message,
            execution_time=execution_time,
            completed_at=now,
            last_progress_update=now,
        )

    def cancel(self, test_id: str) -> bool:
        """PENDING/RUNNING -> CANCELLED; False if it had already finished."""
        now = utcnow()
        return self._transition(
            test_id, ACTIVE_STATES, status=QuickTestStatus.CANCELLED.value, completed_at=now
        )

    def _transition(self, test_id: str, from_states: tuple[str, ...], **values: Any) -> bool:
        result = self.session.execute(
            sa.update(QuickTest)
            .where(QuickTest.id == test_id, self._mine(), QuickTest.status.in_(from_states))
            .values(**values, updated_at=utcnow(), updated_by=self.user_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def delete(self, test_id: str) -> bool:
        """Soft-delete a finished test (hides it from history)."""
        now = utcnow()
        result = self.session.execute(
            sa.update(QuickTest)
            .where(QuickTest.id == test_id, self._mine(), QuickTest.status.not_in(ACTIVE_STATES))
            .values(is_deleted=True, deleted_at=now, updated_at=now, updated_by=self.user_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)


def stuck_condition(older_than: timedelta, now: datetime) -> sa.ColumnElement[bool]:
    last_sign_of_life = sa.func.coalesce(QuickTest.last_progress_update, QuickTest.started_at)
    return sa.and_(
        QuickTest.status == QuickTestStatus.RUNNING.value,
        QuickTest.is_deleted.is_(False),
        last_sign_of_life < now - older_than,
    )
