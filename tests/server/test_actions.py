"""Code actions, code lenses and commands end to end, under both client capability sets."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as T

from .conftest import Doc, as_dict

GOLDEN = "golden_cross.sflow"


def apply(doc: Doc, edit: T.WorkspaceEdit) -> None:
    for e in sorted(
        edit.changes[doc.uri],
        key=lambda e: (e.range.start.line, e.range.start.character),
        reverse=True,
    ):
        doc.edit(e.range.start, e.range.end, e.new_text)


async def actions_at(client, doc: Doc, diag: T.Diagnostic) -> list[T.CodeAction]:
    return await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=doc.ident,
            range=diag.range,
            context=T.CodeActionContext(diagnostics=[diag]),
        )
    )


async def test_quick_fix_did_you_mean_applies(client, workspace):
    text = (
        (workspace / GOLDEN)
        .read_text()
        .replace("sma($close, period=20)", "smaa($close, period=20)")
    )
    text = text.replace("cross_above(fast, slow)", "cross_above(fats, slow)")
    doc = Doc.open(client, workspace / "typo.sflow", text)
    diags = await doc.diagnostics()
    for code, fixed in (("SF201", "sma"), ("SF202", "fast")):
        diag = next(d for d in diags if d.code == code)
        acts = await actions_at(client, doc, diag)
        fix = next(a for a in acts if a.title == f"Change to `{fixed}`")
        assert fix.kind == T.CodeActionKind.QuickFix and fix.is_preferred
        apply(doc, fix.edit)
        diags = await doc.diagnostics()
    assert not [d for d in diags if d.severity == T.DiagnosticSeverity.Error]


async def test_quick_fixes_missing_parameter_unused_node_lookahead(client, workspace):
    text = (
        (workspace / GOLDEN)
        .read_text()
        .replace(
            "    buy  = signal(",
            '    band = between(rsi14)\n    spare = ema($close)\n    peek = qlib("Ref($close, -2) / $close")\n    buy  = signal(band and peek > 1 and ',
        )
    )
    doc = Doc.open(client, workspace / "fixes.sflow", text)
    diags = await doc.diagnostics()
    missing = next(d for d in diags if d.code == "SF404")
    fix = next(
        a for a in await actions_at(client, doc, missing) if a.title.startswith("Add parameter")
    )
    apply(doc, fix.edit)
    assert "between(rsi14, low=" in doc.text
    diags = await doc.diagnostics()
    look = next(d for d in diags if d.code == "SF605")
    fix = next(a for a in await actions_at(client, doc, look) if "positive lag" in a.title)
    apply(doc, fix.edit)
    assert 'qlib("Ref($close, 2) / $close")' in doc.text
    diags = await doc.diagnostics()
    unused = next(d for d in diags if d.code == "SF205" and "spare" in d.message)
    fix = next(
        a for a in await actions_at(client, doc, unused) if a.title.startswith("Remove unused")
    )
    apply(doc, fix.edit)
    assert "spare" not in doc.text
    assert not [d for d in await doc.diagnostics() if d.code in ("SF605", "SF205")]


async def test_generate_python_action_writes_module(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    acts = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=doc.ident,
            range=T.Range(doc.pos("fast   ="), doc.pos("fast   =")),
            context=T.CodeActionContext(diagnostics=[], only=[T.CodeActionKind.Source]),
        )
    )
    gen = next(a for a in acts if a.title.startswith("Generate Python strategy"))
    if isinstance(gen, T.Command):  # pygls' client reads a CodeAction with a command as a Command
        raw = ast.literal_eval(gen.command)
        command, arguments = raw["command"], raw["arguments"]
    else:
        command, arguments = gen.command.command, gen.command.arguments
    result = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command=command, arguments=arguments)
        )
    )
    assert result["path"].endswith("golden_cross_golden_cross.py")
    assert result["validationStatus"] == "VALID" and "def main(" in result["code"]
    history = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.showHistory", arguments=[doc.uri])
        )
    )
    assert [g["strategy"] for g in history["generations"]] == ["golden_cross"]
    assert history["generations"][0]["validationStatus"] == "VALID"
    created = [
        c
        for e in client.applied_edits
        for c in (e.document_changes or [])
        if isinstance(c, T.CreateFile)
    ]
    if created:  # clients that can create files get a workspace/applyEdit
        assert created[0].uri.endswith("golden_cross_golden_cross.py")
    else:  # others: the server writes the module itself
        assert Path(result["path"]).read_text() == result["code"]


async def test_code_lens_over_blocks(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(doc.ident))
    titles = [lens.command.title for lens in lenses]
    assert titles.count("Generate Python") == 1 and titles.count("Run quick test") == 2
    run = next(lens for lens in lenses if lens.command.title == "Run quick test")
    assert list(run.command.arguments[:2]) == [doc.uri, "golden_cross"]
    # the server is still serving
    assert await client.text_document_hover_async(T.HoverParams(doc.ident, doc.pos("sma(", 1)))


async def test_command_progress_and_cancellation(tmp_path, db_url, workspace, request):
    from .conftest import server_env, start, stop

    for i in range(12):
        (workspace / f"copy{i}.sflow").write_text((workspace / GOLDEN).read_text())
    for kind in ("vscode", "neovim"):
        client = await start(
            kind,
            tmp_path,
            db_url,
            workspace,
            env=server_env(tmp_path, db_url, SFLOW_LSP_STEP_DELAY="0.15"),
        )
        client.kind = kind
        try:
            doc = Doc.open(client, workspace / GOLDEN)
            task = asyncio.ensure_future(
                client.workspace_execute_command_async(
                    T.ExecuteCommandParams(command="sflow.checkWorkspace", arguments=[])
                )
            )
            for _ in range(200):
                reports = [
                    v
                    for vals in client.progress_reports.values()
                    for v in vals
                    if isinstance(v, T.WorkDoneProgressReport)
                ]
                if reports:
                    break
                await asyncio.sleep(0.05)
            token = next(iter(client.progress_reports))
            # a keystroke is answered while the long command runs
            hover = await asyncio.wait_for(
                client.text_document_hover_async(T.HoverParams(doc.ident, doc.pos("sma(", 1))), 5
            )
            assert hover is not None and not task.done()
            client.window_work_done_progress_cancel(T.WorkDoneProgressCancelParams(token=token))
            with pytest.raises(Exception, match="cancelled"):
                await asyncio.wait_for(task, 20)
            values = client.progress_reports[token]
            assert isinstance(values[0], T.WorkDoneProgressBegin) and values[0].cancellable
            assert (
                isinstance(values[-1], T.WorkDoneProgressEnd) and values[-1].message == "cancelled"
            )
        finally:
            await stop(client)


async def test_check_workspace_completes_with_progress(client, workspace):
    result = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.checkWorkspace", arguments=[])
        )
    )
    assert result["files"] == 1 and result["errors"] == 0
    kinds = [type(v).__name__ for vals in client.progress_reports.values() for v in vals]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


def _record_quick_test(db_url: str, path: str) -> None:
    from sflow.store import (
        QuickTestRepository,
        StrategyInstanceRepository,
        make_engine,
        transaction,
    )

    engine = make_engine(db_url)
    try:
        with transaction(engine) as session:
            instance, _ = StrategyInstanceRepository(session, "tester").get_or_create(
                path, "golden_cross", logic_flow={}
            )
            repo = QuickTestRepository(session, "tester")
            test = repo.create(instance.id, test_config={}, logic_flow_snapshot={})
            repo.start(test.id)
            repo.complete(
                test.id,
                test_result={},
                metrics_summary={
                    "annualized_return": 0.124,
                    "information_ratio": 0.81,
                    "max_drawdown": -0.097,
                },
            )
    finally:
        engine.dispose()


async def test_code_lens_shows_last_quick_test(client, workspace, db_url):
    await asyncio.to_thread(_record_quick_test, db_url, str(workspace / GOLDEN))
    doc = Doc.open(client, workspace / GOLDEN)
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(doc.ident))
    titles = [lens.command.title for lens in lenses]
    assert "ann. 12.4% · IR 0.81 · MDD −9.7%" in titles
    history = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.showHistory", arguments=[doc.uri])
        )
    )
    assert history["quickTests"][0]["status"] == "COMPLETED"


async def test_cancel_quick_test_in_the_database(client, workspace, db_url):
    await asyncio.to_thread(_pending_quick_test, db_url, str(workspace / GOLDEN))
    test_id = _pending_ids[-1]
    result = as_dict(
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.cancelQuickTest", arguments=[test_id])
        )
    )
    assert result == {"testId": test_id, "status": "CANCELLED"}
    with pytest.raises(Exception, match="no pending or running quick test"):
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sflow.cancelQuickTest", arguments=[test_id])
        )


_pending_ids: list[str] = []


def _pending_quick_test(db_url: str, path: str) -> None:
    from sflow.store import (
        QuickTestRepository,
        StrategyInstanceRepository,
        make_engine,
        transaction,
    )

    engine = make_engine(db_url)
    try:
        with transaction(engine) as session:
            instance, _ = StrategyInstanceRepository(session, "tester").get_or_create(
                path, "golden_cross", logic_flow={}
            )
            test = QuickTestRepository(session, "tester").create(
                instance.id, test_config={}, logic_flow_snapshot={}
            )
            _pending_ids.append(test.id)
    finally:
        engine.dispose()


async def test_run_quick_test_end_to_end(tmp_path, db_url, workspace):
    """The real quick-test service: a worker process runs the generated module on demo data."""
    from sflow.backtest import generate_small_demo

    from .conftest import start, stop

    data = tmp_path / "qlib_data"
    await asyncio.to_thread(generate_small_demo, data)
    client = await start("vscode", tmp_path, db_url, workspace, options={"qlibDataPath": str(data)})
    client.kind = "vscode"
    try:
        doc = Doc.open(client, workspace / GOLDEN)
        result = as_dict(
            await asyncio.wait_for(
                client.workspace_execute_command_async(
                    T.ExecuteCommandParams(
                        command="sflow.runQuickTest", arguments=[doc.uri, "golden_cross"]
                    )
                ),
                150,
            )
        )
        assert result["status"] == "COMPLETED", result
        assert "annualized_return" in result["result"]
        statuses = [as_dict(s) for s in client.quick_test_statuses]
        assert statuses and statuses[-1]["status"] == "COMPLETED"
        assert statuses[-1]["testId"] == result["testId"]
        lenses = await client.text_document_code_lens_async(T.CodeLensParams(doc.ident))
        assert any(lens.command.title.startswith("ann. ") for lens in lenses)
        screen = as_dict(
            await asyncio.wait_for(
                client.workspace_execute_command_async(
                    T.ExecuteCommandParams(
                        command="sflow.screen", arguments=[doc.uri, "golden_cross"]
                    )
                ),
                120,
            )
        )
        assert screen["status"] == "completed", screen
        assert screen["rows"] and {"ticker", "classification"} <= set(screen["rows"][0])
        # qlib ran in the worker process, never in the server
        info = as_dict(await client.protocol.send_request_async("sflow/debugInfo", {}))
        assert info["loaded"] == {"qlib": False, "pandas": False, "numpy": False}
    finally:
        await stop(client)
