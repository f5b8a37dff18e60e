"""Autosaved drafts in ``builder_sessions``: one row per (user, document), upserted atomically.

How a document is identified: an editor document is its URI. Its session row has a deterministic
primary key, ``uuid5(user_id + "\\n" + uri)`` (:func:`document_session_id`), so the database's
primary key itself guarantees one row per user and document, on every backend, without an index
beyond seed 001's. Autosave is a single ``INSERT ... ON CONFLICT DO UPDATE`` (SQLite, PostgreSQL)
or ``INSERT ... ON DUPLICATE KEY UPDATE`` (MySQL/MariaDB): concurrent autosaves from several
processes never create a second row and never fail; the last one to commit wins, whole (text,
flow and metadata always come from the same write).

Row layout: ``session_type`` AUTOSAVE, ``session_name`` the URI (cut to 255 characters; the full
URI is in the metadata), ``draft_logic_flow`` the logic-flow JSON, ``draft_parameters`` the
strategy parameters, ``draft_metadata`` ``{"uri", "version", "text", "ui"}`` (document text,
editor version and UI state), ``instance_id`` the strategy instance when the document's strategy
has one (an autosave without an instance keeps the one already linked). Autosaving re-activates
an expired or deleted draft and pushes ``expires_at`` to ``now + ttl`` (24 h by default).
Sessions created by the web builder (random ids, no URI) are read through the same methods that
do not need a URI: by id, by instance, most recent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from sflow.store.base import utcnow
from sflow.store.models import BuilderSession, SessionType

DEFAULT_SESSION_TTL = timedelta(hours=24)
_SESSION_NAMESPACE = uuid.UUID("0b1f8a52-6a4e-4c1e-9d55-5f0c1e2a7d31")
_NAME_LENGTH = 255


def document_session_id(user_id: str, document_uri: str) -> str:
    """The primary key of the autosave row of ``document_uri`` for ``user_id``."""
    return str(uuid.uuid5(_SESSION_NAMESPACE, f"{user_id}\n{document_uri}"))


@dataclass(frozen=True)
class DraftSnapshot:
    """A restorable draft: what the editor needs to bring a document back."""

    session_id: str
    document_uri: str | None
    text: str | None
    version: int | None
    logic_flow: dict[str, Any]
    parameters: dict[str, Any]
    ui_state: dict[str, Any] | None
    instance_id: str | None
    last_activity_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, row: BuilderSession) -> DraftSnapshot:
        meta = row.draft_metadata or {}
        return cls(
            session_id=row.id,
            document_uri=meta.get("uri", row.session_name),
            text=meta.get("text"),
            version=meta.get("version"),
            logic_flow=row.draft_logic_flow,
            parameters=row.draft_parameters,
            ui_state=meta.get("ui"),
            instance_id=row.instance_id,
            last_activity_at=row.last_activity_at,
            expires_at=row.expires_at,
        )


class BuilderSessionRepository:
    """One user's drafts: autosave, restore, list, expire and delete."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def _live(self, now: datetime | None = None) -> sa.ColumnElement[bool]:
        now = now or utcnow()
        return sa.and_(
            BuilderSession.user_id == self.user_id,
            BuilderSession.is_active.is_(True),
            BuilderSession.is_deleted.is_(False),
            sa.or_(BuilderSession.expires_at.is_(None), BuilderSession.expires_at > now),
        )

    def autosave(
        self,
        document_uri: str,
        *,
        text: str,
        logic_flow: dict[str, Any] | None = None,
        version: int | None = None,
        parameters: dict[str, Any] | None = None,
        ui_state: dict[str, Any] | None = None,
        instance_id: str | None = None,
        ttl: timedelta = DEFAULT_SESSION_TTL,
    ) -> str:
        """Save the document's current draft in one statement; returns the session id."""
        now = utcnow()
        session_id = document_session_id(self.user_id, document_uri)
        changes: dict[str, Any] = {
            "session_type": SessionType.AUTOSAVE.value,
            "session_name": document_uri[:_NAME_LENGTH],
            "draft_logic_flow": logic_flow or {},
            "draft_parameters": parameters or {},
            "draft_metadata": {
                "uri": document_uri,
                "version": version,
                "text": text,
                "ui": ui_state,
            },
            "is_active": True,
            "is_deleted": False,
            "deleted_at": None,
            "last_activity_at": now,
            "expires_at": now + ttl,
            "updated_at": now,
            "updated_by": self.user_id,
        }
        row = {
            **changes,
            "id": session_id,
            "user_id": self.user_id,
            "instance_id": instance_id,
            "created_at": now,
            "created_by": self.user_id,
        }
        statement = _upsert_statement(self.session.get_bind().dialect.name)
        if statement is not None:
            self.session.execute(statement, row)
        else:
            _portable_upsert(self.session, row, changes)
        return session_id

    def restore(self, document_uri: str) -> DraftSnapshot | None:
        """The live (active, unexpired, not deleted) draft of a document, if any."""
        row = self.active_for_document(document_uri)
        return DraftSnapshot.of(row) if row is not None else None

    def active_for_document(self, document_uri: str) -> BuilderSession | None:
        session_id = document_session_id(self.user_id, document_uri)
        query = sa.select(BuilderSession).where(BuilderSession.id == session_id, self._live())
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def get(self, session_id: str) -> BuilderSession | None:
        """One of the user's sessions by id, whatever its state (not deleted)."""
        query = sa.select(BuilderSession).where(
            BuilderSession.id == session_id,
            BuilderSession.user_id == self.user_id,
            BuilderSession.is_deleted.is_(False),
        )
        return self.session.scalars(query).first()

    def latest_active(self) -> BuilderSession | None:
        """The user's most recently active live session (seed 000 pattern 1)."""
        return next(iter(self.active(limit=1)), None)

    def active(self, *, limit: int = 50, offset: int = 0) -> list[BuilderSession]:
        """The user's live sessions, most recent activity first."""
        query = (
            sa.select(BuilderSession)
            .where(self._live())
            .order_by(BuilderSession.last_activity_at.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def active_for_instance(self, instance_id: str) -> BuilderSession | None:
        """The user's most recent live session of a strategy instance."""
        query = (
            sa.select(BuilderSession)
            .where(BuilderSession.instance_id == instance_id, self._live())
            .order_by(BuilderSession.last_activity_at.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def expired(self, now: datetime | None = None) -> list[BuilderSession]:
        """The user's sessions still marked active whose ``expires_at`` has passed."""
        now = now or utcnow()
        query = sa.select(BuilderSession).where(
            BuilderSession.user_id == self.user_id,
            BuilderSession.is_active.is_(True),
            BuilderSession.expires_at < now,
        )
        return list(self.session.scalars(query))

    def close(self, document_uri: str) -> bool:
        """Deactivate a document's draft (it was saved or discarded); True if there was one."""
        result = self.session.execute(
            sa.update(BuilderSession)
            .where(BuilderSession.id == document_session_id(self.user_id, document_uri))
            .where(BuilderSession.user_id == self.user_id, BuilderSession.is_active.is_(True))
            .values(is_active=False, updated_at=utcnow(), updated_by=self.user_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def delete(self, session_id: str) -> bool:
        """Soft-delete one of the user's sessions; True if it existed."""
        now = utcnow()
        result = self.session.execute(
            sa.update(BuilderSession)
            .where(
                BuilderSession.id == session_id,
                BuilderSession.user_id == self.user_id,
                BuilderSession.is_deleted.is_(False),
            )
            .values(
                is_deleted=True,
                is_active=False,
                deleted_at=now,
                updated_at=now,
                updated_by=self.user_id,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def delete_document(self, document_uri: str) -> bool:
        return self.delete(document_session_id(self.user_id, document_uri))


# Columns an autosave overwrites; instance_id is handled apart (kept when the save has none).
_UPDATED_COLUMNS = (
    "session_type",
    "session_name",
    "draft_logic_flow",
    "draft_parameters",
    "draft_metadata",
    "is_active",
    "is_deleted",
    "deleted_at",
    "last_activity_at",
    "expires_at",
    "updated_at",
    "updated_by",
)
_UPSERTS: dict[str, sa.Executable | None] = {}


def _upsert_statement(dialect: str) -> sa.Executable | None:
    """The dialect's one-statement upsert, built once: each autosave only binds values."""
    if dialect in _UPSERTS:
        return _UPSERTS[dialect]
    table = BuilderSession.__table__
    statement: sa.Executable | None = None
    if dialect in ("mysql", "mariadb"):
        insert = mysql.insert(table)
        new = insert.inserted
        updates = {name: new[name] for name in _UPDATED_COLUMNS}
        updates["instance_id"] = sa.func.coalesce(new.instance_id, table.c.instance_id)
        statement = insert.on_duplicate_key_update(updates)
    elif dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        new = insert.excluded
        updates = {name: new[name] for name in _UPDATED_COLUMNS}
        updates["instance_id"] = sa.func.coalesce(new.instance_id, table.c.instance_id)
        statement = insert.on_conflict_do_update(index_elements=[table.c.id], set_=updates)
    _UPSERTS[dialect] = statement
    return statement


def _portable_upsert(session: Session, row: dict[str, Any], changes: dict[str, Any]) -> None:
    """UPDATE, else INSERT in a savepoint, else UPDATE again: for backends without an upsert."""
    table = BuilderSession.__table__
    update = sa.update(table).where(table.c.id == row["id"]).values(changes)
    if session.execute(update).rowcount:
        return
    try:
        with session.begin_nested():
            session.execute(sa.insert(table).values(row))
    except sa.exc.IntegrityError:
        session.execute(update)
