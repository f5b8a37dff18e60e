"""Typed AST of a .sflow document: frozen dataclasses, each carrying its source span.

Positions are 0-based lines and 0-based columns counted in code points; converting to LSP's
UTF-16 columns is the server's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: 0-based lines and code-point columns, end exclusive. No absolute offsets,
    so a block's AST stays valid (and cached) while text before it changes on the same lines."""

    line: int
    col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        if (line, col) < (self.line, self.col):
            return False
        return (line, col) <= (self.end_line, self.end_col)

    def cover(self, other: Span) -> Span:
        first = self if (self.line, self.col) <= (other.line, other.col) else other
        last = self if (self.end_line, self.end_col) >= (other.end_line, other.end_col) else other
        return Span(first.line, first.col, last.end_line, last.end_col)


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Ident:
    name: str
    span: Span = NO_SPAN


# ---- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    text: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Field:
    """A qlib field such as ``$close`` (name without the dollar)."""

    name: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a node by name."""

    ident: Ident
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Port:
    """``node.port``: one output of a multi-output node."""

    node: Ident
    port: Ident
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class KwArg:
    name: Ident
    value: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Call:
    func: Ident
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KwArg, ...] = ()
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Qlib:
    """``qlib("…")``: a raw qlib expression, untrusted until the security layer rebuilt it."""

    text: String
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class BinOp:
    """Arithmetic ``+ - * /``, comparisons ``< <= > >= == !=`` and boolean ``and``/``or``."""

    op: str
    left: Expr
    right: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class UnaryOp:
    """``-x`` or ``not x``."""

    op: str
    operand: Expr
    span: Span = NO_SPAN


Expr = Number | String | Bool | Field | Name | Port | Call | Qlib | BinOp | UnaryOp

ARITHMETIC_OPS = ("+", "-", "*", "/")
COMPARISON_OPS = ("<", "<=", ">", ">=", "==", "!=")
BOOLEAN_OPS = ("and", "or")


# ---- statements and blocks -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Date:
    value: date
    text: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Duration:
    """``1M``, ``1Y``…: amount and unit (D, W, M, Y)."""

    amount: int
    unit: str
    span: Span = NO_SPAN

    @property
    def text(self) -> str:
        return f"{self.amount}{self.unit}"


Value = Name | Number | String | Bool | Date | Duration


@dataclass(frozen=True, slots=True)
class Setting:
    key: Ident
    value: Value
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class NodeDef:
    """``name = expr`` or an unnamed call statement such as ``stop_loss(book, pct=0.08)``."""

    name: Ident | None
    expr: Expr
    span: Span = NO_SPAN


Stmt = Setting | NodeDef


@dataclass(frozen=True, slots=True)
class Strategy:
    name: Ident
    title: String | None
    body: tuple[Stmt, ...]
    span: Span = NO_SPAN

    @property
    def settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in self.body if isinstance(s, Setting))

    @property
    def nodes(self) -> tuple[NodeDef, ...]:
        return tuple(s for s in self.body if isinstance(s, NodeDef))


@dataclass(frozen=True, slots=True)
class Test:
    name: Ident
    target: Ident
    body: tuple[Stmt, ...]
    span: Span = NO_SPAN

    @property
    def settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in self.body if isinstance(s, Setting))


Block = Strategy | Test


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...] = ()
    comments: tuple[Comment, ...] = field(default=())

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Strategy))

    @property
    def tests(self) -> tuple[Test, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Test))

    def strategy(self, name: str) -> Strategy | None:
        return next((s for s in self.strategies if s.name.name == name), None)


def children(expr: Expr) -> Iterator[Expr]:
    """The direct sub-expressions of an expression, in source order."""
    if isinstance(expr, Call):
        yield from expr.args
        for kw in expr.kwargs:
            yield kw.value
    elif isinstance(expr, BinOp):
        yield expr.left
        yield expr.right
    elif isinstance(expr, UnaryOp):
        yield expr.operand


def walk(expr: Expr) -> Iterator[Expr]:
    """Pre-order traversal of an expression tree without recursion (deep trees are legal)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(children(node))))
