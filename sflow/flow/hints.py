"""Arithmetic in template execution hints (`lookback`, `derived`): numbers and + - * / only."""

from __future__ import annotations

import ast
import re
from functools import lru_cache

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def evaluate_hint(hint: str, params: dict) -> float:
    """Evaluate an arithmetic hint such as ``"{slow} + {signal}"`` or ``"1 / {period}"``.

    Only numbers and + - * / are allowed; raises ValueError otherwise.
    """
    text = _PLACEHOLDER.sub(lambda m: repr(params.get(m.group(1), 0)), str(hint))
    return _evaluate(text)


@lru_cache(maxsize=4096)
def _evaluate(text: str) -> float:
    try:
        return _arith(ast.parse(text, mode="eval").body)
    except (SyntaxError, TypeError, ZeroDivisionError, RecursionError) as exc:
        raise ValueError(f"cannot evaluate hint {text!r}") from exc


_ARITH = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b}
_ARITH |= {ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](_arith(node.left), _arith(node.right))
    raise ValueError("unsupported hint")
