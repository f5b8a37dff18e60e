"""qlib expression strings for the nodes of a flow, built only from the AST and the templates.

Each INDICATOR/CONDITION node gets the expression of each of its output ports: the template's
pattern (`execution_hints.qlib`) with inputs replaced by their own expressions and parameters by
validated literals. Every result passes `security.check_expression` before anyone may use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sflow.flow.graph import Flow, FlowNode
from sflow.flow.hints import evaluate_hint
from sflow.flow.security import check_expression, format_number, rebuild_qlib, wma_expression
from sflow.flow.templates import Template, TemplateLibrary

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
# qlib's rolling operators need an expression operand: `Ref(0, 1)` raises inside qlib. The lag of
# a constant is the constant (a template such as cross_above(x, 0) lags both of its inputs).
_CONSTANT_LAG = re.compile(r"Ref\((-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)), \d+\)")
EXPRESSION_TYPES = ("INDICATOR", "CONDITION")
MAX_EXPRESSION = 100_000


class ExpressionError(ValueError):
    """A node whose expression cannot be built (the validator reports why)."""


@dataclass(frozen=True, slots=True)
class NodeExpression:
    node_id: str
    port: str
    expression: str


def param_values(node: FlowNode, template: Template) -> dict[str, Any]:
    """The node's parameters with the template defaults filled in."""
    values = dict(template.default_parameters)
    values.update({k: p.value for k, p in node.params.items() if p.literal})
    return values


class ExpressionBuilder:
    """Memoised expression building over one flow (a node used twice is built once)."""

    def __init__(self, flow: Flow, library: TemplateLibrary) -> None:
        self.flow = flow
        self.library = library
        self._memo: dict[tuple[str, str | None], str] = {}
        self._checked: dict[tuple[str, str | None], str] = {}
        self._active: set[str] = set()

    def expression(self, node_id: str, port: str | None = None) -> str:
        """The node's expression; every string that leaves the builder passed the tokenizer."""
        key = (node_id, port)
        if key not in self._checked:
            self._checked[key] = check_expression(self._raw(node_id, port))
        return self._checked[key]

    def _raw(self, node_id: str, port: str | None) -> str:
        # Sub-expressions are checked as part of the whole string they end up in, not one by one
        # (re-scanning every prefix made deep flows quadratic).
        key = (node_id, port)
        if key not in self._memo:
            try:
                self._memo[key] = self._build(node_id, port)
            except RecursionError:
                raise ExpressionError(f"`{node_id}` depends on too long a chain of nodes") from None
        return self._memo[key]

    def source_expression(self, source) -> str:
        if source.kind == "field":
            return source.ref
        if source.kind != "node":
            raise ExpressionError(f"a {source.ref} literal cannot be an input")
        return self._raw(source.ref, source.port)

    def _build(self, node_id: str, port: str | None) -> str:
        node = self.flow.nodes.get(node_id)
        if node is None:
            raise ExpressionError(f"undefined node `{node_id}`")
        template = self.library.get(node.template)
        if template is None or template.node_type not in EXPRESSION_TYPES:
            raise ExpressionError(f"`{node_id}` is not an indicator or condition")
        if node_id in self._active:
            raise ExpressionError(f"`{node_id}` depends on itself")
        self._active.add(node_id)
        try:
            return self._render(node, template, port)
        finally:
            self._active.discard(node_id)

    def _render(self, node: FlowNode, template: Template, port: str | None) -> str:
        hints = template.execution_hints
        params = param_values(node, template)
        inputs = {b.port: b for b in node.inputs if b.port}
        values: dict[str, str] = {}
        for spec in template.input_ports:
            if spec.name in inputs:
                values[spec.name] = self.source_expression(inputs[spec.name].source)
            elif spec.required:
                raise ExpressionError(f"`{node.id}` is missing its input `{spec.name}`")
        for name, value in params.items():
            values[name] = _literal(template, name, value)
        for name, hint in (hints.get("derived") or {}).items():
            numbers = {k: v for k, v in params.items() if isinstance(v, int | float)}
            try:
                values[name] = format_number(evaluate_hint(hint, numbers))
            except ValueError as exc:
                raise ExpressionError(str(exc)) from None
        if template.name == "qlib_expr":
            rebuilt = rebuild_qlib(str(params.get("expr", "")))
            if rebuilt.expression is None:
                raise ExpressionError("the qlib expression was rejected")
            return rebuilt.expression
        if hints.get("qlib_macro") == "wma":
            return wma_expression(values["price"], int(params["period"]))
        pattern = hints.get("qlib")
        if isinstance(pattern, dict):
            out = port or (template.default_output.name if template.default_output else None)
            if out not in pattern:
                raise ExpressionError(f"`{template.name}` has no output `{out}`")
            pattern = pattern[out]
        elif port is not None and template.output(port) is None:
            raise ExpressionError(f"`{template.name}` has no output `{port}`")
        if not isinstance(pattern, str):
            raise ExpressionError(f"template `{template.name}` has no qlib pattern")
        return _substitute(pattern, values, template.name)


def _literal(template: Template, name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        if not math.isfinite(value):  # the parameter layer reports it
            raise ExpressionError(f"parameter `{name}` is not a finite number")
        return format_number(value)
    if isinstance(value, str):
        # Only enum identifiers (e.g. a field name) may be spliced into an expression.
        allowed = template.params.get(name, {}).get("enum")
        if allowed and value in allowed and _IDENT.match(value):
            return value
        if template.name == "qlib_expr" and name == "expr":
            return ""
        raise ExpressionError(f"parameter `{name}` = {value!r} cannot appear in an expression")
    raise ExpressionError(f"parameter `{name}` has an unsupported value")


def _substitute(pattern: str, values: dict[str, str], template: str) -> str:
    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise ExpressionError(f"template `{template}` uses `{{{key}}}` but it has no value")
        return values[key]

    result = _CONSTANT_LAG.sub(r"\1", _PLACEHOLDER.sub(repl, pattern))
    if len(result) > MAX_EXPRESSION:
        raise ExpressionError(f"the qlib expression grows past {MAX_EXPRESSION:_} characters")
    return result


def node_expressions(flow: Flow, library: TemplateLibrary) -> dict[str, str]:
    """Expression of every expression-typed node's default output; nodes that fail are skipped."""
    builder = ExpressionBuilder(flow, library)
    out: dict[str, str] = {}
    for node_id, node in flow.nodes.items():
        template = library.get(node.template)
        if template is None or template.node_type not in EXPRESSION_TYPES:
            continue
        try:
            out[node_id] = builder.expression(node_id)
        except (ExpressionError, ValueError):
            continue
    return out
