"""Seed 003's v4 -> v5: progress columns on strategy_run with backfill, and
strategy_execution_progress backfilled from strategy_result (schema_version = 5)

Backfill of rows that existed before v5 (they are finished runs):
  execution_status      'completed' if completed_at is set, else 'failed'
  processed_count       number of strategy_result rows of the run
  total_count           universe_size
  progress_percent      100.0 for completed runs; for failed ones processed/total*100
                        (capped at 100, 0 when total is unknown) -- seed 003 sets 100 for every
                        old row, which would report an interrupted run as fully processed
  last_progress_update  COALESCE(completed_at, started_at)
  current_ticker        NULL
  progress rows         one per strategy_result row, sequence_number = ROW_NUMBER() per run
                        ordered by created_at then ticker, processed_at = created_at
Each column is added only if missing (seed 003's ``column_exists`` rule), and the progress insert
skips rows already present with NOT EXISTS, which every backend understands.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sflow.store.migrations.ddl import (
    created_by,
    existing_columns,
    existing_tables,
    remember_created,
    set_meta,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_RUN_COLUMNS = (
    ("execution_status", sa.String(20), "pending"),
    ("current_ticker", sa.String(64), None),
    ("progress_percent", sa.Float(), "0"),
    ("processed_count", sa.Integer(), "0"),
    ("total_count", sa.Integer(), None),
    ("last_progress_update", sa.String(32), None),
)
RUN_INDEXES = {
    "ix_run_status": ["execution_status"],
    "ix_run_progress_update": ["last_progress_update"],
}

run = sa.table(
    "strategy_run",
    *(sa.column(name) for name in ("run_id", "started_at", "completed_at", "universe_size")),
    *(sa.column(name) for name, _, _ in NEW_RUN_COLUMNS),
)
result = sa.table(
    "strategy_result",
    *(
        sa.column(n)
        for n in ("run_id", "ticker", "created_at", "passed", "score", "classification")
    ),
)
progress = sa.table(
    "strategy_execution_progress",
    *(sa.column(n) for n in ("run_id", "ticker", "sequence_number", "processed_at")),
    *(sa.column(n) for n in ("passed", "score", "classification")),
)


def upgrade() -> None:
    present = existing_columns("strategy_run")
    added = [name for name, _, _ in NEW_RUN_COLUMNS if name not in present]
    for name, type_, default in NEW_RUN_COLUMNS:
        if name in added:
            op.add_column("strategy_run", sa.Column(name, type_, server_default=default))
    _backfill_runs(added)
    for name, columns in RUN_INDEXES.items():
        if name not in _run_index_names():
            op.create_index(name, "strategy_run", columns)

    created = []
    if "strategy_execution_progress" not in existing_tables():
        _create_progress_table()
        created.append("strategy_execution_progress")
    _backfill_progress()
    remember_created(revision, created + [f"strategy_run.{name}" for name in added])
    set_meta("schema_version", "5")


def _run_index_names() -> set[str]:
    return {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("strategy_run")}


def _backfill_runs(added: list[str]) -> None:
    finished = run.c.completed_at.isnot(None)
    if "execution_status" in added:
        status = sa.case((finished, "completed"), else_="failed")
        op.execute(run.update().values(execution_status=status))
    if "processed_count" in added:
        counted = (
            sa.select(sa.func.count())
            .select_from(result)
            .where(result.c.run_id == run.c.run_id)
            .scalar_subquery()
        )
        op.execute(run.update().values(processed_count=counted))
    if "total_count" in added:
        op.execute(run.update().values(total_count=run.c.universe_size))
    if "progress_percent" in added:
        share = run.c.processed_count * 100.0 / run.c.total_count
        partial = sa.case(
            (run.c.processed_count >= run.c.total_count, 100.0),
            (run.c.total_count > 0, share),
            else_=0.0,
        )
        percent = sa.case((finished, 100.0), (run.c.total_count.is_(None), 0.0), else_=partial)
        op.execute(run.update().values(progress_percent=percent))
    if "last_progress_update" in added:
        latest = sa.func.coalesce(run.c.completed_at, run.c.started_at)
        op.execute(run.update().values(last_progress_update=latest))


def _create_progress_table() -> None:
    op.create_table(
        "strategy_execution_progress",
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("strategy_run.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("ticker", sa.String(64), primary_key=True),
        sa.Column("sequence_number", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.String(32), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("classification", sa.String(100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("processing_time_ms", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_progress_run_sequence", "strategy_execution_progress", ["run_id", "sequence_number"]
    )
    op.create_index("ix_progress_status", "strategy_execution_progress", ["run_id", "passed"])
    op.create_index("ix_progress_processed_at", "strategy_execution_progress", ["processed_at"])


def _backfill_progress() -> None:
    sequence = sa.func.row_number().over(
        partition_by=result.c.run_id, order_by=(result.c.created_at, result.c.ticker)
    )
    already = sa.exists().where(
        progress.c.run_id == result.c.run_id, progress.c.ticker == result.c.ticker
    )
    rows = sa.select(
        result.c.run_id,
        result.c.ticker,
        sequence,
        result.c.created_at,
        result.c.passed,
        result.c.score,
        result.c.classification,
    ).where(~already)
    columns = [
        "run_id",
        "ticker",
        "sequence_number",
        "processed_at",
        "passed",
        "score",
        "classification",
    ]
    op.execute(progress.insert().from_select(columns, rows))


def downgrade() -> None:
    created = created_by(revision)
    if "strategy_execution_progress" in created:
        op.drop_table("strategy_execution_progress")
    dropped = {item.split(".", 1)[1] for item in created if item.startswith("strategy_run.")}
    for name, columns in RUN_INDEXES.items():
        if set(columns) & dropped and name in _run_index_names():
            op.drop_index(name, table_name="strategy_run")
    for name, _, _ in reversed(NEW_RUN_COLUMNS):
        if name in dropped:
            op.drop_column("strategy_run", name)
    set_meta(f"sflow.created.{revision}", None)
    set_meta("schema_version", "4")
