"""First use of a database: create it, migrate it to head, seed the system templates.

:func:`ensure_database` is what the CLI, the language server and the quick-test worker call
before touching the store. The first call in a process checks the database (two small queries
when it is already current); later calls for the same URL return the cached engine at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.engine import Engine

from sflow import config
from sflow.store import migrate
from sflow.store.engine import check_connection, make_engine, session_factory, transaction
from sflow.store.seeding import SeedReport, seed_system_templates, seeded_fingerprint
from sflow.store.template_records import (
    TemplateLibraryFile,
    load_library_file,
    package_library_path,
)

_ready: dict[str, Engine] = {}
_lock = threading.Lock()


def ensure_database(
    url: str | None = None, *, library: Path | None = None, seed: bool = True
) -> Engine:
    """An engine for ``url`` (default: the configured database) whose schema is at head and
    whose system templates match the package library. Safe to call often."""
    url = config.database_url(url)
    cache_key = f"{url}|{library}|{seed}"
    with _lock:
        engine = _ready.get(cache_key)
        if engine is not None:
            return engine
        engine = make_engine(url)
        check_connection(engine)
        if migrate.current_revision(engine) != migrate.head_revision():
            migrate.upgrade(engine)
        if seed:
            seed_if_needed(engine, library)
        _ready[cache_key] = engine
        return engine


def seed_if_needed(engine: Engine, library: Path | None = None) -> SeedReport | None:
    """Seed the system templates when the library file changed since the last seeding.

    Returns None when there is no library file to seed from (the package data is optional
    during development).
    """
    path = library or package_library_path()
    if library is None and not path.exists():
        return None
    parsed: TemplateLibraryFile = load_library_file(path)
    with session_factory(engine)() as session:
        if seeded_fingerprint(session) == parsed.fingerprint:
            return None
    with transaction(engine) as session:
        return seed_system_templates(session, parsed)


def forget_engines() -> None:
    """Dispose cached engines (tests, and processes that fork)."""
    with _lock:
        for engine in _ready.values():
            engine.dispose()
        _ready.clear()
