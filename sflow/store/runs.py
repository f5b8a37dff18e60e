"""ORM models of seed 003's progress tracking: schema_meta, strategy_run, strategy_result and
strategy_execution_progress (the v5 shape; migrations build v4 first and then upgrade it).

Seed 003 stores timestamps as ISO-8601 text (``TEXT`` columns); that is kept, so these tables
can be shared with tools that wrote them that way. Keys are bounded strings because MySQL cannot
index unbounded TEXT.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sflow.store.base import Base


def iso_now() -> str:
    """The current UTC time as the ISO-8601 text seed 003 stores."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


class SchemaMeta(Base):
    """Key/value facts about the database: schema version, seeded template-library version."""

    __tablename__ = "schema_meta"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[str | None] = mapped_column(sa.Text)


class StrategyRun(Base):
    """One execution of a strategy over a universe (a screen), with its live progress."""

    __tablename__ = "strategy_run"
    __table_args__ = (
        sa.Index("ix_run_status", "execution_status"),
        sa.Index("ix_run_progress_update", "last_progress_update"),
        sa.Index("ix_run_user_started", "user_id", "started_at"),
    )

    run_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    strategy_code: Mapped[str] = mapped_column(sa.String(255))
    version: Mapped[str | None] = mapped_column(sa.String(50))
    params_hash: Mapped[str | None] = mapped_column(sa.String(64))
    params_json: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[str] = mapped_column(sa.String(32), default=iso_now)
    completed_at: Mapped[str | None] = mapped_column(sa.String(32))
    universe_source: Mapped[str | None] = mapped_column(sa.String(255))
    universe_size: Mapped[int | None]
    min_score: Mapped[float | None] = mapped_column(sa.Float)
    exit_status: Mapped[str | None] = mapped_column(sa.String(50))
    duration_ms: Mapped[int | None]
    # v5 progress columns
    execution_status: Mapped[str | None] = mapped_column(
        sa.String(20), default="pending", server_default="pending"
    )
    current_ticker: Mapped[str | None] = mapped_column(sa.String(64))
    progress_percent: Mapped[float | None] = mapped_column(
        sa.Float, default=0.0, server_default="0"
    )
    processed_count: Mapped[int | None] = mapped_column(default=0, server_default="0")
    total_count: Mapped[int | None]
    last_progress_update: Mapped[str | None] = mapped_column(sa.String(32))
    # sflow's addition (revision 0005): the user who started the run.
    user_id: Mapped[str | None] = mapped_column(sa.String(255))


class StrategyResult(Base):
    """The outcome of one ticker in a run."""

    __tablename__ = "strategy_result"

    run_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("strategy_run.run_id", ondelete="CASCADE"), primary_key=True
    )
    ticker: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    strategy_code: Mapped[str] = mapped_column(sa.String(255))
    passed: Mapped[bool | None]
    score: Mapped[float | None] = mapped_column(sa.Float)
    classification: Mapped[str | None] = mapped_column(sa.String(100))
    reasons: Mapped[str | None] = mapped_column(sa.Text)
    metrics_json: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[str] = mapped_column(sa.String(32), default=iso_now)


class StrategyExecutionProgress(Base):
    """Ticker-by-ticker progress of a run, in processing order."""

    __tablename__ = "strategy_execution_progress"
    __table_args__ = (
        sa.Index("ix_progress_run_sequence", "run_id", "sequence_number"),
        sa.Index("ix_progress_status", "run_id", "passed"),
        sa.Index("ix_progress_processed_at", "processed_at"),
    )

    run_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("strategy_run.run_id", ondelete="CASCADE"), primary_key=True
    )
    ticker: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    sequence_number: Mapped[int]
    processed_at: Mapped[str] = mapped_column(sa.String(32))
    passed: Mapped[bool | None]
    score: Mapped[float | None] = mapped_column(sa.Float)
    classification: Mapped[str | None] = mapped_column(sa.String(100))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    processing_time_ms: Mapped[int | None]
