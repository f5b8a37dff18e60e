"""Lower a strategy's AST into its logic-flow graph: nodes, typed input bindings, edges.

Named definitions keep their names as node ids; every inline expression, nested call and number
used as an input becomes an anonymous node (`_lt1`, `_sma2`, `_const1`…, numbered per template in
source order), so the text and the graph stay one thing. Lowering never fails: problems that the
validator reports (unknown templates, bad arguments) are kept in the graph as they were written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sflow.dsl_grammar import ast as A
from sflow.flow.templates import Template, TemplateLibrary

FIELD_PORT = "value"
_OPERATOR_TEMPLATES = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "==": "eq",
    "!=": "ne",
    "and": "and",
    "or": "or",
}
_UNARY_TEMPLATES = {"-": "neg", "not": "not"}


@dataclass(frozen=True, slots=True)
class Source:
    """Where an input comes from: a node (optionally a named port) or a `$field`."""

    kind: str  # "node" | "field"
    ref: str  # node id, or the field name with its `$`
    port: str | None
    span: A.Span


@dataclass(slots=True)
class Binding:
    """One input of a node: which port it feeds (None when it matches no port) and its source."""

    port: str | None
    source: Source
    span: A.Span
    keyword: bool = False


@dataclass(slots=True)
class Param:
    value: Any  # a JSON value, or None when `literal` is False
    span: A.Span
    literal: bool = True
    name_span: A.Span = A.NO_SPAN


@dataclass(slots=True)
class FlowNode:
    id: str
    template: str
    span: A.Span  # the defining expression
    func_span: A.Span  # the template name as written (the operator's span for inline ones)
    name_span: A.Span | None = None  # the node name of a named definition
    anonymous: bool = False
    inputs: list[Binding] = field(default_factory=list)
    params: dict[str, Param] = field(default_factory=dict)
    extra_positional: list[A.Span] = field(default_factory=list)  # arguments beyond the ports
    bad_inputs: list[tuple[str, A.Span]] = field(default_factory=list)  # (reason, span)
    repeated: list[tuple[str, str, A.Span]] = field(default_factory=list)  # (kind, name, span)
    statement: int = 0  # index of the statement in the block that defines it


@dataclass(slots=True)
class Flow:
    """The graph of one strategy, in definition order."""

    strategy: A.Strategy
    nodes: dict[str, FlowNode]
    duplicates: list[A.NodeDef]  # later definitions of an already defined name
    aliases: list[A.NodeDef]  # `x = y`: definitions that only rename

    def consumers(self) -> dict[str, list[tuple[FlowNode, Binding]]]:
        used: dict[str, list[tuple[FlowNode, Binding]]] = defaultdict(list)
        for node in self.nodes.values():
            for b in node.inputs:
                if b.source.kind == "node":
                    used[b.source.ref].append((node, b))
        return used


def build_flow(strategy: A.Strategy, library: TemplateLibrary) -> Flow:
    return _Lowering(strategy, library).run()


class _Lowering:
    def __init__(self, strategy: A.Strategy, library: TemplateLibrary) -> None:
        self.strategy = strategy
        self.library = library
        self.nodes: dict[str, FlowNode] = {}
        self.counters: dict[str, int] = defaultdict(int)
        self.duplicates: list[A.NodeDef] = []
        self.aliases: list[A.NodeDef] = []
        self.statement = 0

    def run(self) -> Flow:
        named = {s.name.name for s in self.strategy.nodes if s.name is not None}
        # Reserve user names so anonymous ids never collide with them.
        self.reserved = named
        for index, stmt in enumerate(self.strategy.body):
            if not isinstance(stmt, A.NodeDef):
                continue
            self.statement = index
            if stmt.name is not None and stmt.name.name in self.nodes:
                self.duplicates.append(stmt)
                continue
            if stmt.name is not None and isinstance(stmt.expr, A.Name | A.Port):
                self.aliases.append(stmt)
                continue
            self._define(stmt)
        return Flow(self.strategy, self.nodes, self.duplicates, self.aliases)

    def _new_id(self, template: str) -> str:
        while True:
            self.counters[template] += 1
            candidate = f"_{template}{self.counters[template]}"
            if candidate not in self.reserved and candidate not in self.nodes:
                return candidate

    def _define(self, stmt: A.NodeDef) -> None:
        name = stmt.name.name if stmt.name is not None else None
        expr = stmt.expr
        if isinstance(expr, A.Field):  # `close = $close`: a price node
            expr = A.Call(
                A.Ident("price", expr.span),
                (),
                (A.KwArg(A.Ident("field"), A.String(expr.name)),),
                expr.span,
            )
        node = self._lower(expr, node_id=name)
        if node is not None and stmt.name is not None:
            node.name_span = stmt.name.span

    def _add(self, node: FlowNode) -> FlowNode:
        node.statement = self.statement
        self.nodes[node.id] = node
        return node

    def _lower(self, expr: A.Expr, node_id: str | None = None) -> FlowNode | None:
        """Create the node for `expr` (named `node_id`, else anonymous). Returns None for leaves."""
        if isinstance(expr, A.Call):
            return self._call(expr, node_id)
        if isinstance(expr, A.BinOp):
            template = _OPERATOR_TEMPLATES[expr.op]
            node = FlowNode(node_id or self._new_id(template), template, expr.span, expr.span)
            node.anonymous = node_id is None
            node.inputs.append(self._bind("left", expr.left))
            node.inputs.append(self._bind("right", expr.right))
            return self._add(node)
        if isinstance(expr, A.UnaryOp):
            if expr.op == "-" and isinstance(expr.operand, A.Number):
                return self._const(-expr.operand.value, expr.span, node_id)
            template = _UNARY_TEMPLATES[expr.op]
            node = FlowNode(node_id or self._new_id(template), template, expr.span, expr.span)
            node.anonymous = node_id is None
            node.inputs.append(self._bind("operand", expr.operand))
            return self._add(node)
        if isinstance(expr, A.Qlib):
            node = FlowNode(node_id or self._new_id("qlib_expr"), "qlib_expr", expr.span, expr.span)
            node.anonymous = node_id is None
            node.params["expr"] = Param(expr.text.value, expr.text.span)
            return self._add(node)
        if isinstance(expr, A.Number):
            return self._const(expr.value, expr.span, node_id)
        if node_id is not None and isinstance(expr, A.String | A.Bool):
            node = FlowNode(node_id, "const", expr.span, expr.span)
            node.bad_inputs.append(("a string or boolean is not a series", expr.span))
            return self._add(node)
        return None

    def _const(self, value: int | float, span: A.Span, node_id: str | None) -> FlowNode:
        node = FlowNode(node_id or self._new_id("const"), "const", span, span)
        node.anonymous = node_id is None
        node.params["value"] = Param(value, span)
        return self._add(node)

    def _call(self, call: A.Call, node_id: str | None) -> FlowNode:
        name = call.func.name
        node = FlowNode(node_id or self._new_id(name), name, call.span, call.func.span)
        node.anonymous = node_id is None
        template: Template | None = self.library.get(name)
        ports = [p.name for p in template.input_ports] if template else []
        for i, arg in enumerate(call.args):
            if template is None:
                node.inputs.append(self._bind(f"arg{i + 1}", arg))
            elif i < len(ports):
                node.inputs.append(self._bind(ports[i], arg))
            else:
                node.extra_positional.append(arg.span)
                self._lower_leaf_refs(arg)
        for kw in call.kwargs:
            key = kw.name.name
            if template is not None and template.input(key) is not None:
                if any(b.port == key for b in node.inputs):
                    node.repeated.append(("input", key, kw.span))
                    self._lower_leaf_refs(kw.value)
                    continue
                binding = self._bind(key, kw.value)
                binding.keyword = True
                binding.span = kw.span
                node.inputs.append(binding)
            elif key in node.params:
                node.repeated.append(("parameter", key, kw.span))
            else:
                node.params[key] = self._param(kw)
        return self._add(node)

    def _param(self, kw: A.KwArg) -> Param:
        value = kw.value
        if isinstance(value, A.Number | A.String | A.Bool):
            return Param(value.value, value.span, name_span=kw.name.span)
        if isinstance(value, A.UnaryOp) and value.op == "-" and isinstance(value.operand, A.Number):
            return Param(-value.operand.value, value.span, name_span=kw.name.span)
        if isinstance(value, A.Name):  # `field=close`: an identifier as an enum value
            return Param(value.ident.name, value.span, name_span=kw.name.span)
        self._lower_leaf_refs(value)
        return Param(None, value.span, literal=False, name_span=kw.name.span)

    def _lower_leaf_refs(self, expr: A.Expr) -> None:
        """Lower an expression that feeds nothing (extra arguments) so its names still count."""
        sub = self._lower(expr)
        if sub is not None:
            sub.bad_inputs.append(("not connected", expr.span))

    def _bind(self, port: str | None, expr: A.Expr) -> Binding:
        if isinstance(expr, A.Name):
            return Binding(port, Source("node", expr.ident.name, None, expr.span), expr.span)
        if isinstance(expr, A.Port):
            source = Source("node", expr.node.name, expr.port.name, expr.span)
            return Binding(port, source, expr.span)
        if isinstance(expr, A.Field):
            return Binding(port, Source("field", f"${expr.name}", FIELD_PORT, expr.span), expr.span)
        if isinstance(expr, A.String | A.Bool):
            # Kept as a dangling input so the type layer can say what is wrong with it.
            kind = "string" if isinstance(expr, A.String) else "boolean"
            return Binding(port, Source("literal", kind, None, expr.span), expr.span)
        sub = self._lower(expr)
        assert sub is not None
        return Binding(port, Source("node", sub.id, None, expr.span), expr.span)
