"""Code actions (quick fixes for did-you-mean, missing parameters, unused nodes and qlib
lookahead; "Generate Python strategy") and code lenses over each strategy and test block."""

from __future__ import annotations

import json
import re
from typing import Any

from lsprotocol import types as T

from sflow.dsl_grammar import Diagnostic
from sflow.dsl_grammar import ast as A
from sflow.server.convert import Positions
from sflow.server.documents import Analysis

GENERATE = "sflow.generateCode"
QUICK_TEST = "sflow.runQuickTest"
_LOOKAHEAD = re.compile(r"Ref\(\s*([^,()]+(?:\([^()]*\))?)\s*,\s*-\s*(\d+)\s*\)")


def code_actions(
    analysis: Analysis, pos: Positions, span: A.Span, only: list[str] | None
) -> list[T.CodeAction]:
    out: list[T.CodeAction] = []
    want_fix = not only or any(k.startswith("quickfix") for k in only)
    want_gen = not only or any(k.startswith(("source", "refactor")) for k in only)
    if want_fix:
        for diag in analysis.result.diagnostics:
            if _overlaps(diag.span, span):
                out += _fixes(analysis, pos, diag)
    if want_gen:
        block = analysis.block_at(span.line)
        if isinstance(block, A.Test):
            block = analysis.document.strategy(block.target.name)
        if isinstance(block, A.Strategy):
            name = block.name.name
            out.append(
                T.CodeAction(
                    title=f"Generate Python strategy for `{name}`",
                    kind=T.CodeActionKind.Source,
                    command=T.Command(
                        title="Generate Python strategy",
                        command=GENERATE,
                        arguments=[analysis.uri, name, {"apply": True}],
                    ),
                )
            )
    return out


def _overlaps(a: A.Span, b: A.Span) -> bool:
    return (a.line, a.col) <= (b.end_line, b.end_col) and (b.line, b.col) <= (a.end_line, a.end_col)


def _fix(
    analysis: Analysis, title: str, edits: list[T.TextEdit], diag: T.Diagnostic, preferred=False
):
    return T.CodeAction(
        title=title,
        kind=T.CodeActionKind.QuickFix,
        diagnostics=[diag],
        is_preferred=preferred or None,
        edit=T.WorkspaceEdit(changes={analysis.uri: edits}),
    )


def _fixes(analysis: Analysis, pos: Positions, diag: Diagnostic) -> list[T.CodeAction]:
    from sflow.server.convert import diagnostic as to_lsp

    lsp_diag = to_lsp(diag, pos)
    rng = pos.range(diag.span)
    out = []
    if diag.code in ("SF201", "SF202", "SF405", "SF507") and diag.data.get("suggestions"):
        for i, name in enumerate(diag.data["suggestions"]):
            out.append(
                _fix(
                    analysis,
                    f"Change to `{name}`",
                    [T.TextEdit(range=rng, new_text=name)],
                    lsp_diag,
                    i == 0,
                )
            )
    elif diag.code == "SF404" and diag.data.get("missing"):
        edit = _add_param(analysis, pos, diag)
        if edit is not None:
            out.append(
                _fix(analysis, f"Add parameter `{diag.data['missing']}`", [edit], lsp_diag, True)
            )
    elif diag.code == "SF205" and diag.data.get("node"):
        edit = _remove_statement(analysis, pos, diag)
        if edit is not None:
            out.append(
                _fix(analysis, f"Remove unused node `{diag.data['node']}`", [edit], lsp_diag)
            )
    elif diag.code == "SF605":
        text = _line_slice(analysis, diag.span)
        fixed = _LOOKAHEAD.sub(lambda m: f"Ref({m.group(1).strip()}, {m.group(2)})", text)
        if fixed != text:
            out.append(
                _fix(
                    analysis,
                    "Use a positive lag (read the past, not the future)",
                    [T.TextEdit(range=rng, new_text=fixed)],
                    lsp_diag,
                    True,
                )
            )
    return out


def _line_slice(analysis: Analysis, span: A.Span) -> str:
    if span.line != span.end_line or span.line >= len(analysis.lines):
        return ""
    return analysis.lines[span.line][span.col : span.end_col]


def _find_call(document: A.Document, func_span: A.Span) -> A.Call | None:
    for block in document.strategies:
        if not block.span.contains(func_span.line, func_span.col):
            continue
        for stmt in block.nodes:
            for e in A.walk(stmt.expr):
                if isinstance(e, A.Call) and e.func.span == func_span:
                    return e
    return None


def _add_param(analysis: Analysis, pos: Positions, diag: Diagnostic) -> T.TextEdit | None:
    call = _find_call(analysis.document, diag.span)
    template = analysis.library.get(call.func.name) if call else None
    if call is None or template is None:
        return None
    name = diag.data["missing"]
    schema: dict[str, Any] = dict(template.params.get(name, {}))
    value: Any = template.default_parameters.get(name, schema.get("default"))
    if value is None:
        if schema.get("enum"):
            value = schema["enum"][0]
        elif schema.get("type") in ("integer", "number"):
            value = schema.get("minimum", 1)
        elif schema.get("type") == "boolean":
            value = False
        else:
            value = ""
    text = value if isinstance(value, str) and schema.get("enum") else json.dumps(value)
    sep = ", " if call.args or call.kwargs else ""
    at = pos.position(call.span.end_line, call.span.end_col - 1)
    return T.TextEdit(range=T.Range(at, at), new_text=f"{sep}{name}={text}")


def _remove_statement(analysis: Analysis, pos: Positions, diag: Diagnostic) -> T.TextEdit | None:
    for block in analysis.document.strategies:
        for stmt in block.nodes:
            if stmt.span.contains(diag.span.line, diag.span.col):
                start = T.Position(stmt.span.line, 0)
                end = T.Position(stmt.span.end_line + 1, 0)
                return T.TextEdit(range=T.Range(start, end), new_text="")
    return None


def code_lenses(analysis: Analysis, pos: Positions, results: dict[str, dict]) -> list[T.CodeLens]:
    out = []
    for block in analysis.document.blocks:
        rng = pos.range(A.Span(block.span.line, block.span.col, block.span.line, block.span.col))
        if isinstance(block, A.Strategy):
            name = block.name.name
            out.append(
                T.CodeLens(
                    range=rng,
                    command=T.Command(
                        title="Generate Python", command=GENERATE, arguments=[analysis.uri, name]
                    ),
                )
            )
            out.append(
                T.CodeLens(
                    range=rng,
                    command=T.Command(
                        title="Run quick test", command=QUICK_TEST, arguments=[analysis.uri, name]
                    ),
                )
            )
            metrics = results.get(name)
            if metrics:
                out.append(
                    T.CodeLens(
                        range=rng,
                        command=T.Command(
                            title=metrics_title(metrics),
                            command="sflow.showHistory",
                            arguments=[analysis.uri, name],
                        ),
                    )
                )
        else:
            args = [analysis.uri, block.target.name, block.name.name]
            out.append(
                T.CodeLens(
                    range=rng,
                    command=T.Command(title="Run quick test", command=QUICK_TEST, arguments=args),
                )
            )
    return out


def metrics_title(m: dict[str, Any]) -> str:
    """ "ann. 12.4% · IR 0.81 · MDD −9.7%" from a metrics summary."""

    def pick(*keys):
        return next((m[k] for k in keys if isinstance(m.get(k), int | float)), None)

    parts = []
    ann = pick("annualized_return", "annualizedReturn", "annual_return")
    ir = pick("information_ratio", "informationRatio", "ir")
    mdd = pick("max_drawdown", "maxDrawdown", "mdd")
    if ann is not None:
        parts.append(f"ann. {ann * 100:.1f}%".replace("-", "−"))
    if ir is not None:
        parts.append(f"IR {ir:.2f}".replace("-", "−"))
    if mdd is not None:
        parts.append(f"MDD {mdd * 100:.1f}%".replace("-", "−"))
    return " · ".join(parts) or "last quick test"
