"""Formatter: golden layouts, idempotence, every comment kept, line endings kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from sflow.dsl_grammar import format_source, parse
from tests.helpers import EXAMPLES, GOLDEN, assert_golden

FMT = GOLDEN / "fmt"
INPUTS = sorted(FMT.glob("*.in.sflow"))
ALL = sorted(EXAMPLES.glob("*.sflow")) + INPUTS + sorted((GOLDEN / "parser").glob("syntax_*.sflow"))


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_golden_format(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    formatted = format_source(text)
    assert formatted is not None
    out = path.with_name(path.name.replace(".in.", ".out."))
    if "\r\n" in text:
        assert "\r\n" in formatted and "\n" not in formatted.replace("\r\n", "")
    assert_golden(out, formatted.replace("\r\n", "\n"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_idempotent(path: Path) -> None:
    once = format_source(path.read_text(encoding="utf-8"))
    assert once is not None
    assert format_source(once) == once


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_comments_kept(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    before = [c.text.rstrip() for c in parse(text).document.comments]
    after = [c.text.rstrip() for c in parse(format_source(text)).document.comments]
    assert sorted(before) == sorted(after)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_format_keeps_the_tree(path: Path) -> None:
    from tests.lang.test_parser import dump

    def shape(text: str):
        # Same tree modulo positions and number spelling.
        doc = dump(parse(text).document)
        return _strip(doc)

    text = path.read_text(encoding="utf-8")
    assert shape(text) == shape(format_source(text))


def _strip(node):
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("span", "text", "comments")}
    if isinstance(node, list):
        return [_strip(x) for x in node]
    return node


def test_examples_are_already_formatted() -> None:
    for path in EXAMPLES.glob("*.sflow"):
        text = path.read_text(encoding="utf-8")
        assert format_source(text) == text, f"{path.name} is not in canonical form (sflow fmt)"


def test_syntax_errors_are_not_formatted() -> None:
    assert format_source("strategy s {\n    x = (\n}\n") is None
