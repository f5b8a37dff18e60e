"""Building blocks of the migration scripts, frozen here so revisions never import the models.

A revision that creates a table which may already exist (the web builder's parent tables, a seed
003 database's run tables) records what it created in ``schema_meta`` and its downgrade drops only
those tables: sflow never removes data it does not own.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from sflow.store.base import now_default

SCHEMA_META = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def timestamp() -> sa.types.TypeEngine[object]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def json_column(name: str, default: str | None = None, nullable: bool = False) -> sa.Column:
    server_default = sa.text(f"('{default}')") if default is not None else None
    return sa.Column(name, sa.JSON(), nullable=nullable, server_default=server_default)


def id_column() -> sa.Column:
    return sa.Column("id", sa.String(36), primary_key=True)


def base_columns() -> list[sa.Column]:
    """created/updated timestamps, soft delete and audit columns (seed 001's base model)."""
    return [
        sa.Column("created_at", timestamp(), nullable=False, server_default=now_default()),
        sa.Column("updated_at", timestamp(), nullable=False, server_default=now_default()),
        sa.Column("is_deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deleted_at", timestamp(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("updated_by", sa.String(255), nullable=True),
    ]


def create_indexes(
    table: str, single: Iterable[str], composite: dict[str, list[str]] | None = None
) -> None:
    """``ix_<table>_<column>`` for each single column, then the named composite indexes."""
    for column in single:
        op.create_index(f"ix_{table}_{column}", table, [column])
    for name, columns in (composite or {}).items():
        op.create_index(name, table, columns)


def existing_tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def existing_columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def set_meta(key: str, value: str | None) -> None:
    op.execute(SCHEMA_META.delete().where(SCHEMA_META.c.key == key))
    if value is not None:
        op.execute(SCHEMA_META.insert().values(key=key, value=value))


def get_meta(key: str) -> str | None:
    query = sa.select(SCHEMA_META.c.value).where(SCHEMA_META.c.key == key)
    return op.get_bind().execute(query).scalar()


def remember_created(revision: str, names: list[str]) -> None:
    set_meta(f"sflow.created.{revision}", ",".join(names))


def created_by(revision: str) -> list[str]:
    value = get_meta(f"sflow.created.{revision}")
    return [name for name in (value or "").split(",") if name]
