"""The qlib expression boundary: whitelist parse-and-rebuild, strict tokenizer, lookahead."""

from __future__ import annotations

import pytest

from sflow.flow.security import UnsafeExpression, check_expression, rebuild_qlib, wma_expression


@pytest.mark.parametrize(
    ("text", "rebuilt"),
    [
        ("$close / Ref($close, 20) - 1", "Sub(Div($close, Ref($close, 20)), 1)"),
        ("Mean($close, 5) > $open", "Gt(Mean($close, 5), $open)"),
        ("($close > $open) & ($volume > 0)", "And(Gt($close, $open), Gt($volume, 0))"),
        ("-$close", "Sub(0, $close)"),
        ("If($close > 1, 1, -1)", "If(Gt($close, 1), 1, -1)"),
        ("WMA($close, 3)", wma_expression("$close", 3)),
    ],
)
def test_rebuilds_canonical_function_forms(text: str, rebuilt: str) -> None:
    result = rebuild_qlib(text)
    assert result.expression == rebuilt
    assert check_expression(result.expression) == rebuilt


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("$close+[[__import__][0]('os').system][0]('touch /tmp/pwned')*0", "SF602"),
        ("[[open][0]('/tmp/x','w').write][0]('x')", "SF602"),
        ("$close.__class__", "SF602"),
        ("Mean($close, 5)[0]", "SF602"),
        ("(lambda: 1)()", "SF602"),
        ("'abc'", "SF602"),
        ("ChangeInstrument('SH000300', $close)", "SF603"),
        ("os.system('x')", "SF602"),
        ("eval('1')", "SF603"),
        ("$close > $open > $high", "SF602"),
        ("$close if 1 else 2", "SF602"),
        ("Mean($close, 5", "SF601"),
        ("Ref($close, -1)", "SF605"),
        ("Mean($close, n=5)", "SF602"),
        ("$close ** 2", "SF602"),
        ("not $close", "SF602"),
        ("x_$close", "SF602"),
    ],
)
def test_rejects_everything_else(text: str, code: str) -> None:
    result = rebuild_qlib(text)
    assert result.expression is None
    assert code in {i.code for i in result.issues}


def test_unknown_field_is_a_warning() -> None:
    result = rebuild_qlib("Mean($pe, 5)")
    assert result.expression == "Mean($pe, 5)"
    assert [(i.code, i.is_error) for i in result.issues] == [("SF604", False)]


def test_lookback_is_measured() -> None:
    assert rebuild_qlib("Mean(Ref($close, 3), 20)").lookback == 20


@pytest.mark.parametrize(
    "expression",
    [
        "Add($close, __import__)",
        "Mean($close, 5); import os",
        "Mean($close, 5) + 1",
        "(Mean($close, 5))",
        "Mean($close, 5))",
        "Mean($close, 5",
        "Foo($close)",
        "$close.x",
        "Sub(1 -2, 3)",
        "",
    ],
)
def test_strict_tokenizer_rejects(expression: str) -> None:
    with pytest.raises(UnsafeExpression):
        check_expression(expression)


def test_every_template_expression_passes_the_tokenizer(library) -> None:
    from sflow.flow.qlib_expr import node_expressions
    from sflow.flow.validate import check_text
    from tests.helpers import EXAMPLES

    for path in EXAMPLES.glob("*.sflow"):
        result = check_text(path.read_text(encoding="utf-8"), library)
        for flow in result.flows.values():
            for expr in node_expressions(flow, library).values():
                check_expression(expr)


def test_a_malicious_user_template_cannot_reach_qlib(library) -> None:
    from sflow.flow.templates import TemplateLibrary, load_system_records
    from sflow.flow.validate import check_text

    evil = {
        "name": "evil",
        "display_name": "Evil",
        "node_type": "INDICATOR",
        "category": "TREND",
        "parameter_schema": {"type": "object", "properties": {}},
        "input_ports": [{"name": "price", "type": "series"}],
        "output_ports": [{"name": "value", "type": "series"}],
        "execution_hints": {"qlib": "Add({price}, __import__('os').system('touch /tmp/pwned'))"},
        "is_system_template": False,
    }
    lib = TemplateLibrary.from_records([*load_system_records(), evil])
    text = "strategy s {\n    e = evil($close)\n    b = signal(e > 1)\n    k = topk(b)\n}\n"
    codes = {d.code for d in check_text(text, lib).diagnostics}
    assert "SF607" in codes
