"""Migrations: round trip, seed 003's v4 -> v5 backfill, and databases the web builder made."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sflow.store import migrate
from sflow.store.engine import transaction
from sflow.store.repositories.instances import StrategyInstanceRepository
from sflow.store.repositories.quick_tests import QuickTestRepository

SFLOW_TABLES = {
    "schema_meta",
    "strategy_templates",
    "strategy_instances",
    "node_templates",
    "quick_tests",
    "code_generations",
    "builder_sessions",
    "strategy_run",
    "strategy_result",
    "strategy_execution_progress",
}


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_creates_everything_and_downgrade_removes_it(fresh_engine: Engine) -> None:
    assert migrate.current_revision(fresh_engine) is None
    migrate.upgrade(fresh_engine)
    assert migrate.current_revision(fresh_engine) == migrate.head_revision()
    assert tables(fresh_engine) == SFLOW_TABLES | {migrate.VERSION_TABLE}

    migrate.upgrade(fresh_engine)  # already at head: nothing happens
    migrate.downgrade(fresh_engine, "base")
    assert tables(fresh_engine) == {migrate.VERSION_TABLE}
    assert migrate.current_revision(fresh_engine) is None

    migrate.upgrade(fresh_engine)
    assert tables(fresh_engine) == SFLOW_TABLES | {migrate.VERSION_TABLE}


def test_schema_version_row_follows_the_revisions(fresh_engine: Engine) -> None:
    def schema_version() -> str | None:
        with fresh_engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT value FROM schema_meta WHERE {} = 'schema_version'".format(
                        fresh_engine.dialect.identifier_preparer.quote("key")
                    )
                )
            ).scalar()

    migrate.upgrade(fresh_engine, "0003")
    assert schema_version() == "4"
    migrate.upgrade(fresh_engine)
    assert schema_version() == "5"
    migrate.downgrade(fresh_engine, "0003")
    assert schema_version() == "4"
    assert "strategy_execution_progress" not in tables(fresh_engine)
    columns = {c["name"] for c in sa.inspect(fresh_engine).get_columns("strategy_run")}
    assert "execution_status" not in columns and "run_id" in columns


V4_RUNS = [
    # run_id, started_at, completed_at, universe_size
    ("r-done", "2025-01-02T09:00:00", "2025-01-02T09:05:00", 4),
    ("r-broken", "2025-01-03T09:00:00", None, 4),
    ("r-empty", "2025-01-04T09:00:00", "2025-01-04T09:00:01", None),
]
V4_RESULTS = [
    # run_id, ticker, created_at, passed, score, classification
    ("r-done", "MSFT", "2025-01-02T09:01:00", True, 0.9, "BUY"),
    ("r-done", "AAPL", "2025-01-02T09:01:00", False, 0.2, "HOLD"),  # same time: ticker order
    ("r-done", "IBM", "2025-01-02T09:00:30", True, 0.7, "BUY"),
    ("r-done", "ORCL", "2025-01-02T09:04:00", None, None, None),
    ("r-broken", "TSLA", "2025-01-03T09:02:00", False, -0.5, "SELL"),
]


def test_v4_to_v5_backfills_every_value(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0003")
    columns = {c["name"] for c in sa.inspect(fresh_engine).get_columns("strategy_run")}
    assert "execution_status" not in columns  # really the v4 shape
    meta = sa.MetaData()
    run = sa.Table("strategy_run", meta, autoload_with=fresh_engine)
    result = sa.Table("strategy_result", meta, autoload_with=fresh_engine)
    with fresh_engine.begin() as connection:
        for run_id, started, completed, size in V4_RUNS:
            connection.execute(
                run.insert().values(
                    run_id=run_id,
                    strategy_code="screen",
                    started_at=started,
                    completed_at=completed,
                    universe_size=size,
                )
            )
        for run_id, ticker, created, passed, score, classification in V4_RESULTS:
            connection.execute(
                result.insert().values(
                    run_id=run_id,
                    ticker=ticker,
                    strategy_code="screen",
                    created_at=created,
                    passed=passed,
                    score=score,
                    classification=classification,
                )
            )

    migrate.upgrade(fresh_engine)

    with fresh_engine.connect() as connection:
        runs = {
            row.run_id: row
            for row in connection.execute(
                sa.text(
                    "SELECT run_id, execution_status, current_ticker, progress_percent, "
                    "processed_count, total_count, last_progress_update FROM strategy_run"
                )
            )
        }
        progress = connection.execute(
            sa.text(
                "SELECT run_id, ticker, sequence_number, processed_at, passed, score, "
                "classification, error_message, processing_time_ms "
                "FROM strategy_execution_progress ORDER BY run_id, sequence_number"
            )
        ).all()

    def run_values(run_id: str) -> tuple[Any, ...]:
        row = runs[run_id]
        return (
            row.execution_status,
            row.current_ticker,
            row.progress_percent,
            row.processed_count,
            row.total_count,
            row.last_progress_update,
        )

    assert run_values("r-done") == ("completed", None, 100.0, 4, 4, "2025-01-02T09:05:00")
    assert run_values("r-broken") == ("failed", None, 25.0, 1, 4, "2025-01-03T09:00:00")
    assert run_values("r-empty") == ("completed", None, 100.0, 0, None, "2025-01-04T09:00:01")

    def flag(value: Any) -> bool | None:
        return None if value is None else bool(value)

    assert [
        (
            r.run_id,
            r.ticker,
            r.sequence_number,
            r.processed_at,
            flag(r.passed),
            r.score,
            r.classification,
        )
        for r in progress
    ] == [
        ("r-broken", "TSLA", 1, "2025-01-03T09:02:00", False, -0.5, "SELL"),
        ("r-done", "IBM", 1, "2025-01-02T09:00:30", True, 0.7, "BUY"),
        ("r-done", "AAPL", 2, "2025-01-02T09:01:00", False, 0.2, "HOLD"),
        ("r-done", "MSFT", 3, "2025-01-02T09:01:00", True, 0.9, "BUY"),
        ("r-done", "ORCL", 4, "2025-01-02T09:04:00", None, None, None),
    ]
    assert all(r.error_message is None and r.processing_time_ms is None for r in progress)

    # New runs after the migration get the v5 defaults, not the backfill values.
    with fresh_engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO strategy_run (run_id, strategy_code, started_at) "
                "VALUES ('r-new', 'screen', '2025-02-01T00:00:00')"
            )
        )
        new = connection.execute(
            sa.text(
                "SELECT execution_status, progress_percent, processed_count FROM strategy_run "
                "WHERE run_id = 'r-new'"
            )
        ).one()
    assert tuple(new) == ("pending", 0.0, 0)


WEB_BUILDER_DDL = [
    "CREATE TABLE strategy_templates (id VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) "
    "NOT NULL, description TEXT, user_id VARCHAR(255), logic_flow TEXT, parameters TEXT, "
    "status VARCHAR(50) NOT NULL, category VARCHAR(40), created_at {ts} NOT NULL, "
    "updated_at {ts} NOT NULL, is_deleted BOOLEAN NOT NULL, deleted_at {ts}, "
    "created_by VARCHAR(255), updated_by VARCHAR(255))",
    "CREATE TABLE strategy_instances (id VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) "
    "NOT NULL, description TEXT, template_id VARCHAR(36) REFERENCES strategy_templates(id), "
    "user_id VARCHAR(255) NOT NULL, logic_flow TEXT, parameters TEXT, status VARCHAR(50) "
    "NOT NULL, source_text TEXT, source_path VARCHAR(1024), risk_level INTEGER, "
    "created_at {ts} NOT NULL, updated_at {ts} NOT NULL, is_deleted BOOLEAN NOT NULL, "
    "deleted_at {ts}, created_by VARCHAR(255), updated_by VARCHAR(255))",
    "CREATE INDEX web_instances_user ON strategy_instances (user_id)",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('webbuilder_0042')",
    "INSERT INTO strategy_templates VALUES ('t1', 'Momentum', NULL, NULL, '{{}}', '{{}}', "
    "'ACTIVE', 'equity', '2024-01-01 00:00:00', '2024-01-01 00:00:00', FALSE, NULL, NULL, NULL)",
    "INSERT INTO strategy_instances VALUES ('i1', 'mom-a', 'from the web', 't1', 'alice', "
    "'{{\"nodes\": []}}', '{{}}', 'ACTIVE', NULL, NULL, 3, '2024-01-02 00:00:00', "
    "'2024-01-02 00:00:00', FALSE, NULL, 'alice', 'alice')",
]


def snapshot(engine: Engine, table: str) -> tuple[Any, ...]:
    inspector = sa.inspect(engine)
    columns = [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)]
    indexes = sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table))
    with engine.connect() as connection:
        rows = sorted(
            tuple(map(str, r)) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))
        )
    return columns, indexes, rows


def test_web_builder_tables_and_rows_are_left_untouched(fresh_engine: Engine) -> None:
    timestamp = "TIMESTAMP" if fresh_engine.dialect.name == "postgresql" else "DATETIME"
    with fresh_engine.begin() as connection:
        for statement in WEB_BUILDER_DDL:
            connection.exec_driver_sql(statement.format(ts=timestamp))
    before = {
        t: snapshot(fresh_engine, t)
        for t in ("strategy_templates", "strategy_instances", "alembic_version")
    }

    migrate.upgrade(fresh_engine)

    after = {t: snapshot(fresh_engine, t) for t in before}
    assert after == before
    assert tables(fresh_engine) >= SFLOW_TABLES

    # sflow's tables hang off the web builder's instance rows.
    with transaction(fresh_engine) as session:
        instance = StrategyInstanceRepository(session, "alice").require("i1")
        assert instance.name == "mom-a"
        test = QuickTestRepository(session, "alice").create(
            "i1", test_config={"period": "1Y"}, logic_flow_snapshot={"nodes": []}
        )
        assert test.instance_id == "i1"

    migrate.downgrade(fresh_engine, "base")
    remaining = tables(fresh_engine)
    assert {"strategy_templates", "strategy_instances", "alembic_version"} <= remaining
    assert "quick_tests" not in remaining
    assert {t: snapshot(fresh_engine, t) for t in before} == before
