"""Strategy Builder tables of seed 001: node_templates, quick_tests, code_generations,
builder_sessions, with every index of the seed under its name

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sflow.store.base import now_default
from sflow.store.migrations.ddl import (
    base_columns,
    create_indexes,
    id_column,
    json_column,
    set_meta,
    timestamp,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The row system-template seeders lock, present from the start so they never race to create it.
TEMPLATE_LIBRARY_KEY = "sflow.template_library"
TABLES = ("builder_sessions", "code_generations", "quick_tests", "node_templates")


def _instance_fk(ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey("strategy_instances.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "node_templates",
        id_column(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("node_type", sa.String(50), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        json_column("parameter_schema", "{}"),
        json_column("default_parameters", "{}"),
        json_column("input_ports", "[]"),
        json_column("output_ports", "[]"),
        sa.Column("is_system_template", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("user_id", sa.String(255), nullable=True),
        json_column("validation_rules", nullable=True),
        json_column("execution_hints", nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("icon", sa.String(100), nullable=True),
        sa.Column("color", sa.String(50), nullable=True),
        sa.Column("version", sa.String(50), nullable=False, server_default="1.0.0"),
        *base_columns(),
    )
    create_indexes(
        "node_templates",
        ["name", "node_type", "category", "is_system_template", "user_id", "is_deleted"],
        {
            "ix_node_type_system": ["node_type", "is_system_template"],
            "ix_node_user_type": ["user_id", "node_type"],
            "ix_node_category_type": ["category", "node_type"],
            "ix_node_deleted_created": ["is_deleted", "created_at"],
            "ix_node_unique_system_name": ["name", "is_system_template"],
        },
    )

    op.create_table(
        "quick_tests",
        id_column(),
        sa.Column("instance_id", sa.String(36), _instance_fk("CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("test_name", sa.String(255), nullable=True),
        json_column("test_config"),
        json_column("logic_flow_snapshot"),
        json_column("parameters_snapshot", "{}"),
        sa.Column("status", sa.String(50), nullable=False, server_default="PENDING"),
        json_column("test_result", nullable=True),
        json_column("metrics_summary", nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("started_at", timestamp(), nullable=True),
        sa.Column("completed_at", timestamp(), nullable=True),
        sa.Column("processed_count", sa.Integer(), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("progress_percent", sa.Float(), nullable=True),
        sa.Column("current_step", sa.String(255), nullable=True),
        sa.Column("last_progress_update", timestamp(), nullable=True),
        *base_columns(),
    )
    create_indexes(
        "quick_tests",
        ["instance_id", "user_id", "status", "completed_at", "is_deleted"],
        {
            "ix_quicktest_instance_status": ["instance_id", "status"],
            "ix_quicktest_user_created": ["user_id", "created_at"],
            "ix_quicktest_status_created": ["status", "created_at"],
            "ix_quicktest_user_instance": ["user_id", "instance_id"],
            "ix_quicktest_deleted_completed": ["is_deleted", "completed_at"],
        },
    )

    op.create_table(
        "code_generations",
        id_column(),
        sa.Column("instance_id", sa.String(36), _instance_fk("CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        json_column("logic_flow_snapshot"),
        json_column("parameters_snapshot", "{}"),
        sa.Column("generated_code", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("validation_status", sa.String(50), nullable=False, server_default="PENDING"),
        json_column("validation_result", nullable=True),
        sa.Column("syntax_check_passed", sa.Boolean(), nullable=True),
        sa.Column("security_check_passed", sa.Boolean(), nullable=True),
        sa.Column("code_version", sa.String(50), nullable=False, server_default="1.0.0"),
        sa.Column("line_count", sa.Integer(), nullable=True),
        sa.Column("complexity_score", sa.Integer(), nullable=True),
        sa.Column("generation_time", sa.Float(), nullable=True),
        *base_columns(),
    )
    create_indexes(
        "code_generations",
        ["instance_id", "user_id", "code_hash", "validation_status", "is_deleted"],
        {
            "ix_codegen_instance_created": ["instance_id", "created_at"],
            "ix_codegen_user_created": ["user_id", "created_at"],
            "ix_codegen_validation_status": ["validation_status", "created_at"],
            "ix_codegen_user_instance": ["user_id", "instance_id"],
            "ix_codegen_hash_instance": ["code_hash", "instance_id"],
            "ix_codegen_deleted_created": ["is_deleted", "created_at"],
        },
    )

    op.create_table(
        "builder_sessions",
        id_column(),
        # SET NULL, not seed 001's CASCADE: see sflow.store.models for why.
        sa.Column("instance_id", sa.String(36), _instance_fk("SET NULL"), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("session_type", sa.String(50), nullable=False, server_default="DRAFT"),
        sa.Column("session_name", sa.String(255), nullable=True),
        json_column("draft_logic_flow"),
        json_column("draft_parameters", "{}"),
        json_column("draft_metadata", nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("last_activity_at", timestamp(), nullable=False, server_default=now_default()),
        sa.Column("expires_at", timestamp(), nullable=True),
        json_column("collaborator_ids", nullable=True),
        json_column("lock_info", nullable=True),
        *base_columns(),
    )
    create_indexes(
        "builder_sessions",
        [
            "instance_id",
            "user_id",
            "session_type",
            "is_active",
            "last_activity_at",
            "expires_at",
            "is_deleted",
        ],
        {
            "ix_session_user_active": ["user_id", "is_active"],
            "ix_session_user_activity": ["user_id", "last_activity_at"],
            "ix_session_type_active": ["session_type", "is_active"],
            "ix_session_expires": ["expires_at", "is_active"],
            "ix_session_instance_user": ["instance_id", "user_id"],
            "ix_session_deleted_activity": ["is_deleted", "last_activity_at"],
        },
    )
    set_meta(TEMPLATE_LIBRARY_KEY, "")


def downgrade() -> None:
    set_meta(TEMPLATE_LIBRARY_KEY, None)
    for table in TABLES:
        op.drop_table(table)
