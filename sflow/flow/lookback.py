"""How many bars of history a strategy needs: the longest chain of windows through its flow."""

from __future__ import annotations

from sflow.flow.graph import Flow
from sflow.flow.hints import evaluate_hint
from sflow.flow.qlib_expr import param_values
from sflow.flow.security import rebuild_qlib
from sflow.flow.templates import TemplateLibrary


def own_lookback(hint: str, params: dict) -> int:
    try:
        return max(0, int(evaluate_hint(hint, params)))
    except ValueError:
        return 0


def strategy_lookback(flow: Flow, library: TemplateLibrary) -> int:
    """Longest path of summed node lookbacks (memoised, iterative: deep flows are legal).

    A node on a cycle (reported by the graph layer) counts its own window only.
    """
    memo: dict[str, int] = {}
    for start in flow.nodes:
        if start in memo:
            continue
        in_progress = {start}
        stack = [(start, False)]
        while stack:
            node_id, expanded = stack.pop()
            if node_id in memo:
                in_progress.discard(node_id)
                continue
            node = flow.nodes[node_id]
            deps = [
                b.source.ref
                for b in node.inputs
                if b.source.kind == "node" and b.source.ref in flow.nodes
            ]
            pending = [d for d in deps if d not in memo and d not in in_progress]
            if not expanded and pending:
                stack.append((node_id, True))
                for d in pending:
                    in_progress.add(d)
                    stack.append((d, False))
                continue
            memo[node_id] = _own(node, library) + max((memo.get(d, 0) for d in deps), default=0)
            in_progress.discard(node_id)
    return max(memo.values(), default=0)


def _own(node, library: TemplateLibrary) -> int:
    template = library.get(node.template)
    if template is None:
        return 0
    if template.name == "qlib_expr":
        return rebuild_qlib(str(param_values(node, template).get("expr", ""))).lookback
    hint = template.execution_hints.get("lookback")
    if hint is None:
        return 0
    params = {k: v for k, v in param_values(node, template).items() if isinstance(v, int | float)}
    return own_lookback(hint, params)
