"""Generations in a real SQLite store: dedup by code hash, history, diff, user scoping, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sflow.cli import main as cli
from sflow.cli.lang import library_for_cli
from sflow.codegen import GenerationError, generate_for
from sflow.codegen.storage import diff_generations, get_generation, history, instance_key
from sflow.config import Settings
from sflow.store import CodeGeneration, StrategyInstance, ensure_database, transaction

from .conftest import EXAMPLES


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    url = f"sqlite:///{tmp_path / 'db' / 'sflow.db'}"
    monkeypatch.setenv("SFLOW_DATABASE_URL", url)
    monkeypatch.setenv("SFLOW_USER", "alice")
    return Settings.resolve()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "golden.sflow"
    path.write_text((EXAMPLES / "golden_cross.sflow").read_text())
    return path


def _rows(settings: Settings) -> list[CodeGeneration]:
    with transaction(ensure_database(settings.database_url)) as session:
        return list(session.query(CodeGeneration).all())


def test_identical_generation_is_stored_once(settings, source, library) -> None:
    text = source.read_text()
    first = generate_for(text, str(source), None, None, library, store=settings)
    again = generate_for(text, str(source), None, None, library, store=settings)
    assert first.generation_id and not first.duplicate
    assert again.generation_id == first.generation_id and again.duplicate
    (row,) = _rows(settings)
    assert row.generated_code == first.code and row.user_id == "alice"
    assert row.code_hash == first.code_hash
    assert (
        row.validation_status == "VALID" and row.syntax_check_passed and row.security_check_passed
    )
    assert row.validation_result["status"] == "VALID"
    assert row.line_count == len(first.code.splitlines())
    assert row.complexity_score == first.validation.total_complexity > 50
    assert row.logic_flow_snapshot["strategy"] == "golden_cross"
    assert row.parameters_snapshot["test"]["account"] == 100_000_000
    assert row.parameters_snapshot["nodes"]["fast"] == {"period": 5}
    assert row.generation_time > 0 and row.code_version == "0.1.0" and len(row.code_hash) == 64
    with transaction(ensure_database(settings.database_url)) as session:
        (instance,) = session.query(StrategyInstance).all()
        assert instance.source_path == instance_key(str(source)) == str(source.resolve())
        assert instance.name == "golden_cross" and instance.source_text == text


def test_whitespace_only_changes_hash_the_same(settings, source, library) -> None:
    g = generate_for(source.read_text(), str(source), None, None, library, store=settings)
    from sflow.store import CodeGenerationRepository

    with transaction(ensure_database(settings.database_url)) as session:
        row, created = CodeGenerationRepository(session, "alice").record(
            _rows(settings)[0].instance_id,
            generated_code=g.code.replace("\n", "  \r\n"),
            logic_flow_snapshot=g.logic_flow,
        )
    assert not created and row.id == g.generation_id


def test_history_and_diff(settings, source, library, capsys) -> None:
    text = source.read_text()
    a = generate_for(text, str(source), None, None, library, store=settings)
    changed = text.replace("stop_loss(book, pct=0.08)", "stop_loss(book, pct=0.09)")
    b = generate_for(changed, str(source), None, None, library, store=settings)
    assert a.generation_id != b.generation_id
    rows = history(settings, str(source))
    assert [r.id for r in rows] == [b.generation_id, a.generation_id]
    assert rows[0].strategy == "golden_cross" and rows[0].status == "VALID"
    assert history(settings, str(source), "nope") == []
    diff = diff_generations(settings, a.generation_id[:8], b.generation_id[:8])
    assert "-            if close <= entry * (1 - 0.08):" in diff
    assert "+            if close <= entry * (1 - 0.09):" in diff
    bob = Settings(settings.database_url, "bob", settings.qlib_data)
    assert history(bob) == [] and history(bob, str(source)) == []
    with pytest.raises(GenerationError):
        get_generation(bob, a.generation_id)
    with pytest.raises(GenerationError):
        get_generation(settings, "")

    assert cli(["history", str(source)]) == 0
    out = capsys.readouterr().out
    assert a.generation_id[:8] in out and b.generation_id[:8] in out and "VALID" in out
    assert cli(["history", "--diff", a.generation_id, b.generation_id[:6]]) == 0
    assert "+            if close <= entry * (1 - 0.09):" in capsys.readouterr().out
    assert cli(["history", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {i["id"] for i in items} == {a.generation_id, b.generation_id}
    assert cli(["history", "--diff", "0000", b.generation_id]) == 1


def test_cli_generate(settings, source, tmp_path, capsys) -> None:
    assert cli(["generate", str(source)]) == 0
    out = tmp_path / "golden_golden_cross.py"
    assert capsys.readouterr().out.strip() == str(out) and out.is_file()
    assert cli(["generate", str(source), "-o", str(tmp_path / "x.py"), "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["status"] == "VALID" and outcome["duplicate"] is True
    assert (tmp_path / "x.py").read_text() == out.read_text()
    assert cli(["generate", str(source), "--no-store", "-o", str(tmp_path)]) == 0
    assert len(_rows(settings)) == 1


def test_cli_refuses_files_with_errors(settings, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.sflow"
    bad.write_text("strategy s {\n    buy = signal(nope > 1)\n    book = topk(buy, k=5)\n}\n")
    assert cli(["generate", str(bad)]) == 1
    err = capsys.readouterr().err
    with pytest.raises(GenerationError) as info:
        generate_for(bad.read_text(), str(bad), None, None, library_for_cli())
    assert [d.code for d in info.value.diagnostics] == ["SF202"]
    assert "bad.sflow:2:" in err and "SF202" in err and "no code generated" in err
    assert not (tmp_path / "bad_s.py").exists()
    assert _rows(settings) == []


def test_strategy_and_test_selection(settings, library) -> None:
    text = (EXAMPLES / "momentum_topk.sflow").read_text()
    with pytest.raises(GenerationError, match="choose a strategy"):
        generate_for(text, "m.sflow", None, None, library)
    g = generate_for(text, "m.sflow", None, "last_year_pure", library)
    assert g.strategy == "momentum_pure" and g.test == "last_year_pure"
    with pytest.raises(GenerationError, match="is for `momentum_pure`"):
        generate_for(text, "m.sflow", "momentum_topk", "last_year_pure", library)
    with pytest.raises(GenerationError, match="no strategy named"):
        generate_for(text, "m.sflow", "other", None, library)
