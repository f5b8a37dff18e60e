"""Autosaved drafts: upsert per (user, document), restore, expiry, FK rule, concurrent writers."""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sflow.store.engine import make_engine, transaction
from sflow.store.models import BuilderSession, CodeGeneration, QuickTest
from sflow.store.repositories.generations import CodeGenerationRepository
from sflow.store.repositories.instances import StrategyInstanceRepository
from sflow.store.repositories.quick_tests import QuickTestRepository
from sflow.store.repositories.sessions import (
    DEFAULT_SESSION_TTL,
    BuilderSessionRepository,
    document_session_id,
)

URI = "file:///work/strategies/golden_cross.sflow"


def rows_for(session: Session, user: str) -> list[BuilderSession]:
    return list(session.scalars(sa.select(BuilderSession).where(BuilderSession.user_id == user)))


def test_autosave_then_restore_gives_the_latest_draft(session: Session, user: str) -> None:
    drafts = BuilderSessionRepository(session, user)
    first = drafts.autosave(
        URI, text="v1", logic_flow={"nodes": [1]}, version=1, ui_state={"fold": [3]}
    )
    second = drafts.autosave(URI, text="v2", logic_flow={"nodes": [2]}, version=2)
    assert first == second == document_session_id(user, URI)
    assert len(rows_for(session, user)) == 1

    draft = drafts.restore(URI)
    assert draft is not None
    assert (draft.text, draft.version, draft.logic_flow, draft.ui_state) == (
        "v2",
        2,
        {"nodes": [2]},
        None,
    )
    assert draft.document_uri == URI
    row = drafts.get(first)
    assert row is not None and row.session_type == "AUTOSAVE" and row.is_active
    assert row.expires_at is not None
    assert abs((row.expires_at - row.last_activity_at) - DEFAULT_SESSION_TTL) < timedelta(seconds=1)


def test_sessions_are_per_user_and_per_document(session: Session, user: str) -> None:
    mine, theirs = (
        BuilderSessionRepository(session, user),
        BuilderSessionRepository(session, user + "x"),
    )
    mine.autosave(URI, text="mine")
    mine.autosave(URI + "2", text="other doc")
    theirs.autosave(URI, text="theirs")
    assert mine.restore(URI).text == "mine"  # type: ignore[union-attr]
    assert theirs.restore(URI).text == "theirs"  # type: ignore[union-attr]
    assert theirs.get(document_session_id(user, URI)) is None
    assert theirs.delete(document_session_id(user, URI)) is False
    assert [s.session_name for s in mine.active()] == [URI + "2", URI]
    assert mine.latest_active().session_name == URI + "2"  # type: ignore[union-attr]


def test_long_uris_are_keyed_by_the_full_uri(session: Session, user: str) -> None:
    drafts = BuilderSessionRepository(session, user)
    base = "file:///" + "d/" * 200
    drafts.autosave(base + "a.sflow", text="a")
    drafts.autosave(base + "b.sflow", text="b")
    assert drafts.restore(base + "a.sflow").text == "a"  # type: ignore[union-attr]
    assert drafts.restore(base + "b.sflow").document_uri == base + "b.sflow"  # type: ignore[union-attr]


def test_expired_drafts_are_not_restored_until_saved_again(session: Session, user: str) -> None:
    drafts = BuilderSessionRepository(session, user)
    drafts.autosave(URI, text="old", ttl=timedelta(seconds=-1))
    assert drafts.restore(URI) is None
    assert [s.id for s in drafts.expired()] == [document_session_id(user, URI)]
    drafts.autosave(URI, text="new")
    assert drafts.restore(URI).text == "new"  # type: ignore[union-attr]
    assert drafts.expired() == []


def test_close_and_delete(session: Session, user: str) -> None:
    drafts = BuilderSessionRepository(session, user)
    drafts.autosave(URI, text="x")
    assert drafts.close(URI) and drafts.restore(URI) is None
    drafts.autosave(URI, text="y")
    assert drafts.delete_document(URI)
    assert drafts.restore(URI) is None and drafts.get(document_session_id(user, URI)) is None
    drafts.autosave(URI, text="z")  # a deleted draft comes back on the next autosave
    assert drafts.restore(URI).text == "z"  # type: ignore[union-attr]


def test_instance_link_is_kept_and_set_null_when_the_instance_goes(
    migrated_engine: Engine, user: str
) -> None:
    """builder_sessions.instance_id is ON DELETE SET NULL; tests and generations CASCADE."""
    with transaction(migrated_engine) as session:
        instance, _ = StrategyInstanceRepository(session, user).get_or_create(
            "/s.sflow", "gc", logic_flow={"nodes": []}
        )
        drafts = BuilderSessionRepository(session, user)
        drafts.autosave(URI, text="a", instance_id=instance.id)
        drafts.autosave(URI, text="b")  # no instance given: keep the link
        assert drafts.restore(URI).instance_id == instance.id  # type: ignore[union-attr]
        assert drafts.active_for_instance(instance.id) is not None
        QuickTestRepository(session, user).create(
            instance.id, test_config={}, logic_flow_snapshot={}
        )
        CodeGenerationRepository(session, user).record(
            instance.id, generated_code="x = 1\n", logic_flow_snapshot={}
        )
        instance_id = instance.id
    with transaction(migrated_engine) as session:
        assert StrategyInstanceRepository(session, user).delete(instance_id, hard=True)
    with transaction(migrated_engine) as session:
        draft = BuilderSessionRepository(session, user).restore(URI)
        assert draft is not None and draft.text == "b" and draft.instance_id is None
        for model in (QuickTest, CodeGeneration):
            count = session.scalar(
                sa.select(sa.func.count())
                .select_from(model)
                .where(model.instance_id == instance_id)
            )
            assert count == 0, model.__tablename__


def test_the_portable_upsert_fallback_behaves_like_the_atomic_one(
    session: Session, user: str
) -> None:
    from sflow.store.repositories import sessions as module

    drafts = BuilderSessionRepository(session, user)
    drafts.autosave(URI, text="atomic")
    row = {"id": document_session_id(user, URI + "#p"), "user_id": user, "draft_logic_flow": {}}
    changes = {"draft_metadata": {"text": "one"}, "is_active": True}
    module._portable_upsert(session, row | changes, changes)
    module._portable_upsert(session, row | changes, {**changes, "draft_metadata": {"text": "two"}})
    found = drafts.get(row["id"])
    assert found is not None and found.draft_metadata == {"text": "two"}
    assert len(rows_for(session, user)) == 2


WRITERS = 4
WRITES = 25


def _autosave_worker(url: str, user: str, writer: int, errors: multiprocessing.Queue) -> None:
    try:
        engine = make_engine(url)
        for i in range(WRITES):
            with transaction(engine) as session:
                drafts = BuilderSessionRepository(session, user)
                drafts.autosave(
                    URI,
                    text=f"{writer}:{i}",
                    logic_flow={"writer": writer, "i": i},
                    version=i,
                )
                drafts.autosave(f"{URI}.{writer}", text=f"{writer}:{i}", version=i)
        engine.dispose()
    except BaseException:
        errors.put(traceback.format_exc())


def test_concurrent_autosaves_from_processes_lose_nothing(
    migrated_engine: Engine, user: str
) -> None:
    # fork: real, independent processes without re-importing everything (spawn costs seconds).
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    url = migrated_engine.url.render_as_string(hide_password=False)
    workers = [
        context.Process(target=_autosave_worker, args=(url, user, writer, errors))
        for writer in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert all(worker.exitcode == 0 for worker in workers)

    with transaction(migrated_engine) as session:
        rows = rows_for(session, user)
        drafts = BuilderSessionRepository(session, user)
        shared = drafts.restore(URI)
        own = [drafts.restore(f"{URI}.{writer}") for writer in range(WRITERS)]
    assert len(rows) == WRITERS + 1  # one row per document, never a duplicate
    assert all(row.is_active for row in rows)
    assert shared is not None
    writer, i = map(int, shared.text.split(":"))  # type: ignore[union-attr]
    # Whole writes only, and the last commit is necessarily some writer's final write.
    assert shared.logic_flow == {"writer": writer, "i": i} and shared.version == i
    assert i == WRITES - 1
    assert [d.text for d in own] == [f"{w}:{WRITES - 1}" for w in range(WRITERS)]  # type: ignore[union-attr]
