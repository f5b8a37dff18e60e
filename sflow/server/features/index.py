"""Every name, literal and keyword of a document with its span: the shared index behind
definition, references, rename, hover, symbols and semantic tokens (built once per analysis)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from sflow.dsl_grammar import ast as A
from sflow.flow.templates import TemplateLibrary
from sflow.server.documents import Analysis

NAMEABLE = ("node", "strategy")


@dataclass(frozen=True, slots=True)
class Occurrence:
    kind: str  # node | template | field | param | port | setting | strategy | test | number | string | keyword
    name: str
    span: A.Span
    scope: str | None = (
        None  # the strategy of a node, the template of a param, the block kind of a setting
    )
    is_def: bool = False


class Index:
    def __init__(self, occurrences: list[Occurrence]) -> None:
        self.items = sorted(occurrences, key=lambda o: (o.span.line, o.span.col))
        self._keys = [(o.span.line, o.span.col) for o in self.items]

    def at(self, line: int, col: int) -> Occurrence | None:
        """The occurrence under the cursor (touching its end counts, as editors expect)."""
        i = bisect_right(self._keys, (line, col))
        best = None
        for o in self.items[max(0, i - 3) : i]:
            if o.span.contains(line, col) and o.span.line == o.span.end_line:
                best = o
        return best

    def same(self, target: Occurrence) -> list[Occurrence]:
        return [
            o
            for o in self.items
            if o.kind == target.kind and o.name == target.name and o.scope == target.scope
        ]

    def definition(self, target: Occurrence) -> Occurrence | None:
        return next((o for o in self.same(target) if o.is_def), None)


def index_of(analysis: Analysis) -> Index:
    return analysis.memo(
        "index", lambda: build(analysis.document, analysis.library, analysis.lines)
    )


def build(document: A.Document, library: TemplateLibrary, lines: list[str]) -> Index:
    out: list[Occurrence] = []
    for block in document.blocks:
        keyword = "strategy" if isinstance(block, A.Strategy) else "test"
        out.append(Occurrence("keyword", keyword, _word(block.span.line, block.span.col, keyword)))
        if isinstance(block, A.Strategy):
            out.append(Occurrence("strategy", block.name.name, block.name.span, None, True))
            if block.title is not None:
                out.append(Occurrence("string", "", block.title.span))
        else:
            out.append(Occurrence("test", block.name.name, block.name.span, None, True))
            out += _for_keyword(block, lines)
            out.append(Occurrence("strategy", block.target.name, block.target.span))
        scope = block.name.name
        for stmt in block.body:
            if isinstance(stmt, A.Setting):
                out.append(Occurrence("setting", stmt.key.name, stmt.key.span, keyword, True))
                out += _value(stmt.value, scope if keyword == "strategy" else None)
                continue
            if keyword != "strategy":
                continue
            if stmt.name is not None:
                out.append(Occurrence("node", stmt.name.name, stmt.name.span, scope, True))
            out += _expr(stmt.expr, scope, library, lines)
    return Index(out)


def _word(line: int, col: int, word: str) -> A.Span:
    return A.Span(line, col, line, col + len(word))


def _for_keyword(test: A.Test, lines: list[str]) -> list[Occurrence]:
    span = test.name.span
    text = lines[span.end_line] if span.end_line < len(lines) else ""
    m = re.compile(r"\s+for\b").match(text, span.end_col)
    if not m:
        return []
    col = m.end() - 3
    return [Occurrence("keyword", "for", _word(span.end_line, col, "for"))]


_WORD_OP = re.compile(r"\b(and|or)\b")


def _word_operator(e: A.BinOp | A.UnaryOp, lines: list[str]) -> list[Occurrence]:
    """`and`, `or`, `not` as keywords (the AST keeps the operator, not its position)."""
    if isinstance(e, A.UnaryOp):
        if e.op == "not":
            return [Occurrence("keyword", "not", _word(e.span.line, e.span.col, "not"))]
        return []
    if e.op not in ("and", "or"):
        return []
    left, right = e.left.span, e.right.span
    if left.end_line != right.line or left.end_line >= len(lines):
        return []
    m = _WORD_OP.search(lines[left.end_line], left.end_col, right.col)
    if not m:
        return []
    return [Occurrence("keyword", m.group(1), _word(left.end_line, m.start(), m.group(1)))]


def _value(value: A.Value, scope: str | None) -> list[Occurrence]:
    if isinstance(value, A.Number | A.Date | A.Duration):
        return [Occurrence("number", "", value.span)]
    if isinstance(value, A.String):
        return [Occurrence("string", "", value.span)]
    if isinstance(value, A.Bool):
        return [Occurrence("keyword", str(value.value).lower(), value.span)]
    return []  # setting names (universe csi300) are values, not references


def _expr(root: A.Expr, scope: str, library: TemplateLibrary, lines: list[str]) -> list[Occurrence]:
    out: list[Occurrence] = []
    stack: list[A.Expr] = [root]
    while stack:
        e = stack.pop()
        if isinstance(e, A.Name):
            out.append(Occurrence("node", e.ident.name, e.ident.span, scope))
        elif isinstance(e, A.Port):
            out.append(Occurrence("node", e.node.name, e.node.span, scope))
            out.append(Occurrence("port", e.port.name, e.port.span, scope))
        elif isinstance(e, A.Field):
            out.append(Occurrence("field", e.name, e.span))
        elif isinstance(e, A.Number):
            out.append(Occurrence("number", "", e.span))
        elif isinstance(e, A.String):
            out.append(Occurrence("string", "", e.span))
        elif isinstance(e, A.Bool):
            out.append(Occurrence("keyword", str(e.value).lower(), e.span))
        elif isinstance(e, A.Qlib):
            out.append(Occurrence("keyword", "qlib", _word(e.span.line, e.span.col, "qlib")))
            out.append(Occurrence("string", "", e.text.span))
        elif isinstance(e, A.Call):
            template = library.get(e.func.name)
            out.append(Occurrence("template", e.func.name, e.func.span))
            stack.extend(e.args)
            for kw in e.kwargs:
                is_port = template is None or template.input(kw.name.name) is not None
                kind = "port" if is_port and template is not None else "param"
                out.append(Occurrence(kind, kw.name.name, kw.name.span, e.func.name))
                if not is_port and isinstance(kw.value, A.Name):
                    continue  # `field=close`: an enum value, not a node
                stack.append(kw.value)
        elif isinstance(e, A.BinOp | A.UnaryOp):
            stack.extend(A.children(e))
            out += _word_operator(e, lines)
    return out
