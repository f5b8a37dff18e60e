"""Semantic tokens (by node kind), folding and selection ranges, inlay hints, formatting."""

from __future__ import annotations

import json

from lsprotocol import types as T

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import format_source
from sflow.server.convert import Positions
from sflow.server.documents import Analysis
from sflow.server.features.index import index_of

TOKEN_TYPES = [
    "keyword",
    "function",
    "variable",
    "parameter",
    "property",
    "number",
    "string",
    "comment",
    "class",
    "method",
]
TOKEN_MODIFIERS = [
    "declaration",
    "defaultLibrary",
    "indicator",
    "condition",
    "signal",
    "position",
    "risk",
]
LEGEND = T.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)
_KIND_MOD = {
    "INDICATOR": "indicator",
    "CONDITION": "condition",
    "SIGNAL": "signal",
    "POSITION": "position",
    "STOP_LOSS": "risk",
    "STOP_PROFIT": "risk",
}
_TYPE = {
    "keyword": "keyword",
    "template": "function",
    "node": "variable",
    "field": "variable",
    "param": "parameter",
    "port": "property",
    "setting": "property",
    "number": "number",
    "string": "string",
    "strategy": "class",
    "test": "method",
}


def _bits(*names: str) -> int:
    return sum(1 << TOKEN_MODIFIERS.index(n) for n in names if n)


def _tokens(analysis: Analysis) -> list[tuple[int, int, int, int, int]]:
    """(line, col, end_col, type, modifiers) in code points, sorted, one line each."""
    library = analysis.library
    raw = []
    for o in index_of(analysis).items:
        if o.span.line != o.span.end_line or o.span.end_col <= o.span.col:
            continue
        mods = 0
        if o.kind == "template":
            t = library.get(o.name)
            mods = _bits("defaultLibrary", _KIND_MOD.get(t.node_type, "") if t else "")
        elif o.kind == "node":
            flow = analysis.result.flows.get(o.scope or "")
            node = flow.nodes.get(o.name) if flow else None
            t = library.get(node.template) if node else None
            mods = _bits(
                "declaration" if o.is_def else "", _KIND_MOD.get(t.node_type, "") if t else ""
            )
        elif o.kind == "field":
            mods = _bits("defaultLibrary")
        elif o.is_def:
            mods = _bits("declaration")
        raw.append(
            (o.span.line, o.span.col, o.span.end_col, TOKEN_TYPES.index(_TYPE[o.kind]), mods)
        )
    for c in analysis.document.comments:
        if c.span.line == c.span.end_line:
            raw.append((c.span.line, c.span.col, c.span.end_col, TOKEN_TYPES.index("comment"), 0))
    raw.sort()
    out, last = [], (-1, -1)
    for tok in raw:  # drop overlaps (keep the first)
        if (tok[0], tok[1]) < last:
            continue
        out.append(tok)
        last = (tok[0], tok[2])
    return out


def semantic_tokens(
    analysis: Analysis, pos: Positions, span: A.Span | None = None
) -> T.SemanticTokens:
    data: list[int] = []
    prev_line, prev_start = 0, 0
    for line, col, end_col, kind, mods in analysis.memo("tokens", lambda: _tokens(analysis)):
        if span is not None and not (span.line <= line <= span.end_line):
            continue
        start = pos.to_client_col(line, col)
        length = pos.to_client_col(line, end_col) - start
        delta_line = line - prev_line
        data += [delta_line, start - prev_start if delta_line == 0 else start, length, kind, mods]
        prev_line, prev_start = line, start
    return T.SemanticTokens(data=data)


def folding_ranges(analysis: Analysis) -> list[T.FoldingRange]:
    out = []
    for block in analysis.document.blocks:
        if block.span.end_line > block.span.line:
            out.append(
                T.FoldingRange(
                    start_line=block.span.line,
                    end_line=block.span.end_line - 1
                    if block.span.end_line - 1 > block.span.line
                    else block.span.end_line,
                )
            )
        for stmt in block.body:
            if stmt.span.end_line > stmt.span.line:
                out.append(T.FoldingRange(start_line=stmt.span.line, end_line=stmt.span.end_line))
    run: list[int] = []
    comment_lines = sorted(
        {
            c.span.line
            for c in analysis.document.comments
            if analysis.lines[c.span.line].lstrip().startswith("#")
        }
    )
    for ln in [*comment_lines, -2]:
        if run and ln == run[-1] + 1:
            run.append(ln)
            continue
        if len(run) > 1:
            out.append(
                T.FoldingRange(start_line=run[0], end_line=run[-1], kind=T.FoldingRangeKind.Comment)
            )
        run = [ln]
    return out


def selection_ranges(
    analysis: Analysis, pos: Positions, points: list[tuple[int, int]]
) -> list[T.SelectionRange]:
    out = []
    for line, col in points:
        spans: list[A.Span] = []
        for block in analysis.document.blocks:
            if not block.span.contains(line, col):
                continue
            spans.append(block.span)
            for stmt in block.body:
                if not stmt.span.contains(line, col):
                    continue
                spans.append(stmt.span)
                if isinstance(stmt, A.NodeDef):
                    spans += _expr_chain(stmt.expr, line, col)
                    if stmt.name is not None and stmt.name.span.contains(line, col):
                        spans.append(stmt.name.span)
                elif stmt.key.span.contains(line, col):
                    spans.append(stmt.key.span)
        parent = None
        seen = set()
        for span in spans:
            if span in seen:
                continue
            seen.add(span)
            parent = T.SelectionRange(range=pos.range(span), parent=parent)
        if parent is None:
            parent = T.SelectionRange(range=T.Range(T.Position(line, 0), T.Position(line, 0)))
        out.append(parent)
    return out


def _expr_chain(expr: A.Expr, line: int, col: int) -> list[A.Span]:
    chain = []
    node: A.Expr | None = expr
    while node is not None and node.span.contains(line, col):
        chain.append(node.span)
        if isinstance(node, A.Call) and node.func.span.contains(line, col):
            chain.append(node.func.span)
            break
        nxt = None
        for child in A.children(node):
            if child.span.contains(line, col):
                nxt = child
                break
        if isinstance(node, A.Call):
            for kw in node.kwargs:
                if kw.span.contains(line, col):
                    chain.append(kw.span)
                    if kw.name.span.contains(line, col):
                        chain.append(kw.name.span)
                        nxt = None
        node = nxt
    return chain


def inlay_hints(analysis: Analysis, pos: Positions, span: A.Span) -> list[T.InlayHint]:
    out = []
    library = analysis.library
    for block in analysis.document.strategies:
        if block.span.end_line < span.line or block.span.line > span.end_line:
            continue
        flow = analysis.result.flows.get(block.name.name)
        for stmt in block.nodes:
            if not (span.line <= stmt.span.line <= span.end_line):
                continue
            if stmt.name is not None and flow is not None:
                node = flow.nodes.get(stmt.name.name)
                template = library.get(node.template) if node else None
                if template is not None and template.default_output is not None:
                    out.append(
                        T.InlayHint(
                            position=pos.position(stmt.name.span.line, stmt.name.span.end_col),
                            label=f": {template.default_output.type}",
                            kind=T.InlayHintKind.Type,
                        )
                    )
            out += _default_hints(stmt.expr, library, pos)
    return out


def _default_hints(expr: A.Expr, library, pos: Positions) -> list[T.InlayHint]:
    out = []
    stack = [expr]
    while stack:
        e = stack.pop()
        stack.extend(A.children(e))
        if not isinstance(e, A.Call):
            continue
        template = library.get(e.func.name)
        if template is None or e.span.end_col < 1:
            continue
        given = {kw.name.name for kw in e.kwargs}
        missing = [
            f"{k}={json.dumps(v)}"
            for k, v in template.default_parameters.items()
            if k in template.params and k not in given
        ]
        if missing:
            has_args = bool(e.args or e.kwargs)
            out.append(
                T.InlayHint(
                    position=pos.position(e.span.end_line, e.span.end_col - 1),
                    label=(", " if has_args else "") + ", ".join(missing),
                    kind=T.InlayHintKind.Parameter,
                    tooltip="defaulted parameters",
                )
            )
    return out


def formatting(analysis: Analysis, pos: Positions) -> list[T.TextEdit] | None:
    formatted = format_source(analysis.text)
    if formatted is None or formatted == analysis.text:
        return [] if formatted is not None else None
    last = len(analysis.lines) - 1
    end = pos.position(last, len(analysis.lines[last]))
    return [T.TextEdit(range=T.Range(T.Position(0, 0), end), new_text=formatted)]
