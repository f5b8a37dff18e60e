"""All database access of the server, tolerant of failure.

Every method is synchronous (call it with `asyncio.to_thread`) and never raises for database
trouble: it degrades (system templates from the package, autosave skipped) and reports one
warning through `warn` until the database works again. `sflow.store` (and SQLAlchemy) are
imported on first use, off the start-up path.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from sflow import config
from sflow.flow.templates import TemplateLibrary, system_library

RETRY_AFTER_S = 30.0


class StoreUnavailable(Exception):
    """The database cannot be used right now (the message says why)."""


class StoreBridge:
    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._lock = threading.RLock()
        self.database_url: str | None = None
        self.user_id = config.user_id()
        self._engine = None
        self._failed_at: float | None = None
        self._warned = False
        self._library: TemplateLibrary | None = None

    def configure(self, database_url: str | None, user_id: str | None) -> bool:
        """Point at a database/user; True if that changed anything."""
        url = config.database_url(database_url)
        user = config.user_id(user_id)
        with self._lock:
            if url == self.database_url and user == self.user_id:
                return False
            self.database_url, self.user_id = url, user
            self._engine, self._failed_at, self._library = None, None, None
            return True

    # ---- plumbing ---------------------------------------------------------------------------

    def _engine_or_raise(self):
        with self._lock:
            if self._engine is not None:
                return self._engine
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S:
                raise StoreUnavailable("the database is unavailable")
            from sflow.store import ensure_database

            try:
                self._engine = ensure_database(self.database_url)
            except Exception as exc:
                self._fail(exc)
                raise StoreUnavailable(str(exc)) from exc
            return self._engine

    def _fail(self, exc: BaseException) -> None:
        self._failed_at = time.monotonic()
        self._engine = None
        if not self._warned:
            self._warned = True
            self._warn(
                f"sflow: the database is unavailable ({_first_line(exc)}); using the built-in "
                "templates and skipping autosave until it is back"
            )

    def _run(self, work: Callable[[Any], Any]) -> Any:
        """Run ``work(session)`` in one transaction; StoreUnavailable on any database error."""
        engine = self._engine_or_raise()
        from sflow.store import transaction

        try:
            with transaction(engine) as session:
                result = work(session)
        except Exception as exc:
            with self._lock:
                self._fail(exc)
            raise StoreUnavailable(_first_line(exc)) from exc
        with self._lock:
            if self._warned:
                self._warned = False
                self._warn("sflow: the database is available again")
        return result

    @property
    def library_loaded(self) -> bool:
        """Whether the user's templates were read from the database (not the built-in ones)."""
        return self._library is not None

    @property
    def available(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at >= RETRY_AFTER_S

    # ---- templates --------------------------------------------------------------------------

    def library(self, refresh: bool = False) -> TemplateLibrary:
        """System templates plus the user's own, from the database; the package's on failure."""
        with self._lock:
            if self._library is not None and not refresh:
                return self._library
        from sflow.store import load_template_records

        try:
            records = self._run(lambda s: load_template_records(s, self.user_id))
            library = TemplateLibrary.from_records(records) if records else system_library()
        except StoreUnavailable:
            return system_library()
        with self._lock:
            self._library = library
        return library

    # ---- sessions, instances, history -------------------------------------------------------

    def autosave(self, uri: str, text: str, version: int | None, flows: list, ui: dict) -> bool:
        from sflow.store import BuilderSessionRepository

        def work(session):
            BuilderSessionRepository(session, self.user_id).autosave(
                uri, text=text, version=version, logic_flow={"strategies": flows}, ui_state=ui
            )

        try:
            self._run(work)
            return True
        except StoreUnavailable:
            return False

    def close_draft(self, uri: str) -> bool:
        """Deactivate a document's draft once its text is saved (nothing left to restore)."""
        from sflow.store import BuilderSessionRepository

        try:
            return self._run(lambda s: BuilderSessionRepository(s, self.user_id).close(uri))
        except StoreUnavailable:
            return False

    def restore(self, uri: str) -> dict[str, Any] | None:
        from sflow.store import BuilderSessionRepository

        def work(session):
            snap = BuilderSessionRepository(session, self.user_id).restore(uri)
            if snap is None or snap.text is None:
                return None
            return {
                "text": snap.text,
                "savedAt": snap.last_activity_at.isoformat(),
                "version": snap.version,
            }

        return self._run(work)

    def save_instances(self, path: str, text: str, flows: dict[str, dict]) -> list[str]:
        from sflow.store import StrategyInstanceRepository

        def work(session):
            repo = StrategyInstanceRepository(session, self.user_id)
            ids = []
            for name, flow in flows.items():
                instance, _ = repo.get_or_create(
                    path, name, logic_flow=flow, source_text=text, description=flow.get("title")
                )
                ids.append(instance.id)
            return ids

        try:
            return self._run(work)
        except StoreUnavailable:
            return []

    def history(self, path: str, name: str | None = None, limit: int = 20) -> dict[str, Any]:
        from sflow.store import (
            CodeGenerationRepository,
            QuickTestRepository,
            StrategyInstanceRepository,
        )

        def work(session):
            instances = StrategyInstanceRepository(session, self.user_id).for_source(path)
            if name is not None:
                instances = [i for i in instances if i.name == name]
            gens, tests = [], []
            gen_repo = CodeGenerationRepository(session, self.user_id)
            test_repo = QuickTestRepository(session, self.user_id)
            for inst in instances:
                for g in gen_repo.history(instance_id=inst.id, limit=limit):
                    gens.append(
                        {
                            "id": g.id,
                            "strategy": inst.name,
                            "createdAt": g.created_at.isoformat(),
                            "codeHash": g.code_hash,
                            "validationStatus": g.validation_status,
                            "lineCount": g.line_count,
                        }
                    )
                for t in test_repo.history(instance_id=inst.id, limit=limit):
                    tests.append(
                        {
                            "testId": t.id,
                            "strategy": inst.name,
                            "testName": t.test_name,
                            "status": t.status,
                            "createdAt": t.created_at.isoformat(),
                            "metrics": t.metrics_summary,
                            "error": t.error_message,
                        }
                    )
            gens.sort(key=lambda g: g["createdAt"], reverse=True)
            tests.sort(key=lambda t: t["createdAt"], reverse=True)
            return {"generations": gens[:limit], "quickTests": tests[:limit]}

        return self._run(work)

    def cancel_quick_test(self, test_id: str) -> bool:
        """Mark a pending/running quick test CANCELLED (its worker polls the state)."""
        from sflow.store import QuickTestRepository

        return self._run(lambda s: QuickTestRepository(s, self.user_id).cancel(test_id))

    def last_results(self, path: str) -> dict[str, dict[str, Any]]:
        """The newest completed quick test's metrics per strategy name of a file."""
        from sflow.store import QuickTestRepository, StrategyInstanceRepository

        def work(session):
            out = {}
            repo = QuickTestRepository(session, self.user_id)
            for inst in StrategyInstanceRepository(session, self.user_id).for_source(path):
                done = repo.history(instance_id=inst.id, status="COMPLETED", limit=1)
                if done and done[0].metrics_summary:
                    out[inst.name] = dict(done[0].metrics_summary)
            return out

        try:
            return self._run(work)
        except StoreUnavailable:
            return {}

    def cleanup(self) -> dict[str, Any] | None:
        """The retention jobs of seed 000 (expired drafts, stuck tests…); None if unavailable."""
        from sflow.store.jobs import run_cleanup

        try:
            report = self._run(lambda s: run_cleanup(s))
        except StoreUnavailable:
            return None
        return dataclasses.asdict(report)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
