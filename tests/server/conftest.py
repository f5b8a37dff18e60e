"""End-to-end fixtures: the real `sflow-lsp --stdio` in a subprocess, driven by pytest-lsp under
two client capability sets (VS Code-like and Neovim-like), each with its own SQLite database
and SFLOW_HOME in a tmp dir."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as T
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim@v0.10.0"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A migrated and seeded SQLite file, copied for each test (migrating once is cheaper)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    from sflow.store import ensure_database, forget_engines

    ensure_database(f"sqlite:///{path}")
    forget_engines()
    return path


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(EXAMPLES / "golden_cross.sflow", root / "golden_cross.sflow")
    return root


@pytest.fixture
def db_url(tmp_path, template_db) -> str:
    target = tmp_path / "sflow.db"
    shutil.copy(template_db, target)
    return f"sqlite:///{target}"


def server_env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFLOW_")}
    env.update(
        SFLOW_HOME=str(tmp_path / "home"), SFLOW_DATABASE_URL=db_url, SFLOW_USER="tester", **extra
    )
    return env


def _publish(client: LanguageClient, params: T.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.diag_versions[params.uri] = params.version


def _apply_edit(client: LanguageClient, params: T.ApplyWorkspaceEditParams):
    client.applied_edits.append(params.edit)
    return T.ApplyWorkspaceEditResult(applied=True)


def _quick_test_status(client: LanguageClient, params) -> None:
    client.quick_test_statuses.append(params)


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.diag_versions = {}
    client.applied_edits = []
    client.quick_test_statuses = []
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish
    features[T.WORKSPACE_APPLY_EDIT] = _apply_edit
    features["sflow/quickTestStatus"] = _quick_test_status
    register_lsp_features(client, features)
    return client


async def start(
    kind: str,
    tmp_path: Path,
    db_url: str,
    workspace: Path,
    options: dict | None = None,
    env: dict[str, str] | None = None,
    capabilities: T.ClientCapabilities | None = None,
    folder_settings: dict[Path, dict] | None = None,
) -> LanguageClient:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "sflow.server", "--stdio"],
        server_env=env or server_env(tmp_path, db_url),
        client_factory=make_client,
    )
    client = await config.start()
    client.set_configuration({"diagnosticsDebounceMs": 20, "autosaveDelayMs": 50}, section="sflow")
    uri = workspace.as_uri()
    folders = [T.WorkspaceFolder(uri=uri, name="ws")]
    for path, settings in (folder_settings or {}).items():
        client.set_configuration(settings, section="sflow", scope_uri=path.as_uri())
        folders.append(T.WorkspaceFolder(uri=path.as_uri(), name=path.name))
    client.init_result = await client.initialize_session(
        T.InitializeParams(
            capabilities=capabilities or client_capabilities(CLIENTS[kind]),
            root_uri=uri,
            workspace_folders=folders,
            initialization_options={"userId": "tester", **(options or {})},
        )
    )
    return client


@pytest_asyncio.fixture(params=list(CLIENTS))
async def client(request, tmp_path, db_url, workspace):
    lsp = await start(request.param, tmp_path, db_url, workspace)
    lsp.kind = request.param
    yield lsp
    await stop(lsp)


async def stop(lsp: LanguageClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(lsp.shutdown_session(), 10)
    await lsp.stop()


def as_dict(obj):
    """Custom-request results arrive as named tuples; turn them back into dicts."""
    if hasattr(obj, "_asdict"):
        return {k: as_dict(v) for k, v in obj._asdict().items()}
    if isinstance(obj, list | tuple):
        return [as_dict(v) for v in obj]
    return obj


class Doc:
    """An open document on the client side, with helpers for edits and positions."""

    def __init__(self, client: LanguageClient, uri: str, text: str) -> None:
        self.client, self.uri, self.text, self.version = client, uri, text, 1

    @classmethod
    def open(cls, client: LanguageClient, path: Path, text: str | None = None) -> Doc:
        if text is None:
            text = path.read_text()
        else:
            path.write_text(text)
        doc = cls(client, path.as_uri(), text)
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                T.TextDocumentItem(uri=doc.uri, language_id="sflow", version=1, text=text)
            )
        )
        return doc

    def pos(self, needle: str, offset: int = 0, nth: int = 0) -> T.Position:
        """Position of the `nth` occurrence of `needle` plus `offset` characters (UTF-16)."""
        index = -1
        for _ in range(nth + 1):
            index = self.text.index(needle, index + 1)
        index += offset
        before = self.text[:index]
        line = before.count("\n")
        col_text = before[before.rfind("\n") + 1 :]
        return T.Position(line, len(col_text.encode("utf-16-le")) // 2)

    def edit(self, start: T.Position, end: T.Position, new: str) -> None:
        lines = self.text.split("\n")

        def offset(p: T.Position) -> int:
            head = sum(len(x) + 1 for x in lines[: p.line])
            units = lines[p.line].encode("utf-16-le")[: p.character * 2].decode("utf-16-le")
            return head + len(units)

        self.text = self.text[: offset(start)] + new + self.text[offset(end) :]
        self.version += 1
        self.client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[
                    T.TextDocumentContentChangePartial(range=T.Range(start, end), text=new)
                ],
            )
        )

    def insert(self, at: T.Position, new: str) -> None:
        self.edit(at, at, new)

    @property
    def ident(self) -> T.TextDocumentIdentifier:
        return T.TextDocumentIdentifier(uri=self.uri)

    async def diagnostics(self, timeout: float = 10.0) -> list[T.Diagnostic]:
        """The diagnostics of the current version: pulled or waited for, as the client does."""
        if self.client.kind == "neovim":
            report = await self.client.text_document_diagnostic_async(
                T.DocumentDiagnosticParams(text_document=self.ident)
            )
            return list(report.items)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            got = self.client.diagnostics.get(self.uri)
            if got is not None and self.client.diag_versions.get(self.uri) == self.version:
                return list(got)
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no diagnostics for version {self.version}")
