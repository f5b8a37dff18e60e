"""Cleanup jobs (seed 000 + retention of seed 001) and monitoring figures, on a fresh database."""

from __future__ import annotations

import statistics
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sflow.store import migrate
from sflow.store.base import utcnow
from sflow.store.engine import transaction
from sflow.store.jobs import run_cleanup
from sflow.store.models import BuilderSession, CodeGeneration, QuickTest, StrategyInstance
from sflow.store.repositories.generations import CodeGenerationRepository
from sflow.store.repositories.instances import StrategyInstanceRepository
from sflow.store.repositories.quick_tests import QuickTestRepository
from sflow.store.repositories.runs import StrategyRunRepository
from sflow.store.repositories.sessions import BuilderSessionRepository, document_session_id
from sflow.store.stats import collect_stats, percentile_cont

FLOW = {"nodes": []}
DAY = timedelta(days=1)


@pytest.fixture
def engine(fresh_engine: Engine) -> Engine:
    migrate.upgrade(fresh_engine)
    return fresh_engine


def test_percentile_cont_matches_the_sql_definition() -> None:
    values = sorted([4.0, 1.0, 3.0, 2.0, 10.0])
    assert percentile_cont(values, 0.5) == 3.0
    assert percentile_cont(values, 0.95) == pytest.approx(8.8)  # 4 + 0.8 * (10 - 4)
    assert percentile_cont([7.0], 0.99) == 7.0 and percentile_cont([], 0.5) is None
    data = [float(n) for n in range(1, 101)]
    assert percentile_cont(data, 0.5) == statistics.median(data)


def test_cleanup_applies_every_retention_rule(engine: Engine) -> None:
    now = utcnow()
    with transaction(engine) as session:
        instances = StrategyInstanceRepository(session, "ann")
        live, _ = instances.get_or_create("/a.sflow", "live", logic_flow=FLOW)
        old, _ = instances.get_or_create("/a.sflow", "old", logic_flow=FLOW)
        drafts = BuilderSessionRepository(session, "ann")
        drafts.autosave("fresh", text="")
        drafts.autosave("expired", text="", ttl=timedelta(seconds=-5))
        drafts.autosave("idle", text="", ttl=timedelta(days=90))
        drafts.autosave("ancient", text="")
        tests = QuickTestRepository(session, "ann")
        recent = tests.create(live.id, test_config={}, logic_flow_snapshot=FLOW)
        stuck = tests.create(live.id, test_config={}, logic_flow_snapshot=FLOW)
        tests.start(stuck.id)
        year_old = tests.create(live.id, test_config={}, logic_flow_snapshot=FLOW)
        of_archived = tests.create(old.id, test_config={}, logic_flow_snapshot=FLOW)
        purgeable = tests.create(old.id, test_config={}, logic_flow_snapshot=FLOW)
        generations = CodeGenerationRepository(session, "ann")
        valid_old, _ = generations.record(
            live.id, generated_code="a=1", logic_flow_snapshot=FLOW, validation_status="VALID"
        )
        failed_old, _ = generations.record(
            live.id,
            generated_code="a=2",
            logic_flow_snapshot=FLOW,
            validation_status="SECURITY_ERROR",
        )
        failed_new, _ = generations.record(
            live.id,
            generated_code="a=3",
            logic_flow_snapshot=FLOW,
            validation_status="SYNTAX_ERROR",
        )
        runs = StrategyRunRepository(session, "ann")
        run = runs.start("gc", total_count=1)
        runs.record_ticker(run.run_id, "X", strategy_code="gc", passed=True)
        runs.finish(run.run_id)

        def set_(model: type, row_id: str, **values: object) -> None:
            session.execute(sa.update(model).where(model.id == row_id).values(**values))

        set_(BuilderSession, document_session_id("ann", "idle"), last_activity_at=now - 31 * DAY)
        set_(
            BuilderSession,
            document_session_id("ann", "ancient"),
            is_active=False,
            last_activity_at=now - 40 * DAY,
        )
        set_(
            QuickTest,
            stuck.id,
            started_at=now - timedelta(minutes=30),
            last_progress_update=now - timedelta(minutes=30),
        )
        set_(QuickTest, year_old.id, status="COMPLETED", completed_at=now - 400 * DAY)
        set_(QuickTest, purgeable.id, is_deleted=True, deleted_at=now - 400 * DAY)
        set_(StrategyInstance, old.id, status="ARCHIVED", updated_at=now - 400 * DAY)
        set_(CodeGeneration, valid_old.id, created_at=now - 200 * DAY)
        set_(CodeGeneration, failed_old.id, created_at=now - 91 * DAY)
        session.execute(
            sa.text("UPDATE strategy_execution_progress SET processed_at = :t"),
            {"t": (now - 31 * DAY).isoformat()},
        )
        session.execute(
            sa.text("UPDATE strategy_run SET completed_at = :t"),
            {"t": (now - 91 * DAY).isoformat()},
        )

    with transaction(engine) as session:
        report = run_cleanup(session, now=now)
    assert report.as_dict() == {
        "expired_sessions": 2,  # "expired" by expires_at, "idle" by 30 days without activity
        "deleted_sessions": 2,  # "ancient", and "idle": 30 days after its last activity
        "failed_stuck_tests": 1,
        "archived_quick_tests": 2,  # year_old, of_archived
        "deleted_quick_tests": 1,  # purgeable
        "deleted_failed_generations": 1,  # failed_old
        "deleted_progress_rows": 1,
        "archived_runs": 1,
    }
    with transaction(engine) as session:
        state = {t.id: (t.status, t.is_deleted) for t in session.scalars(sa.select(QuickTest))}
        sessions = {s.session_name: s.is_active for s in session.scalars(sa.select(BuilderSession))}
        generations_left = set(session.scalars(sa.select(CodeGeneration.id)))
        assert StrategyRunRepository(session, "ann").get(run.run_id).execution_status == "archived"  # type: ignore[union-attr]
    assert state[recent.id] == ("PENDING", False)
    assert state[stuck.id] == ("FAILED", False)
    assert state[year_old.id] == ("COMPLETED", True) and state[of_archived.id][1] is True
    assert purgeable.id not in state
    assert sessions == {"fresh": True, "expired": False}
    assert generations_left == {valid_old.id, failed_new.id}

    with transaction(engine) as session:  # a second run has nothing left to do
        assert set(run_cleanup(session, now=now).as_dict().values()) == {0}


def test_stats_sessions_percentiles_and_validation_breakdown(engine: Engine) -> None:
    times = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 30.0]
    with transaction(engine) as session:
        for user, documents in (("ann", 3), ("bob", 1)):
            for n in range(documents):
                BuilderSessionRepository(session, user).autosave(f"doc{n}", text="")
        instance, _ = StrategyInstanceRepository(session, "ann").get_or_create(
            "/a", "s", logic_flow=FLOW
        )
        tests = QuickTestRepository(session, "ann")
        for seconds in times:
            test = tests.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
            tests.start(test.id)
            tests.complete(test.id, test_result={}, metrics_summary={}, execution_time=seconds)
        tests.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
        generations = CodeGenerationRepository(session, "ann")
        for n, status in enumerate(["VALID", "VALID", "SECURITY_ERROR", "SYNTAX_ERROR", "VALID"]):
            generations.record(
                instance.id,
                generated_code=f"x={n}",
                logic_flow_snapshot=FLOW,
                validation_status=status,
            )
    with transaction(engine) as session:
        stats = collect_stats(session)
    assert stats["active_sessions"] == {"total": 4, "by_user": {"ann": 3, "bob": 1}}
    execution = stats["quick_tests"]["execution_time_s"]
    assert execution["count"] == 10
    assert execution["p50"] == pytest.approx(2.75)
    assert execution["p95"] == pytest.approx(4.5 + 0.55 * 25.5)
    assert execution["p99"] == pytest.approx(4.5 + 0.91 * 25.5)
    assert stats["quick_tests"]["by_status"] == {"COMPLETED": 10, "PENDING": 1}
    validation = stats["code_validation"]
    assert validation["by_status"] == {"VALID": 3, "SECURITY_ERROR": 1, "SYNTAX_ERROR": 1}
    assert validation["failure_rate"] == pytest.approx(0.4)
    assert any("failure rate" in alert for alert in stats["alerts"])
