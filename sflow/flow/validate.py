"""The validation engine: one function from (document, templates) to diagnostics.

Layers (DESIGN §5), each a pure function over the AST and its logic flow: syntax (the parser),
graph, types, parameters, semantics, security. Results per strategy are cached by the identity of
its (immutable, parser-cached) AST, so re-checking an edited file only re-validates what changed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import parse
from sflow.dsl_grammar.diagnostics import Diagnostic, Severity, error, warning
from sflow.flow.checks_graph import graph_diagnostics
from sflow.flow.checks_params import param_diagnostics
from sflow.flow.checks_semantic import settings_diagnostics, test_diagnostics
from sflow.flow.checks_types import type_diagnostics
from sflow.flow.graph import Flow, FlowNode, build_flow
from sflow.flow.lookback import strategy_lookback
from sflow.flow.qlib_expr import EXPRESSION_TYPES, ExpressionBuilder, ExpressionError
from sflow.flow.security import UnsafeExpression, rebuild_qlib
from sflow.flow.templates import TemplateLibrary


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
    diags += graph_diagnostics(flow, library)
    diags += type_diagnostics(flow, library)
    for node in flow.nodes.values():
        template = library.get(node.template)
        if template is not None:
            diags += param_diagnostics(node, template)
    diags += _semantics(flow, library)
    diags += _security(flow, library)
    return flow, diags, strategy_lookback(flow, library)


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
