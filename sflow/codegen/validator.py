"""The generated-code validator: syntax, an AST security whitelist, complexity and nesting.

Statuses (seed 001 ``validation_status``, seed 000's pipeline): ``SYNTAX_ERROR`` (does not parse),
``SECURITY_ERROR`` (a forbidden import, name, attribute, string or qlib expression), ``WARNING``
(safe, but a function or the module is more complex or deeper nested than the thresholds), else
``VALID``. Also used for any code-like hint a user template brings.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field
from typing import Any

from sflow.flow.security import UnsafeExpression, check_expression

VALID, WARNING = "VALID", "WARNING"
SYNTAX_ERROR, SECURITY_ERROR = "SYNTAX_ERROR", "SECURITY_ERROR"

ALLOWED_MODULES = frozenset(
    {"numpy", "pandas", "qlib", "math", "datetime", "collections", "typing"}
    | {"argparse", "json", "pathlib", "__future__"}  # the entry point
)
FORBIDDEN_NAMES = frozenset(
    {"eval", "exec", "compile", "open", "input", "breakpoint", "help", "__import__"}
    | {"getattr", "setattr", "delattr", "globals", "locals", "vars", "type", "memoryview"}
    | {"os", "sys", "subprocess", "socket", "importlib", "builtins", "shutil", "pickle"}
    | {"ctypes", "marshal", "shelve", "__builtins__"}
)
FORBIDDEN_ATTRIBUTES = frozenset(
    {"eval", "exec", "query", "system", "popen", "spawn", "open", "load", "loads_pickle"}
    | {"read_pickle", "to_pickle", "unlink", "rmdir", "rmtree", "write_text", "write_bytes"}
    | {"chmod", "rename", "symlink_to", "hardlink_to", "os", "sys", "subprocess", "builtins"}
    | {"f_globals", "f_locals", "f_back", "gi_frame", "cr_frame", "tb_frame", "_getframe"}
)
ALLOWED_DUNDER_NAMES = frozenset({"__name__"})
DANGEROUS_DUNDERS = (
    "__import__",
    "__builtins__",
    "__class__",
    "__subclasses__",
    "__globals__",
    "__code__",
    "__dict__",
    "__getattribute__",
    "__reduce__",
    "__mro__",
    "__bases__",
)
EXPRESSION_TABLES = frozenset({"EXPRESSIONS", "NODES"})  # strings qlib will `eval`

MAX_FUNCTION_COMPLEXITY = 15
MAX_TOTAL_COMPLEXITY = 250
MAX_NESTING = 5
_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler, ast.Assert)
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match)


@dataclass(frozen=True)
class Issue:
    line: int  # 1-based, as Python reports it
    col: int  # 0-based
    code: str
    message: str
    severity: str = "error"


@dataclass
class ValidationResult:
    status: str
    issues: list[Issue] = field(default_factory=list)
    complexity: dict[str, int] = field(default_factory=dict)  # per function (and <module>)
    total_complexity: int = 0
    max_nesting: int = 0
    line_count: int = 0

    @property
    def syntax_ok(self) -> bool:
        return self.status != SYNTAX_ERROR

    @property
    def security_ok(self) -> bool | None:
        return None if self.status == SYNTAX_ERROR else self.status != SECURITY_ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "issues": [asdict(i) for i in self.issues],
            "complexity": dict(self.complexity),
            "total_complexity": self.total_complexity,
            "max_nesting": self.max_nesting,
            "line_count": self.line_count,
            "thresholds": {
                "function_complexity": MAX_FUNCTION_COMPLEXITY,
                "total_complexity": MAX_TOTAL_COMPLEXITY,
                "nesting": MAX_NESTING,
            },
        }


def validate_code(
    code: str,
    *,
    max_function_complexity: int = MAX_FUNCTION_COMPLEXITY,
    max_total_complexity: int = MAX_TOTAL_COMPLEXITY,
    max_nesting: int = MAX_NESTING,
) -> ValidationResult:
    """Validate Python source; never raises on bad input."""
    lines = len(code.splitlines())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        col = max((getattr(exc, "offset", None) or 1) - 1, 0)
        message = getattr(exc, "msg", None) or str(exc)
        return ValidationResult(
            SYNTAX_ERROR, [Issue(line, col, "CG100", f"syntax error: {message}")], line_count=lines
        )
    issues = _Security().scan(tree)
    complexity = _complexity(tree)
    total = sum(complexity.values())
    nesting = _max_nesting(tree)
    for name, value in complexity.items():
        if value > max_function_complexity:
            node_line = _function_lines(tree).get(name, 1)
            issues.append(
                Issue(
                    node_line,
                    0,
                    "CG301",
                    f"`{name}` has cyclomatic complexity {value} (> {max_function_complexity})",
                    "warning",
                )
            )
    if total > max_total_complexity:
        message = f"total cyclomatic complexity {total} (> {max_total_complexity})"
        issues.append(Issue(1, 0, "CG302", message, "warning"))
    if nesting > max_nesting:
        issues.append(Issue(1, 0, "CG303", f"nesting depth {nesting} (> {max_nesting})", "warning"))
    if any(i.severity == "error" for i in issues):
        status = SECURITY_ERROR
    elif issues:
        status = WARNING
    else:
        status = VALID
    issues.sort(key=lambda i: (i.line, i.col, i.code))
    return ValidationResult(status, issues, complexity, total, nesting, lines)


class _Security(ast.NodeVisitor):
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def scan(self, tree: ast.AST) -> list[Issue]:
        self.visit(tree)
        return self.issues

    def _flag(self, node: ast.AST, code: str, message: str) -> None:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        self.issues.append(Issue(line, col, code, message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] not in ALLOWED_MODULES:
                self._flag(node, "CG201", f"import of `{alias.name}` is not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        root = (node.module or "").split(".")[0]
        if node.level or root not in ALLOWED_MODULES:
            self._flag(
                node, "CG201", f"import from `{'.' * node.level}{node.module or ''}` is not allowed"
            )
        for alias in node.names:
            if alias.name == "*":
                self._flag(node, "CG201", "`import *` is not allowed")
            elif alias.name in FORBIDDEN_NAMES or alias.name.startswith("__"):
                self._flag(node, "CG201", f"importing `{alias.name}` is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name in FORBIDDEN_NAMES:
            self._flag(node, "CG202", f"`{name}` is not allowed in generated code")
        elif name.startswith("__") and name not in ALLOWED_DUNDER_NAMES:
            self._flag(node, "CG204", f"dunder name `{name}` is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_super_init(node):
            pass
        elif node.attr.startswith("__"):
            self._flag(node, "CG203", f"dunder attribute `.{node.attr}` is not allowed")
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            self._flag(node, "CG203", f"attribute `.{node.attr}` is not allowed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            found = next((d for d in DANGEROUS_DUNDERS if d in text), None)
            if found is not None:
                self._flag(node, "CG205", f"a string mentions `{found}`")

    def visit_Global(self, node: ast.Global) -> None:
        self._flag(node, "CG206", "`global` is not allowed")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._flag(node, "CG206", "`nonlocal` is not allowed")

    def visit_Assign(self, node: ast.Assign) -> None:
        targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
        if targets & EXPRESSION_TABLES:
            self._check_table(node.value)
        self.generic_visit(node)

    def _check_table(self, value: ast.AST) -> None:
        if not isinstance(value, ast.Dict):
            self._flag(value, "CG207", "an expression table must be a dict literal")
            return
        for item in value.values:
            if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                self._flag(item, "CG207", "qlib expressions must be string literals")
                continue
            try:
                check_expression(item.value)
            except UnsafeExpression as exc:
                self._flag(item, "CG207", f"unsafe qlib expression: {exc}")


def _is_super_init(node: ast.Attribute) -> bool:
    """``super().__init__``: the one dunder attribute a subclass needs."""
    call = node.value
    return (
        node.attr == "__init__"
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "super"
        and not call.args
    )


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield node


def _qualname(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    parts = []
    current: ast.AST | None = node
    while current is not None:
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            parts.append(current.name)
        current = parents.get(current)
    return ".".join(reversed(parts))


def _complexity(tree: ast.Module) -> dict[str, int]:
    """McCabe complexity per function (nested functions counted on their own) and <module>."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out: dict[str, int] = {"<module>": _decisions(tree) + 1}
    for fn in _functions(tree):
        if isinstance(fn, ast.Lambda):
            continue
        name = _qualname(fn, parents)
        out[name] = out.get(name, 0) + _decisions(fn) + 1
    return out


def _decisions(root: ast.AST) -> int:
    count = 0
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue  # a nested function is its own unit
        if isinstance(node, _BRANCHES):
            count += 1
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        elif isinstance(node, ast.match_case):
            count += 1
        stack.extend(ast.iter_child_nodes(node))
    return count


def _function_lines(tree: ast.Module) -> dict[str, int]:
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return {
        _qualname(fn, parents): fn.lineno
        for fn in _functions(tree)
        if not isinstance(fn, ast.Lambda)
    }


def _max_nesting(tree: ast.AST) -> int:
    """Deepest chain of nested control-flow blocks (if/for/while/with/try/match; elif is flat)."""
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        outer = depth
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            depth = 0
        elif isinstance(node, _BLOCKS):
            depth += 1
            deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            elif_branch = isinstance(node, ast.If) and node.orelse == [child]
            stack.append((child, outer if elif_branch and isinstance(child, ast.If) else depth))
    return deepest
