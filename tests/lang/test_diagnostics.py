"""One invalid example per diagnostic code, each with its golden `sflow check` output."""

from __future__ import annotations

from pathlib import Path

import pytest

from sflow.cli.lang import check_paths
from sflow.cli.output import as_text
from sflow.flow.codes import CODES
from tests.helpers import EXAMPLES, assert_golden

INVALID = sorted((EXAMPLES / "invalid").glob("*.sflow"))
# Codes an example file cannot show, each tested where it can happen: SF108 (an 8 MB file:
# test_hostile), SF406 (a user template's schema keyword: below), SF607 (a generated expression
# the builder refuses: test_security).
TESTED_ELSEWHERE = {"SF108", "SF406", "SF607"}


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example(path: Path, library) -> None:
    code = path.stem.split("_")[0]
    rel = str(path.relative_to(EXAMPLES.parent))
    ((_, diags),) = check_paths([str(path)], library)
    assert code in {d.code for d in diags}, f"{path.name} does not produce {code}"
    assert all(d.code in CODES for d in diags)
    assert_golden(path.with_suffix(".expected"), as_text([(rel, diags)]) + "\n")


def test_every_code_has_an_invalid_example() -> None:
    covered = {p.stem.split("_")[0] for p in INVALID}
    assert set(CODES) - covered <= TESTED_ELSEWHERE


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.sflow")), ids=lambda p: p.name)
def test_examples_are_clean(path: Path, library) -> None:
    ((_, diags),) = check_paths([str(path)], library)
    assert diags == []


def test_did_you_mean_data_for_quick_fixes(library) -> None:
    from sflow.flow.validate import check_text

    result = check_text(
        "strategy s {\n    f = smaa($close)\n    b = signal(fx > 1)\n    k = topk(b)\n}\n", library
    )
    by_code = {d.code: d for d in result.diagnostics}
    assert by_code["SF201"].data["suggestions"][0] == "sma"
    assert by_code["SF202"].data["suggestions"] == ["f"]


def test_cycle_is_named(library) -> None:
    from sflow.flow.validate import check_text

    text = "strategy s {\n    a = sma(c)\n    b = ema(a)\n    c = b + 1\n    x = signal(a > 1)\n    k = topk(x)\n}\n"
    (cycle,) = [d for d in check_text(text, library).diagnostics if d.code == "SF204"]
    assert cycle.message == "cycle: a → c → b → a"
    assert cycle.data["cycle"] == ["a", "c", "b"]


def test_every_range_is_inside_the_document(library) -> None:
    from sflow.flow.validate import check_text

    for path in INVALID:
        text = path.read_bytes().decode("utf-8", errors="replace")
        lines = text.split("\n")
        for d in check_text(text, library).diagnostics:
            assert 0 <= d.span.line <= d.span.end_line < len(lines) + 1, (path.name, d)
            assert d.span.col <= len(lines[d.span.line]) if d.span.line < len(lines) else True


def test_schema_keywords_without_a_code_of_their_own_are_sf406() -> None:
    from sflow.flow.templates import TemplateLibrary, load_system_records
    from sflow.flow.validate import check_text

    lot = {
        "name": "lot",
        "display_name": "Lot",
        "node_type": "INDICATOR",
        "category": "TREND",
        "parameter_schema": {
            "type": "object",
            "properties": {"size": {"type": "integer", "multipleOf": 100}},
        },
        "input_ports": [{"name": "price", "type": "series"}],
        "output_ports": [{"name": "value", "type": "series"}],
        "execution_hints": {"qlib": "Mul({price}, {size})"},
    }
    lib = TemplateLibrary.from_records([*load_system_records(), lot])
    text = (
        "strategy s {\n    e = lot($close, size=150)\n    b = signal(e > 1)\n    k = topk(b)\n}\n"
    )
    assert "SF406" in {d.code for d in check_text(text, lib).diagnostics}
