"""ORM models of the Strategy Builder's shared schema (seed 001) and its two parent tables.

Column names, types, nullability, defaults and index names follow seed 001 exactly; the contract
test in ``tests/store/test_schema_contract.py`` reads the seed and compares a migrated database.

Deliberate departures, each additive or a documented rule choice:

* ``builder_sessions.instance_id`` is ``ON DELETE SET NULL`` (seed 001 lists CASCADE, seed 000 asks
  SET NULL for optional relationships). A session is a user's unsaved draft of a document; when the
  strategy instance it pointed at is deleted (for example from the web builder) the draft becomes a
  draft of a new, unsaved strategy again instead of silently vanishing. ``quick_tests`` and
  ``code_generations`` belong to their instance and cascade.
* ``quick_tests`` carries the run-progress columns of seed 003's ``strategy_run`` (processed_count,
  total_count, progress_percent, current_step, last_progress_update), nullable, so the quick-test
  worker can report per-step progress the same way screens do.
* ``ix_node_unique_system_name (name, is_system_template)`` is a plain index: a unique one would
  forbid two users from each naming a custom template ``my_rsi``. Name uniqueness of system
  templates is kept by the seeding code, and user names by the template repository.
* ``strategy_instances`` has ``source_text`` / ``source_path`` so the editor can find the instance
  of a ``.sflow`` file's strategy.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sflow.store.base import Base, BaseColumns, json_default, now_default, utcnow


class NodeType(enum.StrEnum):
    INDICATOR = "INDICATOR"
    CONDITION = "CONDITION"
    SIGNAL = "SIGNAL"
    POSITION = "POSITION"
    STOP_LOSS = "STOP_LOSS"
    STOP_PROFIT = "STOP_PROFIT"


class QuickTestStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ValidationStatus(enum.StrEnum):
    PENDING = "PENDING"
    VALID = "VALID"
    SYNTAX_ERROR = "SYNTAX_ERROR"
    SECURITY_ERROR = "SECURITY_ERROR"
    COMPLEXITY_ERROR = "COMPLEXITY_ERROR"
    FAILED = "FAILED"


class SessionType(enum.StrEnum):
    DRAFT = "DRAFT"
    AUTOSAVE = "AUTOSAVE"
    COLLABORATIVE = "COLLABORATIVE"


class StrategyStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class StrategyTemplate(BaseColumns, Base):
    """A reusable strategy definition of the web builder (parent of instances)."""

    __tablename__ = "strategy_templates"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    logic_flow: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    status: Mapped[str] = mapped_column(
        sa.String(50), default=StrategyStatus.DRAFT, server_default=StrategyStatus.DRAFT, index=True
    )


class StrategyInstance(BaseColumns, Base):
    """A user's strategy: logic flow, parameters and, for sflow files, source text and path."""

    __tablename__ = "strategy_instances"
    __table_args__ = (
        # source_path is too long for a MySQL index key; (user, name) narrows to a few rows.
        sa.Index("ix_instance_user_name", "user_id", "name"),
        sa.Index("ix_instance_user_status", "user_id", "status"),
    )

    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    template_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("strategy_templates.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    logic_flow: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    status: Mapped[str] = mapped_column(
        sa.String(50), default=StrategyStatus.DRAFT, server_default=StrategyStatus.DRAFT
    )
    source_text: Mapped[str | None] = mapped_column(sa.Text)
    source_path: Mapped[str | None] = mapped_column(sa.String(1024))


class NodeTemplate(BaseColumns, Base):
    """A node of the template library: system templates (user_id NULL) and users' own."""

    __tablename__ = "node_templates"
    __table_args__ = (
        sa.Index("ix_node_type_system", "node_type", "is_system_template"),
        sa.Index("ix_node_user_type", "user_id", "node_type"),
        sa.Index("ix_node_category_type", "category", "node_type"),
        sa.Index("ix_node_deleted_created", "is_deleted", "created_at"),
        sa.Index("ix_node_unique_system_name", "name", "is_system_template"),
    )

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    node_type: Mapped[str] = mapped_column(sa.String(50), index=True)
    category: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    parameter_schema: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    default_parameters: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    input_ports: Mapped[list[Any]] = mapped_column(default=list, server_default=json_default("[]"))
    output_ports: Mapped[list[Any]] = mapped_column(default=list, server_default=json_default("[]"))
    is_system_template: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false(), index=True
    )
    user_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    validation_rules: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    execution_hints: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    usage_count: Mapped[int] = mapped_column(default=0, server_default="0")
    icon: Mapped[str | None] = mapped_column(sa.String(100))
    color: Mapped[str | None] = mapped_column(sa.String(50))
    version: Mapped[str] = mapped_column(sa.String(50), default="1.0.0", server_default="1.0.0")


class QuickTest(BaseColumns, Base):
    """A quick backtest of an instance: configuration, snapshots, state, results and progress."""

    __tablename__ = "quick_tests"
    __table_args__ = (
        sa.Index("ix_quicktest_instance_status", "instance_id", "status"),
        sa.Index("ix_quicktest_user_created", "user_id", "created_at"),
        sa.Index("ix_quicktest_status_created", "status", "created_at"),
        sa.Index("ix_quicktest_user_instance", "user_id", "instance_id"),
        sa.Index("ix_quicktest_deleted_completed", "is_deleted", "completed_at"),
    )

    instance_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("strategy_instances.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    test_name: Mapped[str | None] = mapped_column(sa.String(255))
    test_config: Mapped[dict[str, Any]]
    logic_flow_snapshot: Mapped[dict[str, Any]]
    parameters_snapshot: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    status: Mapped[str] = mapped_column(
        sa.String(50),
        default=QuickTestStatus.PENDING,
        server_default=QuickTestStatus.PENDING,
        index=True,
    )
    test_result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    metrics_summary: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    execution_time: Mapped[float | None] = mapped_column(sa.Float)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    # Progress of the running test (seed 003's run-progress columns), written per trading step.
    processed_count: Mapped[int | None]
    total_count: Mapped[int | None]
    progress_percent: Mapped[float | None] = mapped_column(sa.Float)
    current_step: Mapped[str | None] = mapped_column(sa.String(255))
    last_progress_update: Mapped[datetime | None]

    instance: Mapped[StrategyInstance] = relationship(lazy="raise")


class CodeGeneration(BaseColumns, Base):
    """One generated Python module of an instance, with its validation outcome."""

    __tablename__ = "code_generations"
    __table_args__ = (
        sa.Index("ix_codegen_instance_created", "instance_id", "created_at"),
        sa.Index("ix_codegen_user_created", "user_id", "created_at"),
        sa.Index("ix_codegen_validation_status", "validation_status", "created_at"),
        sa.Index("ix_codegen_user_instance", "user_id", "instance_id"),
        sa.Index("ix_codegen_hash_instance", "code_hash", "instance_id"),
        sa.Index("ix_codegen_deleted_created", "is_deleted", "created_at"),
    )

    instance_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("strategy_instances.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    logic_flow_snapshot: Mapped[dict[str, Any]]
    parameters_snapshot: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    generated_code: Mapped[str] = mapped_column(sa.Text)
    code_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    validation_status: Mapped[str] = mapped_column(
        sa.String(50),
        default=ValidationStatus.PENDING,
        server_default=ValidationStatus.PENDING,
        index=True,
    )
    validation_result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    syntax_check_passed: Mapped[bool | None]
    security_check_passed: Mapped[bool | None]
    code_version: Mapped[str] = mapped_column(
        sa.String(50), default="1.0.0", server_default="1.0.0"
    )
    line_count: Mapped[int | None]
    complexity_score: Mapped[int | None]
    generation_time: Mapped[float | None] = mapped_column(sa.Float)

    instance: Mapped[StrategyInstance] = relationship(lazy="raise")


class BuilderSession(BaseColumns, Base):
    """A draft of one document (editor) or builder canvas (web), autosaved and restorable."""

    __tablename__ = "builder_sessions"
    __table_args__ = (
        sa.Index("ix_session_user_active", "user_id", "is_active"),
        sa.Index("ix_session_user_activity", "user_id", "last_activity_at"),
        sa.Index("ix_session_type_active", "session_type", "is_active"),
        sa.Index("ix_session_expires", "expires_at", "is_active"),
        sa.Index("ix_session_instance_user", "instance_id", "user_id"),
        sa.Index("ix_session_deleted_activity", "is_deleted", "last_activity_at"),
    )

    instance_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("strategy_instances.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    session_type: Mapped[str] = mapped_column(
        sa.String(50), default=SessionType.DRAFT, server_default=SessionType.DRAFT, index=True
    )
    session_name: Mapped[str | None] = mapped_column(sa.String(255))
    draft_logic_flow: Mapped[dict[str, Any]]
    draft_parameters: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=json_default("{}")
    )
    draft_metadata: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true(), index=True)
    last_activity_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=now_default(), index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    collaborator_ids: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    lock_info: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
