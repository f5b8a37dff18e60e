"""strategy_run / strategy_result in seed 003's v4 shape (schema_meta schema_version = 4)

A database of the seed 003 tool already has these tables: they are kept as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sflow.store.migrations.ddl import created_by, existing_tables, remember_created, set_meta

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = existing_tables()
    created: list[str] = []
    if "strategy_run" not in existing:
        op.create_table(
            "strategy_run",
            sa.Column("run_id", sa.String(64), primary_key=True),
            sa.Column("strategy_code", sa.String(255), nullable=False),
            sa.Column("version", sa.String(50), nullable=True),
            sa.Column("params_hash", sa.String(64), nullable=True),
            sa.Column("params_json", sa.Text(), nullable=True),
            sa.Column("started_at", sa.String(32), nullable=False),
            sa.Column("completed_at", sa.String(32), nullable=True),
            sa.Column("universe_source", sa.String(255), nullable=True),
            sa.Column("universe_size", sa.Integer(), nullable=True),
            sa.Column("min_score", sa.Float(), nullable=True),
            sa.Column("exit_status", sa.String(50), nullable=True),
            sa.Column("duration_ms", sa.Integer(), nullable=True),
        )
        created.append("strategy_run")
    if "strategy_result" not in existing:
        op.create_table(
            "strategy_result",
            sa.Column(
                "run_id",
                sa.String(64),
                sa.ForeignKey("strategy_run.run_id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("ticker", sa.String(64), primary_key=True),
            sa.Column("strategy_code", sa.String(255), nullable=False),
            sa.Column("passed", sa.Boolean(), nullable=True),
            sa.Column("score", sa.Float(), nullable=True),
            sa.Column("classification", sa.String(100), nullable=True),
            sa.Column("reasons", sa.Text(), nullable=True),
            sa.Column("metrics_json", sa.Text(), nullable=True),
            sa.Column("created_at", sa.String(32), nullable=False),
        )
        created.append("strategy_result")
    remember_created(revision, created)
    set_meta("schema_version", "4")


def downgrade() -> None:
    created = created_by(revision)
    for table in ("strategy_result", "strategy_run"):
        if table in created:
            op.drop_table(table)
    set_meta(f"sflow.created.{revision}", None)
    set_meta("schema_version", None)
