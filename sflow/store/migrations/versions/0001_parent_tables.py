"""schema_meta and the parent tables strategy_templates / strategy_instances (if absent)

A database shared with the web builder already has the parent tables: they and their rows are
left exactly as they are.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sflow.store.migrations.ddl import (
    base_columns,
    create_indexes,
    created_by,
    existing_tables,
    id_column,
    json_column,
    remember_created,
    set_meta,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = existing_tables()
    created: list[str] = []
    if "schema_meta" not in existing:
        op.create_table(
            "schema_meta",
            sa.Column("key", sa.String(100), primary_key=True),
            sa.Column("value", sa.Text(), nullable=True),
        )
        created.append("schema_meta")
    if "strategy_templates" not in existing:
        op.create_table(
            "strategy_templates",
            id_column(),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("user_id", sa.String(255), nullable=True),
            json_column("logic_flow", "{}"),
            json_column("parameters", "{}"),
            sa.Column("status", sa.String(50), nullable=False, server_default="DRAFT"),
            *base_columns(),
        )
        create_indexes("strategy_templates", ["name", "user_id", "status", "is_deleted"])
        created.append("strategy_templates")
    if "strategy_instances" not in existing:
        op.create_table(
            "strategy_instances",
            id_column(),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column(
                "template_id",
                sa.String(36),
                sa.ForeignKey("strategy_templates.id", ondelete="SET NULL"),
                nullable=True,
            ),
            sa.Column("user_id", sa.String(255), nullable=False),
            json_column("logic_flow", "{}"),
            json_column("parameters", "{}"),
            sa.Column("status", sa.String(50), nullable=False, server_default="DRAFT"),
            sa.Column("source_text", sa.Text(), nullable=True),
            sa.Column("source_path", sa.String(1024), nullable=True),
            *base_columns(),
        )
        create_indexes(
            "strategy_instances",
            ["template_id", "user_id", "is_deleted"],
            {
                "ix_instance_user_name": ["user_id", "name"],
                "ix_instance_user_status": ["user_id", "status"],
            },
        )
        created.append("strategy_instances")
    remember_created(revision, created)


def downgrade() -> None:
    created = created_by(revision)
    for table in ("strategy_instances", "strategy_templates"):
        if table in created:
            op.drop_table(table)
    if "schema_meta" in created:
        op.drop_table("schema_meta")
    else:
        set_meta(f"sflow.created.{revision}", None)
