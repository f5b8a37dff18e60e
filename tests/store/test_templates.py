"""Node templates: validation of records, seeding, user isolation, filters, usage counts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sflow.store.engine import transaction
from sflow.store.models import NodeTemplate
from sflow.store.repositories.templates import (
    TemplateConflictError,
    TemplateRepository,
    load_template_records,
)
from sflow.store.seeding import seed_system_templates
from sflow.store.template_records import (
    TemplateRecordError,
    load_library_file,
    package_library_path,
    template_problems,
    validate_template_record,
)

from .conftest import LIBRARY, DatabaseFactory, QueryCounter


def library_records() -> list[dict[str, Any]]:
    return json.loads(LIBRARY.read_text())["templates"]


def user_template(name: str = "my_rsi", **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(next(r for r in library_records() if r["name"] == "sma"))
    record.update({"name": name, "display_name": f"My {name}", "category": "MOMENTUM", **changes})
    return record


# --- record validation -------------------------------------------------------------------


def test_every_fixture_and_packaged_template_is_valid() -> None:
    for record in library_records():
        assert template_problems(record) == [], record["name"]
    packaged = package_library_path()
    if packaged.exists():
        assert load_library_file(packaged).records


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"node_type": "WIDGET"}, "node_type"),
        ({"name": "has space"}, "name"),
        ({"input_ports": [{"name": "price", "type": "float"}]}, "input_ports/0/type"),
        (
            {"output_ports": [{"name": "a", "type": "series"}, {"name": "a", "type": "series"}]},
            "duplicate",
        ),
        (
            {"parameter_schema": {"type": "object", "properties": {"period": {"type": "integr"}}}},
            "not a valid JSON Schema",
        ),
        ({"default_parameters": {"period": 0}}, "default_parameters"),
        ({"execution_hints": {}}, "execution_hints"),
        ({"execution_hints": {"qlib": "Mean({price}, {window})"}}, "{window}"),
        ({"execution_hints": {"qlib": "Mean({price, {period})"}}, "malformed"),
        ({"is_system_template": True}, "Additional properties"),
    ],
)
def test_invalid_records_are_rejected_with_the_reason(
    change: dict[str, Any], expected: str
) -> None:
    record = user_template(**change)
    with pytest.raises(TemplateRecordError) as caught:
        validate_template_record(record)
    assert expected in str(caught.value)


def test_missing_execution_hints_are_rejected() -> None:
    record = user_template()
    del record["execution_hints"]
    assert any("execution_hints" in p for p in template_problems(record))


# --- seeding --------------------------------------------------------------------------------


def write_library(path: Path, records: list[dict[str, Any]], version: str = "1.0.0") -> Path:
    path.write_text(json.dumps({"version": version, "templates": records}))
    return path


def system_rows(engine: Engine) -> dict[str, NodeTemplate]:
    with transaction(engine) as session:
        rows = session.scalars(
            sa.select(NodeTemplate).where(NodeTemplate.is_system_template.is_(True))
        )
        return {row.name: row for row in rows}


def test_seeding_is_idempotent_versioned_and_spares_user_templates(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    from sflow.store import migrate

    engine = databases.engine()
    migrate.upgrade(engine)
    records = library_records()
    first = write_library(tmp_path / "v1.json", records)
    with transaction(engine) as session:
        report = seed_system_templates(session, first)
        TemplateRepository(session, "bob").add(user_template("bobs_ma"))
    assert sorted(report.inserted) == sorted(r["name"] for r in records)
    with transaction(engine) as session:
        assert seed_system_templates(session, first).skipped
    with transaction(engine) as session:
        again = seed_system_templates(session, first, force=True)
    assert not again.inserted and len(again.updated) == len(records)

    # A new library: sma gets a new version, ema a new text only, rsi is dropped.
    changed = copy.deepcopy([r for r in records if r["name"] != "rsi"])
    sma = next(r for r in changed if r["name"] == "sma")
    sma.update(version="1.1.0", display_name="SMA (new)")
    ema = next(r for r in changed if r["name"] == "ema")
    ema["display_name"] = "EMA (new text)"
    with transaction(engine) as session:
        TemplateRepository(session, "bob").increment_usage(["sma", "sma"])
        report = seed_system_templates(
            session, write_library(tmp_path / "v2.json", changed, "1.1.0")
        )
    assert (report.inserted, sorted(report.updated), report.retired) == (
        [],
        ["ema", "sma"],
        ["rsi"],
    )
    assert report.unchanged == len(records) - 3

    rows = system_rows(engine)
    assert rows["sma"].display_name == "SMA (new)" and rows["sma"].usage_count == 2
    assert rows["ema"].display_name == "EMA (new text)" and rows["sma"].version == "1.1.0"
    assert rows["rsi"].is_deleted
    with transaction(engine) as session:
        names = {r["name"] for r in load_template_records(session, "bob")}
    assert "rsi" not in names and "bobs_ma" in names

    with transaction(engine) as session:  # back in the library: revived
        report = seed_system_templates(session, first)
    assert report.updated and "rsi" in report.updated
    assert not system_rows(engine)["rsi"].is_deleted


# --- repository -----------------------------------------------------------------------------


def test_users_see_system_templates_and_only_their_own(session: Session, user: str) -> None:
    mine = TemplateRepository(session, user)
    other = TemplateRepository(session, user + "-other")
    created_template, created = mine.add(user_template("my_ma"))
    assert created and created_template.user_id == user and not created_template.is_system_template
    other.add(user_template("their_ma"))

    names = {t.name for t in mine.find()}
    assert {"sma", "rsi", "my_ma"} <= names and "their_ma" not in names
    assert mine.get(created_template.id) is not None
    assert other.get(created_template.id) is None
    assert other.delete(created_template.id) is False
    assert {t.name for t in mine.find(system=False)} == {"my_ma"}

    replaced, created = mine.add(user_template("my_ma", display_name="Mine, v2"))
    assert (
        not created and replaced.id == created_template.id and replaced.display_name == "Mine, v2"
    )
    assert mine.delete(created_template.id)
    assert "my_ma" not in {t.name for t in mine.find()}


def test_a_user_template_cannot_take_a_system_name(session: Session, user: str) -> None:
    with pytest.raises(TemplateConflictError):
        TemplateRepository(session, user).add(user_template("sma"))


def test_filters_ordering_and_pagination(session: Session, user: str) -> None:
    repo = TemplateRepository(session, user)
    repo.add(user_template("my_trend", category="TREND"))
    indicators = repo.find(node_type="indicator")
    assert indicators and all(t.node_type == "INDICATOR" for t in indicators)
    trend = repo.find(node_type="INDICATOR", category="trend")
    assert {t.name for t in trend} >= {"sma", "ema", "my_trend"}
    assert all(t.category == "TREND" for t in trend)
    assert [t.name for t in repo.find(search="moving")] == [
        t.name for t in repo.find() if "moving" in (t.name + t.display_name).lower()
    ]
    everything = [t.name for t in repo.find()]
    assert everything == sorted(everything)
    assert [t.name for t in repo.find(limit=3, offset=2)] == everything[2:5]


def test_usage_counts_are_incremented_in_one_statement_per_count(
    migrated_engine: Engine, user: str, count_queries: QueryCounter
) -> None:
    with transaction(migrated_engine) as session:
        repo = TemplateRepository(session, user)
        before = {t.name: t.usage_count for t in repo.find()}
        count_queries.statements.clear()
        updated = repo.increment_usage(["sma", "ema", "sma", "rsi"])
        updates = [s for s in count_queries.statements if s.lstrip().upper().startswith("UPDATE")]
        assert len(updates) == 2  # +2 for sma, +1 for ema and rsi together
        assert updated == 3
        session.expire_all()
        after = {t.name: t.usage_count for t in repo.find()}
        session.rollback()
    assert after["sma"] == before["sma"] + 2
    assert after["ema"] == before["ema"] + 1 and after["rsi"] == before["rsi"] + 1
    assert after["macd"] == before["macd"]
    popular = None
    with transaction(migrated_engine) as session:
        TemplateRepository(session, user).increment_usage({"macd": 1000})
        popular = TemplateRepository(session, user).find(order="popular")[0].name
        session.rollback()
    assert popular == "macd"


def test_load_template_records_gives_plain_dicts_for_the_validator(
    session: Session, user: str
) -> None:
    TemplateRepository(session, user).add(user_template("my_ma"))
    records = load_template_records(session, user)
    by_name = {r["name"]: r for r in records}
    assert {"sma", "my_ma"} <= set(by_name)
    json.dumps(records, default=str)  # plain data
    assert by_name["sma"]["input_ports"] == [p for p in by_name["sma"]["input_ports"]]
    assert by_name["sma"]["is_system_template"] and not by_name["my_ma"]["is_system_template"]
    assert set(by_name["sma"]) >= {"name", "node_type", "parameter_schema", "execution_hints"}
