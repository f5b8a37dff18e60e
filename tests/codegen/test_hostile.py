"""Hostile input never reaches qlib or the generated code: it ends in diagnostics or a refusal.

Covers injection through ``qlib("…")`` strings, crafted execution hints of user templates, node
names that are Python keywords/builtins, unicode identifiers, and hostile titles and paths. Every
payload would create a file if it were ever evaluated; the tests check it never is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sflow.codegen import GenerationError, generate_code
from sflow.flow.templates import Template, TemplateLibrary, system_library
from sflow.flow.validate import check_text

PAYLOAD_MARK = "pwned_by_sflow_test"


def _strategy(body: str, name: str = "s") -> str:
    return f"strategy {name} {{\n{body}\n}}\n"


def _refused(text: str, library: TemplateLibrary, tmp: Path) -> str:
    """Generation must fail; returns the error text. Nothing may have touched the disk."""
    with pytest.raises(GenerationError) as info:
        generate_code(text, str(tmp / "x.sflow"), None, None, library)
    assert not any(tmp.glob(f"*{PAYLOAD_MARK}*"))
    return str(info.value)


def _qlib_case(expr: str) -> str:
    return (
        _strategy(
            f"    m = qlib({expr!r})\n    buy = signal(m > 0, score=m)\n    book = topk(buy, k=5)"
        )
        .replace("qlib('", 'qlib("')
        .replace("')\n", '")\n')
    )


QLIB_PAYLOADS = [
    "$close+[[__import__][0]('os').system][0]('touch {tmp}/{mark}')*0",
    "$close+[[open][0]('{tmp}/{mark}','w').write][0]('x')*0",
    "$close.__class__",
    "$close[0]",
    "Mean($close, 5) if 1 else 0",
    "(lambda: 1)()",
    "Mean($close, 5) + 'a'",
    "getattr($close, 'x')",
    "Mean($close, 5); import os",
    "$close > 1 > 0",
    "Ref($close, -1)",
    "{{1: 2}}",
    "Mean($close, 5) ** 2",
]


@pytest.mark.parametrize("payload", QLIB_PAYLOADS)
def test_qlib_string_injection(payload: str, tmp_path: Path) -> None:
    expr = payload.format(tmp=tmp_path, mark=PAYLOAD_MARK)
    text = _qlib_case(expr.replace('"', "'"))
    result = check_text(text, system_library())
    assert result.errors, text
    assert any(d.code.startswith("SF6") or d.code.startswith("SF1") for d in result.errors)
    message = _refused(text, system_library(), tmp_path)
    assert "no code generated" in message


def _user_template(name: str, node_type: str, hints: dict, **extra) -> Template:
    record = {
        "name": name,
        "node_type": node_type,
        "input_ports": extra.get("inputs", [{"name": "price", "type": "series"}]),
        "output_ports": extra.get("outputs", [{"name": "value", "type": "series"}]),
        "parameter_schema": extra.get("schema", {"type": "object", "properties": {}}),
        "default_parameters": extra.get("defaults", {}),
        "execution_hints": hints,
    }
    return Template.from_record(record, is_system=False)


def _library(*templates: Template) -> TemplateLibrary:
    return TemplateLibrary([*system_library().values(), *templates])


def _hint_cases(tmp: Path) -> list[tuple[Template, str]]:
    touch = f"__import__('os').system('touch {tmp}/{PAYLOAD_MARK}')"
    indicator = "    x = evil($close)\n    buy = signal(x > 0)\n    book = topk(buy, k=5)"
    enum_schema = {
        "type": "object",
        "properties": {"field": {"type": "string", "enum": ["close", "__import__"]}},
    }
    book_in = [{"name": "book", "type": "book"}]
    return [
        (_user_template("evil", "INDICATOR", {"qlib": f"Add({{price}}, {touch})"}), indicator),
        (_user_template("evil", "INDICATOR", {"qlib": f"open('{tmp}/{PAYLOAD_MARK}')"}), indicator),
        (
            _user_template("evil", "INDICATOR", {"qlib": "Mean({price}, 5)); import os; (1"}),
            indicator,
        ),
        (
            _user_template(
                "evil", "INDICATOR", {"qlib": "EMA({price}, {alpha})", "derived": {"alpha": touch}}
            ),
            indicator,
        ),
        (
            _user_template("evil", "INDICATOR", {"qlib": "Mean({field}, 5)"}, schema=enum_schema),
            "    x = evil($close, field=__import__)\n    buy = signal(x > 0)\n    book = topk(buy, k=5)",
        ),
        (
            _user_template(
                "evil",
                "POSITION",
                {"strategy": touch},
                inputs=[{"name": "buy", "type": "signal"}],
                outputs=[{"name": "book", "type": "book"}],
            ),
            "    buy = signal($close > 0)\n    book = evil(buy)",
        ),
        (
            _user_template("evil", "STOP_LOSS", {"exit": touch}, inputs=book_in, outputs=[]),
            "    buy = signal($close > 0)\n    book = topk(buy, k=5)\n    evil(book)",
        ),
    ]


@pytest.mark.parametrize("case", range(7))
def test_crafted_template_hints_are_refused(case: int, tmp_path: Path) -> None:
    template, body = _hint_cases(tmp_path)[case]
    library = _library(template)
    text = _strategy(body)
    _refused(text, library, tmp_path)


@pytest.mark.parametrize(
    "name", ["class", "print", "import", "eval", "__import__", "_private", "naïve", "数据"]
)
def test_node_names_that_are_not_safe_identifiers(name: str, tmp_path: Path) -> None:
    text = _strategy(
        f"    {name} = sma($close, period=5)\n    buy = signal({name} > $close)\n    book = topk(buy, k=5)"
    )
    assert check_text(text, system_library()).errors
    _refused(text, system_library(), tmp_path)


def test_hostile_title_and_path_stay_inert_literals(tmp_path: Path) -> None:
    title = "''' import os; os.system('touch x') #"
    text = f"strategy s {title!r} {{\n    buy = signal($close > 0)\n    book = topk(buy, k=5)\n}}\n"
    text = text.replace(f"{title!r}", '"' + title + '"')
    assert not check_text(text, system_library()).errors
    path = "dir/\"evil\n__import__('os').system('touch x')\n.sflow"
    g = generate_code(text, path, None, None, system_library())
    assert "import os" not in g.code and "os.system" not in g.code
    tree = ast.parse(g.code)  # the path is a literal: no statement was injected
    sflow = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "SFLOW")
    assert ast.literal_eval(sflow.value)["source"] == path
    assert all("\n" not in line or line.startswith("#") for line in g.code.splitlines()[:3])
    assert g.status == "SECURITY_ERROR"  # the validator flags the `__import__` text in a literal
    assert {i.code for i in g.validation.issues} == {"CG205"}


def test_unicode_strategy_name_is_only_a_literal(library=None) -> None:
    text = "strategy 策略 {\n    buy = signal($close > 0)\n    book = topk(buy, k=5)\n}\n"
    if check_text(text, system_library()).errors:
        pytest.skip("the grammar does not accept this strategy name")
    g = generate_code(text, "u.sflow", None, None, system_library())
    assert g.status == "VALID" and g.module_path.endswith("u_策略.py")
    assert '"strategy": "策略",' in g.code


@pytest.mark.parametrize("field", ["$Close", "$clöse", "$close_"])
def test_odd_field_names(field: str, tmp_path: Path) -> None:
    text = _strategy(f"    buy = signal($close > 0, score={field})\n    book = topk(buy, k=5)")
    if field == "$close_":  # a well-formed custom field: a warning, and a literal in EXPRESSIONS
        g = generate_code(text, "f.sflow", None, None, system_library())
        assert '"buy.score": "$close_",' in g.code and g.status == "VALID"
        return
    _refused(text, system_library(), tmp_path)
