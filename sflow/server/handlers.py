"""LSP handlers: thin, named after their methods, `ls` first. Each finds the document's
analysis and delegates to a feature module; `guard` turns any exception into a logged LSP error."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time

from lsprotocol import types as T
from pygls.uris import to_fs_path

from sflow.server.app import SflowServer, guard, guard_notification, roots, server
from sflow.server.convert import Positions
from sflow.server.documents import Analysis
from sflow.server.features import actions, commands, completion, hover, navigation, structure
from sflow.server.settings import ServerSettings

# ---- lifecycle and sync -------------------------------------------------------------------------


@server.feature(T.INITIALIZE)
@guard
def initialize(ls: SflowServer, params: T.InitializeParams) -> None:
    ls.loop = asyncio.get_event_loop()
    ls.initial_settings = ServerSettings.from_wire(params.initialization_options)
    caps = params.capabilities.text_document
    ls.pull_diagnostics = bool(caps and caps.diagnostic)
    ls.apply_settings(ls.initial_settings)


@server.feature(T.INITIALIZED)
@guard_notification
async def initialized(ls: SflowServer, params: T.InitializedParams) -> None:
    await ls.fetch_configuration()
    await ls.reload_library()
    ls.spawn(periodic_cleanup(ls))


CLEANUP_EVERY_S = 3600


async def periodic_cleanup(ls: SflowServer) -> None:
    """Run the store's retention jobs now and then (DESIGN §7), off the event loop."""
    while True:
        await asyncio.sleep(CLEANUP_EVERY_S)
        await asyncio.to_thread(ls.store.cleanup)


@server.feature(T.EXIT)
def exit_(ls: SflowServer, *args) -> None:
    """Leave at once: background threads (autosave, a database connecting) must not delay it."""
    code = 0 if getattr(ls.protocol, "_shutdown", False) else 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(code)


@server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
@guard_notification
async def workspace_did_change_configuration(
    ls: SflowServer, params: T.DidChangeConfigurationParams
) -> None:
    caps = ls.client_capabilities.workspace
    if caps and caps.configuration:
        await ls.fetch_configuration()
    elif isinstance(params.settings, dict):
        ls.apply_settings(ServerSettings.from_wire(params.settings, ls.initial_settings))


@server.feature(T.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
@guard_notification
async def workspace_did_change_workspace_folders(ls: SflowServer, params) -> None:
    await ls.fetch_configuration()


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
@guard_notification
def text_document_did_open(ls: SflowServer, params: T.DidOpenTextDocumentParams) -> None:
    ls.text_changed(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
@guard_notification
def text_document_did_change(ls: SflowServer, params: T.DidChangeTextDocumentParams) -> None:
    ls.text_changed(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
@guard_notification
def text_document_did_save(ls: SflowServer, params: T.DidSaveTextDocumentParams) -> None:
    ls.spawn(ls.saved(params.text_document.uri))


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
@guard_notification
def text_document_did_close(ls: SflowServer, params: T.DidCloseTextDocumentParams) -> None:
    ls.docs.close(params.text_document.uri)
    if not ls.pull_diagnostics:
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )


# ---- helpers --------------------------------------------------------------------------------------


async def _fresh(ls: SflowServer, uri: str) -> tuple[Analysis, Positions] | tuple[None, None]:
    analysis = await ls.docs.analysis(uri, ls.library)
    if analysis is None:
        return None, None
    return analysis, ls.positions(analysis.lines)


def _markdown(ls: SflowServer) -> bool:
    caps = ls.client_capabilities.text_document
    fmt = caps.hover.content_format if caps and caps.hover else None
    return fmt is None or T.MarkupKind.Markdown in fmt


# ---- completion, hover, signature help --------------------------------------------------------


@server.feature(
    T.TEXT_DOCUMENT_COMPLETION,
    T.CompletionOptions(trigger_characters=completion.TRIGGERS, resolve_provider=True),
)
@guard
async def text_document_completion(ls: SflowServer, params: T.CompletionParams):
    uri = params.text_document.uri
    state = ls.docs.get(uri)
    if state is None:
        return None
    analysis = await ls.docs.best(uri, ls.library)
    lines = state.text.split("\n")
    line, col = ls.positions(lines).from_position(params.position)
    caps = ls.client_capabilities.text_document
    item_caps = caps.completion.completion_item if caps and caps.completion else None
    snippets = bool(item_caps and item_caps.snippet_support)
    return completion.complete(analysis, lines, line, col, ls.library, snippets)


@server.feature(T.COMPLETION_ITEM_RESOLVE)
@guard
def completion_item_resolve(ls: SflowServer, item: T.CompletionItem) -> T.CompletionItem:
    return completion.resolve(item, ls.library)


@server.feature(T.TEXT_DOCUMENT_HOVER)
@guard
async def text_document_hover(ls: SflowServer, params: T.HoverParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    line, col = pos.from_position(params.position)
    return hover.hover(analysis, pos, line, col, _markdown(ls))


@server.feature(
    T.TEXT_DOCUMENT_SIGNATURE_HELP,
    T.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=["="]),
)
@guard
async def text_document_signature_help(ls: SflowServer, params: T.SignatureHelpParams):
    state = ls.docs.get(params.text_document.uri)
    if state is None:
        return None
    lines = state.text.split("\n")
    line, col = ls.positions(lines).from_position(params.position)
    return hover.signature_help(state.latest, lines, line, col, ls.library)


# ---- navigation ---------------------------------------------------------------------------------


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
@guard
async def text_document_definition(ls: SflowServer, params: T.DefinitionParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    return navigation.definition(analysis, pos, *pos.from_position(params.position))


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
@guard
async def text_document_references(ls: SflowServer, params: T.ReferenceParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    line, col = pos.from_position(params.position)
    return navigation.references(analysis, pos, line, col, params.context.include_declaration)


@server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
@guard
async def text_document_prepare_rename(ls: SflowServer, params: T.PrepareRenameParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    return navigation.prepare_rename(analysis, pos, *pos.from_position(params.position))


@server.feature(T.TEXT_DOCUMENT_RENAME, T.RenameOptions(prepare_provider=True))
@guard
async def text_document_rename(ls: SflowServer, params: T.RenameParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    line, col = pos.from_position(params.position)
    try:
        return navigation.rename(analysis, pos, line, col, params.new_name)
    except navigation.RenameError as exc:
        raise commands.RequestFailed(str(exc)) from None


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guard
async def text_document_document_symbol(ls: SflowServer, params: T.DocumentSymbolParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    return navigation.document_symbols(analysis, pos) if analysis else None


@server.feature(T.WORKSPACE_SYMBOL)
@guard
async def workspace_symbol(ls: SflowServer, params: T.WorkspaceSymbolParams):
    out = []
    for uri in list(ls.docs.open):
        analysis = await ls.docs.best(uri, ls.library)
        if analysis is not None:
            out += navigation.open_document_symbols(analysis, ls.positions(analysis.lines))
    skip = {to_fs_path(u) for u in ls.docs.open}
    files = await asyncio.to_thread(
        commands.workspace_files, roots(ls), ls.settings.workspace_symbols_max_files
    )
    out += await asyncio.to_thread(
        navigation.file_symbols,
        [f for f in files if str(f) not in skip],
        ls.library,
        ls.position_encoding,
    )
    return [s for s in out if navigation.matches(params.query, s.name)][:1000]


# ---- structure --------------------------------------------------------------------------------


@server.feature(
    T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    T.SemanticTokensRegistrationOptions(legend=structure.LEGEND, full=True, range=True),
)
@guard
async def text_document_semantic_tokens_full(ls: SflowServer, params: T.SemanticTokensParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None or not ls.settings_for(analysis.uri).semantic_tokens:
        return T.SemanticTokens(data=[])
    return structure.semantic_tokens(analysis, pos)


@server.feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE)
@guard
async def text_document_semantic_tokens_range(ls: SflowServer, params: T.SemanticTokensRangeParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None or not ls.settings_for(analysis.uri).semantic_tokens:
        return T.SemanticTokens(data=[])
    return structure.semantic_tokens(analysis, pos, pos.from_range(params.range))


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
@guard
async def text_document_formatting(ls: SflowServer, params: T.DocumentFormattingParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    return await asyncio.to_thread(structure.formatting, analysis, pos)


@server.feature(T.TEXT_DOCUMENT_FOLDING_RANGE)
@guard
async def text_document_folding_range(ls: SflowServer, params: T.FoldingRangeParams):
    analysis, _ = await _fresh(ls, params.text_document.uri)
    return structure.folding_ranges(analysis) if analysis else None


@server.feature(T.TEXT_DOCUMENT_SELECTION_RANGE)
@guard
async def text_document_selection_range(ls: SflowServer, params: T.SelectionRangeParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    return structure.selection_ranges(
        analysis, pos, [pos.from_position(p) for p in params.positions]
    )


@server.feature(T.TEXT_DOCUMENT_INLAY_HINT)
@guard
async def text_document_inlay_hint(ls: SflowServer, params: T.InlayHintParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None or not ls.settings_for(analysis.uri).inlay_hints:
        return []
    return structure.inlay_hints(analysis, pos, pos.from_range(params.range))


# ---- diagnostics (pull), code lens, code actions -------------------------------------------


@server.feature(
    T.TEXT_DOCUMENT_DIAGNOSTIC,
    T.DiagnosticOptions(
        identifier="sflow", inter_file_dependencies=False, workspace_diagnostics=False
    ),
)
@guard
async def text_document_diagnostic(ls: SflowServer, params: T.DocumentDiagnosticParams):
    analysis = await ls.docs.analysis(params.text_document.uri, ls.library)
    if analysis is None:
        return T.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = f"{analysis.version}:{id(analysis.library)}"
    if params.previous_result_id == result_id:
        return T.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return T.RelatedFullDocumentDiagnosticReport(
        items=ls.lsp_diagnostics(analysis), result_id=result_id
    )


@server.feature(T.TEXT_DOCUMENT_CODE_LENS)
@guard
async def text_document_code_lens(ls: SflowServer, params: T.CodeLensParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None or not ls.settings_for(analysis.uri).code_lens:
        return []
    path = to_fs_path(analysis.uri)
    results = (
        await asyncio.to_thread(ls.store.last_results, path) if path and ls.store.available else {}
    )
    return actions.code_lenses(analysis, pos, results)


@server.feature(
    T.TEXT_DOCUMENT_CODE_ACTION,
    T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix, T.CodeActionKind.Source]),
)
@guard
async def text_document_code_action(ls: SflowServer, params: T.CodeActionParams):
    analysis, pos = await _fresh(ls, params.text_document.uri)
    if analysis is None:
        return None
    return actions.code_actions(analysis, pos, pos.from_range(params.range), params.context.only)


# ---- custom requests ----------------------------------------------------------------------


@server.feature("sflow/debugInfo")
@guard
def sflow_debug_info(ls: SflowServer, params) -> dict:
    heavy = ("qlib", "pandas", "numpy")
    return {
        "version": ls.version,
        "loaded": {name: name in sys.modules for name in heavy},
        "documents": len(ls.docs.open),
        "templates": len(ls.library),
        "databaseAvailable": ls.store.available,
        "libraryFromDatabase": ls.store.library_loaded,
        "positionEncoding": ls.position_encoding,
        "pullDiagnostics": ls.pull_diagnostics,
        "time": time.time(),
    }


from sflow.server import command_handlers  # noqa: E402,F401  (registers workspace/executeCommand)
