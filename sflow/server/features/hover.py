"""Hover (template docs with parameter ranges and defaults, a node's type and qlib expression,
settings, fields) and signature help with the active parameter."""

from __future__ import annotations

from lsprotocol import types as T

from sflow.flow.qlib_expr import EXPRESSION_TYPES, ExpressionBuilder
from sflow.server.convert import Positions
from sflow.server.documents import Analysis
from sflow.server.features import cursor
from sflow.server.features.docs import SETTING_DOCS, param_line, template_markdown
from sflow.server.features.index import index_of


def hover(
    analysis: Analysis, pos: Positions, line: int, col: int, markdown: bool
) -> T.Hover | None:
    occ = index_of(analysis).at(line, col)
    if occ is None:
        return None
    library = analysis.library
    text = None
    if occ.kind == "template":
        template = library.get(occ.name)
        text = template_markdown(template) if template else f"unknown template `{occ.name}`"
    elif occ.kind == "param":
        template = library.get(occ.scope or "")
        if template is not None and occ.name in template.params:
            text = f"parameter of `{template.name}`\n\n{param_line(template, occ.name)}"
    elif occ.kind == "port" and occ.scope:
        template = library.get(occ.scope)
        port = template and (template.input(occ.name) or template.output(occ.name))
        if port:
            text = f"port `{port.name}`: {port.type}" + (
                f" — {port.description}" if port.description else ""
            )
    elif occ.kind == "node":
        text = node_markdown(analysis, occ.scope or "", occ.name)
    elif occ.kind == "field":
        text = f"qlib field `${occ.name}` (a daily series per instrument)"
    elif occ.kind == "setting":
        text = f"setting `{occ.name}`: {SETTING_DOCS.get(occ.name, 'unknown setting')}"
    elif occ.kind in ("strategy", "test"):
        text = f"{occ.kind} `{occ.name}`"
    if text is None:
        return None
    kind = T.MarkupKind.Markdown if markdown else T.MarkupKind.PlainText
    return T.Hover(contents=T.MarkupContent(kind=kind, value=text), range=pos.range(occ.span))


def node_markdown(analysis: Analysis, strategy: str, node_id: str) -> str | None:
    flow = analysis.result.flows.get(strategy)
    node = flow.nodes.get(node_id) if flow else None
    if node is None:
        return f"`{node_id}` is not defined"
    template = analysis.library.get(node.template)
    if template is None:
        return f"`{node_id}` = unknown template `{node.template}`"
    outs = ", ".join(f"{p.name}: {p.type}" for p in template.output_ports) or "no output"
    lines = [
        f"```sflow\n{node_id}: {outs}\n```",
        f"`{template.name}` · {template.node_type.lower()}",
    ]
    given = {k: p.value for k, p in node.params.items() if p.literal}
    if template.params:
        shown = [
            f"{k}={given[k]!r}"
            if k in given
            else f"{k}={template.default_parameters.get(k)!r} (default)"
            for k in template.params
        ]
        lines.append("parameters: " + ", ".join(shown))
    if template.node_type in EXPRESSION_TYPES:
        try:
            expression = ExpressionBuilder(flow, analysis.library).expression(node_id)
            if len(expression) > 2000:
                expression = expression[:2000] + "…"
            lines.append(f"qlib expression:\n```\n{expression}\n```")
        except Exception:  # invalid flows have no expression; the diagnostics say why
            pass
    return "\n\n".join(lines)


def signature_help(
    analysis: Analysis | None, lines: list[str], line: int, col: int, library
) -> T.SignatureHelp | None:
    if line >= len(lines):
        return None
    start, _ = cursor.block_start(lines, line)
    call = cursor.enclosing_call(cursor.prefix_text(lines, line, col, start))
    template = library.get(call.func) if call else None
    if template is None:
        return None
    labels = [f"{p.name}: {p.type}" for p in template.input_ports]
    names = [p.name for p in template.input_ports]
    for name in template.params:
        default = template.default_parameters.get(name)
        labels.append(f"{name}={default!r}" if default is not None else f"{name}=…")
        names.append(name)
    params = [
        T.ParameterInformation(
            label=label,
            documentation=param_line(template, name) if name in template.params else None,
        )
        for label, name in zip(labels, names, strict=True)
    ]
    if call.kwarg in names:
        active = names.index(call.kwarg)
    else:
        active = min(call.arg_index, max(len(params) - 1, 0))
    signature = T.SignatureInformation(
        label=f"{template.name}({', '.join(labels)})",
        documentation=T.MarkupContent(
            kind=T.MarkupKind.Markdown, value=template.description or template.display_name
        ),
        parameters=params,
        active_parameter=active,
    )
    return T.SignatureHelp(signatures=[signature], active_signature=0, active_parameter=active)
