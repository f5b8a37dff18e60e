"""The sflow language server: state, lifecycle, document sync, diagnostics, autosave, settings.

Feature handlers live in `sflow.server.handlers`; they are thin and delegate to
`sflow.server.features.*`. Nothing here imports qlib, pandas or numpy, and the database
(`sflow.store`, SQLAlchemy) is loaded in a thread after `initialized`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import traceback
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from sflow.flow.templates import TemplateLibrary, system_library
from sflow.server.convert import Positions, diagnostic
from sflow.server.documents import Analysis, Documents, clean_text
from sflow.server.settings import ServerSettings
from sflow.server.store_bridge import StoreBridge

VERSION = "0.1.0"
log = logging.getLogger("sflow.server")


class SflowServer(LanguageServer):
    def report_server_error(self, error: Exception, source: Any) -> None:
        """Out-of-band failures (a notification for an unknown document, a malformed message) go
        to the log, not to an error pop-up: the user can do nothing about them."""
        self.window_log_message(
            T.LogMessageParams(type=T.MessageType.Warning, message=f"sflow-lsp: {error!r}")
        )

    def __init__(self) -> None:
        super().__init__(
            "sflow-lsp", VERSION, text_document_sync_kind=T.TextDocumentSyncKind.Incremental
        )
        self.docs = Documents()
        self.settings = ServerSettings.from_env()
        self.folder_settings: dict[str, ServerSettings] = {}
        self.store = StoreBridge(self.warn)
        self._library: TemplateLibrary = system_library()
        self.pull_diagnostics = False
        self.jobs: dict[str, Any] = {}  # running quick tests by id
        self.background: set[asyncio.Task] = set()

    # ---- messages -------------------------------------------------------------------------

    def log(self, message: str, kind: T.MessageType = T.MessageType.Log) -> None:
        try:
            self.window_log_message(T.LogMessageParams(type=kind, message=message))
        except Exception:  # no transport yet (tests, shutdown)
            log.info(message)

    def warn(self, message: str) -> None:
        """Thread-safe warning to the client's log and message area."""
        loop = getattr(self, "loop", None)

        def send():
            self.log(message, T.MessageType.Warning)
            with contextlib.suppress(Exception):
                self.window_show_message(
                    T.ShowMessageParams(type=T.MessageType.Warning, message=message)
                )

        try:
            asyncio.get_running_loop()
            send()
        except RuntimeError:
            if loop is not None:
                loop.call_soon_threadsafe(send)

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.log("sflow: " + "".join(traceback.format_exception(exc)), T.MessageType.Error)

    # ---- settings and library -------------------------------------------------------------

    @property
    def library(self) -> TemplateLibrary:
        return self._library

    def settings_for(self, uri: str) -> ServerSettings:
        best = ""
        for folder in self.folder_settings:
            if uri.startswith(folder.rstrip("/") + "/") and len(folder) > len(best):
                best = folder
        return self.folder_settings.get(best, self.settings)

    def apply_settings(self, settings: ServerSettings) -> None:
        for problem in settings.warnings:
            self.warn(problem)
        self.settings = settings
        if self.store.configure(settings.database_url, settings.user_id):
            self.spawn(self.reload_library())

    async def reload_library(self) -> None:
        library = await asyncio.to_thread(self.store.library, True)
        if library is self._library or fingerprint(library) == fingerprint(self._library):
            return  # same templates: keep the object, so every cached analysis stays valid
        self._library = library
        for uri in list(self.docs.open):
            self.schedule(uri, immediate=True)
        caps = self.client_capabilities.workspace
        if caps and caps.semantic_tokens and caps.semantic_tokens.refresh_support:
            self.workspace_semantic_tokens_refresh(None)
        if self.pull_diagnostics and caps and caps.diagnostics and caps.diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)

    async def fetch_configuration(self) -> None:
        caps = self.client_capabilities.workspace
        if caps is None or not caps.configuration:
            return
        folders = list(self.workspace.folders.values())
        items = [T.ConfigurationItem(section="sflow")]
        items += [T.ConfigurationItem(scope_uri=f.uri, section="sflow") for f in folders]
        try:
            results = await asyncio.wait_for(
                self.workspace_configuration_async(T.ConfigurationParams(items=items)), 10
            )
        except Exception as exc:
            self.log(f"sflow: workspace/configuration failed: {exc}", T.MessageType.Warning)
            return
        base = self.initial_settings
        self.apply_settings(ServerSettings.from_wire(results[0] if results else None, base))
        self.folder_settings = {}
        for folder, raw in zip(folders, results[1:], strict=False):
            if raw:
                s = ServerSettings.from_wire(raw, self.settings)
                self.folder_settings[folder.uri] = s

    # ---- positions ------------------------------------------------------------------------

    @property
    def position_encoding(self) -> str:
        """The negotiated `positionEncoding` (pygls picks the client's first supported one)."""
        caps = getattr(self.protocol, "server_capabilities", None)
        return str(caps.position_encoding or "utf-16") if caps else "utf-16"

    def positions(self, lines: list[str]) -> Positions:
        return Positions(lines, self.position_encoding)

    def doc_lines(self, uri: str) -> list[str] | None:
        state = self.docs.get(uri)
        if state is None:
            return None
        return state.text.split("\n")

    # ---- diagnostics and autosave -----------------------------------------------------------

    def text_changed(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        self.docs.update(uri, doc.version, clean_text(doc.source))
        self.schedule(uri)

    def schedule(self, uri: str, immediate: bool = False) -> None:
        state = self.docs.get(uri)
        if state is None:
            return
        if state.pending is not None:
            state.pending.cancel()  # a newer version supersedes: the old one is never computed
        delay = 0 if immediate else self.settings_for(uri).diagnostics_debounce_ms / 1000
        state.pending = self.spawn(self._diagnose(uri, state.version, delay))

    async def _diagnose(self, uri: str, version: int | None, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        state = self.docs.get(uri)
        if state is None or state.version != version:
            return
        analysis = await self.docs.analysis(uri, self.library)
        if analysis is None or self.docs.get(uri) is not state or state.version != version:
            return  # stale: a newer version is on its way
        if not self.pull_diagnostics:
            self.publish(analysis)
        self.schedule_autosave(uri, analysis)

    def lsp_diagnostics(self, analysis: Analysis) -> list[T.Diagnostic]:
        def make():
            pos = self.positions(analysis.lines)
            return [diagnostic(d, pos) for d in analysis.result.diagnostics]

        return analysis.memo("diagnostics", make)

    def publish(self, analysis: Analysis) -> None:
        self.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(
                uri=analysis.uri,
                version=analysis.version,
                diagnostics=self.lsp_diagnostics(analysis),
            )
        )

    def schedule_autosave(self, uri: str, analysis: Analysis) -> None:
        settings = self.settings_for(uri)
        state = self.docs.get(uri)
        if not settings.autosave or state is None:
            return
        if state.autosave is not None and not state.autosave.done():
            state.autosave.cancel()
        state.autosave = self.spawn(self._autosave(analysis, settings.autosave_delay_ms / 1000))

    async def _autosave(self, analysis: Analysis, delay: float) -> None:
        await asyncio.sleep(delay)
        state = self.docs.get(analysis.uri)
        if state is not None and state.saved_version == analysis.version:
            return  # this text is on disk: no draft to keep
        flows = logic_flows(analysis)
        ui = {"languageId": "sflow", "lineCount": len(analysis.lines)}
        await asyncio.to_thread(
            self.store.autosave,
            analysis.uri,
            analysis.text,
            analysis.version,
            list(flows.values()),
            ui,
        )

    async def saved(self, uri: str) -> None:
        """The file is on disk: update its strategy instances; the draft is no longer needed."""
        state = self.docs.get(uri)
        analysis = await self.docs.analysis(uri, self.library)
        path = to_fs_path(uri)
        if analysis is None or path is None:
            return
        if state is not None:
            state.saved_version = analysis.version
            if state.autosave is not None:
                state.autosave.cancel()
        flows = logic_flows(analysis)
        if flows:
            await asyncio.to_thread(self.store.save_instances, path, analysis.text, flows)
        await asyncio.to_thread(self.store.close_draft, uri)


def fingerprint(library: TemplateLibrary) -> str:
    """What validation depends on in a library (not database ids or timestamps)."""

    def key(t):
        return [
            t.name,
            t.node_type,
            t.parameter_schema,
            t.default_parameters,
            [(p.name, p.type, p.required) for p in t.input_ports],
            [(p.name, p.type) for p in t.output_ports],
            t.execution_hints,
            t.is_system,
            t.description,
        ]

    return json.dumps([key(library[name]) for name in sorted(library)], sort_keys=True, default=str)


def logic_flows(analysis: Analysis) -> dict[str, dict]:
    from sflow.flow.logic_json import flow_to_json

    def make():
        out = {}
        for name, flow in analysis.result.flows.items():
            try:
                out[name] = flow_to_json(flow, analysis.library, analysis.document.tests)
            except Exception:  # a flow too broken to serialise is simply not saved
                continue
        return out

    return analysis.memo("logic_flows", make)


def guard(fn):
    """Never let a handler crash the server: log the traceback, answer with an LSP error."""
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(ls, *args, **kwargs):
            try:
                return await fn(ls, *args, **kwargs)
            except (JsonRpcException, asyncio.CancelledError):
                raise
            except Exception as exc:
                _report(ls, fn.__name__, exc)
                raise JsonRpcInternalError(f"{fn.__name__}: {type(exc).__name__}: {exc}") from None

        return wrapper

    @functools.wraps(fn)
    def sync_wrapper(ls, *args, **kwargs):
        try:
            return fn(ls, *args, **kwargs)
        except JsonRpcException:
            raise
        except Exception as exc:
            _report(ls, fn.__name__, exc)
            raise JsonRpcInternalError(f"{fn.__name__}: {type(exc).__name__}: {exc}") from None

    return sync_wrapper


def guard_notification(fn):
    """For notifications: log the traceback and carry on (there is no one to answer)."""
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(ls, *args, **kwargs):
            try:
                return await fn(ls, *args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _report(ls, fn.__name__, exc)

        return wrapper

    @functools.wraps(fn)
    def sync_wrapper(ls, *args, **kwargs):
        try:
            return fn(ls, *args, **kwargs)
        except Exception as exc:
            _report(ls, fn.__name__, exc)

    return sync_wrapper


def _report(ls: SflowServer, name: str, exc: BaseException) -> None:
    ls.log(
        f"sflow: {name} failed:\n" + "".join(traceback.format_exception(exc)), T.MessageType.Error
    )


server = SflowServer()
server.initial_settings = ServerSettings.from_env()


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server over stdio, or TCP when `tcp` is (host, port)."""
    from sflow.server import handlers  # noqa: F401  (registers the features)

    logging.basicConfig(level=logging.WARNING)
    if tcp is None:
        server.start_io()
    else:
        server.start_tcp(*tcp)


def roots(ls: SflowServer) -> list[Path]:
    out = []
    for folder in ls.workspace.folders.values():
        path = to_fs_path(folder.uri)
        if path:
            out.append(Path(path))
    if not out and ls.workspace.root_path:
        out.append(Path(ls.workspace.root_path))
    return out
