"""What a generated module contains, derived from a validated logic flow: the codegen plan.

The plan holds only values sflow built itself: qlib expressions from `ExpressionBuilder` (re-checked
by the strict tokenizer), numbers from validated parameters, names from the AST. The templates turn
it into Python; they never see the source text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sflow.dsl_grammar import ast as A
from sflow.errors import SflowError
from sflow.flow.graph import Flow, FlowNode, Source
from sflow.flow.qlib_expr import ExpressionBuilder, ExpressionError, param_values
from sflow.flow.security import UnsafeExpression, check_expression
from sflow.flow.templates import Template, TemplateLibrary

POSITION_KINDS = {"topk_dropout": "topk", "equal_weight": "equal_weight"}
EXIT_KINDS = {"STOP_LOSS": ("stop_loss", "trailing_stop"), "STOP_PROFIT": ("take_profit",)}
EXIT_ORDER = ("stop_loss", "trailing_stop", "take_profit")  # risk exits before profit taking
DEFAULT_TEST: dict[str, Any] = {
    "start": None,
    "end": None,
    "period": "1Y",
    "universe": "csi300",
    "benchmark": "SH000300",
    "account": 100_000_000,
    "open_cost": 0.0005,
    "close_cost": 0.0015,
    "min_cost": 5.0,
    "deal_price": "close",
    "limit_threshold": None,
}


class GenerationError(SflowError):
    """The flow cannot become a module (its diagnostics, or a template the generator refuses)."""

    def __init__(self, message: str, diagnostics: list | tuple = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)  # the file's error diagnostics, when that is why


@dataclass(frozen=True)
class NodeEntry:
    id: str
    template: str
    node_type: str
    expression: str


@dataclass(frozen=True)
class SignalEntry:
    role: str  # the position port it feeds: "buy" or "sell"
    node_id: str
    condition: str  # EXPRESSIONS key
    score: str | None  # EXPRESSIONS key, None for the default score 1


@dataclass(frozen=True)
class PositionEntry:
    kind: str  # "topk" | "equal_weight"
    node_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ExitEntry:
    kind: str  # "stop_loss" | "trailing_stop" | "take_profit"
    node_type: str
    node_id: str
    pct: float


@dataclass
class Plan:
    strategy: str
    test_name: str | None
    test: dict[str, Any]
    nodes: list[NodeEntry]
    expressions: dict[str, str]
    signals: list[SignalEntry]
    position: PositionEntry
    exits: list[ExitEntry]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pure_topk(self) -> bool:
        """Only `topk(buy, k, n_drop)`: qlib's TopkDropoutStrategy runs unchanged."""
        roles = {s.role for s in self.signals}
        return self.position.kind == "topk" and roles == {"buy"} and not self.exits

    @property
    def needs_close(self) -> bool:
        return bool(self.exits)


def build_plan(
    flow: Flow, library: TemplateLibrary, tests: tuple[A.Test, ...], test_name: str | None
) -> Plan:
    """The plan of one error-free strategy flow (raises GenerationError on anything unexpected)."""
    builder = ExpressionBuilder(flow, library)
    strategy = flow.strategy.name.name
    test = select_test(strategy, tests, test_name)
    nodes, parameters = [], {}
    position: tuple[FlowNode, Template] | None = None
    exits: list[ExitEntry] = []
    for node in flow.nodes.values():
        template = _template(library, node)
        parameters[node.id] = param_values(node, template) if template.params else {}
        kind = template.node_type
        if kind in ("INDICATOR", "CONDITION") and not node.anonymous:
            nodes.append(NodeEntry(node.id, node.template, kind, _expr(builder, node.id)))
        elif kind == "POSITION":
            if position is not None:
                raise GenerationError("a strategy has one position node")
            position = (node, template)
        elif kind in EXIT_KINDS:
            exits.append(_exit(node, template, kind))
    if position is None:
        raise GenerationError(f"strategy `{strategy}` has no position node")
    pos_node, pos_template = position
    hint = pos_template.execution_hints.get("strategy")
    if hint not in POSITION_KINDS:
        raise GenerationError(f"template `{pos_template.name}`: unknown strategy hint {hint!r}")
    expressions: dict[str, str] = {}
    signals = [
        _signal(flow, library, builder, b.source, b.port, expressions)
        for b in pos_node.inputs
        if b.port in ("buy", "sell")
    ]
    signals.sort(key=lambda s: s.role)
    if "buy" not in {s.role for s in signals}:
        raise GenerationError(f"position `{pos_node.id}` has no buy signal")
    if exits:
        expressions["close"] = check_expression("$close")
    exits.sort(key=lambda e: (EXIT_ORDER.index(e.kind), e.node_id))
    settings = {s.key.name: _value(s.value) for s in flow.strategy.settings}
    resolved = dict(DEFAULT_TEST)
    resolved.update({k: settings[k] for k in ("universe", "benchmark") if k in settings})
    if test is not None:
        given = {s.key.name: _value(s.value) for s in test.settings}
        resolved.update({k: v for k, v in given.items() if k in DEFAULT_TEST})
        if "start" in given and "period" not in given:
            resolved["period"] = None
    params = param_values(pos_node, pos_template)
    return Plan(
        strategy=strategy,
        test_name=test.name.name if test is not None else None,
        test=resolved,
        nodes=nodes,
        expressions=expressions,
        signals=signals,
        position=PositionEntry(POSITION_KINDS[hint], pos_node.id, params),
        exits=exits,
        parameters={k: v for k, v in parameters.items() if v},
    )


def select_test(strategy: str, tests: tuple[A.Test, ...], name: str | None) -> A.Test | None:
    """The named test (which must target the strategy), else the strategy's first test."""
    mine = [t for t in tests if t.target.name == strategy]
    if name is None:
        return mine[0] if mine else None
    for t in tests:
        if t.name.name == name:
            if t.target.name != strategy:
                raise GenerationError(f"test `{name}` is for `{t.target.name}`, not `{strategy}`")
            return t
    known = ", ".join(t.name.name for t in mine) or "none"
    raise GenerationError(f"no test named `{name}` (tests of `{strategy}`: {known})")


def _template(library: TemplateLibrary, node: FlowNode) -> Template:
    template = library.get(node.template)
    if template is None:
        raise GenerationError(f"unknown template `{node.template}`")
    return template


def _expr(builder: ExpressionBuilder, node_id: str, port: str | None = None) -> str:
    try:
        return builder.expression(node_id, port)
    except (ExpressionError, UnsafeExpression) as exc:
        raise GenerationError(f"`{node_id}`: {exc}") from None


def _source_expr(builder: ExpressionBuilder, source: Source) -> str:
    if source.kind != "field":
        return _expr(builder, source.ref, source.port)
    try:
        return check_expression(source.ref)
    except UnsafeExpression:
        raise GenerationError(f"`{source.ref}` cannot be a qlib field") from None


def _signal(
    flow: Flow,
    library: TemplateLibrary,
    builder: ExpressionBuilder,
    source: Source,
    role: str,
    expressions: dict[str, str],
) -> SignalEntry:
    node = flow.nodes.get(source.ref) if source.kind == "node" else None
    template = library.get(node.template) if node is not None else None
    if node is None or template is None or not template.execution_hints.get("signal"):
        raise GenerationError(f"the `{role}` input must be a signal node")
    inputs = {b.port: b.source for b in node.inputs if b.port}
    if "condition" not in inputs:
        raise GenerationError(f"signal `{node.id}` has no condition")
    cond_key, score_key = f"{role}.condition", None
    expressions[cond_key] = _source_expr(builder, inputs["condition"])
    if "score" in inputs:
        score_key = f"{role}.score"
        expressions[score_key] = _source_expr(builder, inputs["score"])
    return SignalEntry(role, node.id, cond_key, score_key)


def _exit(node: FlowNode, template: Template, node_type: str) -> ExitEntry:
    kind = template.execution_hints.get("exit")
    if kind not in EXIT_KINDS[node_type]:
        raise GenerationError(f"template `{template.name}`: unknown exit hint {kind!r}")
    pct = param_values(node, template).get("pct")
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct <= 100:
        raise GenerationError(f"`{node.id}`: pct must be a positive number")
    if node_type == "STOP_LOSS" and pct >= 1:
        raise GenerationError(f"`{node.id}`: a stop below -100 % never fires")
    return ExitEntry(kind, node_type, node.id, float(pct))


def _value(value: A.Value) -> Any:
    if isinstance(value, A.Name):
        return value.ident.name
    if isinstance(value, A.Date | A.Duration):
        return value.text
    return value.value
