"""Schema migrations, run programmatically: the Alembic scripts ship inside the package.

sflow's revision is kept in its own version table (``sflow_alembic_version``) so that a web
builder sharing the database can keep its own ``alembic_version`` untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

VERSION_TABLE = "sflow_alembic_version"
_LOCK_KEY = 0x5F10_0DB  # any constant shared by every sflow process
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An in-memory Alembic configuration (no alembic.ini on the user's machine)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this sflow."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None for a database sflow has never migrated."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction where the backend allows it."""
    with engine.begin() as connection, _migration_lock(connection):
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` removes everything sflow created)."""
    with engine.begin() as connection, _migration_lock(connection):
        command.downgrade(alembic_config(connection), revision)


@contextlib.contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """Serialise concurrent first runs; SQLite's BEGIN IMMEDIATE already does."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif dialect in ("mysql", "mariadb"):
        connection.execute(sa.text("SELECT GET_LOCK('sflow_migrate', 120)"))
    try:
        yield
    finally:
        if dialect in ("mysql", "mariadb"):
            connection.execute(sa.text("SELECT RELEASE_LOCK('sflow_migrate')"))


def revisions() -> list[tuple[str, str]]:
    """(revision, description) of every shipped migration, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [(s.revision, s.doc or "") for s in reversed(list(scripts.walk_revisions()))]
