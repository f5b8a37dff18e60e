"""Type layer: port types of every binding, arity, output ports of multi-output nodes."""

from __future__ import annotations

from sflow.dsl_grammar.diagnostics import Diagnostic, error, warning
from sflow.flow.graph import Flow
from sflow.flow.templates import TemplateLibrary


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


def type_diagnostics(flow: Flow, library: TemplateLibrary) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for node in flow.nodes.values():
        template = library.get(node.template)
        for kind, name, span in node.repeated:
            code = "SF302" if kind == "input" else "SF407"
            diags.append(error(code, f"the {kind} `{name}` is given twice", span))
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
