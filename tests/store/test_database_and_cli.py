"""First use (ensure_database) and the `sflow db` / `sflow templates` commands."""

from __future__ import annotations

import json
import multiprocessing
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import sflow.cli
from sflow.errors import SflowError
from sflow.store import ensure_database, forget_engines, migrate
from sflow.store.engine import make_engine

from .conftest import LIBRARY, DatabaseFactory
from .test_templates import user_template

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("SFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("SFLOW_USER", "cli-user")
    monkeypatch.setenv("SFLOW_TEMPLATE_LIBRARY", str(LIBRARY))
    # Only the store's commands: other areas' modules are tested with their own code.
    monkeypatch.setattr(sflow.cli, "COMMAND_MODULES", ["sflow.cli.templates", "sflow.cli.db"])
    forget_engines()
    yield
    forget_engines()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = sflow.cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_embedded_default_is_created_on_first_use(tmp_path: Path) -> None:
    engine = ensure_database(library=LIBRARY)
    database = tmp_path / "home" / "sflow.db"
    assert database.exists()
    assert str(engine.url.database) == str(database)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        templates = connection.execute(
            sa.text("SELECT COUNT(*) FROM node_templates WHERE is_system_template")
        ).scalar()
    assert templates == len(json.loads(LIBRARY.read_text())["templates"])
    assert migrate.current_revision(engine) == migrate.head_revision()

    started = time.perf_counter()
    assert ensure_database(library=LIBRARY) is engine
    assert time.perf_counter() - started < 0.01


def test_an_already_current_database_is_only_checked(tmp_path: Path) -> None:
    ensure_database(library=LIBRARY)
    forget_engines()
    statements: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_a: object) -> None:
        statements.append(statement.strip().split()[0].upper())

    sa.event.listen(Engine, "before_cursor_execute", record)
    try:
        ensure_database(library=LIBRARY)
    finally:
        sa.event.remove(Engine, "before_cursor_execute", record)
    assert set(statements) <= {"SELECT", "PRAGMA", "BEGIN"}
    assert statements.count("SELECT") <= 4


def test_unreachable_server_is_a_one_line_error() -> None:
    with pytest.raises(SflowError, match="cannot connect to postgresql"):
        ensure_database(UNREACHABLE)


def test_an_uncreatable_sqlite_folder_is_a_user_error() -> None:
    with pytest.raises(SflowError, match="cannot create /proc/no-such-dir"):
        ensure_database("sqlite:////proc/no-such-dir/sflow.db")


def test_cli_unreachable_database_exits_nonzero_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["db", "current"], ["db", "stats"], ["templates", "list"]):
        code, out, err = run(capsys, *argv, "--database", UNREACHABLE)
        assert code == 1, argv
        assert "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere" in err
        assert "Traceback" not in err + out
    code, _, err = run(capsys, "db", "current", "--database", "nosuchdb://x")
    assert code != 0 and "Traceback" not in err


def test_db_commands(databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]) -> None:
    url = databases.url()
    code, out, _ = run(capsys, "db", "current", "--database", url, "--json")
    assert code == 0 and json.loads(out)["current"] is None
    code, out, _ = run(capsys, "db", "upgrade", "--database", url)
    assert code == 0 and f"-> {migrate.head_revision()}" in out
    assert "system templates (library 1.0.0): 9 added" in out
    code, out, _ = run(capsys, "db", "upgrade", "--database", url)
    assert code == 0 and "already at" in out and "system templates" not in out
    code, out, _ = run(capsys, "db", "downgrade", "-1", "--database", url)
    assert code == 0 and "-> 0004" in out
    code, out, _ = run(capsys, "db", "downgrade", "0003", "--database", url)
    assert code == 0 and "-> 0003" in out
    code, out, _ = run(capsys, "db", "current", "--database", url, "--json")
    assert json.loads(out)["current"] == "0003"
    code, _, err = run(capsys, "db", "downgrade", "bogus", "--database", url)
    assert code == 2 and "unknown revision" in err
    code, out, _ = run(capsys, "db", "cleanup", "--database", url, "--json")
    assert code == 0 and set(json.loads(out).values()) == {0}
    assert migrate.current_revision(make_engine(url)) == migrate.head_revision()
    code, out, _ = run(capsys, "db", "stats", "--database", url, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["active_sessions"]["total"] == 0
    code, out, _ = run(capsys, "db", "stats", "--database", url)
    assert code == 0 and "active sessions: 0" in out and "p95" in out


def test_templates_commands(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = databases.url()
    code, out, _ = run(capsys, "templates", "seed", "--database", url)
    assert code == 0 and "9 added" in out
    code, out, _ = run(capsys, "templates", "seed", "--file", str(LIBRARY), "--database", url)
    assert code == 0 and "already" in out
    code, _, err = run(capsys, "templates", "seed", "--file", str(tmp_path / "none.json"))
    assert code == 1 and "not found" in err

    good = tmp_path / "mine.json"
    good.write_text(json.dumps(user_template("my_ma")))
    code, out, err = run(capsys, "templates", "add", str(good), "--database", url)
    assert code == 0 and "added template my_ma" in out, err
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps(user_template("sma")))
    code, _, err = run(capsys, "templates", "add", str(clash), "--database", url)
    assert code == 1 and "system template" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(user_template("bad_one", input_ports=[{"name": "x", "type": "int"}])))
    code, _, err = run(capsys, "templates", "add", str(bad), "--database", url)
    assert code == 1 and "input_ports/0/type" in err and "Traceback" not in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = run(capsys, "templates", "add", str(broken), "--database", url)
    assert code == 1 and "invalid JSON" in err

    code, out, _ = run(
        capsys, "templates", "list", "--type", "indicator", "--json", "--database", url
    )
    listed = json.loads(out)
    assert code == 0 and {t["name"] for t in listed} == {
        "price",
        "sma",
        "ema",
        "rsi",
        "macd",
        "my_ma",
    }
    code, out, _ = run(capsys, "templates", "list", "--category", "TREND", "--database", url)
    assert code == 0 and "sma" in out and "rsi" not in out
    code, out, _ = run(
        capsys, "templates", "list", "--json", "--database", url, "--user", "someone-else"
    )
    assert "my_ma" not in {t["name"] for t in json.loads(out)}


def _first_use(url: str, errors: multiprocessing.Queue) -> None:
    try:
        forget_engines()
        ensure_database(url, library=LIBRARY)
    except BaseException:
        errors.put(traceback.format_exc())


def test_concurrent_first_use_migrates_and_seeds_once(databases: DatabaseFactory) -> None:
    url = databases.url()
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    workers = [context.Process(target=_first_use, args=(url, errors)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    engine = make_engine(url)
    with engine.connect() as connection:
        names = (
            connection.execute(
                sa.text("SELECT name FROM node_templates WHERE is_system_template = :yes"),
                {"yes": True},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert sorted(names) == sorted(r["name"] for r in json.loads(LIBRARY.read_text())["templates"])
