"""Property tests: random and mutated documents never raise, ranges stay inside the document,
and formatting a random valid document is idempotent and keeps its tree."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar import format_source, parse
from sflow.dsl_grammar.printer import format_document
from sflow.flow.templates import system_library
from sflow.flow.validate import check_text
from tests.helpers import EXAMPLES

LIB = system_library()
TOKENS = [
    "strategy",
    "test",
    "for",
    "s",
    "x",
    "fast",
    "sma",
    "topk",
    "signal",
    "(",
    ")",
    "{",
    "}",
    "=",
    ",",
    ".",
    "+",
    "-",
    "*",
    "/",
    "<",
    ">=",
    "==",
    "and",
    "or",
    "not",
    "$close",
    "1",
    "2.5",
    "1_000",
    '"t"',
    'qlib("Mean($close, 5)")',
    "2021-01-04",
    "1Y",
    "\n",
    "\n",
    " ",
    "#c\n",
    "\t",
    "é",
    "\x00",
]
EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.sflow"))]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_ranges_inside(text: str, diagnostics) -> None:
    lines = text.split("\n")
    for d in diagnostics:
        assert 0 <= d.span.line <= d.span.end_line <= len(lines), d
        if d.span.line == d.span.end_line:
            assert d.span.col <= d.span.end_col, d


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=80))
def test_token_soup_never_raises(tokens: list[str]) -> None:
    text = " ".join(tokens)
    result = check_text(text, LIB)
    assert_ranges_inside(text, result.diagnostics)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = check_text(text, LIB)
    assert_ranges_inside(text, result.diagnostics)


@SETTINGS
@given(
    st.sampled_from(EXAMPLE_TEXTS),
    st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 5), st.sampled_from([*TOKENS, ""])),
        max_size=6,
    ),
)
def test_mutated_examples_never_raise(text: str, edits) -> None:
    for pos, cut, insert in edits:
        pos %= len(text) + 1
        text = text[:pos] + insert + text[pos + cut :]
    result = check_text(text, LIB)
    assert_ranges_inside(text, result.diagnostics)
    formatted = format_source(text)
    if formatted is not None:
        assert format_source(formatted) == formatted


NAMES = st.sampled_from(["a", "b", "fast", "slow", "x1"])
LEAVES = st.one_of(
    NAMES.map(lambda n: A.Name(A.Ident(n))),
    st.sampled_from(["close", "open", "volume"]).map(A.Field),
    st.integers(0, 100_000).map(lambda v: A.Number(v, str(v))),
    st.floats(0.001, 1000, allow_nan=False).map(lambda v: A.Number(v, repr(v))),
)


def _tree(children):
    return st.one_of(
        st.tuples(
            st.sampled_from(["+", "-", "*", "/", "<", ">=", "==", "and", "or"]), children, children
        ).map(lambda t: A.BinOp(t[0], t[1], t[2])),
        st.tuples(st.sampled_from(["-", "not"]), children).map(lambda t: A.UnaryOp(t[0], t[1])),
        st.tuples(st.sampled_from(["sma", "ema", "signal"]), st.lists(children, max_size=2)).map(
            lambda t: A.Call(
                A.Ident(t[0]), tuple(t[1]), (A.KwArg(A.Ident("period"), A.Number(5, "5")),)
            )
        ),
    )


EXPRS = st.recursive(LEAVES, _tree, max_leaves=12)


@SETTINGS
@given(st.lists(st.tuples(NAMES, EXPRS), min_size=1, max_size=5))
def test_printing_a_random_tree_round_trips(defs) -> None:
    body = tuple(A.NodeDef(A.Ident(name), expr) for name, expr in defs)
    doc = A.Document((A.Strategy(A.Ident("s"), None, body),))
    text = format_document(doc)
    reparsed = parse(text)
    assert reparsed.diagnostics == ()
    assert format_document(reparsed.document, text) == text
