"""Instances, code generations, quick tests and screen runs: scoping, dedup, states, progress."""

from __future__ import annotations

import multiprocessing
import time
import traceback
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sflow.errors import SflowError
from sflow.store.base import utcnow
from sflow.store.engine import make_engine, transaction
from sflow.store.models import QuickTest, StrategyInstance
from sflow.store.repositories.generations import CodeGenerationRepository, code_hash
from sflow.store.repositories.instances import StrategyInstanceRepository
from sflow.store.repositories.quick_tests import QuickTestRepository
from sflow.store.repositories.runs import StrategyRunRepository

from .conftest import QueryCounter

FLOW = {"version": 1, "strategy": "gc", "nodes": [], "edges": []}


def make_instance(
    session: Session, user: str, name: str = "gc", path: str = "/w/a.sflow"
) -> StrategyInstance:
    instance, _ = StrategyInstanceRepository(session, user).get_or_create(
        path, name, logic_flow=FLOW, source_text="strategy gc {}"
    )
    return instance


def test_get_or_create_finds_the_strategy_of_a_file(session: Session, user: str) -> None:
    repo = StrategyInstanceRepository(session, user)
    first, created = repo.get_or_create("/w/a.sflow", "gc", logic_flow=FLOW, source_text="v1")
    again, created_again = repo.get_or_create(
        "/w/a.sflow", "gc", logic_flow={**FLOW, "title": "t"}, source_text="v2"
    )
    other, _ = repo.get_or_create("/w/a.sflow", "momentum", logic_flow=FLOW)
    elsewhere, _ = repo.get_or_create("/w/b.sflow", "gc", logic_flow=FLOW)
    assert created and not created_again and again.id == first.id
    assert again.source_text == "v2" and again.logic_flow["title"] == "t"
    assert len({first.id, other.id, elsewhere.id}) == 3
    assert [i.name for i in repo.for_source("/w/a.sflow")] == ["gc", "momentum"]
    assert first.status == "DRAFT" and repo.set_status(first.id, "ACTIVE").status == "ACTIVE"
    theirs = StrategyInstanceRepository(session, user + "-b")
    assert theirs.get(first.id) is None and theirs.find_by_source("/w/a.sflow", "gc") is None
    with pytest.raises(SflowError):
        theirs.require(first.id)
    assert repo.delete(other.id) and repo.get(other.id) is None


def test_code_generations_are_deduplicated_by_normalized_hash(session: Session, user: str) -> None:
    instance = make_instance(session, user)
    repo = CodeGenerationRepository(session, user)
    code = "import qlib\n\nx = 1\n"
    first, created = repo.record(instance.id, generated_code=code, logic_flow_snapshot=FLOW)
    same, created_again = repo.record(
        instance.id, generated_code="import qlib   \r\n\r\nx = 1\r\n\r\n", logic_flow_snapshot=FLOW
    )
    assert created and not created_again and same.id == first.id
    assert first.code_hash == code_hash(code) and len(first.code_hash) == 64
    assert first.line_count == 3 and first.validation_status == "PENDING"
    assert repo.find_by_hash(instance.id, code_hash(code)) is not None
    assert (
        CodeGenerationRepository(session, user + "-b").find_by_hash(instance.id, first.code_hash)
        is None
    )
    with pytest.raises(SflowError):
        CodeGenerationRepository(session, user + "-b").record(
            instance.id, generated_code=code, logic_flow_snapshot=FLOW
        )


def test_generation_history_and_latest_valid(session: Session, user: str) -> None:
    instance = make_instance(session, user)
    repo = CodeGenerationRepository(session, user)
    statuses = ["VALID", "SECURITY_ERROR", "VALID", "SYNTAX_ERROR"]
    made = [
        repo.record(
            instance.id, generated_code=f"x = {n}\n", logic_flow_snapshot=FLOW, validation_status=s
        )[0]
        for n, s in enumerate(statuses)
    ]
    history = repo.history(instance.id)
    assert [g.id for g in history] == [g.id for g in reversed(made)]
    assert [g.id for g in repo.history(instance.id, limit=2, offset=1)] == [made[2].id, made[1].id]
    assert repo.latest_valid(instance.id).id == made[2].id  # type: ignore[union-attr]
    failures = repo.failures(utcnow() - timedelta(hours=1))
    assert {g.validation_status for g in failures} == {"SECURITY_ERROR", "SYNTAX_ERROR"}
    updated = repo.set_validation(made[3].id, "VALID", {"ok": True}, syntax_check_passed=True)
    assert updated is not None and repo.latest_valid(instance.id).id == made[3].id  # type: ignore[union-attr]


def test_quick_test_lifecycle_and_progress(session: Session, user: str) -> None:
    instance = make_instance(session, user)
    repo = QuickTestRepository(session, user)
    test = repo.create(instance.id, test_config={"period": "1Y"}, logic_flow_snapshot=FLOW)
    assert test.status == "PENDING" and [t.id for t in repo.pending()] == [test.id]
    assert not repo.report_progress(test.id, processed=1, total=10)  # not running yet
    assert repo.start(test.id, total_count=250)
    assert not repo.start(test.id)  # a second worker cannot take it
    assert repo.report_progress(test.id, processed=50, step="2021-03-15")
    assert repo.report_progress(test.id, processed=100, total=250, step="2021-05-20")
    running = repo.get(test.id)
    assert running is not None and running.status == "RUNNING"
    assert (running.processed_count, running.total_count, running.current_step) == (
        100,
        250,
        "2021-05-20",
    )
    assert running.progress_percent == pytest.approx(40.0)
    assert [t.id for t in repo.running()] == [test.id] and repo.pending() == []
    assert repo.complete(
        test.id, test_result={"equity": [1, 2]}, metrics_summary={"ir": 1.2}, execution_time=3.5
    )
    done = repo.get(test.id)
    assert done is not None and done.status == "COMPLETED" and done.progress_percent == 100.0
    assert done.completed_at is not None and done.metrics_summary == {"ir": 1.2}
    assert not repo.cancel(test.id) and not repo.fail(test.id, "late")
    assert QuickTestRepository(session, user + "-b").get(test.id) is None
    assert not QuickTestRepository(session, user + "-b").cancel(test.id)


def test_cancel_fail_and_stuck_tests(session: Session, user: str) -> None:
    instance = make_instance(session, user)
    repo = QuickTestRepository(session, user)
    cancelled = repo.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
    failed = repo.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
    stuck = repo.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
    assert repo.cancel(cancelled.id) and repo.get(cancelled.id).status == "CANCELLED"  # type: ignore[union-attr]
    assert repo.start(failed.id) and repo.fail(failed.id, "qlib data missing")
    assert repo.get(failed.id).error_message == "qlib data missing"  # type: ignore[union-attr]
    assert repo.start(stuck.id)
    assert repo.stuck() == []
    later = utcnow() + timedelta(minutes=11)
    assert [t.id for t in repo.stuck(now=later)] == [stuck.id]
    repo.report_progress(stuck.id, processed=1)
    assert [t.id for t in repo.stuck(now=later)] == [stuck.id]
    assert repo.stuck(now=utcnow() + timedelta(minutes=5)) == []
    assert [t.status for t in repo.history(instance_id=instance.id, status="FAILED")] == ["FAILED"]
    assert repo.delete(failed.id) and not repo.delete(stuck.id)  # running tests stay


def test_history_loads_instances_without_n_plus_one(
    migrated_engine: Engine, user: str, count_queries: QueryCounter
) -> None:
    with transaction(migrated_engine) as session:
        instances = [make_instance(session, user, name=f"s{n}") for n in range(5)]
        repo = QuickTestRepository(session, user)
        for instance in instances:
            for _ in range(2):
                repo.create(instance.id, test_config={}, logic_flow_snapshot=FLOW)
        session.expunge_all()
        count_queries.statements.clear()
        tests = repo.history(limit=100, with_instance=True)
        names = sorted({t.instance.name for t in tests})
        selects = [s for s in count_queries.statements if s.lstrip().upper().startswith("SELECT")]
        some = [instances[0].id, instances[3].id]
        picked = {t.instance_id for t in repo.history(instance_ids=some)}
        picked_count = len(repo.history(instance_ids=some))
        generated = CodeGenerationRepository(session, user).history(instance_ids=some)
        session.rollback()
    assert len(tests) == 10 and names == [f"s{n}" for n in range(5)]
    assert len(selects) == 2  # the tests, then every instance at once
    assert picked_count == 4 and picked == set(some)
    assert generated == []


def test_lazy_instance_loading_is_refused(session: Session, user: str) -> None:
    instance = make_instance(session, user)
    test = QuickTestRepository(session, user).create(
        instance.id, test_config={}, logic_flow_snapshot=FLOW
    )
    session.expunge_all()
    loaded = QuickTestRepository(session, user).history()[0]
    assert isinstance(loaded, QuickTest) and loaded.id == test.id
    with pytest.raises(Exception, match="lazy"):
        _ = loaded.instance


def test_screen_runs_record_results_and_progress(session: Session, user: str) -> None:
    runs = StrategyRunRepository(session, user)
    run = runs.start("gc", total_count=4, universe_source="csi300", params={"k": 5})
    assert (run.execution_status, run.progress_percent, run.processed_count) == ("running", 0.0, 0)
    for ticker, passed, score in [
        ("SH600000", True, 0.8),
        ("SH600001", False, 0.1),
        ("SH600002", True, 0.5),
    ]:
        runs.record_ticker(
            run.run_id, ticker, strategy_code="gc", passed=passed, score=score, processing_time_ms=7
        )
    current = runs.get(run.run_id)
    assert current is not None
    assert (current.processed_count, current.current_ticker) == (3, "SH600002")
    assert current.progress_percent == pytest.approx(75.0)
    assert [p.ticker for p in runs.recent_progress(run.run_id, limit=2)] == ["SH600002", "SH600001"]
    assert [p.sequence_number for p in runs.timeline(run.run_id)] == [1, 2, 3]
    assert [r.ticker for r in runs.results(run.run_id, passed=True)] == ["SH600000", "SH600002"]
    assert runs.finish(run.run_id)
    finished = runs.get(run.run_id)
    assert finished is not None and finished.execution_status == "completed"
    assert finished.progress_percent == 100.0 and finished.duration_ms is not None
    assert [r.run_id for r in runs.history(strategy_code="gc")] == [run.run_id]
    other = StrategyRunRepository(session, user + "-b")
    assert other.get(run.run_id) is None and other.timeline(run.run_id) == []
    with pytest.raises(ValueError):
        runs.finish(run.run_id, "archived")


def _create_instance(url: str, user: str, errors: multiprocessing.Queue) -> None:
    try:
        engine = make_engine(url)
        with transaction(engine) as session:
            StrategyInstanceRepository(session, user).get_or_create(
                "/w/race.sflow", "gc", logic_flow=FLOW
            )
            time.sleep(0.2)  # hold the transaction open while the others try
        engine.dispose()
    except BaseException:
        errors.put(traceback.format_exc())


def test_concurrent_get_or_create_makes_one_instance(migrated_engine: Engine, user: str) -> None:
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    url = migrated_engine.url.render_as_string(hide_password=False)
    workers = [context.Process(target=_create_instance, args=(url, user, errors)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors.empty(), errors.get()
    with transaction(migrated_engine) as session:
        count = session.scalar(
            sa.select(sa.func.count())
            .select_from(StrategyInstance)
            .where(StrategyInstance.user_id == user)
        )
    assert count == 1
