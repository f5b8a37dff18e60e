"""`workspace/executeCommand` handlers (arguments `[uri, name?, …]`, as the VS Code client sends).

Each is thin: find the document and strategy, then hand the work to `features.commands`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.uris import from_fs_path, to_fs_path

from sflow.dsl_grammar import ast as A
from sflow.errors import SflowError
from sflow.server.app import SflowServer, guard, roots, server
from sflow.server.features import commands
from sflow.server.features.commands import Job, RequestFailed, not_available
from sflow.server.store_bridge import StoreUnavailable


async def _strategy(ls: SflowServer, uri: Any, name: Any) -> tuple[Any, A.Strategy]:
    if not isinstance(uri, str):
        raise RequestFailed("expected the document URI as the first argument")
    analysis = await ls.docs.analysis(uri, ls.library)
    if analysis is None:
        path = to_fs_path(uri)
        if not path or not Path(path).is_file():
            raise RequestFailed(f"{uri} is not open")
        ls.docs.update(uri, None, commands.read_source(Path(path)))
        analysis = await ls.docs.analysis(uri, ls.library)
        ls.docs.close(uri)
    strategies = analysis.document.strategies
    if isinstance(name, str) and name:
        found = analysis.document.strategy(name)
        if found is None:
            raise RequestFailed(f"no strategy `{name}` in {uri}")
        return analysis, found
    if not strategies:
        raise RequestFailed(f"{uri} defines no strategy")
    return analysis, strategies[0]


def _arg(args: tuple, i: int) -> Any:
    return args[i] if len(args) > i else None


@server.command("sflow.generateCode")
@guard
async def generate_code(ls: SflowServer, *args: Any) -> dict:
    entry = commands.codegen_entry()
    if entry is None:
        raise not_available("Python code generation (sflow.codegen)")
    analysis, strategy = await _strategy(ls, _arg(args, 0), _arg(args, 1))
    options = _arg(args, 2) if isinstance(_arg(args, 2), dict) else {}
    source_path = to_fs_path(analysis.uri) or "untitled.sflow"
    store = None
    if commands.codegen_can_store() and ls.store.available:
        from sflow.config import Settings

        store = Settings.resolve(
            ls.store.database_url, ls.store.user_id, ls.settings.qlib_data_path
        )

    def work(job: Job):
        job.report(f"generating {strategy.name.name}", 10)
        try:
            return entry(
                analysis.text, source_path, strategy.name.name, None, analysis.library, store=store
            )
        except SflowError as exc:
            raise RequestFailed(str(exc)) from None

    generation = await Job(ls, "Generate Python").run(work)
    path = Path(generation.module_path)
    if options.get("apply"):
        await _write_module(ls, path, generation.code)
    return {
        "path": str(path),
        "code": generation.code,
        "validationStatus": str(generation.status),
        "generationId": generation.generation_id,
        "duplicate": generation.duplicate,
    }


async def _write_module(ls: SflowServer, path: Path, code: str) -> None:
    uri = from_fs_path(str(path))
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps else None
    if (
        edit_caps
        and edit_caps.document_changes
        and edit_caps.resource_operations
        and "create" in edit_caps.resource_operations
    ):
        whole = T.Range(T.Position(0, 0), T.Position(10**6, 0))
        edit = T.WorkspaceEdit(
            document_changes=[
                T.CreateFile(uri=uri, options=T.CreateFileOptions(overwrite=True)),
                T.TextDocumentEdit(
                    text_document=T.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                    edits=[T.TextEdit(range=whole, new_text=code)],
                ),
            ]
        )
        result = await ls.workspace_apply_edit_async(
            T.ApplyWorkspaceEditParams(edit=edit, label="Generate Python strategy")
        )
        if result.applied:
            return
    await asyncio.to_thread(path.write_text, code, "utf-8")


@server.command("sflow.runQuickTest")
@guard
async def run_quick_test(ls: SflowServer, *args: Any) -> dict:
    """Generate, run and record a quick test; answers when it ends (progress meanwhile)."""
    entry = commands.quick_test_entry()
    if entry is None:
        raise not_available("Quick tests (the sflow.backtest quick-test service)")
    analysis, strategy = await _strategy(ls, _arg(args, 0), _arg(args, 1))
    test_name = _arg(args, 2) if isinstance(_arg(args, 2), str) else None
    options = _arg(args, 3) if isinstance(_arg(args, 3), dict) else None
    loop = asyncio.get_running_loop()
    job = Job(ls, f"Quick test: {strategy.name.name}")
    last: dict[str, Any] = {}

    def on_status(status: dict) -> None:
        last.update(status)
        test_id = status.get("testId")
        if test_id:
            ls.jobs[test_id] = job
        note = {
            "testId": test_id,
            "status": status.get("status"),
            "percent": status.get("percent"),
            "message": status.get("current") or status.get("error"),
            "reportPath": status.get("reportPath"),
        }
        loop.call_soon_threadsafe(
            ls.protocol.notify,
            "sflow/quickTestStatus",
            {k: v for k, v in note.items() if v is not None},
        )

    def work(job: Job):
        def progress(percent=None, message=None, **_):
            job.report(message or "running", percent)

        try:
            return entry(
                analysis.text,
                to_fs_path(analysis.uri) or "untitled.sflow",
                strategy.name.name,
                test_name,
                library=analysis.library,
                database_url=ls.store.database_url,
                user_id=ls.store.user_id,
                qlib_data=ls.settings.qlib_data_path,
                options=options,
                progress=progress,
                on_status=on_status,
                cancelled=lambda: job.cancelled,
            )
        except commands.Cancelled:
            return {"test_id": last.get("testId"), "status": "CANCELLED"}
        except SflowError as exc:
            raise RequestFailed(str(exc)) from None

    try:
        result = await job.run(work)
    finally:
        if last.get("testId"):
            ls.jobs.pop(last["testId"], None)
    return {
        "testId": result.get("test_id"),
        "status": result.get("status"),
        "reportPath": result.get("report_path"),
        "result": result.get("metrics_summary"),
        "error": result.get("error"),
    }


@server.command("sflow.cancelQuickTest")
@guard
async def cancel_quick_test(ls: SflowServer, *args: Any) -> dict:
    test_id = _arg(args, 0)
    if not isinstance(test_id, str):
        raise RequestFailed("expected the quick test id as the first argument")
    job = ls.jobs.get(test_id)
    if job is not None:
        job.cancel_event.set()

    try:
        cancelled = await asyncio.to_thread(ls.store.cancel_quick_test, test_id)
    except StoreUnavailable as exc:
        raise RequestFailed(f"the database is unavailable: {exc}") from None
    if not cancelled and job is None:
        raise RequestFailed(f"no pending or running quick test `{test_id}`")
    status = {"testId": test_id, "status": "CANCELLED"}
    ls.protocol.notify("sflow/quickTestStatus", status)
    return status


@server.command("sflow.screen")
@guard
async def screen(ls: SflowServer, *args: Any) -> dict:
    """A strategy's signals on one day over its universe (`[uri, strategy?, date?]`)."""
    entry = commands.screen_entry()
    if entry is None:
        raise not_available("Screening (the sflow.backtest screen service)")
    analysis, strategy = await _strategy(ls, _arg(args, 0), _arg(args, 1))
    day = _arg(args, 2) if isinstance(_arg(args, 2), str) else None

    def work(job: Job):
        try:
            return entry(
                analysis.text,
                strategy.name.name,
                source_path=to_fs_path(analysis.uri),
                date=day,
                library=analysis.library,
                database_url=ls.store.database_url,
                user_id=ls.store.user_id,
                qlib_data=ls.settings.qlib_data_path,
                progress=lambda percent=None, message=None, **_: job.report(
                    message or "screening", percent
                ),
                cancelled=lambda: job.cancelled,
            )
        except SflowError as exc:
            raise RequestFailed(str(exc)) from None

    return await Job(ls, f"Screen: {strategy.name.name}").run(work)


@server.command("sflow.restoreSession")
@guard
async def restore_session(ls: SflowServer, *args: Any) -> dict | None:
    uri = _arg(args, 0)
    if not isinstance(uri, str):
        raise RequestFailed("expected the document URI as the first argument")
    try:
        return await asyncio.to_thread(ls.store.restore, uri)
    except StoreUnavailable as exc:
        raise RequestFailed(f"the database is unavailable: {exc}") from None


@server.command("sflow.showHistory")
@guard
async def show_history(ls: SflowServer, *args: Any) -> dict:
    uri = _arg(args, 0)
    path = to_fs_path(uri) if isinstance(uri, str) else None
    if not path:
        raise RequestFailed("expected a file URI as the first argument")
    name = _arg(args, 1) if isinstance(_arg(args, 1), str) else None
    try:
        return await asyncio.to_thread(ls.store.history, path, name)
    except StoreUnavailable as exc:
        raise RequestFailed(f"the database is unavailable: {exc}") from None


@server.command("sflow.checkWorkspace")
@guard
async def check_workspace(ls: SflowServer, *args: Any) -> dict:
    """Validate every .sflow file of the workspace folders (progress, cancellable)."""
    from sflow.flow.validate import check_text

    library = ls.library
    files = await asyncio.to_thread(
        commands.workspace_files, roots(ls), ls.settings.workspace_symbols_max_files
    )
    job = Job(ls, "Checking .sflow files")
    result = await job.run(
        lambda j: commands.check_files(j, files, lambda text: check_text(text, library))
    )
    return result
