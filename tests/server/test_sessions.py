"""Autosave to `builder_sessions`, crash-restore, strategy instances on save, history, settings
and robustness (bad text, huge files, random edits, a database that goes away)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from lsprotocol import types as T

from .conftest import Doc, as_dict, server_env, start, stop

GOLDEN = "golden_cross.sflow"


def _draft(db_url: str, uri: str):
    from sflow.store import BuilderSessionRepository, forget_engines, make_engine, transaction

    engine = make_engine(db_url)
    try:
        with transaction(engine) as session:
            return BuilderSessionRepository(session, "tester").restore(uri)
    finally:
        engine.dispose()
        forget_engines()


def _instances(db_url: str, path: str):
    from sflow.store import StrategyInstanceRepository, make_engine, transaction

    engine = make_engine(db_url)
    try:
        with transaction(engine) as session:
            return [
                (i.name, i.source_text is not None)
                for i in StrategyInstanceRepository(session, "tester").for_source(path)
            ]
    finally:
        engine.dispose()


async def wait_for(predicate, timeout: float = 15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise TimeoutError


async def test_autosave_visible_in_database(client, workspace, db_url):
    doc = Doc.open(client, workspace / GOLDEN)
    doc.insert(T.Position(0, 0), "# edited\n")
    await doc.diagnostics()
    draft = await wait_for(
        lambda: (d := _draft(db_url, doc.uri)) and d.version == doc.version and d
    )
    assert draft.text == doc.text
    assert draft.logic_flow["strategies"][0]["strategy"] == "golden_cross"


@pytest.mark.parametrize("kind", ["vscode", "neovim"])
async def test_crash_restore_round_trip(kind, tmp_path, db_url, workspace):
    first = await start(kind, tmp_path, db_url, workspace)
    first.kind = kind
    doc = Doc.open(first, workspace / GOLDEN)
    doc.insert(T.Position(0, 0), "# unsaved work 😀\n")
    await doc.diagnostics()
    await wait_for(lambda: (d := _draft(db_url, doc.uri)) and d.text == doc.text)
    first._server.kill()  # a crash: no shutdown, no exit
    await first.stop()
    second = await start(kind, tmp_path, db_url, workspace)
    try:
        restored = as_dict(
            await second.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sflow.restoreSession", arguments=[doc.uri])
            )
        )
        assert restored["text"] == doc.text and restored["savedAt"]
        missing = await second.workspace_execute_command_async(
            T.ExecuteCommandParams(
                command="sflow.restoreSession", arguments=[(workspace / "nope.sflow").as_uri()]
            )
        )
        assert missing is None
    finally:
        await stop(second)


async def test_save_updates_instance_and_history(client, workspace, db_url):
    doc = Doc.open(client, workspace / GOLDEN)
    client.text_document_did_save(T.DidSaveTextDocumentParams(text_document=doc.ident))
    found = await wait_for(lambda: _instances(db_url, str(workspace / GOLDEN)))
    assert found == [("golden_cross", True)]
    history = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.showHistory", arguments=[doc.uri, "golden_cross"])
        )
    )
    assert history == {"generations": [], "quickTests": []}
    # saved: the draft is closed, there is nothing to restore
    restored = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sflow.restoreSession", arguments=[doc.uri])
    )
    assert restored is None


async def test_robust_against_bad_text_and_random_edits(client, workspace):
    doc = Doc.open(
        client,
        workspace / "bad.sflow",
        "strategy s {\n  x = sma(\ufffd$close\x00, period=\n}\n\ufeff",
    )
    await doc.diagnostics()
    (workspace / "invalid_utf8.sflow").write_bytes(
        b"# caf\xe9 \xff\nstrategy bad {\n  x = sma($close)\n}\n"
    )
    found = await client.workspace_symbol_async(T.WorkspaceSymbolParams(query="x"))
    assert any(s.name == "x" for s in found)
    assert (
        await client.text_document_hover_async(T.HoverParams(doc.ident, T.Position(99, 99))) is None
    )
    await client.text_document_completion_async(T.CompletionParams(doc.ident, T.Position(1, 200)))
    rng = random.Random(4)
    pieces = [
        "(",
        ")",
        "{",
        "}",
        "\n",
        " ",
        "sma",
        "$close",
        "=",
        ",",
        '"',
        "#",
        "😀",
        "strategy x {",
        "1.5e",
    ]
    for _ in range(60):
        lines = doc.text.split("\n")
        line = rng.randrange(len(lines))
        col = rng.randrange(len(lines[line].encode("utf-16-le")) // 2 + 1)
        if lines[line][:col].encode("utf-16-le") != lines[line].encode("utf-16-le")[: col * 2]:
            col = 0
        doc.insert(T.Position(line, col), rng.choice(pieces))
    await doc.diagnostics()
    assert (
        await client.text_document_document_symbol_async(T.DocumentSymbolParams(doc.ident))
        is not None
    )
    uri = (workspace / "unknown.sflow").as_uri()
    assert (
        await client.text_document_hover_async(
            T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(0, 0))
        )
        is None
    )


async def test_huge_file(client, workspace):
    block = (workspace / GOLDEN).read_text()
    text = "".join(
        block.replace("golden_cross", f"gc{i}").replace("last_year", f"t{i}") for i in range(150)
    )
    doc = Doc.open(client, workspace / "huge.sflow", text)
    diags = await doc.diagnostics(timeout=60)
    assert not [d for d in diags if d.severity == T.DiagnosticSeverity.Error]
    got = await client.text_document_completion_async(
        T.CompletionParams(doc.ident, doc.pos("fast   =", 9, nth=149))
    )
    assert any(i.label == "sma" for i in got.items), [i.label for i in got.items]


@pytest.mark.parametrize("kind", ["vscode", "neovim"])
async def test_database_unavailable_degrades(kind, tmp_path, workspace):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    bad = f"sqlite:///{blocker}/sflow.db"
    client = await start(
        kind,
        tmp_path,
        bad,
        workspace,
        options={"diagnosticsDebounceMs": "soon"},
        env=server_env(tmp_path, bad),
    )
    client.kind = kind
    try:
        doc = Doc.open(client, workspace / GOLDEN)
        await doc.diagnostics()
        await wait_for(lambda: any("database is unavailable" in m.message for m in client.messages))
        assert any("diagnosticsDebounceMs" in m.message for m in client.messages)
        got = await client.text_document_completion_async(
            T.CompletionParams(doc.ident, doc.pos("fast   =", 9))
        )
        assert any(i.label == "sma" for i in got.items), [i.label for i in got.items]
        with pytest.raises(Exception, match="database is unavailable"):
            await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sflow.restoreSession", arguments=[doc.uri])
            )
        doc.insert(T.Position(0, 0), "# still serving\n")
        await doc.diagnostics()
        warnings = [m for m in client.messages if "database is unavailable" in m.message]
        assert len(warnings) == 1
    finally:
        await stop(client)


async def test_database_goes_away_mid_session(client, workspace, db_url):
    doc = Doc.open(client, workspace / GOLDEN)
    await doc.diagnostics()
    await wait_for(lambda: _draft(db_url, doc.uri))
    path = Path(db_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            with open(p, "r+b") as fh:
                fh.write(b"garbage" * 4096)
    doc.insert(T.Position(0, 0), "# after the crash of the database\n")
    await doc.diagnostics()
    await wait_for(lambda: any("database is unavailable" in m.message for m in client.messages))
    hover = await client.text_document_hover_async(T.HoverParams(doc.ident, doc.pos("sma(", 1)))
    assert hover is not None
