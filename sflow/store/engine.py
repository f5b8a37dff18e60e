"""Engines and sessions for any SQLAlchemy URL, with the embedded SQLite defaults.

SQLite gets WAL (readers never wait for the autosaving writer), foreign keys on, a busy timeout,
and ``BEGIN IMMEDIATE`` transactions: a transaction that reads and then writes cannot fail with
"database is locked" halfway, because it takes the write lock before its first read. Callers own
transactions: use :func:`transaction` (commit on success, rollback on error).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sflow.errors import NotAvailableError, SflowError, UsageError

SQLITE_BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10

_DRIVER_EXTRAS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres"}


def parse_url(url: str) -> URL:
    """Parse a database URL or raise a usage error naming it."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise UsageError(f"not a database URL: {url!r}") from exc


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **engine_kwargs: Any) -> Engine:
    """An engine for ``url`` configured for sflow (no connection is made yet)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"pool_pre_ping": backend != "sqlite", **engine_kwargs}
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SflowError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        kwargs.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_S
    elif backend in ("mysql", "mariadb"):
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_S)
        kwargs.setdefault("pool_recycle", 3600)
    elif backend == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        extra = _DRIVER_EXTRAS.get(backend)
        hint = f" (install sflow[{extra}])" if extra else ""
        raise NotAvailableError(f"no database driver for {safe_url(parsed)}{hint}") from exc
    if backend == "sqlite":
        _configure_sqlite(engine)
    elif backend in ("mysql", "mariadb"):
        event.listen(engine, "checkin", _release_named_locks)
    return engine


_NAMED_LOCKS = "sflow_named_locks"
NAMED_LOCK_TIMEOUT_S = 30


def hold_named_lock(connection: sa.Connection, name: str) -> None:
    """MySQL/MariaDB: take ``GET_LOCK(name)`` until this connection's transaction is over.

    MySQL's named locks belong to the connection, not the transaction; the pool's checkin (the
    transaction has committed or rolled back by then) releases them.
    """
    got = connection.execute(
        sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": NAMED_LOCK_TIMEOUT_S}
    ).scalar()
    if got != 1:
        raise SflowError(f"database busy: could not lock {name} in {NAMED_LOCK_TIMEOUT_S}s")
    connection.info[_NAMED_LOCKS] = True


def _release_named_locks(dbapi_connection: Any, record: Any) -> None:
    if record is not None and record.info.pop(_NAMED_LOCKS, False):
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT RELEASE_ALL_LOCKS()")
        cursor.close()


def _configure_sqlite(engine: Engine) -> None:
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not pysqlite, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Connect once, turning an unreachable server into a one-line user error."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise SflowError(f"cannot connect to {safe_url(engine.url)}: {reason}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the server hands them on)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session] | Engine) -> Iterator[Session]:
    """One unit of work: a session that commits on success and rolls back on error."""
    make = session_factory(factory) if isinstance(factory, Engine) else factory
    with make() as session, session.begin():
        yield session
