"""Parameter layer: each node's literal parameters against its template's JSON Schema."""

from __future__ import annotations

import difflib
import sys
from functools import lru_cache

# jsonschema imports the optional `rfc3987_syntax` (IRI format checks) at import time, and that
# builds an Earley parser: 1–5 s on every `sflow check` and server start. sflow never checks
# string formats, so keep it out unless something already imported it.
if "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    from jsonschema import Draft202012Validator

    del sys.modules["rfc3987_syntax"]
else:
    from jsonschema import Draft202012Validator

from sflow.dsl_grammar.diagnostics import Diagnostic, error
from sflow.flow.graph import FlowNode
from sflow.flow.templates import Template

_RANGE = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"}
_CODE = {"type": "SF401", "enum": "SF403", "required": "SF404", "additionalProperties": "SF405"}


@lru_cache(maxsize=512)
def _validator(template: Template) -> Draft202012Validator:
    return Draft202012Validator(dict(template.parameter_schema))


def param_diagnostics(node: FlowNode, template: Template) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    given = {}
    for name, param in node.params.items():
        if name not in template.params:
            known = list(template.params) + [p.name for p in template.input_ports]
            hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            accepted = ", ".join(known) or "none"
            message = f"`{template.name}` has no parameter `{name}` (it takes: {accepted})"
            if hint:
                message = f"`{template.name}` has no parameter `{name}`; did you mean `{hint[0]}`?"
            diags.append(error("SF405", message, param.name_span or param.span, suggestions=hint))
        elif not param.literal:
            diags.append(
                error(
                    "SF305",
                    f"parameter `{name}` must be a literal value (a number, string or true/false)",
                    param.span,
                )
            )
        else:
            given[name] = param.value
    values = {k: v for k, v in template.default_parameters.items() if k in template.params}
    values.update(given)
    for problem in _validator(template).iter_errors(values):
        code = "SF402" if problem.validator in _RANGE else _CODE.get(problem.validator, "SF406")
        key = problem.path[0] if problem.path else None
        if code == "SF405":
            continue  # reported above with a did-you-mean
        if code == "SF404":
            missing = [r for r in template.required_params if r not in values]
            for name in missing:
                diags.append(
                    error(
                        "SF404",
                        f"`{template.name}` needs the parameter `{name}`",
                        node.func_span,
                        missing=name,
                        template=template.name,
                    )
                )
            continue
        span = node.params[key].span if key in node.params else node.func_span
        diags.append(
            error(
                code,
                f"`{key}` of `{template.name}`: {_message(problem, template, key)}",
                span,
                parameter=key,
            )
        )
    if (
        template.name == "topk"
        and isinstance(values.get("k"), int)
        and isinstance(values.get("n_drop"), int)
    ) and values["n_drop"] > values["k"]:
        if "n_drop" in node.params:
            span, message = node.params["n_drop"].span, "`n_drop` cannot exceed `k`"
        else:
            span = node.func_span
            message = (
                f"the default `n_drop={values['n_drop']}` exceeds `k={values['k']}`; "
                f"set `n_drop` to at most {values['k']}"
            )
        diags.append(error("SF402", message, span, parameter="n_drop"))
    return diags


def _message(problem, template: Template, key) -> str:
    schema = template.params.get(key, {}) if key else {}
    v = problem.validator
    if v == "type":
        return f"expected {_article(problem.validator_value)}, got {problem.instance!r}"
    if v == "minimum":
        return f"must be at least {problem.validator_value}, got {problem.instance!r}"
    if v == "maximum":
        return f"must be at most {problem.validator_value}, got {problem.instance!r}"
    if v == "exclusiveMinimum":
        return f"must be greater than {problem.validator_value}, got {problem.instance!r}"
    if v == "exclusiveMaximum":
        return f"must be less than {problem.validator_value}, got {problem.instance!r}"
    if v == "enum":
        return f"must be one of {', '.join(map(str, schema.get('enum', [])))}, got {problem.instance!r}"
    return problem.message


def _article(kind) -> str:
    names = {
        "integer": "an integer",
        "number": "a number",
        "string": "a string",
        "boolean": "true or false",
    }
    if isinstance(kind, list):
        return " or ".join(names.get(k, k) for k in kind)
    return names.get(kind, str(kind))
