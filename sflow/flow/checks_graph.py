"""Graph layer: unknown templates, undefined and duplicate names, cycles, unused nodes, names."""

from __future__ import annotations

import builtins
import difflib
import keyword

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar.diagnostics import Diagnostic, error, warning
from sflow.flow.graph import Flow, FlowNode
from sflow.flow.security import STANDARD_FIELDS
from sflow.flow.templates import TemplateLibrary

SINK_TYPES = ("POSITION", "STOP_LOSS", "STOP_PROFIT")
_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))


def graph_diagnostics(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for dup in flow.duplicates:
        first = flow.nodes[dup.name.name]
        line = (first.name_span or first.span).line + 1
        diags.append(
            error("SF203", f"`{dup.name.name}` is already defined on line {line}", dup.name.span)
        )
    alias_names = set()
    for alias in flow.aliases:
        alias_names.add(alias.name.name)
        diags.append(
            error(
                "SF209",
                f"`{alias.name.name} = …` only renames a node; use the original name instead",
                alias.span,
            )
        )
    names = [n.id for n in flow.nodes.values() if not n.anonymous]
    for node in flow.nodes.values():
        if not node.anonymous and node.name_span is not None:
            bad = _bad_name(node.id)
            if bad:
                diags.append(
                    error("SF206", f"`{node.id}` cannot be a node name: {bad}", node.name_span)
                )
        if node.template not in library:
            hint = library.suggest(node.template)
            message = f"unknown template `{node.template}`"
            if hint:
                message += f"; did you mean `{hint[0]}`?"
            diags.append(error("SF201", message, node.func_span, suggestions=hint))
        for b in node.inputs:
            src = b.source
            if src.kind == "node" and src.ref not in flow.nodes and src.ref not in alias_names:
                hint = difflib.get_close_matches(src.ref, names, n=3, cutoff=0.6)
                message = f"`{src.ref}` is not defined"
                if hint:
                    message += f"; did you mean `{hint[0]}`?"
                span = A.Span(
                    src.span.line, src.span.col, src.span.line, src.span.col + len(src.ref)
                )
                diags.append(error("SF202", message, span, suggestions=hint, name=src.ref))
            elif src.kind == "field" and src.ref[1:] not in STANDARD_FIELDS:
                diags.append(
                    warning(
                        "SF208",
                        f"`{src.ref}` is not a standard qlib field ({', '.join('$' + f for f in STANDARD_FIELDS)}); "
                        "the quick test checks it against the data",
                        src.span,
                    )
                )
    diags += _cycles(flow)
    consumers = flow.consumers()
    for node in flow.nodes.values():
        template = library.get(node.template)
        if template is None or template.node_type in SINK_TYPES or consumers.get(node.id):
            continue
        if not node.anonymous:
            diags.append(
                warning(
                    "SF205", f"`{node.id}` is never used", node.name_span or node.span, node=node.id
                )
            )
        elif node.name_span is None and _is_statement_root(flow, node):
            diags.append(
                warning(
                    "SF205",
                    f"the result of `{node.template}(…)` is not used",
                    node.span,
                    node=node.id,
                )
            )
    return diags


def _is_statement_root(flow: Flow, node: FlowNode) -> bool:
    stmt = flow.strategy.body[node.statement]
    return isinstance(stmt, A.NodeDef) and stmt.name is None and stmt.expr.span == node.span


def _bad_name(name: str) -> str | None:
    if name.startswith("_"):
        return "names starting with `_` are reserved for inline expressions"
    if not name.isascii():
        return "node names must be ASCII letters, digits and `_` (they become Python identifiers)"
    if name in _RESERVED:
        return "it is a Python keyword or builtin"
    return None


def _cycles(flow: Flow) -> list[Diagnostic]:
    """Iterative Tarjan over the flow; one diagnostic per cycle, naming its named nodes."""
    graph: dict[str, list[str]] = {
        nid: [
            b.source.ref for b in n.inputs if b.source.kind == "node" and b.source.ref in flow.nodes
        ]
        for nid, n in flow.nodes.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    diags: list[Diagnostic] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    diags.append(_cycle_diagnostic(flow, component))
    return diags


def _cycle_diagnostic(flow: Flow, component: list[str]) -> Diagnostic:
    members = set(component)
    ordered = [n for n in flow.nodes if n in members]
    named = [n for n in ordered if not flow.nodes[n].anonymous] or ordered
    # Walk the cycle in dependency order starting from the first named node.
    path = [named[0]]
    current = named[0]
    for _ in range(len(component)):
        deps = [b.source.ref for b in flow.nodes[current].inputs if b.source.ref in members]
        if not deps:
            break
        current = deps[0]
        if current == path[0]:
            break
        path.append(current)
    shown = [n for n in path if not flow.nodes[n].anonymous] or path
    text = " → ".join([*shown, shown[0]])
    first = flow.nodes[named[0]]
    return error("SF204", f"cycle: {text}", first.name_span or first.span, cycle=shown)
