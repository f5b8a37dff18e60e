"""Alembic environment: runs on the connection that :mod:`sflow.store.migrate` passes in."""

from __future__ import annotations

from alembic import context

import sflow.store.models
import sflow.store.runs  # noqa: F401
from sflow.store.base import Base
from sflow.store.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
