"""Declarative base and the columns every shared-schema table carries (seed 001 base columns).

Timestamps are naive UTC everywhere: MariaDB's DATETIME has no zone, so one convention for all
backends keeps comparisons and ordering identical. MySQL/MariaDB get microsecond DATETIME(6) so that
rows written within one second still order by creation time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

# Names of constraints the seeds leave unnamed; stable names make migrations reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
JsonDoc = sa.JSON()


class now_default(FunctionElement[datetime]):
    """Server-side ``CURRENT_TIMESTAMP`` with the column's precision (MySQL needs ``(6)``)."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(now_default)
def _now_default(element: now_default, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(now_default, "mysql")
@compiles(now_default, "mariadb")
def _now_default_mysql(element: now_default, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP(6)"


def utcnow() -> datetime:
    """The current time as naive UTC, the convention of every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    """A fresh primary key: a UUID4 in its 36-character text form."""
    return str(uuid.uuid4())


def json_default(literal: str) -> sa.TextClause:
    """A server default for a JSON column; the parentheses make it an expression on MySQL 8."""
    return sa.text(f"('{literal}')")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: Timestamp,
        dict[str, Any]: JsonDoc,
        list[Any]: JsonDoc,
    }


class BaseColumns:
    """id, created/updated timestamps, soft delete and audit columns of seed 001."""

    id: Mapped[str] = mapped_column(
        sa.String(36), primary_key=True, default=new_id, sort_order=-100
    )
    created_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=now_default(), sort_order=100
    )
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=now_default(), sort_order=100
    )
    is_deleted: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false(), index=True, sort_order=100
    )
    deleted_at: Mapped[datetime | None] = mapped_column(sort_order=100)
    created_by: Mapped[str | None] = mapped_column(sa.String(255), sort_order=100)
    updated_by: Mapped[str | None] = mapped_column(sa.String(255), sort_order=100)

    def soft_delete(self, by: str | None = None) -> None:
        """Mark the row deleted without removing it."""
        self.is_deleted = True
        self.deleted_at = utcnow()
        self.updated_by = by
