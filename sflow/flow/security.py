"""The expression security boundary: qlib runs Python `eval` on expression strings.

Two gates:
- `rebuild_qlib(text)`: user text from `qlib("…")` is parsed with `ast`, only whitelisted nodes
  (qlib operator calls, `$fields`, numbers, `+ - * /`, single comparisons, `&`/`|`) are accepted,
  and a canonical string of function forms is rebuilt from the tree. The text itself never
  travels further.
- `check_expression(s)`: every string sflow hands to qlib passes a strict tokenizer that accepts
  only `Operator(`, `$field`, numbers, commas, parentheses and spaces, with balanced parentheses.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

STANDARD_FIELDS = ("close", "open", "high", "low", "volume", "vwap", "factor", "change")

UNARY_OPS = {"Abs", "Sign", "Log", "Not"}
PAIR_OPS = {"Add", "Sub", "Mul", "Div", "Power", "Greater", "Less"}
PAIR_OPS |= {"Gt", "Ge", "Lt", "Le", "Eq", "Ne", "And", "Or"}
ROLLING_OPS = {"Ref", "Mean", "Sum", "Std", "Var", "Skew", "Kurt", "Max", "Min", "IdxMax", "IdxMin"}
ROLLING_OPS |= {"Med", "Mad", "Rank", "Count", "Delta", "Slope", "Rsquare", "Resi", "WMA", "EMA"}
PAIR_ROLLING_OPS = {"Corr", "Cov"}
QLIB_OPERATORS = UNARY_OPS | PAIR_OPS | ROLLING_OPS | PAIR_ROLLING_OPS | {"If", "Quantile"}

MAX_TEXT = 4000
MAX_WINDOW = 10_000
MAX_DEPTH = 60
_FIELD_PREFIX = "sflowfield_"
_FIELD = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_BINOPS = {ast.Add: "Add", ast.Sub: "Sub", ast.Mult: "Mul", ast.Div: "Div"}
_BINOPS |= {ast.BitAnd: "And", ast.BitOr: "Or"}
_CMPOPS = {ast.Gt: "Gt", ast.GtE: "Ge", ast.Lt: "Lt", ast.LtE: "Le", ast.Eq: "Eq", ast.NotEq: "Ne"}
_DESCRIBE = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.IfExp: "conditional expressions (use If(cond, a, b))",
    ast.JoinedStr: "strings",
    ast.NamedExpr: "assignments",
    ast.Starred: "star arguments",
    ast.BoolOp: "`and`/`or` (use And(a, b) / Or(a, b) or `&` / `|`)",
}


class UnsafeExpression(ValueError):
    """An expression string that must not reach qlib."""


@dataclass(frozen=True, slots=True)
class QlibIssue:
    code: str  # SF601…SF606
    message: str
    is_error: bool = True


@dataclass(frozen=True, slots=True)
class Rebuilt:
    expression: str | None  # canonical string, None when rejected
    issues: tuple[QlibIssue, ...]
    fields: tuple[str, ...]
    lookback: int  # longest window / lag used


def rebuild_qlib(text: str, known_fields: tuple[str, ...] = STANDARD_FIELDS) -> Rebuilt:
    """Parse untrusted qlib expression text and rebuild it from whitelisted parts only."""
    if len(text) > MAX_TEXT:
        return Rebuilt(
            None, (QlibIssue("SF606", f"qlib expression longer than {MAX_TEXT} characters"),), (), 0
        )
    if _FIELD_PREFIX in text or "__" in text:
        return Rebuilt(
            None, (QlibIssue("SF602", "dunder and reserved names are not allowed"),), (), 0
        )
    source = _FIELD.sub(lambda m: _FIELD_PREFIX + m.group(1), text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        return Rebuilt(
            None, (QlibIssue("SF601", f"cannot parse the qlib expression: {exc.msg}"),), (), 0
        )
    builder = _Builder(known_fields)
    try:
        expression = builder.build(tree.body, 1)
    except _Reject as exc:
        return Rebuilt(
            None, (*builder.issues, QlibIssue(exc.code, exc.message)), tuple(builder.fields), 0
        )
    try:
        check_expression(expression)
    except UnsafeExpression as exc:  # cannot happen for a rebuilt tree; belt and braces
        return Rebuilt(None, (QlibIssue("SF607", str(exc)),), (), 0)
    return Rebuilt(expression, tuple(builder.issues), tuple(builder.fields), builder.lookback)


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Builder:
    def __init__(self, known_fields: tuple[str, ...]) -> None:
        self.known_fields = known_fields
        self.fields: list[str] = []
        self.issues: list[QlibIssue] = []
        self.lookback = 0

    def build(self, node: ast.AST, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise _Reject("SF606", f"qlib expression nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise _Reject("SF602", "only numbers are allowed as constants (no strings)")
            if not math.isfinite(node.value):
                raise _Reject("SF602", "numbers must be finite")
            return format_number(node.value)
        if isinstance(node, ast.Name):
            if node.id.startswith(_FIELD_PREFIX):
                name = node.id[len(_FIELD_PREFIX) :]
                if name not in self.known_fields:
                    self.issues.append(
                        QlibIssue(
                            "SF604", f"`${name}` is not a standard qlib field", is_error=False
                        )
                    )
                self.fields.append(name)
                return f"${name}"
            if node.id in QLIB_OPERATORS:
                raise _Reject("SF602", f"`{node.id}` must be called: `{node.id}(…)`")
            raise _Reject(
                "SF602", f"unknown name `{node.id}`: only qlib operators and $fields are allowed"
            )
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                if isinstance(node.operand, ast.Constant) and isinstance(
                    node.operand.value, int | float
                ):
                    return format_number(-node.operand.value)
                return f"Sub(0, {self.build(node.operand, depth + 1)})"
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, depth + 1)
            raise _Reject("SF602", "`not` and `~` are not allowed; use Not(x)")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise _Reject("SF602", f"operator `{_op_symbol(node.op)}` is not allowed")
            return f"{op}({self.build(node.left, depth + 1)}, {self.build(node.right, depth + 1)})"
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise _Reject(
                    "SF602",
                    "chained comparisons are not allowed (qlib evaluates `a > b > c` as `b > c`)",
                )
            op = _CMPOPS.get(type(node.ops[0]))
            if op is None:
                raise _Reject("SF602", "only < <= > >= == != comparisons are allowed")
            left = self.build(node.left, depth + 1)
            return f"{op}({left}, {self.build(node.comparators[0], depth + 1)})"
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        what = _DESCRIBE.get(type(node), type(node).__name__)
        raise _Reject("SF602", f"{what} are not allowed in qlib expressions")

    def _call(self, node: ast.Call, depth: int) -> str:
        if not isinstance(node.func, ast.Name):
            raise _Reject("SF602", "only qlib operators can be called")
        name = node.func.id
        if name not in QLIB_OPERATORS:
            raise _Reject("SF603", f"unknown qlib operator `{name}`")
        if node.keywords:
            raise _Reject("SF602", f"`{name}` takes no keyword arguments")
        args = node.args
        arity = _arity(name)
        if len(args) != arity:
            raise _Reject("SF602", f"`{name}` takes {arity} arguments, got {len(args)}")
        if name in ROLLING_OPS or name in PAIR_ROLLING_OPS or name == "Quantile":
            window_index = 2 if name in PAIR_ROLLING_OPS else 1
            window = _number(args[window_index])
            if window is None:
                raise _Reject("SF602", f"the window of `{name}` must be a number")
            if not math.isfinite(window) or abs(window) > MAX_WINDOW:
                raise _Reject("SF602", f"the window of `{name}` must be at most {MAX_WINDOW} bars")
            if name != "EMA" and window != int(window):
                raise _Reject("SF602", f"the window of `{name}` must be a whole number of bars")
            if name == "Ref" and window < 0:
                raise _Reject(
                    "SF605",
                    f"`Ref(x, {format_number(window)})` reads the future (lookahead); use a positive lag",
                )
            if name != "EMA" or window >= 1:
                self.lookback = max(self.lookback, int(abs(window)))
        parts = [self.build(a, depth + 1) for a in args]
        if name == "WMA":  # qlib 0.9.7's WMA returns WMA / N: emit the weighted sum instead
            window = _number(args[1])
            if window is None or window != int(window) or not 1 <= window <= 250:
                raise _Reject("SF602", "WMA needs an integer window between 1 and 250")
            return wma_expression(parts[0], int(window))
        return f"{name}({', '.join(parts)})"


def _arity(name: str) -> int:
    if name in UNARY_OPS:
        return 1
    if name in PAIR_OPS or name in ROLLING_OPS:
        return 2
    return 3  # If, Quantile, Corr, Cov


def _number(node: ast.AST) -> float | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    return None


def _op_symbol(op: ast.operator) -> str:
    return {
        ast.Pow: "**",
        ast.Mod: "%",
        ast.FloorDiv: "//",
        ast.MatMult: "@",
        ast.LShift: "<<",
    }.get(type(op), type(op).__name__)


def format_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def wma_expression(series: str, n: int) -> str:
    """Correct linearly weighted moving average as an explicit weighted sum of lags."""
    terms = [f"Mul({n - i}, Ref({series}, {i}))" if i else f"Mul({n}, {series})" for i in range(n)]
    total = terms[0]
    for term in terms[1:]:
        total = f"Add({total}, {term})"
    return f"Div({total}, {n * (n + 1) // 2})"


# ---- the strict tokenizer ------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<op>[A-Z][A-Za-z]*)\(|(?P<field>\$[a-z_][a-z0-9_]*)"
    r"|(?P<num>-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?))|(?P<punct>[(),]))"
)


def check_expression(expression: str) -> str:
    """Raise UnsafeExpression unless `expression` is made only of whitelisted tokens."""
    if not expression or len(expression) > 200_000:
        raise UnsafeExpression("empty or oversized expression")
    pos, depth, previous = 0, 0, ""
    end = len(expression.rstrip())
    while pos < end:
        m = _TOKEN.match(expression, pos)
        if m is None:
            raise UnsafeExpression(f"unexpected text at {pos}: {expression[pos : pos + 20]!r}")
        kind = m.lastgroup
        token = m.group(kind)
        if kind == "op":
            if token not in QLIB_OPERATORS:
                raise UnsafeExpression(f"unknown operator {token!r}")
            depth += 1
        elif kind == "punct":
            if token == "(":
                raise UnsafeExpression("a parenthesis must follow an operator name")
            if token == ")":
                depth -= 1
                if depth < 0:
                    raise UnsafeExpression("unbalanced parentheses")
        elif kind == "num" and token.startswith("-") and previous not in ("(", ",", ""):
            raise UnsafeExpression("a minus sign may only start a number argument")
        previous = "(" if kind == "op" else token if kind == "punct" else "x"
        pos = m.end()
    if depth != 0:
        raise UnsafeExpression("unbalanced parentheses")
    return expression
