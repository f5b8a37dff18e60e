"""The generated-code validator: each forbidden construct, syntax errors, complexity, nesting."""

from __future__ import annotations

import pytest

from sflow.codegen.validator import (
    SECURITY_ERROR,
    SYNTAX_ERROR,
    VALID,
    WARNING,
    validate_code,
)

FORBIDDEN = [
    ("import os", "CG201"),
    ("import subprocess", "CG201"),
    ("from os import system", "CG201"),
    ("import socket", "CG201"),
    ("import importlib", "CG201"),
    ("from . import x", "CG201"),
    ("from pandas import *", "CG201"),
    ("import pickle", "CG201"),
    ("import shutil", "CG201"),
    ("import builtins", "CG201"),
    ("x = eval('1')", "CG202"),
    ("exec('x = 1')", "CG202"),
    ("compile('1', 'f', 'eval')", "CG202"),
    ("f = open('/etc/passwd')", "CG202"),
    ("m = __import__('os')", "CG202"),
    ("getattr(x, 'y')", "CG202"),
    ("setattr(x, 'y', 1)", "CG202"),
    ("delattr(x, 'y')", "CG202"),
    ("g = globals()", "CG202"),
    ("l = locals()", "CG202"),
    ("v = vars()", "CG202"),
    ("t = type('X', (), {})", "CG202"),
    ("b = __builtins__", "CG202"),
    ("c = ().__class__", "CG203"),
    ("s = x.__subclasses__()", "CG203"),
    ("import pathlib\npathlib.Path('x').write_text('y')", "CG203"),
    ("import pandas as pd\npd.eval('1+1')", "CG203"),
    ("import numpy as np\nnp.load('x.npy', allow_pickle=True)", "CG203"),
    ("import json\njson.os", "CG203"),
    ("x = __loader__", "CG204"),
    ("name = '__import__'", "CG205"),
    ("def f():\n    global x", "CG206"),
    ('EXPRESSIONS = {"a": "$close+[[__import__][0]][0]"}', "CG205"),
    ('EXPRESSIONS = {"a": "Mean($close, 5); 1"}', "CG207"),
    ("NODES = {'a': some_call()}", "CG207"),
]


@pytest.mark.parametrize(("code", "expected"), FORBIDDEN, ids=[c for c, _ in FORBIDDEN])
def test_forbidden_construct_is_a_security_error(code: str, expected: str) -> None:
    source = "# a comment line\n" + code + "\n"
    result = validate_code(source)
    assert result.status == SECURITY_ERROR
    assert result.security_ok is False and result.syntax_ok
    issue = next(i for i in result.issues if i.code == expected)
    assert issue.line >= 2 and issue.col >= 0 and issue.severity == "error"
    assert result.to_json()["issues"][0]["line"] >= 2


def test_position_of_a_forbidden_call() -> None:
    result = validate_code("x = 1\ny = [1, eval('2')]\n")
    (issue,) = result.issues
    assert (issue.line, issue.col, issue.code) == (2, 8, "CG202")


def test_allowed_module_is_valid() -> None:
    code = (
        "from __future__ import annotations\n\nimport math\nfrom collections import OrderedDict\n"
        "import qlib.data\nfrom qlib.backtest import backtest\n\n\n"
        "class S(OrderedDict):\n    def __init__(self) -> None:\n        super().__init__()\n\n\n"
        "if __name__ == '__main__':\n    print(math.pi, backtest, qlib.data, S())\n"
        'EXPRESSIONS = {"a": "Mean($close, 5)"}\n'
    )
    result = validate_code(code)
    assert result.status == VALID, result.issues
    assert result.security_ok and result.complexity["S.__init__"] == 1


def test_syntax_error_has_line_and_column() -> None:
    result = validate_code("x = 1\ndef f(:\n    pass\n")
    assert result.status == SYNTAX_ERROR
    assert result.syntax_ok is False and result.security_ok is None
    (issue,) = result.issues
    assert issue.code == "CG100" and issue.line == 2 and issue.col >= 5


def test_null_bytes_are_a_syntax_error_not_a_crash() -> None:
    assert validate_code("x = 1\0\n").status == SYNTAX_ERROR


def _branchy(n: int) -> str:
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(n))
    return f"def branchy(x):\n{body}    return -1\n"


def test_complexity_over_the_threshold_is_a_warning() -> None:
    ok = validate_code(_branchy(5))
    assert ok.status == VALID and ok.complexity["branchy"] == 6
    result = validate_code(_branchy(20))
    assert result.status == WARNING
    assert result.complexity["branchy"] == 21
    (issue,) = result.issues
    assert issue.code == "CG301" and issue.line == 1 and issue.severity == "warning"


def test_total_complexity_threshold() -> None:
    code = "\n\n".join(_branchy(5).replace("branchy", f"f{i}") for i in range(4))
    result = validate_code(code, max_total_complexity=20)
    assert result.total_complexity == 4 * 6 + 1
    assert [i.code for i in result.issues] == ["CG302"] and result.status == WARNING


def test_nesting_depth() -> None:
    deep = (
        "def f(x):\n"
        + "".join("    " * (i + 1) + f"if x > {i}:\n" for i in range(7))
        + "    " * 8
        + "return x\n"
    )
    result = validate_code(deep)
    assert result.max_nesting == 7 and result.status == WARNING
    assert "CG303" in {i.code for i in result.issues}
    flat = "def f(x):\n" + "".join(
        f"    {'if' if i == 0 else 'elif'} x == {i}:\n        return {i}\n" for i in range(8)
    )
    assert validate_code(flat).max_nesting == 1


def test_boolean_operators_and_comprehensions_count() -> None:
    result = validate_code(
        "def f(a, b, c):\n    return [x for x in a if x] if a and b or c else 0\n"
    )
    assert result.complexity["f"] == 1 + 1 + 2 + 2


def _module() -> str:
    from pathlib import Path

    golden = Path(__file__).resolve().parents[1] / "golden" / "codegen" / "golden_cross.py"
    return golden.read_text()


def test_chunked_analysis_reports_true_positions() -> None:
    code = _module().replace("    return 0\n", "    x = eval('1')\n    return 0\n")
    line = code.splitlines().index("    x = eval('1')") + 1
    result = validate_code(code)
    assert result.status == SECURITY_ERROR
    assert [(i.line, i.col, i.code) for i in result.issues] == [(line, 8, "CG202")]
    assert result.complexity["RuleStrategy.exit_reason"] == 6  # if, and, 2 stops, if-else
    assert result.complexity == validate_code(_module()).complexity


def test_syntax_error_inside_a_chunked_module() -> None:
    code = _module().replace("def risk(r: pd.Series)", "def risk(r: pd.Series")
    line = next(i for i, t in enumerate(code.splitlines(), 1) if t.startswith("def risk("))
    result = validate_code(code)
    assert result.status == SYNTAX_ERROR and result.issues[0].line in (line, line + 1)
