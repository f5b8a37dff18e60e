"""A migrated database matches seed 001: columns, types, nullability, defaults, indexes, FKs."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .seed_contract import TableSpec, parse_tables, seed_001

# sflow's documented, additive departures from seed 001 (see sflow.store.models).
EXTRA_COLUMNS = {
    "quick_tests": {
        "processed_count",
        "total_count",
        "progress_percent",
        "current_step",
        "last_progress_update",
    }
}
FK_RULE_OVERRIDES = {("builder_sessions", "instance_id"): "SET NULL"}


@pytest.fixture(scope="module")
def contract() -> dict[str, TableSpec]:
    path = seed_001()
    if path is None:
        pytest.skip("seed 001 not found next to the repository (../shared/seeds)")
    tables = parse_tables(path.read_text(encoding="utf-8"))
    assert set(tables) == {"node_templates", "quick_tests", "code_generations", "builder_sessions"}
    return tables


def test_the_seed_parser_reads_the_whole_contract(contract: dict[str, TableSpec]) -> None:
    counts = {
        name: (len(t.columns), len(t.indexes), len(t.foreign_keys)) for name, t in contract.items()
    }
    assert counts == {
        "node_templates": (24, 11, 0),
        "quick_tests": (20, 10, 1),
        "code_generations": (21, 11, 1),
        "builder_sessions": (19, 13, 1),
    }


def type_kind(type_: Any, dialect: str) -> str:
    """A reflected type in the seed's vocabulary."""
    if isinstance(type_, sa.JSON):
        return "JSON"
    if dialect == "mysql" and type(type_).__name__ == "TINYINT" and type_.display_width == 1:
        return "BOOLEAN"
    if isinstance(type_, sa.Boolean):
        return "BOOLEAN"
    if isinstance(type_, sa.DateTime):
        return "DATETIME"
    if isinstance(type_, sa.Text) or (isinstance(type_, sa.String) and not type_.length):
        return "TEXT"
    if isinstance(type_, sa.String):
        return f"VARCHAR({type_.length})"
    if isinstance(type_, sa.Integer):
        return "INTEGER"
    if isinstance(type_, sa.Float | sa.Numeric):
        return "FLOAT"
    return type(type_).__name__


def default_matches(seed_default: str, reflected: str | None) -> bool:
    """Does the reflected server default implement the seed's default column?"""
    text = (reflected or "").lower().replace("'", "").replace('"', "")
    wanted = seed_default.strip().lower()
    if wanted in ("-", "null", "uuid", ""):
        return True  # no server default required (UUIDs are made by the application)
    if wanted in ("now()", "current_timestamp"):
        return "current_timestamp" in text or "now()" in text
    if wanted in ("false", "true"):
        return text.strip("()") in ({"false", "0"} if wanted == "false" else {"true", "1"})
    return wanted in text


@pytest.mark.parametrize(
    "table", ["node_templates", "quick_tests", "code_generations", "builder_sessions"]
)
def test_table_matches_seed_001(
    table: str, contract: dict[str, TableSpec], migrated_engine: Engine
) -> None:
    spec = contract[table]
    inspector = sa.inspect(migrated_engine)
    dialect = migrated_engine.dialect.name
    columns = {c["name"]: c for c in inspector.get_columns(table)}

    assert set(columns) - set(spec.columns) == EXTRA_COLUMNS.get(table, set())
    assert set(spec.columns) <= set(columns)
    for extra in EXTRA_COLUMNS.get(table, set()):
        assert columns[extra]["nullable"], f"{table}.{extra} must be nullable (additive)"

    problems = []
    for name, column_spec in spec.columns.items():
        column = columns[name]
        kind = type_kind(column["type"], dialect)
        wanted = column_spec.type
        if wanted == "JSON" and dialect == "mysql" and kind == "TEXT":
            kind = "JSON"  # MariaDB's JSON is LONGTEXT with a json_valid() check
        if kind != wanted:
            problems.append(f"{name}: type {kind} != {wanted}")
        if column["nullable"] != column_spec.nullable:
            problems.append(f"{name}: nullable {column['nullable']} != {column_spec.nullable}")
        if not default_matches(column_spec.default, column.get("default")):
            problems.append(f"{name}: default {column.get('default')!r} != {column_spec.default}")
    assert not problems, "\n".join(problems)

    assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"]
    indexes = {index["name"]: index["column_names"] for index in inspector.get_indexes(table)}
    for name, index_columns in spec.indexes.items():
        assert name in indexes, f"index {name} missing"
        assert indexes[name] == index_columns, name

    foreign_keys = {fk["constrained_columns"][0]: fk for fk in inspector.get_foreign_keys(table)}
    assert set(foreign_keys) == set(spec.foreign_keys)
    for column, (target, target_column, rule) in spec.foreign_keys.items():
        fk = foreign_keys[column]
        assert (fk["referred_table"], fk["referred_columns"]) == (target, [target_column])
        expected = FK_RULE_OVERRIDES.get((table, column), rule)
        assert (fk["options"].get("ondelete") or "").upper() == expected, column


def test_the_sqlalchemy_models_declare_the_same_indexes(contract: dict[str, TableSpec]) -> None:
    from sflow.store.base import Base

    for name, spec in contract.items():
        declared = {
            index.name: [c.name for c in index.columns]
            for index in Base.metadata.tables[name].indexes
        }
        assert {n: declared.get(n) for n in spec.indexes} == spec.indexes
        assert set(Base.metadata.tables[name].columns.keys()) == set(
            spec.columns
        ) | EXTRA_COLUMNS.get(name, set())
