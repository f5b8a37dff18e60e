"""strategy_run.user_id: who started a run, so run queries can be scoped to a user

Additive and nullable; runs written by seed 003's own tool keep NULL and stay visible to
maintenance jobs only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sflow.store.migrations.ddl import existing_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "user_id" not in existing_columns("strategy_run"):
        op.add_column("strategy_run", sa.Column("user_id", sa.String(255), nullable=True))
        op.create_index("ix_run_user_started", "strategy_run", ["user_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_run_user_started", table_name="strategy_run")
    op.drop_column("strategy_run", "user_id")
