"""Markdown for templates, parameters, nodes and settings: shared by hover, completion resolve
and signature help."""

from __future__ import annotations

import json
from typing import Any

from sflow.flow.templates import Template


def param_line(template: Template, name: str) -> str:
    schema: dict[str, Any] = dict(template.params.get(name, {}))
    kind = schema.get("type", "any")
    kind = " | ".join(kind) if isinstance(kind, list) else kind
    parts = [f"`{name}`: {kind}"]
    lo, hi = (
        schema.get("minimum", schema.get("exclusiveMinimum")),
        schema.get("maximum", schema.get("exclusiveMaximum")),
    )
    if lo is not None or hi is not None:
        parts.append(f"range {'' if lo is None else lo}…{'' if hi is None else hi}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    default = template.default_parameters.get(name, schema.get("default"))
    if default is not None:
        parts.append(f"default `{json.dumps(default)}`")
    if name in template.required_params and default is None:
        parts.append("**required**")
    text = " · ".join(parts)
    if schema.get("description"):
        text += f" — {schema['description']}"
    return text


def template_markdown(template: Template) -> str:
    lines = [f"```sflow\n{template.signature()}\n```", ""]
    kind = template.node_type.lower() + (
        f" · {template.category.lower()}" if template.category else ""
    )
    lines.append(
        f"**{template.display_name}** ({kind}{'' if template.is_system else ' · your template'})"
    )
    if template.description:
        lines += ["", template.description.strip()]
    if template.input_ports:
        lines += ["", "**Inputs**", ""]
        lines += [
            f"- `{p.name}`: {p.type}{'' if p.required else ' (optional)'}"
            + (f" — {p.description}" if p.description else "")
            for p in template.input_ports
        ]
    if template.params:
        lines += ["", "**Parameters**", ""]
        lines += [f"- {param_line(template, name)}" for name in template.params]
    if len(template.output_ports) > 1:
        lines += ["", "**Outputs**", ""]
        lines += [f"- `{p.name}`: {p.type}" for p in template.output_ports]
    return "\n".join(lines)


SETTING_DOCS = {
    "universe": "Instruments the strategy trades: `csi300`, `csi500`, `all` or a qlib market name.",
    "benchmark": "Benchmark instrument for excess return, e.g. `SH000300`.",
    "period": "Test length counted back from `end`: 1M, 3M, 6M, 1Y or 2Y.",
    "start": "First test date (YYYY-MM-DD); overrides `period`.",
    "end": "Last test date (YYYY-MM-DD); default: the last date the data can trade.",
    "account": "Initial cash.",
    "open_cost": "Cost rate of buying (fraction).",
    "close_cost": "Cost rate of selling (fraction).",
    "min_cost": "Minimum cost per trade.",
    "deal_price": "Price orders deal at: close, open or vwap.",
    "limit_threshold": "Price limit that blocks trading (fraction, e.g. 0.095).",
}
