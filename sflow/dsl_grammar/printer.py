"""Canonical text of the AST: the formatter (`sflow fmt`) and JSON → text (`sflow import`).

Canonical form: 4-space indentation; one blank line between blocks; single blank lines inside a
block kept; `=` aligned over runs of consecutive node lines and values over runs of consecutive
settings (a blank line or an own-line comment ends a run); trailing comments aligned over a run;
keyword arguments as `key=value`; the fewest parentheses that keep the tree; numbers by value
(ints grouped with `_` from 10_000 up, floats as Python's repr). Every comment is kept: one inside
a multi-line statement moves above it. Without source text (JSON import), a blank line separates
the settings from the nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sflow.dsl_grammar import ast as A

INDENT = "    "

_PREC = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4}
_PREC.update({"+": 5, "-": 5, "*": 6, "/": 6})
_UNARY_MINUS = 7
_ATOM = 8


def expr_text(expr: A.Expr) -> str:
    return _expr(expr, 0)


def _expr(e: A.Expr, parent: int) -> str:
    if isinstance(e, A.BinOp):
        p = _PREC[e.op]
        comparison = p == _PREC["<"]
        left = _expr(e.left, p + 1 if comparison else p)
        right = _expr(e.right, p + 1)  # left-associative: an equal right operand needs parens
        text = f"{left} {e.op} {right}"
        return f"({text})" if p < parent else text
    if isinstance(e, A.UnaryOp):
        if e.op == "not":
            text = f"not {_expr(e.operand, _PREC['not'])}"
            return f"({text})" if _PREC["not"] < parent else text
        text = f"-{_expr(e.operand, _UNARY_MINUS)}"
        return f"({text})" if parent > _UNARY_MINUS else text
    return _atom(e)


def _atom(e: A.Expr) -> str:
    if isinstance(e, A.Number):
        text = number_text(e.value)
        return f"({text})" if text.startswith("-") else text
    if isinstance(e, A.String):
        return quote(e.value)
    if isinstance(e, A.Bool):
        return "true" if e.value else "false"
    if isinstance(e, A.Field):
        return f"${e.name}"
    if isinstance(e, A.Name):
        return e.ident.name
    if isinstance(e, A.Port):
        return f"{e.node.name}.{e.port.name}"
    if isinstance(e, A.Qlib):
        return f"qlib({quote(e.text.value)})"
    if isinstance(e, A.Call):
        args = [_expr(a, 0) for a in e.args]
        args += [f"{kw.name.name}={_expr(kw.value, 0)}" for kw in e.kwargs]
        return f"{e.func.name}({', '.join(args)})"
    raise TypeError(f"not an expression: {e!r}")


def number_text(value: int | float) -> str:
    """Canonical numbers: ints grouped with `_` from 10_000 up, floats as Python's repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    return repr(value)


def quote(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def value_text(value: A.Value) -> str:
    if isinstance(value, A.Date):
        return value.text
    if isinstance(value, A.Duration):
        return value.text
    if isinstance(value, A.Number):
        return number_text(value.value)
    return _atom(value)


# ---- documents ------------------------------------------------------------------------------


@dataclass
class _Line:
    """One output line of a block body: a statement (possibly with a trailing comment) or other."""

    lhs: str = ""  # node name, setting key, or the whole text of an unnamed node / comment
    sep: str = ""  # " = " for nodes, " " for settings, "" for the rest
    rhs: str = ""
    trailing: str = ""
    aligned: bool = False  # takes part in alignment runs
    kind: str = ""  # "node" | "setting" | "comment" | "blank" | "plain"


def format_document(document: A.Document, source: str | None = None) -> str:
    """Canonical text of a document; `source` (the original text) supplies blank lines."""
    source_lines = source.splitlines() if source is not None else None
    comments = sorted(document.comments, key=lambda c: (c.span.line, c.span.col))
    out: list[str] = []
    ci = 0
    for index, block in enumerate(document.blocks):
        leading = []
        while ci < len(comments) and comments[ci].span.line < block.span.line:
            leading.append(comments[ci])
            ci += 1
        if index and out:
            out.append("")
        out.extend(_comment_run(leading, source_lines, top_level=bool(out)))
        if leading and _blank_between(source_lines, leading[-1].span.line, block.span.line):
            out.append("")
        block_comments = []
        while ci < len(comments) and comments[ci].span.line <= block.span.end_line:
            block_comments.append(comments[ci])
            ci += 1
        out.extend(_block(block, block_comments, source_lines))
    tail = comments[ci:]
    if tail:
        if out:
            out.append("")
        out.extend(_comment_run(tail, source_lines, top_level=False))
    return "\n".join(out) + "\n" if out else ""


def _comment_run(comments, source_lines, top_level: bool) -> list[str]:
    lines: list[str] = []
    prev = None
    for c in comments:
        if prev is not None and _blank_between(source_lines, prev, c.span.line):
            lines.append("")
        lines.append(c.text.rstrip())
        prev = c.span.line
    return lines


def _blank_between(source_lines, prev_end: int | None, line: int) -> bool:
    if source_lines is None or prev_end is None:
        return False
    return any(
        not source_lines[i].strip() for i in range(prev_end + 1, min(line, len(source_lines)))
    )


def _header(block: A.Block) -> str:
    if isinstance(block, A.Strategy):
        title = f" {quote(block.title.value)}" if block.title is not None else ""
        return f"strategy {block.name.name}{title} {{"
    return f"test {block.name.name} for {block.target.name} {{"


def _block(block: A.Block, comments: Sequence[A.Comment], source_lines) -> list[str]:
    header_trailing = [c for c in comments if c.span.line == block.span.line]
    closing_trailing = [
        c for c in comments if c.span.line == block.span.end_line and c.span.line != block.span.line
    ]
    inner = [c for c in comments if c not in header_trailing and c not in closing_trailing]
    head = _header(block) + "".join(f"  {c.text.rstrip()}" for c in header_trailing)
    lines: list[_Line] = []
    prev_end: int | None = block.span.line
    prev_stmt: A.Stmt | None = None
    ci = 0
    for stmt in block.body:
        before, trailing = [], []
        while ci < len(inner) and inner[ci].span.line <= stmt.span.end_line:
            c = inner[ci]
            (
                trailing
                if c.span.line == stmt.span.end_line and c.span.line >= stmt.span.line
                else before
            ).append(c)
            ci += 1
        for c in before:
            if lines and _blank_between(source_lines, prev_end, c.span.line):
                lines.append(_Line(kind="blank"))
            lines.append(_Line(lhs=c.text.rstrip(), kind="comment"))
            prev_end = c.span.line
        settings_done = (
            source_lines is None
            and isinstance(prev_stmt, A.Setting)
            and isinstance(stmt, A.NodeDef)
        )
        if lines and (settings_done or _blank_between(source_lines, prev_end, stmt.span.line)):
            lines.append(_Line(kind="blank"))
        prev_stmt = stmt
        line = _stmt_line(stmt)
        line.trailing = " ".join(c.text.rstrip() for c in trailing)
        lines.append(line)
        prev_end = stmt.span.end_line
    for c in inner[ci:]:
        if lines and _blank_between(source_lines, prev_end, c.span.line):
            lines.append(_Line(kind="blank"))
        lines.append(_Line(lhs=c.text.rstrip(), kind="comment"))
        prev_end = c.span.line
    closing = "}" + "".join(f"  {c.text.rstrip()}" for c in closing_trailing)
    return [head, *_render(lines), closing]


def _stmt_line(stmt: A.Stmt) -> _Line:
    if isinstance(stmt, A.Setting):
        return _Line(stmt.key.name, " ", value_text(stmt.value), aligned=True, kind="setting")
    if stmt.name is None:
        return _Line(expr_text(stmt.expr), kind="plain")
    return _Line(stmt.name.name, " = ", expr_text(stmt.expr), aligned=True, kind="node")


def _render(lines: list[_Line]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        # A run: consecutive statement lines (blank lines and comments end it).
        j = i
        while j < len(lines) and lines[j].kind in ("node", "setting", "plain"):
            j += 1
        if j == i:
            line = lines[i]
            out.append("" if line.kind == "blank" else INDENT + line.lhs)
            i += 1
            continue
        run = lines[i:j]
        widths = {
            kind: max((len(x.lhs) for x in run if x.kind == kind), default=0)
            for kind in ("node", "setting")
        }
        texts = []
        for x in run:
            if x.kind == "plain":
                texts.append(x.lhs)
            else:
                texts.append(x.lhs.ljust(widths[x.kind]) + x.sep + x.rhs)
        comment_col = (
            max(len(t) for t, x in zip(texts, run, strict=True) if x.trailing)
            if any(x.trailing for x in run)
            else 0
        )
        for t, x in zip(texts, run, strict=True):
            out.append(INDENT + (t.ljust(comment_col) + "  " + x.trailing if x.trailing else t))
        i = j
    return out


def format_source(text: str) -> str | None:
    """Canonical text of a source, or None when it has syntax errors (nothing is lost)."""
    from sflow.dsl_grammar.parser import parse

    result = parse(text)
    if result.diagnostics:
        return None
    formatted = format_document(result.document, text)
    if "\r\n" in text and text.count("\r\n") * 2 >= text.count("\n"):
        formatted = formatted.replace("\n", "\r\n")
    return formatted
