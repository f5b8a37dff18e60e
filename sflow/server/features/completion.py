"""Completion: templates (as snippets with their parameters), node names, `$fields`, keywords
from the parser's expected tokens, parameter names and enum values inside calls, setting keys
and values (universes, benchmarks, periods); resolve adds the template's documentation."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from lsprotocol import types as T

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import expected_at
from sflow.flow.checks_semantic import DEAL_PRICES, PERIODS, STRATEGY_SETTINGS, TEST_SETTINGS
from sflow.flow.security import STANDARD_FIELDS
from sflow.flow.templates import Template, TemplateLibrary
from sflow.server.documents import Analysis
from sflow.server.features import cursor
from sflow.server.features.docs import template_markdown

TRIGGERS = ["$", "(", ",", "=", " ", "."]
KEYWORDS = {
    "NOT": "not",
    "TRUE": "true",
    "FALSE": "false",
    "AND": "and",
    "OR": "or",
    "FOR": "for",
}
SETTING_VALUES = {
    "universe": ["csi300", "csi500", "all"],
    "benchmark": ["SH000300", "SH000905"],
    "period": list(PERIODS),
    "deal_price": list(DEAL_PRICES),
}
_SETTING_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s+[\w.-]*$")
_TEST_TARGET = re.compile(r"^\s*test\s+\w+\s+for\s+\w*$")
_STRATEGY_LINE = re.compile(r"^\s*strategy\s+([A-Za-z_]\w*)")
_PORT_BEFORE = re.compile(r"([A-Za-z_]\w*)\.\w*$")

_BLOCK_SNIPPETS = {
    "strategy": (
        'strategy ${1:name} "${2:title}" {\n\tuniverse ${3:csi300}\n\tbenchmark ${4:SH000300}\n'
        "\t$0\n}",
        'strategy name "title" {\n}',
    ),
    "test": (
        "test ${1:name} for ${2:strategy} {\n\tperiod ${3|1M,3M,6M,1Y,2Y|}\n\t$0\n}",
        "test name for strategy {\n}",
    ),
}


def complete(
    analysis: Analysis | None,
    lines: list[str],
    line: int,
    col: int,
    library: TemplateLibrary,
    snippets: bool,
) -> T.CompletionList:
    items = _items(analysis, lines, line, col, library, snippets)
    return T.CompletionList(is_incomplete=False, items=items)


def _items(analysis, lines, line, col, library, snippets) -> list[T.CompletionItem]:
    if line >= len(lines):
        return []
    before = lines[line][:col]
    if cursor.in_comment_or_string(before):
        return []
    partial = cursor.word_before(before)
    start, kind = cursor.block_start(lines, line)
    prefix = cursor.statement_prefix(lines, line, col - len(partial), start)
    if kind is None:
        prefix = cursor.prefix_text(lines, line, col - len(partial), 0)
    if partial.startswith("$"):
        return _fields()
    port = _PORT_BEFORE.search(before)
    if port:
        return _ports(analysis, line, port.group(1), library)
    if _TEST_TARGET.match(before):
        return _strategy_names(analysis, lines)
    expected = expected_at(prefix)
    if kind is None or expected <= {"STRATEGY", "TEST", "_NL"}:
        return _block_keywords(snippets) if expected & {"STRATEGY", "TEST"} else []
    m = _SETTING_LINE.match(before)
    settings = STRATEGY_SETTINGS if kind == "strategy" else TEST_SETTINGS
    if m and m.group(1) in settings and "=" not in before:
        return _setting_values(m.group(1), analysis)
    items: list[T.CompletionItem] = []
    statement_start = (
        "RBRACE" in expected and "NAME" in expected and not before[: col - len(partial)].strip()
    )
    if statement_start:
        items += [
            T.CompletionItem(
                label=key, kind=T.CompletionItemKind.Property, detail=f"{kind} setting ({value})"
            )
            for key, value in settings.items()
        ]
        if kind == "strategy":
            items += _templates(library, snippets)
        return items
    call = cursor.enclosing_call(prefix)
    template = library.get(call.func) if call else None
    if call and template is not None and call.kwarg and template.input(call.kwarg) is None:
        return _param_values(template, call.kwarg)
    expression = bool(expected & {"NAME", "FIELD", "NUMBER"})
    if call and template is not None and call.kwarg is None and expression:
        items += _param_names(template, call)
    if expression:
        items += _nodes(analysis, line)
        items += _templates(library, snippets)
        items += _fields()
        if "QLIB" in expected:
            items.append(_qlib_item(snippets))
    items += [
        T.CompletionItem(label=word, kind=T.CompletionItemKind.Keyword)
        for term, word in KEYWORDS.items()
        if term in expected
    ]
    return items


def _block_keywords(snippets: bool) -> list[T.CompletionItem]:
    out = []
    for word, (snippet, plain) in _BLOCK_SNIPPETS.items():
        out.append(
            T.CompletionItem(
                label=word,
                kind=T.CompletionItemKind.Keyword,
                insert_text=snippet if snippets else plain,
                insert_text_format=T.InsertTextFormat.Snippet
                if snippets
                else T.InsertTextFormat.PlainText,
            )
        )
    return out


def _strategy_names(analysis: Analysis | None, lines: list[str]) -> list[T.CompletionItem]:
    """`test t for |`: the strategies of the file (from the text: they may not parse yet)."""
    names = [m.group(1) for line in lines if (m := _STRATEGY_LINE.match(line))]
    return [
        T.CompletionItem(label=n, kind=T.CompletionItemKind.Class, detail="strategy")
        for n in dict.fromkeys(names)
    ]


@lru_cache(maxsize=1)
def _fields() -> list[T.CompletionItem]:
    return [
        T.CompletionItem(
            label=f"${name}",
            kind=T.CompletionItemKind.Field,
            detail="qlib field",
        )
        for name in STANDARD_FIELDS
    ]


def _setting_values(key: str, analysis: Analysis | None) -> list[T.CompletionItem]:
    values = list(SETTING_VALUES.get(key, []))
    if key == "universe" or not values:
        pass
    return [T.CompletionItem(label=v, kind=T.CompletionItemKind.Value, detail=key) for v in values]


def _nodes(analysis: Analysis | None, line: int) -> list[T.CompletionItem]:
    if analysis is None:
        return []
    block = analysis.block_at(line)
    if not isinstance(block, A.Strategy):
        return []
    return analysis.memo(
        f"completion-nodes:{block.name.name}", lambda: _node_items(analysis, block)
    )


def _node_items(analysis: Analysis, block: A.Strategy) -> list[T.CompletionItem]:
    flow = analysis.result.flows.get(block.name.name)
    if flow is None:
        return []
    out = []
    for node in flow.nodes.values():
        if node.anonymous:
            continue
        template = analysis.library.get(node.template)
        detail = node.template
        if template is not None and template.default_output is not None:
            detail = f"{node.template}(…) → {template.default_output.type}"
        out.append(
            T.CompletionItem(
                label=node.id,
                kind=T.CompletionItemKind.Variable,
                detail=detail,
                sort_text=f"0{node.id}",
            )
        )
    return out


def _ports(analysis: Analysis | None, line: int, name: str, library: TemplateLibrary):
    if analysis is None:
        return []
    block = analysis.block_at(line)
    flow = analysis.result.flows.get(block.name.name) if isinstance(block, A.Strategy) else None
    node = flow.nodes.get(name) if flow else None
    template = library.get(node.template) if node else None
    if template is None:
        return []
    return [
        T.CompletionItem(label=p.name, kind=T.CompletionItemKind.Property, detail=p.type)
        for p in template.output_ports
    ]


_template_cache: dict[tuple[int, bool], tuple[TemplateLibrary, list[T.CompletionItem]]] = {}


def _templates(library: TemplateLibrary, snippets: bool) -> list[T.CompletionItem]:
    key = (id(library), snippets)
    cached = _template_cache.get(key)
    if cached is None or cached[0] is not library:
        if len(_template_cache) > 8:
            _template_cache.clear()
        cached = _template_cache[key] = (
            library,
            [_template_item(t, snippets) for t in library.visible()],
        )
    return cached[1]


def _template_item(t: Template, snippets: bool) -> T.CompletionItem:
    if snippets:
        text, fmt = snippet(t), T.InsertTextFormat.Snippet
    else:
        text, fmt = f"{t.name}(", T.InsertTextFormat.PlainText
    return T.CompletionItem(
        label=t.name,
        kind=T.CompletionItemKind.Function,
        detail=f"{t.node_type.lower()} · {t.display_name}",
        insert_text=text,
        insert_text_format=fmt,
    )


def snippet(t: Template) -> str:
    parts, n = [], 0
    for port in t.input_ports:
        if not port.required:
            continue
        n += 1
        default = "\\$close" if port.type == "series" else port.name
        parts.append(f"${{{n}:{default}}}")
    for name in t.params:
        default = t.default_parameters.get(name)
        if default is None and name not in t.required_params:
            continue
        n += 1
        shown = _escape(json.dumps(default) if default is not None else name)
        parts.append(f"{name}=${{{n}:{shown}}}")
    return f"{t.name}({', '.join(parts)})$0"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _qlib_item(snippets: bool) -> T.CompletionItem:
    return T.CompletionItem(
        label="qlib",
        kind=T.CompletionItemKind.Keyword,
        detail='qlib("…"): a raw qlib expression',
        insert_text='qlib("${1:Mean(\\$close, 5)}")' if snippets else 'qlib("")',
        insert_text_format=T.InsertTextFormat.Snippet if snippets else T.InsertTextFormat.PlainText,
    )


def _param_names(template: Template, call: cursor.CallContext) -> list[T.CompletionItem]:
    out = []
    for name, schema in template.params.items():
        if name in call.used:
            continue
        default = template.default_parameters.get(name)
        detail = _schema_type(schema) + (f" = {json.dumps(default)}" if default is not None else "")
        out.append(
            T.CompletionItem(
                label=f"{name}=",
                kind=T.CompletionItemKind.Property,
                detail=detail,
                documentation=schema.get("description"),
                insert_text=f"{name}=",
                filter_text=name,
                sort_text=f"00{name}",
            )
        )
    return out


def _param_values(template: Template, name: str) -> list[T.CompletionItem]:
    schema: dict[str, Any] = dict(template.params.get(name, {}))
    values: list[Any] = list(schema.get("enum", []))
    if not values and schema.get("type") == "boolean":
        values = [True, False]
    default = template.default_parameters.get(name)
    if not values and default is not None:
        values = [default]
    out = []
    for v in values:
        text = json.dumps(v) if not isinstance(v, str) else v
        out.append(
            T.CompletionItem(
                label=text,
                kind=T.CompletionItemKind.EnumMember
                if "enum" in schema
                else T.CompletionItemKind.Value,
                detail="default" if v == default else None,
                preselect=v == default or None,
            )
        )
    return out


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    return str(kind)


def resolve(item: T.CompletionItem, library: TemplateLibrary) -> T.CompletionItem:
    # Templates are the only Function items and their label is the template name (no `data`
    # needed: a smaller list is a faster list).
    template = library.get(item.label) if item.kind == T.CompletionItemKind.Function else None
    if template is not None:
        item.documentation = T.MarkupContent(
            kind=T.MarkupKind.Markdown, value=template_markdown(template)
        )
        item.detail = template.signature()
    return item
