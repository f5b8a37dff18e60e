"""Open documents and their analysis: one `Analysis` per (document, version), computed off the
event loop and reused by every feature.

The parser caches per block and the validator per strategy AST, so analysing an edited version
costs only the touched block. Features read `latest` (the newest finished analysis, possibly of
an older version while a new one is pending) and never parse on their own, except
`expected_at` for the cursor's block in completion.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sflow.dsl_grammar import ast as A
from sflow.flow.templates import TemplateLibrary
from sflow.flow.validate import CheckResult, check_text

MAX_TEXT = 20_000_000  # characters: beyond this we do not analyse (the editor still works)


def clean_text(text: str) -> str:
    """Replace lone surrogates (invalid UTF-8 that reached us as JSON escapes) one for one."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


@dataclass
class Analysis:
    uri: str
    version: int | None
    text: str
    lines: list[str]
    library: TemplateLibrary
    result: CheckResult
    cache: dict[str, Any] = field(default_factory=dict)  # per-feature derived data

    @property
    def document(self) -> A.Document:
        return self.result.document

    def block_at(self, line: int) -> A.Block | None:
        for block in self.document.blocks:
            if block.span.line <= line <= block.span.end_line:
                return block
        return None

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def analyse(uri: str, version: int | None, text: str, library: TemplateLibrary) -> Analysis:
    """Parse and validate one version of a document (pure; runs in a worker thread)."""
    text = clean_text(text)
    result = CheckResult(A.Document(), []) if len(text) > MAX_TEXT else check_text(text, library)
    return Analysis(uri, version, text, text.split("\n"), library, result)


class DocumentState:
    """One open document: its newest text/version and the newest finished analysis."""

    def __init__(self, uri: str, version: int | None, text: str) -> None:
        self.uri = uri
        self.version = version
        self.text = text
        self.latest: Analysis | None = None
        self.pending: asyncio.Task | None = None  # debounced diagnostics
        self.autosave: asyncio.Task | None = None
        self.saved_version: int | None = -1  # the version last saved to disk (no draft needed)


class Documents:
    """All open documents, keyed by URI. Analysis runs in threads; one at a time per document."""

    def __init__(self) -> None:
        self.open: dict[str, DocumentState] = {}
        self._locks: dict[str, threading.Lock] = {}

    def update(self, uri: str, version: int | None, text: str) -> DocumentState:
        state = self.open.get(uri)
        if state is None:
            state = self.open[uri] = DocumentState(uri, version, text)
        else:
            state.version, state.text = version, text
        return state

    def close(self, uri: str) -> DocumentState | None:
        state = self.open.pop(uri, None)
        if state is not None:
            for task in (state.pending, state.autosave):
                if task is not None:
                    task.cancel()
        return state

    def get(self, uri: str) -> DocumentState | None:
        return self.open.get(uri)

    async def analysis(self, uri: str, library: TemplateLibrary) -> Analysis | None:
        """The analysis of the document's current version (computed now if missing)."""
        state = self.open.get(uri)
        if state is None:
            return None
        current = state.latest
        if current is not None and current.version == state.version and current.library is library:
            return current
        version, text = state.version, state.text
        lock = self._locks.setdefault(uri, threading.Lock())

        def run() -> Analysis:
            with lock:
                done = state.latest
                if done is not None and done.version == version and done.library is library:
                    return done
                return analyse(uri, version, text, library)

        result = await asyncio.to_thread(run)
        if state.latest is None or _newer(result.version, state.latest.version):
            state.latest = result
        return result

    async def best(self, uri: str, library: TemplateLibrary) -> Analysis | None:
        """The newest finished analysis, or the current one if none exists yet (for features
        that tolerate a slightly stale view, like completion)."""
        state = self.open.get(uri)
        if state is None:
            return None
        if state.latest is not None and state.latest.library is library:
            return state.latest
        return await self.analysis(uri, library)


def _newer(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a >= b
