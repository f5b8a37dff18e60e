"""Real databases for the store tests: SQLite, MariaDB and PostgreSQL, isolated per test run.

Each server gets databases named ``sflow_t_<run>_<n>``, dropped when the run ends. With
``CI=true`` an unreachable server fails the run; elsewhere its tests are skipped with the reason.
Server URLs can be overridden with SFLOW_TEST_MYSQL_URL / SFLOW_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from sflow.store import forget_engines, migrate
from sflow.store.engine import make_engine, session_factory, transaction
from sflow.store.seeding import seed_system_templates
from sflow.store.template_records import load_library_file

FIXTURES = Path(__file__).parent / "fixtures"
LIBRARY = FIXTURES / "templates.json"
BACKENDS = ("sqlite", "mariadb", "postgresql")
SERVER_URLS = {
    "mariadb": os.environ.get("SFLOW_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
    "postgresql": os.environ.get(
        "SFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
}
RUN = uuid.uuid4().hex[:8]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class DatabaseFactory:
    """Creates empty, uniquely named databases on one backend and drops them at the end."""

    def __init__(self, backend: str, tmp_dir: Path) -> None:
        self.backend = backend
        self.tmp_dir = tmp_dir
        self.counter = itertools.count(1)
        self.created: list[str] = []
        self.engines: list[Engine] = []
        self.admin: Engine | None = None
        if backend != "sqlite":
            self.admin = sa.create_engine(
                SERVER_URLS[backend], isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
            )

    def check(self) -> str | None:
        """Why the server cannot be used, or None."""
        if self.admin is None:
            return None
        try:
            with self.admin.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except Exception as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return f"{self.backend} at {SERVER_URLS[self.backend]} unreachable: {reason}"
        return None

    def url(self) -> str:
        """The URL of a new empty database."""
        name = f"sflow_t_{RUN}_{next(self.counter)}"
        if self.admin is None:
            return f"sqlite:///{self.tmp_dir / (name + '.db')}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        self.created.append(name)
        return (
            make_url(SERVER_URLS[self.backend])
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def engine(self) -> Engine:
        engine = make_engine(self.url())
        self.engines.append(engine)
        return engine

    def drop_all(self) -> None:
        for engine in self.engines:
            engine.dispose()
        forget_engines()
        if self.admin is None:
            return
        with self.admin.connect() as connection:
            if self.backend == "postgresql":
                for name in self.created:
                    connection.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    )
            for name in self.created:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        self.admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    """Factory of empty databases on one backend (tests run once per backend)."""
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(request.param))
    problem = factory.check()
    if problem:
        if IN_CI:
            pytest.fail(f"CI requires every database server: {problem}")
        pytest.skip(problem)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def migrated_engine(databases: DatabaseFactory) -> Engine:
    """A database at head with the fixture template library seeded, shared by a run."""
    engine = databases.engine()
    migrate.upgrade(engine)
    with transaction(engine) as session:
        seed_system_templates(session, load_library_file(LIBRARY))
    return engine


@pytest.fixture
def fresh_engine(databases: DatabaseFactory) -> Engine:
    """A new empty database (for migration tests and whole-database jobs)."""
    return databases.engine()


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session on the shared database whose work is rolled back after the test."""
    with session_factory(migrated_engine)() as db_session:
        yield db_session
        db_session.rollback()


@pytest.fixture
def user() -> str:
    """A user nobody else uses: repositories are user-scoped, so tests do not see each other."""
    return f"user-{uuid.uuid4().hex[:12]}"


class QueryCounter:
    """Counts the SQL statements an engine executes (for N+1 checks)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            self.statements.append(statement)


@pytest.fixture
def count_queries(migrated_engine: Engine) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    sa.event.listen(migrated_engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(migrated_engine, "before_cursor_execute", counter)
