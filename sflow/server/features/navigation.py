"""Definition, references, rename (+ prepareRename), document and workspace symbols."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as T

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import decode, parse
from sflow.server.convert import Positions, symbol_kind
from sflow.server.documents import Analysis
from sflow.server.features.index import NAMEABLE, Occurrence, index_of

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"strategy", "test", "for", "and", "or", "not", "true", "false", "qlib"}


def _target(analysis: Analysis, line: int, col: int) -> Occurrence | None:
    return index_of(analysis).at(line, col)


def definition(analysis: Analysis, pos: Positions, line: int, col: int) -> list[T.Location] | None:
    occ = _target(analysis, line, col)
    if occ is None or occ.kind not in NAMEABLE:
        return None
    found = index_of(analysis).definition(occ)
    if found is None:
        return None
    return [T.Location(uri=analysis.uri, range=pos.range(found.span))]


def references(
    analysis: Analysis, pos: Positions, line: int, col: int, include_declaration: bool
) -> list[T.Location] | None:
    occ = _target(analysis, line, col)
    if occ is None or occ.kind not in (*NAMEABLE, "template", "field"):
        return None
    return [
        T.Location(uri=analysis.uri, range=pos.range(o.span))
        for o in index_of(analysis).same(occ)
        if include_declaration or not o.is_def
    ]


def prepare_rename(analysis: Analysis, pos: Positions, line: int, col: int):
    occ = _target(analysis, line, col)
    if occ is None or occ.kind not in NAMEABLE:
        return None
    return T.PrepareRenamePlaceholder(range=pos.range(occ.span), placeholder=occ.name)


class RenameError(ValueError):
    """A rename that cannot be done (the message says why)."""


def rename(
    analysis: Analysis, pos: Positions, line: int, col: int, new_name: str
) -> T.WorkspaceEdit | None:
    occ = _target(analysis, line, col)
    if occ is None or occ.kind not in NAMEABLE:
        return None
    if not IDENT.match(new_name) or new_name in RESERVED:
        raise RenameError(f"`{new_name}` is not a valid name")
    index = index_of(analysis)
    if any(
        o.kind == occ.kind and o.name == new_name and o.scope == occ.scope and o.is_def
        for o in index.items
    ):
        raise RenameError(f"`{new_name}` is already defined")
    edits = [T.TextEdit(range=pos.range(o.span), new_text=new_name) for o in index.same(occ)]
    return T.WorkspaceEdit(changes={analysis.uri: edits})


def document_symbols(analysis: Analysis, pos: Positions) -> list[T.DocumentSymbol]:
    out = []
    for block in analysis.document.blocks:
        children = []
        for stmt in block.body:
            if isinstance(stmt, A.Setting):
                children.append(
                    T.DocumentSymbol(
                        name=stmt.key.name,
                        kind=T.SymbolKind.Property,
                        range=pos.range(stmt.span),
                        selection_range=pos.range(stmt.key.span),
                        detail=_value_text(stmt.value),
                    )
                )
            elif isinstance(block, A.Strategy):
                children.append(_node_symbol(analysis, block, stmt, pos))
        if isinstance(block, A.Strategy):
            kind, detail = T.SymbolKind.Class, block.title.value if block.title else "strategy"
        else:
            kind, detail = T.SymbolKind.Method, f"test for {block.target.name}"
        out.append(
            T.DocumentSymbol(
                name=block.name.name,
                kind=kind,
                detail=detail,
                range=pos.range(block.span),
                selection_range=pos.range(block.name.span),
                children=children,
            )
        )
    return out


def _node_symbol(
    analysis: Analysis, block: A.Strategy, stmt: A.NodeDef, pos: Positions
) -> T.DocumentSymbol:
    template_name = stmt.expr.func.name if isinstance(stmt.expr, A.Call) else None
    template = analysis.library.get(template_name or "")
    name = stmt.name.name if stmt.name else f"{template_name or 'expression'}(…)"
    select = stmt.name.span if stmt.name else stmt.expr.span
    return T.DocumentSymbol(
        name=name,
        kind=symbol_kind(template.node_type if template else None),
        detail=template.node_type.lower() if template else (template_name or ""),
        range=pos.range(stmt.span),
        selection_range=pos.range(select),
    )


def _value_text(value: A.Value) -> str:
    if isinstance(value, A.Name):
        return value.ident.name
    if isinstance(value, A.Date | A.Duration | A.Number):
        return value.text
    if isinstance(value, A.String):
        return value.value
    return str(getattr(value, "value", ""))


def flat_symbols(
    uri: str, document: A.Document, library, pos: Positions
) -> list[T.WorkspaceSymbol]:
    """Strategies, tests and named nodes of one document, for workspace/symbol."""
    out = []
    for block in document.blocks:
        kind = T.SymbolKind.Class if isinstance(block, A.Strategy) else T.SymbolKind.Method
        out.append(
            T.WorkspaceSymbol(
                name=block.name.name,
                kind=kind,
                location=T.Location(uri=uri, range=pos.range(block.name.span)),
            )
        )
        if isinstance(block, A.Strategy):
            for stmt in block.nodes:
                if stmt.name is None:
                    continue
                template = (
                    library.get(stmt.expr.func.name) if isinstance(stmt.expr, A.Call) else None
                )
                out.append(
                    T.WorkspaceSymbol(
                        name=stmt.name.name,
                        kind=symbol_kind(template.node_type if template else None),
                        container_name=block.name.name,
                        location=T.Location(uri=uri, range=pos.range(stmt.name.span)),
                    )
                )
    return out


def open_document_symbols(analysis: Analysis, pos: Positions) -> list[T.WorkspaceSymbol]:
    return analysis.memo(
        "wsymbols", lambda: flat_symbols(analysis.uri, analysis.document, analysis.library, pos)
    )


_file_cache: dict[Path, tuple[float, int, list[T.WorkspaceSymbol]]] = {}


def file_symbols(paths: list[Path], library, encoding: str) -> list[T.WorkspaceSymbol]:
    """Symbols of workspace files that are not open, cached by modification time."""
    out: list[T.WorkspaceSymbol] = []
    for path in paths:
        try:
            mtime = path.stat().st_mtime
            cached = _file_cache.get(path)
            if cached is None or cached[0] != mtime or cached[1] != id(library):
                text, _ = decode(path.read_bytes())
                lines = text.split("\n")
                symbols = flat_symbols(
                    path.as_uri(), parse(text).document, library, Positions(lines, encoding)
                )
                cached = _file_cache[path] = (mtime, id(library), symbols)
            out += cached[2]
        except OSError:
            continue
    return out


def matches(query: str, name: str) -> bool:
    """Case-insensitive subsequence match, as editors filter symbols."""
    it = iter(name.lower())
    return all(ch in it for ch in query.lower())
