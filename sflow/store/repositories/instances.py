"""Strategy instances of one user; the editor finds a file's strategy by (source path, name).

Two processes creating the instance of the same (user, file, strategy) at once (the editor's
didSave and ``sflow generate``) must not create it twice. SQLite's write lock (sflow opens every
transaction with BEGIN IMMEDIATE), a PostgreSQL transaction-scoped advisory lock, or on
MySQL/MariaDB a named ``GET_LOCK`` that :mod:`sflow.store.engine` releases when the connection goes
back to the pool (after the commit), serialise them until the creator commits. Lookups use the
oldest row should duplicates exist anyway (rows written by other tools).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.errors import SflowError
from sflow.store.base import utcnow
from sflow.store.engine import hold_named_lock
from sflow.store.models import StrategyInstance, StrategyStatus


class InstanceNotFoundError(SflowError):
    """No strategy instance with that id belongs to the user."""


class StrategyInstanceRepository:
    """Create, find and update one user's strategy instances."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def _mine(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            StrategyInstance.user_id == self.user_id, StrategyInstance.is_deleted.is_(False)
        )

    def get(self, instance_id: str) -> StrategyInstance | None:
        query = sa.select(StrategyInstance).where(StrategyInstance.id == instance_id, self._mine())
        return self.session.scalars(query).first()

    def require(self, instance_id: str) -> StrategyInstance:
        """The instance, or InstanceNotFoundError (also for another user's instance)."""
        instance = self.get(instance_id)
        if instance is None:
            raise InstanceNotFoundError(f"no strategy instance {instance_id}")
        return instance

    def find_by_source(self, source_path: str, name: str) -> StrategyInstance | None:
        """The instance of strategy ``name`` in the file at ``source_path`` (oldest if several)."""
        query = (
            sa.select(StrategyInstance)
            .where(
                self._mine(),
                StrategyInstance.name == name,
                StrategyInstance.source_path == source_path,
            )
            .order_by(StrategyInstance.created_at, StrategyInstance.id)
            .limit(1)
        )
        return self.session.scalars(query).first()

    def for_source(self, source_path: str) -> list[StrategyInstance]:
        """All instances of one file, by name."""
        query = (
            sa.select(StrategyInstance)
            .where(self._mine(), StrategyInstance.source_path == source_path)
            .order_by(StrategyInstance.name)
        )
        return list(self.session.scalars(query))

    def get_or_create(
        self,
        source_path: str,
        name: str,
        *,
        logic_flow: dict[str, Any],
        source_text: str | None = None,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> tuple[StrategyInstance, bool]:
        """The instance of (file, strategy), created or brought up to date; and whether new."""
        self._serialize_creation(source_path, name)
        instance = self.find_by_source(source_path, name)
        created = instance is None
        if instance is None:
            instance = StrategyInstance(
                user_id=self.user_id,
                name=name,
                source_path=source_path,
                created_by=self.user_id,
                status=StrategyStatus.DRAFT.value,
            )
            self.session.add(instance)
        instance.logic_flow = logic_flow
        if source_text is not None:
            instance.source_text = source_text
        if description is not None:
            instance.description = description
        if parameters is not None:
            instance.parameters = parameters
        instance.updated_by = self.user_id
        self.session.flush()
        return instance, created

    def _serialize_creation(self, source_path: str, name: str) -> None:
        digest = hashlib.sha256(f"{self.user_id}\n{source_path}\n{name}".encode()).digest()
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            key = int.from_bytes(digest[:8], "big", signed=True)
            self.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        elif dialect in ("mysql", "mariadb"):
            hold_named_lock(self.session.connection(), f"sflow_instance_{digest.hex()[:40]}")

    def find(
        self, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[StrategyInstance]:
        """The user's instances, most recently updated first."""
        query = sa.select(StrategyInstance).where(self._mine())
        if status:
            query = query.where(StrategyInstance.status == status)
        query = query.order_by(StrategyInstance.updated_at.desc()).offset(offset).limit(limit)
        return list(self.session.scalars(query))

    def set_status(self, instance_id: str, status: StrategyStatus | str) -> StrategyInstance:
        instance = self.require(instance_id)
        instance.status = StrategyStatus(status).value
        instance.updated_by = self.user_id
        self.session.flush()
        return instance

    def delete(self, instance_id: str, *, hard: bool = False) -> bool:
        """Soft-delete an instance, or delete it with its tests and generations (``hard``)."""
        instance = self.get(instance_id)
        if instance is None:
            return False
        if hard:
            self.session.delete(instance)
        else:
            instance.soft_delete(self.user_id)
            instance.updated_at = utcnow()
        self.session.flush()
        return True
