"""The logic-flow JSON contract (DESIGN §3): text → JSON (`sflow export`) and JSON → text (`import`).

Deterministic: keys in a fixed order, nodes in definition order, no positions unless asked. Only
parameters written in the text are recorded (defaults stay in the template library), so
text → JSON → text gives back the formatted text.
"""

from __future__ import annotations

import re
from typing import Any

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar.printer import format_document
from sflow.errors import SflowError
from sflow.flow.graph import Flow, build_flow
from sflow.flow.templates import TemplateLibrary

VERSION = 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^(\d+)([DWMY])$")
_IDENT = re.compile(r"^[^\W\d]\w*$")
_OPERATOR_OF = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "and": "and",
    "or": "or",
}


def _span_json(span: A.Span) -> dict[str, int]:
    return {"line": span.line, "col": span.col, "end_line": span.end_line, "end_col": span.end_col}


def _value_json(value: A.Value) -> Any:
    if isinstance(value, A.Name):
        return value.ident.name
    if isinstance(value, A.Date | A.Duration):
        return value.text
    return value.value


def flow_to_json(
    flow: Flow, library: TemplateLibrary, tests: tuple[A.Test, ...] = (), positions: bool = False
) -> dict[str, Any]:
    strategy = flow.strategy
    nodes, edges = [], []
    for node in flow.nodes.values():
        template = library.get(node.template)
        entry: dict[str, Any] = {
            "id": node.id,
            "template": node.template,
            "node_type": template.node_type if template else None,
            "params": {k: p.value for k, p in node.params.items() if p.literal},
        }
        if positions:
            entry["span"] = _span_json(node.span)
        nodes.append(entry)
        for b in node.inputs:
            if b.source.kind == "literal":
                continue
            source_port = b.source.port
            if source_port is None:
                source = flow.nodes.get(b.source.ref)
                source_template = library.get(source.template) if source else None
                out = source_template.default_output if source_template else None
                source_port = out.name if out else "value"
            edges.append(
                {
                    "source": b.source.ref,
                    "source_port": source_port,
                    "target": node.id,
                    "target_port": b.port,
                }
            )
    doc: dict[str, Any] = {
        "version": VERSION,
        "strategy": strategy.name.name,
        "title": strategy.title.value if strategy.title else None,
        "settings": {s.key.name: _value_json(s.value) for s in strategy.settings},
        "nodes": nodes,
        "edges": edges,
    }
    mine = [t for t in tests if t.target.name == strategy.name.name]
    if mine:
        doc["tests"] = [
            {
                "name": t.name.name,
                "settings": {s.key.name: _value_json(s.value) for s in t.settings},
            }
            for t in mine
        ]
    return doc


def document_to_json(
    document: A.Document, library: TemplateLibrary, positions: bool = False
) -> list[dict[str, Any]]:
    return [
        flow_to_json(build_flow(s, library), library, document.tests, positions)
        for s in document.strategies
    ]


# ---- JSON → text ----------------------------------------------------------------------------


def _literal(value: Any, where: str) -> A.Value:
    if isinstance(value, bool):
        return A.Bool(value)
    if isinstance(value, int | float):
        return A.Number(value, "")
    if isinstance(value, str):
        if _DATE.match(value):
            from datetime import date

            try:
                return A.Date(date.fromisoformat(value), value)
            except ValueError:
                return A.String(value)
        m = _DURATION.match(value)
        if m:
            return A.Duration(int(m.group(1)), m.group(2))
        if _IDENT.match(value):
            return A.Name(A.Ident(value))
        return A.String(value)
    raise SflowError(f"{where}: unsupported value {value!r} (expected a number, string or boolean)")


def _param_expr(value: Any, where: str) -> A.Expr:
    if isinstance(value, bool):
        return A.Bool(value)
    if isinstance(value, int | float):
        return A.Number(value, "") if value >= 0 else A.UnaryOp("-", A.Number(-value, ""))
    if isinstance(value, str):
        return A.String(value)
    raise SflowError(f"{where}: unsupported parameter value {value!r}")


def _check_shape(flow: dict[str, Any]) -> None:
    """Refuse a logic flow whose fields have the wrong JSON types, with a message saying which."""

    def need(value: Any, kind: type, what: str) -> None:
        if value is not None and not isinstance(value, kind):
            expected = {list: "a list", dict: "an object", str: "a string"}[kind]
            raise SflowError(f"{what} must be {expected}, got {type(value).__name__}")

    need(flow.get("nodes"), list, "`nodes`")
    need(flow.get("edges"), list, "`edges`")
    need(flow.get("settings"), dict, "`settings`")
    need(flow.get("tests"), list, "`tests`")
    need(flow.get("title"), str, "`title`")
    for n in flow.get("nodes") or []:
        need(n, dict, "each node")
        node_id = n.get("id")
        if not isinstance(node_id, str) or not _IDENT.match(node_id.lstrip("_") or "_"):
            raise SflowError(f"node id {node_id!r} is not a name")
        if not isinstance(n.get("template"), str) or not _IDENT.match(n["template"]):
            raise SflowError(f"node `{node_id}` needs a `template` name")
        need(n.get("params"), dict, f"`params` of node `{node_id}`")
    for e in flow.get("edges") or []:
        need(e, dict, "each edge")
        for key in ("source", "target", "source_port", "target_port"):
            need(e.get(key), str, f"`{key}` of an edge")
    for t in flow.get("tests") or []:
        need(t, dict, "each test")
        if not isinstance(t.get("name"), str) or not _IDENT.match(t["name"]):
            raise SflowError(f"test name {t.get('name')!r} is not a name")
        need(t.get("settings"), dict, f"`settings` of test `{t['name']}`")


class _Rebuild:
    def __init__(self, data: dict[str, Any], library: TemplateLibrary) -> None:
        self.data = data
        self.library = library
        self.nodes: dict[str, dict[str, Any]] = {}
        for n in data.get("nodes") or []:
            if n["id"] in self.nodes:
                raise SflowError(f"duplicate node id `{n['id']}`")
            self.nodes[n["id"]] = n
        self.inputs: dict[str, list[dict[str, Any]]] = {k: [] for k in self.nodes}
        self.uses: dict[str, int] = dict.fromkeys(self.nodes, 0)
        for e in data.get("edges") or []:
            target, source = e.get("target"), e.get("source")
            if target not in self.nodes:
                raise SflowError(f"edge into unknown node `{target}`")
            if not isinstance(source, str) or (
                not source.startswith("$") and source not in self.nodes
            ):
                raise SflowError(f"edge from unknown node `{source}`")
            self.inputs[target].append(e)
            if source in self.uses:
                self.uses[source] += 1
        self.inlined = {k for k in self.nodes if k.startswith("_") and self.uses[k] == 1}
        self.depth = 0

    def statements(self) -> list[A.Stmt]:
        body: list[A.Stmt] = []
        for node_id in self.nodes:
            if node_id in self.inlined:
                continue
            expr = self.expr(node_id)
            if node_id.startswith("_") and self.uses[node_id] == 0:
                body.append(A.NodeDef(None, expr))
            else:
                body.append(A.NodeDef(A.Ident(node_id.lstrip("_") or "node"), expr))
        return body

    def source(self, edge: dict[str, Any]) -> A.Expr:
        ref = edge["source"]
        if ref.startswith("$"):
            return A.Field(ref[1:])
        if ref in self.inlined:
            return self.expr(ref)
        node = self.nodes[ref]
        template = self.library.get(node["template"])
        name = ref.lstrip("_") or "node"
        port = edge.get("source_port")
        if template and len(template.output_ports) > 1 and port:
            return A.Port(A.Ident(name), A.Ident(port))
        return A.Name(A.Ident(name))

    def expr(self, node_id: str) -> A.Expr:
        self.depth += 1
        if self.depth > 200:
            raise SflowError("the logic flow nests expressions more than 200 levels deep")
        try:
            return self._expr(node_id)
        finally:
            self.depth -= 1

    def _expr(self, node_id: str) -> A.Expr:
        node = self.nodes[node_id]
        name, params = node["template"], node.get("params") or {}
        where = f"node `{node_id}`"
        edges = {e.get("target_port"): e for e in self.inputs[node_id]}
        if name == "const":
            return _param_expr(params.get("value", 0), where)
        if name == "qlib_expr":
            return A.Qlib(A.String(str(params.get("expr", ""))))
        if name in _OPERATOR_OF and set(edges) >= {"left", "right"}:
            return A.BinOp(
                _OPERATOR_OF[name], self.source(edges["left"]), self.source(edges["right"])
            )
        if name in ("neg", "not") and "operand" in edges:
            return A.UnaryOp("-" if name == "neg" else "not", self.source(edges["operand"]))
        template = self.library.get(name)
        args: list[A.Expr] = []
        kwargs: list[A.KwArg] = []
        order = [p.name for p in template.input_ports] if template else []
        order += [p for p in edges if p not in order]
        for port in order:
            if port not in edges:
                continue
            value = self.source(edges[port])
            spec = template.input(port) if template else None
            # Canonical call style: required inputs positional, optional ones by keyword.
            positional = spec is not None and spec.required and not kwargs
            if positional and order.index(port) == len(args):
                args.append(value)
            else:
                kwargs.append(A.KwArg(A.Ident(str(port)), value))
        for key, value in params.items():
            kwargs.append(A.KwArg(A.Ident(key), _param_expr(value, where)))
        return A.Call(A.Ident(name), tuple(args), tuple(kwargs))


def json_to_document(data: Any, library: TemplateLibrary) -> A.Document:
    """Rebuild the AST of one logic flow (an object) or several (a list of objects)."""
    flows = data if isinstance(data, list) else [data]
    if not flows:
        raise SflowError("the JSON holds no logic flow")
    blocks: list[A.Block] = []
    for flow in flows:
        if not isinstance(flow, dict):
            raise SflowError("a logic flow must be a JSON object")
        _check_shape(flow)
        if flow.get("version") != VERSION:
            raise SflowError(f"unsupported logic-flow version {flow.get('version')!r} (expected 1)")
        name = flow.get("strategy")
        if not isinstance(name, str) or not _IDENT.match(name):
            raise SflowError(f"`strategy` must be a name, got {name!r}")
        settings = [
            A.Setting(A.Ident(k), _literal(v, f"setting `{k}`"))
            for k, v in (flow.get("settings") or {}).items()
        ]
        body = _Rebuild(flow, library).statements()
        title = flow.get("title")
        blocks.append(
            A.Strategy(A.Ident(name), A.String(title) if title else None, (*settings, *body))
        )
        for test in flow.get("tests") or []:
            test_settings = tuple(
                A.Setting(A.Ident(k), _literal(v, f"setting `{k}`"))
                for k, v in (test.get("settings") or {}).items()
            )
            blocks.append(A.Test(A.Ident(test["name"]), A.Ident(name), test_settings))
    return A.Document(tuple(blocks))


def json_to_text(data: Any, library: TemplateLibrary) -> str:
    """Formatted .sflow text of one logic flow or a list of them."""
    return format_document(json_to_document(data, library))
