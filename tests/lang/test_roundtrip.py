"""Logic-flow JSON: deterministic export, and text → JSON → text stable after one format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sflow.dsl_grammar import parse
from sflow.errors import SflowError
from sflow.flow.logic_json import document_to_json, json_to_text
from tests.helpers import EXAMPLES

SOURCES = sorted(EXAMPLES.glob("*.sflow"))


def export(text: str, library) -> list[dict]:
    return document_to_json(parse(text).document, library)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_round_trip_is_a_fixpoint_after_one_cycle(path: Path, library) -> None:
    flows = export(path.read_text(encoding="utf-8"), library)
    text1 = json_to_text(flows, library)
    flows2 = export(text1, library)
    assert flows2 == flows
    assert json_to_text(flows2, library) == text1


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_export_is_deterministic(path: Path, library) -> None:
    text = path.read_text(encoding="utf-8")
    a = json.dumps(export(text, library))
    b = json.dumps(export(text, library))
    assert a == b
    for flow in json.loads(a):
        assert list(flow)[:6] == ["version", "strategy", "title", "settings", "nodes", "edges"]
        assert "span" not in json.dumps(flow["nodes"])


def test_inline_expressions_become_anonymous_nodes(library) -> None:
    (flow,) = export(
        "strategy s {\n    r = rsi($close)\n    buy = signal(r < 70)\n    k = topk(buy)\n}\n",
        library,
    )
    ids = [n["id"] for n in flow["nodes"]]
    assert ids == ["r", "_const1", "_lt1", "buy", "k"]
    assert {
        "source": "$close",
        "source_port": "value",
        "target": "r",
        "target_port": "price",
    } in flow["edges"]
    assert {
        "source": "_lt1",
        "source_port": "value",
        "target": "buy",
        "target_port": "condition",
    } in flow["edges"]


def test_positions_only_when_asked(library) -> None:
    (flow,) = document_to_json(
        parse("strategy s {\n    r = rsi($close)\n}\n").document, library, positions=True
    )
    assert flow["nodes"][0]["span"] == {"line": 1, "col": 8, "end_line": 1, "end_col": 19}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_statement_survives_the_round_trip(path: Path, library) -> None:
    # Comments, blank lines, alignment and block order are not part of the JSON; statements are.
    def statements(text: str) -> set[str]:
        lines = (" ".join(line.split("#")[0].split()) for line in text.splitlines())
        return {line for line in lines if line}

    text = path.read_text(encoding="utf-8")
    assert statements(json_to_text(export(text, library), library)) == statements(text)


@pytest.mark.parametrize(
    "bad",
    [
        {"version": 2, "strategy": "s"},
        {"version": 1, "strategy": "not a name"},
        {"version": 1, "strategy": "s", "nodes": [{"id": "a"}]},
        {"version": 1, "strategy": "s", "nodes": [], "edges": [{"source": "x", "target": "y"}]},
        [1, 2],
    ],
)
def test_import_rejects_bad_json_with_a_message(bad, library) -> None:
    with pytest.raises(SflowError):
        json_to_text(bad, library)
