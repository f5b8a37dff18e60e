"""Defects found in review: inputs or parameters given twice, defaults that break a rule,
qlib windows, non-finite numbers, malformed logic-flow JSON."""

from __future__ import annotations

import json

import pytest

from sflow.errors import SflowError
from sflow.flow.logic_json import json_to_text
from sflow.flow.security import rebuild_qlib
from sflow.flow.validate import check_text


def codes(text: str, library) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in check_text(text, library).diagnostics]


def strategy(*lines: str) -> str:
    return "strategy s {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def test_an_input_given_positionally_and_by_keyword_is_an_error(library) -> None:
    text = strategy("x = sma($close, price=$open)", "b = signal(x > 1)", "k = topk(b)")
    assert ("SF302", "the input `price` is given twice") in codes(text, library)


def test_a_parameter_given_twice_is_an_error(library) -> None:
    text = strategy("x = sma($close, period=5, period=6)", "b = signal(x > 1)", "k = topk(b)")
    assert ("SF407", "the parameter `period` is given twice") in codes(text, library)


def test_a_default_that_breaks_a_rule_says_so(library) -> None:
    text = strategy("b = signal($close > 1)", "k = topk(b, k=3)")
    ((code, message),) = codes(text, library)
    assert code == "SF402" and "default `n_drop=5`" in message


@pytest.mark.parametrize("window", ["1e308", "100000000", "2.5"])
def test_qlib_windows_must_be_reasonable_whole_numbers(window: str) -> None:
    result = rebuild_qlib(f"Mean($close, {window})")
    assert result.expression is None and result.issues[0].code == "SF602"


def test_ema_keeps_its_fractional_alpha() -> None:
    assert rebuild_qlib("EMA($close, 0.1)").expression == "EMA($close, 0.1)"


def test_an_infinite_parameter_is_a_parameter_error_only(library) -> None:
    text = strategy("x = sma($close, period=1e400)", "b = signal(x > 1)", "k = topk(b)")
    found = {c for c, _ in codes(text, library)}
    assert "SF607" not in found and "SF401" in found


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ({"nodes": 5}, "`nodes` must be a list"),
        ({"nodes": [{"id": "a", "template": "sma", "params": 5}]}, "`params` of node `a`"),
        ({"nodes": [], "edges": [5]}, "each edge must be an object"),
        ({"settings": 5}, "`settings` must be an object"),
        ({"nodes": [{"id": "a b", "template": "sma"}]}, "is not a name"),
        ({"tests": [{"name": 3}]}, "is not a name"),
    ],
)
def test_malformed_json_gets_a_message(flow: dict, message: str, library) -> None:
    with pytest.raises(SflowError, match=message.replace("`", ".").replace("(", ".")):
        json_to_text({"version": 1, "strategy": "s", **flow}, library)


def test_an_empty_list_is_not_a_flow(library) -> None:
    with pytest.raises(SflowError, match="no logic flow"):
        json_to_text(json.loads("[]"), library)
