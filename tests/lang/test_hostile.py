"""Hostile input: huge, deep, binary, mixed line endings, tabs, non-ASCII — a diagnostic, never a crash."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sflow.dsl_grammar import decode, parse
from sflow.dsl_grammar.parser import MAX_SOURCE_CHARS
from sflow.flow.validate import check_text

VALID = "strategy s {\n    fast = sma($close, period=5)\n    buy  = signal(fast > 1)\n    book = topk(buy, k=10)\n}\n"


def test_ten_megabyte_file_gets_one_clear_diagnostic(library) -> None:
    text = VALID * (10 * 1024 * 1024 // len(VALID) + 1)
    assert len(text) > MAX_SOURCE_CHARS
    result = check_text(text, library)
    assert [d.code for d in result.diagnostics] == ["SF108"]
    assert "too large" in result.diagnostics[0].message


def test_ten_thousand_nested_parentheses(library) -> None:
    text = "strategy s {\n    x = " + "(" * 10_000 + "$close" + ")" * 10_000 + "\n}\n"
    result = check_text(text, library)  # no RecursionError
    assert result.document.strategies[0].nodes[0].name.name == "x"


def test_ten_thousand_nested_calls_are_refused_not_recursed(library) -> None:
    text = "strategy s {\n    x = " + "delta(" * 10_000 + "$close" + ")" * 10_000 + "\n}\n"
    result = check_text(text, library)
    assert "SF107" in {d.code for d in result.diagnostics}


def test_unclosed_ten_thousand_parentheses(library) -> None:
    result = check_text("strategy s {\n    x = " + "(" * 10_000 + "\n}\n", library)
    assert result.diagnostics


def test_nul_bytes_and_control_characters(library) -> None:
    result = check_text("strategy s {\x00\n    x\x01 = sma($close)\x7f\n}\n", library)
    assert {d.code for d in result.diagnostics} >= {"SF102"}


def test_invalid_utf8_is_decoded_with_one_diagnostic() -> None:
    text, diags = decode(b"# \xff\xfe\nstrategy s {\n}\n")
    assert [d.code for d in diags] == ["SF100"]
    assert "strategy s" in text


def test_crlf_and_tabs_parse_cleanly(library) -> None:
    text = VALID.replace("\n", "\r\n").replace("    ", "\t")
    result = check_text(text, library)
    assert result.diagnostics == []
    assert result.document.strategies[0].nodes[0].name.span.line == 1


def test_non_ascii_identifiers_get_a_diagnostic(library) -> None:
    text = "strategy s {\n    均线 = sma($close, period=5)\n    buy = signal(均线 > 1)\n    book = topk(buy)\n}\n"
    result = check_text(text, library)
    (diag,) = [d for d in result.diagnostics if d.code == "SF206"]
    assert diag.span.line == 1 and diag.span.col == 4 and diag.span.end_col == 6


def test_long_chain_and_exponential_sharing_do_not_blow_up(library) -> None:
    lines = ["strategy s {", "    a0 = sma($close, period=5)"]
    lines += [f"    a{i} = a{i - 1} + a{i - 1}" for i in range(1, 60)]
    lines += ["    buy = signal(a59 > 1)", "    book = topk(buy)", "}"]
    result = check_text("\n".join(lines) + "\n", library)
    assert "SF606" in {d.code for d in result.diagnostics}


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00garbage",
        b"strategy \x00 {",
        b"\x1b[31m red",
        b"}}}}{{{{",
        b"strategy s {\n" * 500,
    ],
)
def test_cli_never_shows_a_traceback(tmp_path, data: bytes) -> None:
    path = tmp_path / "bad.sflow"
    path.write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "sflow.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "error SF" in proc.stdout


def test_parse_of_every_prefix_of_an_example_never_raises() -> None:
    from tests.helpers import EXAMPLES

    text = (EXAMPLES / "golden_cross.sflow").read_text(encoding="utf-8")
    for end in range(0, len(text), 7):
        parse(text[:end])
