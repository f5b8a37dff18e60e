"""The generated-code validator: syntax, an AST security whitelist, complexity and nesting.

Statuses (seed 001 ``validation_status``, seed 000's pipeline): ``SYNTAX_ERROR`` (does not parse),
``SECURITY_ERROR`` (a forbidden import, name, attribute, string or qlib expression), ``WARNING``
(safe, but a function or the module is more complex or deeper nested than the thresholds), else
``VALID``. Also used for any code-like hint a user template brings.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
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
_BRANCH_TYPES = frozenset(_BRANCHES)
_BLOCK_TYPES = frozenset(_BLOCKS)


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
    """Validate Python source; never raises on bad input. Results are memoised by input."""
    result = _validate_cached(code, max_function_complexity, max_total_complexity, max_nesting)
    return copy.deepcopy(result)


@lru_cache(maxsize=64)
def _validate_cached(
    code: str, max_function_complexity: int, max_total_complexity: int, max_nesting: int
) -> ValidationResult:
    lines = len(code.splitlines())
    try:
        complexity, starts, nesting, issues = _analyse_chunked(code)
    except _NotChunkable:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None) or 1
            col = max((getattr(exc, "offset", None) or 1) - 1, 0)
            message = getattr(exc, "msg", None) or str(exc)
            issue = Issue(line, col, "CG100", f"syntax error: {message}")
            return ValidationResult(SYNTAX_ERROR, [issue], line_count=lines)
        security = _Security()
        complexity, starts, nesting = _scan(tree, security)
        issues = security.issues
    total = sum(complexity.values())
    for name, value in complexity.items():
        if value > max_function_complexity:
            node_line = starts.get(name, 1)
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


class _NotChunkable(Exception):
    """The source does not split into independently parsable top-level chunks."""


# A top-level `def`/`class`/decorator after a blank line starts a chunk (generated modules put two
# blank lines there). Chunks are analysed separately and memoised, so regenerating a module after
# an edit re-parses only the chunks that changed.
_CHUNK_START = re.compile(r"\n\n(?=(?:def |class |async def |@))")


def _analyse_chunked(code: str) -> tuple[dict[str, int], dict[str, int], int, list[Issue]]:
    """The one-pass analysis of every chunk, combined with line offsets; raises _NotChunkable
    when a chunk does not parse on its own (then the whole module is parsed instead)."""
    parts = _CHUNK_START.split(code)
    if len(parts) < 2 or any("__future__" in part for part in parts[1:]):
        raise _NotChunkable
    complexity: dict[str, int] = {"<module>": 1}
    starts: dict[str, int] = {}
    nesting, issues, offset = 0, [], 0
    for part in parts:
        chunk = _analyse_chunk(part)
        if chunk is None:
            raise _NotChunkable
        part_complexity, part_starts, part_nesting, part_issues = chunk
        for name, value in part_complexity.items():
            complexity[name] = complexity.get(name, 0) + value - (name == "<module>")
        starts.update({name: line + offset for name, line in part_starts.items()})
        issues += [
            Issue(i.line + offset, i.col, i.code, i.message, i.severity) for i in part_issues
        ]
        nesting = max(nesting, part_nesting)
        offset += part.count("\n") + 2
    return complexity, starts, nesting, issues


@lru_cache(maxsize=1024)
def _analyse_chunk(
    part: str,
) -> tuple[dict[str, int], dict[str, int], int, tuple[Issue, ...]] | None:
    try:
        tree = ast.parse(part)
    except (SyntaxError, ValueError):
        return None
    security = _Security()
    complexity, starts, nesting = _scan(tree, security)
    return complexity, starts, nesting, tuple(security.issues)


class _Security:
    """Per-node checks, called by `_scan` for the node types that have a `visit_*` method."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.handlers = {
            getattr(ast, name[6:]): getattr(self, name)
            for name in dir(self)
            if name.startswith("visit_")
        }

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


def _scan(tree: ast.Module, security: _Security) -> tuple[dict[str, int], dict[str, int], int]:
    """One pass: security checks, McCabe complexity per function (nested functions on their
    own, the rest under ``<module>``), each function's line, and the deepest block nesting
    (if/for/while/with/try/match; an ``elif`` stays at its ``if``'s depth)."""
    complexity = {"<module>": 1}
    starts: dict[str, int] = {}
    deepest = 0
    handlers = security.handlers
    stack: list[tuple[ast.AST, str, str, int]] = [(tree, "<module>", "", 0)]
    while stack:
        node, unit, prefix, depth = stack.pop()
        kind = type(node)
        handler = handlers.get(kind)
        if handler is not None:
            handler(node)
        outer = depth
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            unit = prefix + node.name
            prefix = unit + "."
            complexity[unit] = complexity.get(unit, 0) + 1
            starts.setdefault(unit, node.lineno)
            depth = 0
        elif kind is ast.ClassDef:
            prefix = prefix + node.name + "."
        elif kind in _BRANCH_TYPES:
            complexity[unit] += 1
        elif kind is ast.BoolOp:
            complexity[unit] += len(node.values) - 1
        elif kind is ast.comprehension:
            complexity[unit] += 1 + len(node.ifs)
        elif kind is ast.match_case:
            complexity[unit] += 1
        if kind in _BLOCK_TYPES:
            depth += 1
            deepest = max(deepest, depth)
        elif_child = node.orelse[0] if kind is ast.If and len(node.orelse) == 1 else None
        for child in ast.iter_child_nodes(node):
            child_depth = outer if child is elif_child and type(child) is ast.If else depth
            stack.append((child, unit, prefix, child_depth))
    return complexity, starts, deepest
