"""The validation engine: one function from (document, templates) to diagnostics.

Layers (DESIGN §5), each a pure function over the AST and its logic flow: syntax (the parser),
graph, types, parameters, semantics, security. Results per strategy are cached by the identity of
its (immutable, parser-cached) AST, so re-checking an edited file only re-validates what changed.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
from collections import OrderedDict
from dataclasses import dataclass, field

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import parse
from sflow.dsl_grammar.diagnostics import Diagnostic, Severity, error, warning
from sflow.flow.checks_params import param_diagnostics
from sflow.flow.checks_semantic import settings_diagnostics, test_diagnostics
from sflow.flow.graph import Flow, FlowNode, build_flow
from sflow.flow.lookback import strategy_lookback
from sflow.flow.qlib_expr import EXPRESSION_TYPES, ExpressionBuilder, ExpressionError
from sflow.flow.security import STANDARD_FIELDS, UnsafeExpression, rebuild_qlib
from sflow.flow.templates import TemplateLibrary

SINK_TYPES = ("POSITION", "STOP_LOSS", "STOP_PROFIT")
_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))


@dataclass
class CheckResult:
    document: A.Document
    diagnostics: list[Diagnostic]
    flows: dict[str, Flow] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == Severity.ERROR]


def check_text(text: str, library: TemplateLibrary) -> CheckResult:
    parsed = parse(text)
    diagnostics, flows = validate(parsed.document, library)
    return CheckResult(parsed.document, _sorted([*parsed.diagnostics, *diagnostics]), flows)


def validate(
    document: A.Document, library: TemplateLibrary
) -> tuple[list[Diagnostic], dict[str, Flow]]:
    diagnostics: list[Diagnostic] = []
    flows: dict[str, Flow] = {}
    lookbacks: dict[str, int] = {}
    seen: dict[tuple[str, str], A.Block] = {}
    for block in document.blocks:
        kind = "strategy" if isinstance(block, A.Strategy) else "test"
        key = (kind, block.name.name)
        if key in seen:
            first = seen[key].name.span.line + 1
            diagnostics.append(
                error(
                    "SF207",
                    f"{kind} `{block.name.name}` is already defined on line {first}",
                    block.name.span,
                )
            )
            continue
        seen[key] = block
        if isinstance(block, A.Strategy):
            flow, diags, lookback = _strategy_cached(block, library)
            flows[block.name.name] = flow
            lookbacks[block.name.name] = lookback
            diagnostics.extend(diags)
    for test in document.tests:
        diagnostics.extend(test_diagnostics(test, lookbacks))
    return diagnostics, flows


_cache: OrderedDict[tuple[int, int], tuple[A.Strategy, TemplateLibrary, tuple]] = OrderedDict()


def _strategy_cached(strategy: A.Strategy, library: TemplateLibrary):
    key = (id(strategy), id(library))
    hit = _cache.get(key)
    if hit is not None and hit[0] is strategy and hit[1] is library:
        _cache.move_to_end(key)
        return hit[2]
    result = _strategy(strategy, library)
    _cache[key] = (strategy, library, result)
    if len(_cache) > 8192:
        _cache.popitem(last=False)
    return result


def _strategy(strategy: A.Strategy, library: TemplateLibrary) -> tuple[Flow, list[Diagnostic], int]:
    flow = build_flow(strategy, library)
    diags: list[Diagnostic] = []
    diags += settings_diagnostics(strategy)
    diags += _graph(flow, library)
    diags += _types(flow, library)
    for node in flow.nodes.values():
        template = library.get(node.template)
        if template is not None:
            diags += param_diagnostics(node, template)
    diags += _semantics(flow, library)
    diags += _security(flow, library)
    return flow, diags, strategy_lookback(flow, library)


# ---- graph ----------------------------------------------------------------------------------


def _graph(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
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


# ---- types ----------------------------------------------------------------------------------


def _output_type(flow: Flow, library: TemplateLibrary, src) -> tuple[str | None, Diagnostic | None]:
    if src.kind == "field":
        return "series", None
    node = flow.nodes.get(src.ref)
    template = library.get(node.template) if node else None
    if template is None:
        return None, None
    if src.port is not None:
        port = template.output(src.port)
        if port is None:
            outs = ", ".join(p.name for p in template.output_ports) or "none"
            message = f"`{template.name}` has no output `{src.port}` (outputs: {outs})"
            return None, error(
                "SF303", message, src.span, outputs=[p.name for p in template.output_ports]
            )
        return port.type, None
    if not template.output_ports:
        return "none", None
    if len(template.output_ports) > 1:
        first = template.output_ports[0].name
        names = ", ".join(p.name for p in template.output_ports)
        message = f"`{src.ref}` has several outputs ({names}); using `{first}`: write `{src.ref}.{first}` to be explicit"
        return template.output_ports[0].type, warning("SF304", message, src.span)
    return template.output_ports[0].type, None


def _assignable(actual: str, expected: str) -> bool:
    # A condition may feed a series port (qlib reads booleans as 0/1); a series never feeds a bool.
    return actual == expected or (actual == "bool" and expected == "series")


_TYPE_HINT = {
    ("series", "bool"): "compare it, e.g. `x > 0`",
    ("bool", "signal"): "wrap it: `signal(condition)`",
    ("series", "signal"): "wrap it: `signal(x > 0, score=x)`",
    ("signal", "book"): "pass a position node such as `topk(…)`",
}


def _types(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for node in flow.nodes.values():
        template = library.get(node.template)
        for reason, span in node.bad_inputs:
            if reason != "not connected":
                diags.append(error("SF305", reason, span))
        if template is None:
            continue
        for span in node.extra_positional:
            ports = ", ".join(p.name for p in template.input_ports) or "none"
            diags.append(
                error(
                    "SF302",
                    f"`{template.name}` takes {len(template.input_ports)} input(s) ({ports}); remove this argument",
                    span,
                )
            )
        given = {b.port for b in node.inputs}
        missing = [p.name for p in template.input_ports if p.required and p.name not in given]
        if missing and not template.operator:
            diags.append(
                error(
                    "SF302",
                    f"`{template.name}` needs input(s): {', '.join(missing)}",
                    node.func_span,
                    missing=missing,
                )
            )
        for b in node.inputs:
            spec = template.input(b.port) if b.port else None
            if spec is None:
                continue
            if b.source.kind == "literal":
                diags.append(
                    error(
                        "SF305",
                        f"a {b.source.ref} cannot be the `{spec.name}` input of `{template.name}`",
                        b.span,
                    )
                )
                continue
            actual, problem = _output_type(flow, library, b.source)
            if problem is not None:
                diags.append(problem)
            if actual is None:
                continue
            if actual == "none":
                diags.append(
                    error("SF301", f"`{b.source.ref}` has no output to connect", b.source.span)
                )
            elif not _assignable(actual, spec.type):
                where = (
                    f"`{spec.name}` of `{template.name}`"
                    if not template.operator
                    else f"`{template.operator}`"
                )
                message = f"{_describe(b.source)} is a {actual} but {where} needs a {spec.type}"
                hint = _TYPE_HINT.get((actual, spec.type))
                diags.append(error("SF301", message + (f"; {hint}" if hint else ""), b.source.span))
    return diags


def _describe(source) -> str:
    if source.kind == "field":
        return f"`{source.ref}`"
    if source.ref.startswith("_"):
        return "this expression"
    return f"`{source.ref}{'.' + source.port if source.port else ''}`"


# ---- semantics and security ----------------------------------------------------------------


def _semantics(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    strategy = flow.strategy
    by_type: dict[str, list[FlowNode]] = {}
    for node in flow.nodes.values():
        template = library.get(node.template)
        if template is not None:
            by_type.setdefault(template.node_type, []).append(node)
    if not by_type.get("SIGNAL"):
        diags.append(
            error(
                "SF501",
                f"strategy `{strategy.name.name}` has no signal: add `buy = signal(condition)`",
                strategy.name.span,
            )
        )
    positions = by_type.get("POSITION", [])
    if not positions:
        diags.append(
            error(
                "SF502",
                f"strategy `{strategy.name.name}` has no position node: add e.g. `book = topk(buy, k=30)`",
                strategy.name.span,
            )
        )
    for extra in positions[1:]:
        diags.append(
            error(
                "SF510", "a strategy has one position node; this is a second one", extra.func_span
            )
        )
    return diags


def _security(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for node in flow.nodes.values():
        if node.template != "qlib_expr" or "expr" not in node.params:
            continue
        rebuilt = rebuild_qlib(str(node.params["expr"].value))
        for issue in rebuilt.issues:
            make = error if issue.is_error else warning
            diags.append(make(issue.code, issue.message, node.params["expr"].span))
    builder = ExpressionBuilder(flow, library)
    for node in flow.nodes.values():
        template = library.get(node.template)
        if template is None or template.node_type not in EXPRESSION_TYPES:
            continue
        try:
            builder.expression(node.id)
        except UnsafeExpression as exc:
            diags.append(
                error("SF607", f"refusing to emit an unsafe qlib expression: {exc}", node.span)
            )
        except ExpressionError as exc:
            if "grows past" in str(exc) or "too long a chain" in str(exc):
                diags.append(error("SF606", str(exc), node.span))
    return diags


def _sorted(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: (d.span.line, d.span.col, d.code))
