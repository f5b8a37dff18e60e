"""Parser: golden ASTs, precedence, recovery, expected tokens."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import expected_at, parse
from tests.helpers import EXAMPLES, GOLDEN, assert_golden

PARSER_GOLDEN = GOLDEN / "parser"


def dump(node) -> object:
    """A readable, stable JSON form of the AST (class name + fields, spans as [l, c, el, ec])."""
    if isinstance(node, A.Span):
        return f"{node.line}:{node.col}-{node.end_line}:{node.end_col}"
    if dataclasses.is_dataclass(node):
        out = {"_": type(node).__name__}
        for f in dataclasses.fields(node):
            out[f.name] = dump(getattr(node, f.name))
        return out
    if isinstance(node, tuple | list):
        return [dump(x) for x in node]
    if hasattr(node, "isoformat"):
        return node.isoformat()
    return node


SOURCES = sorted(EXAMPLES.glob("*.sflow")) + sorted(PARSER_GOLDEN.glob("*.sflow"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_golden_ast(path: Path) -> None:
    result = parse(path.read_text(encoding="utf-8"))
    actual = json.dumps(
        {"document": dump(result.document), "diagnostics": dump(result.diagnostics)}, indent=1
    )
    assert_golden(PARSER_GOLDEN / (path.stem + ".ast.json"), actual + "\n")


def _expr(src: str) -> A.Expr:
    result = parse(f"strategy s {{\n    x = {src}\n}}\n")
    assert not result.diagnostics, result.diagnostics
    return result.document.strategies[0].nodes[0].expr


def shape(e: A.Expr) -> str:
    if isinstance(e, A.BinOp):
        return f"({shape(e.left)} {e.op} {shape(e.right)})"
    if isinstance(e, A.UnaryOp):
        return f"({e.op} {shape(e.operand)})"
    if isinstance(e, A.Name):
        return e.ident.name
    if isinstance(e, A.Number):
        return str(e.value)
    if isinstance(e, A.Call):
        return f"{e.func.name}({', '.join(shape(a) for a in e.args)})"
    if isinstance(e, A.Port):
        return f"{e.node.name}.{e.port.name}"
    if isinstance(e, A.Field):
        return "$" + e.name
    return type(e).__name__


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c", "((a and b) or c)"),
        ("not a < b", "(not (a < b))"),
        ("not a and b", "((not a) and b)"),
        ("-a * b", "((- a) * b)"),
        ("a - b - c", "((a - b) - c)"),
        ("a - (b - c)", "(a - (b - c))"),
        ("a + b * c / d", "(a + ((b * c) / d))"),
        ("a < b + 1", "(a < (b + 1))"),
        ("f(a, b) > m.hist", "(f(a, b) > m.hist)"),
        ("$close / Ref", "($close / Ref)"),
        ("1_000 + 2.5e3", "(1000 + 2500.0)"),
    ],
)
def test_precedence(src: str, expected: str) -> None:
    assert shape(_expr(src)) == expected


def test_chained_comparison_is_an_error_not_a_silent_rewrite() -> None:
    result = parse("strategy s {\n    x = a > b > c\n}\n")
    assert [d.code for d in result.diagnostics] == ["SF104"]
    assert result.diagnostics[0].span.line == 1


def test_explicit_parentheses_make_a_comparison_of_a_comparison_legal() -> None:
    assert shape(_expr("(a > b) == (b > c)")) == "((a > b) == (b > c))"


def test_recovery_reports_every_broken_line_and_keeps_the_rest() -> None:
    text = (
        "strategy s {\n"
        "    a = sma($close, period=5\n"  # unclosed
        "    b = sma($close, period=5)\n"
        "    c = d e\n"  # junk
        "    f = sma($close) ^ 2\n"  # bad character
        "    g = ema($close, period=3)\n"
        "}\n"
        "test t for s {\n"
        "    period 1Y\n"
        "}\n"
    )
    result = parse(text)
    codes = [(d.code, d.span.line) for d in result.diagnostics]
    assert ("SF106", 1) in codes
    assert ("SF101", 3) in codes
    assert ("SF102", 4) in codes
    assert [c for c in codes if c[1] == 4] == [("SF102", 4)]  # one typo, one diagnostic
    names = [n.name.name for n in result.document.strategies[0].nodes if n.name]
    assert "g" in names and "f" in names
    assert [t.name.name for t in result.document.tests] == ["t"]


def test_missing_closing_brace_keeps_the_next_block() -> None:
    result = parse("strategy a {\n    x = 1\n\nstrategy b {\n    y = 2\n}\n")
    assert [b.name.name for b in result.document.blocks] == ["a", "b"]
    assert result.diagnostics[0].code == "SF103"


def test_messages_say_what_was_expected() -> None:
    result = parse("strategy s {\n    x = sma($close period=5)\n}\n")
    (diag,) = result.diagnostics
    assert "expected" in diag.message and "`,`" in diag.message and "`)`" in diag.message


def test_spans_are_zero_based_and_exclusive() -> None:
    result = parse("strategy golden {\n}\n")
    assert result.document.blocks[0].name.span == A.Span(0, 9, 0, 15)


def test_comments_are_collected_with_positions() -> None:
    result = parse("# a\nstrategy s { # b\n}\n")
    assert [(c.text, c.span.line) for c in result.document.comments] == [("# a", 0), ("# b", 1)]


@pytest.mark.parametrize(
    ("prefix", "must", "must_not"),
    [
        ("", {"STRATEGY", "TEST"}, {"NAME"}),
        ("strategy s {\n    fast = ", {"NAME", "FIELD", "QLIB", "NOT", "NUMBER"}, {"RBRACE"}),
        ("strategy s {\n    fast = sma($close) ", {"COMP_OP", "AND", "_NL"}, {"NAME"}),
        ("strategy s {\n    fast = sma($close, ", {"NAME", "RPAR"}, set()),
        ("test t for s {\n    period ", {"DURATION", "DATE", "NUMBER"}, set()),
        ("strategy s {\n    x = (((", {"NAME", "LPAR"}, set()),
    ],
)
def test_expected_tokens(prefix: str, must: set[str], must_not: set[str]) -> None:
    expected = expected_at(prefix)
    assert must <= expected
    assert not (must_not & expected)


def test_block_keywords_are_reserved_at_line_start() -> None:
    result = parse("strategy s {\n    test = sma($close)\n}\n")
    assert result.diagnostics
