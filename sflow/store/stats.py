"""Monitoring figures of seed 000 (``sflow db stats``), computed portably.

Percentiles are computed in Python with PERCENTILE_CONT's definition (linear interpolation
between the closest ranks), because MySQL/MariaDB and SQLite have no ordered-set aggregates.
Alert thresholds are seed 000's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.store.base import utcnow
from sflow.store.models import BuilderSession, CodeGeneration, QuickTest, QuickTestStatus
from sflow.store.repositories.quick_tests import STUCK_AFTER, stuck_condition

FAILURE_RATE_ALERT = 0.20
ACTIVE_SESSIONS_ALERT = 10_000


def percentile_cont(sorted_values: Sequence[float], fraction: float) -> float | None:
    """PERCENTILE_CONT(fraction) of already sorted values; None for no values."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


def collect_stats(
    session: Session, *, now: datetime | None = None, window: timedelta = timedelta(days=7)
) -> dict[str, Any]:
    """Active sessions per user, quick-test time percentiles, validation breakdown, alerts."""
    now = now or utcnow()
    live = sa.and_(BuilderSession.is_active.is_(True), BuilderSession.is_deleted.is_(False))
    per_user = session.execute(
        sa.select(BuilderSession.user_id, sa.func.count())
        .where(live)
        .group_by(BuilderSession.user_id)
        .order_by(sa.func.count().desc(), BuilderSession.user_id)
    ).all()
    times = list(
        session.scalars(
            sa.select(QuickTest.execution_time)
            .where(
                QuickTest.status == QuickTestStatus.COMPLETED.value,
                QuickTest.execution_time.isnot(None),
            )
            .order_by(QuickTest.execution_time)
        )
    )
    by_status = dict(
        session.execute(
            sa.select(QuickTest.status, sa.func.count())
            .where(QuickTest.is_deleted.is_(False))
            .group_by(QuickTest.status)
        ).all()
    )
    stuck = session.scalar(
        sa.select(sa.func.count()).select_from(QuickTest).where(stuck_condition(STUCK_AFTER, now))
    )
    breakdown = dict(
        session.execute(
            sa.select(CodeGeneration.validation_status, sa.func.count())
            .where(CodeGeneration.created_at > now - window)
            .group_by(CodeGeneration.validation_status)
        ).all()
    )
    judged = sum(n for status, n in breakdown.items() if status != "PENDING")
    failed = sum(n for status, n in breakdown.items() if status not in ("VALID", "PENDING"))
    failure_rate = failed / judged if judged else 0.0
    active_total = sum(n for _, n in per_user)
    alerts = []
    if stuck:
        alerts.append(f"{stuck} quick test(s) RUNNING with no progress for 10 minutes")
    if failure_rate > FAILURE_RATE_ALERT:
        alerts.append(
            f"validation failure rate {failure_rate:.0%} over the last {window.days} days"
        )
    if active_total > ACTIVE_SESSIONS_ALERT:
        alerts.append(f"{active_total} active sessions")
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "active_sessions": {"total": active_total, "by_user": {u: n for u, n in per_user}},
        "quick_tests": {
            "by_status": by_status,
            "stuck": stuck or 0,
            "execution_time_s": {
                "count": len(times),
                "p50": percentile_cont(times, 0.50),
                "p95": percentile_cont(times, 0.95),
                "p99": percentile_cont(times, 0.99),
            },
        },
        "code_validation": {
            "window_days": window.days,
            "by_status": breakdown,
            "failure_rate": round(failure_rate, 4),
        },
        "alerts": alerts,
    }
