"""Lark callbacks that build the typed AST while the LALR parser reduces (no parse tree is built)."""

from __future__ import annotations

from datetime import date

from lark import Token, Transformer

from sflow.dsl_grammar import ast as A

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def token_span(tok: Token) -> A.Span:
    if tok.line is None:  # a token the error recovery inserted: zero width, no position known
        return A.NO_SPAN
    return A.Span(tok.line - 1, tok.column - 1, tok.end_line - 1, tok.end_column - 1)


def span_of(item: object) -> A.Span:
    return token_span(item) if isinstance(item, Token) else item.span  # type: ignore[attr-defined]


def cover(first: object, last: object) -> A.Span:
    a, b = span_of(first), span_of(last)
    if b is A.NO_SPAN:
        return a
    if a is A.NO_SPAN:
        return b
    return A.Span(a.line, a.col, b.end_line, b.end_col)


def ident(tok: Token) -> A.Ident:
    return A.Ident(str(tok), token_span(tok))


def unquote(raw: str) -> str:
    body = raw[1:-1] if raw.endswith('"') and len(raw) >= 2 else raw[1:]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def number_value(text: str) -> int | float:
    clean = text.replace("_", "")
    if any(c in clean for c in ".eE"):
        return float(clean)
    return int(clean)


class AstBuilder(Transformer):
    """One method per grammar rule/alias; children are tokens or already-built AST nodes."""

    def start(self, items):
        return tuple(b for b in items if isinstance(b, A.Strategy | A.Test))

    def strategy(self, items):
        kw, name, title, _lb, body, rb = items
        title_node = A.String(unquote(title), token_span(title)) if title is not None else None
        return A.Strategy(ident(name), title_node, body, cover(kw, rb))

    def test(self, items):
        kw, name, _for, target, _lb, body, rb = items
        return A.Test(ident(name), ident(target), body, cover(kw, rb))

    def body(self, items):
        return tuple(s for s in items if s is not None)

    def assign(self, items):
        name, expr = items
        return A.NodeDef(ident(name), expr, cover(name, expr))

    def node_stmt(self, items):
        (call,) = items
        return A.NodeDef(None, call, call.span)

    def setting(self, items):
        key, value = items
        return A.Setting(ident(key), value, cover(key, value))

    # ---- values and atoms
    def name(self, items):
        (tok,) = items
        return A.Name(ident(tok), token_span(tok))

    def number(self, items):
        (tok,) = items
        return A.Number(number_value(tok), str(tok), token_span(tok))

    def neg_number(self, items):
        minus, tok = items
        return A.Number(-number_value(tok), f"-{tok}", cover(minus, tok))

    def string(self, items):
        (tok,) = items
        return A.String(unquote(tok), token_span(tok))

    def date(self, items):
        (tok,) = items
        try:
            value = date.fromisoformat(str(tok))
        except ValueError:
            value = date.min  # invalid calendar date: the semantic layer reports it
        return A.Date(value, str(tok), token_span(tok))

    def duration(self, items):
        (tok,) = items
        return A.Duration(int(tok[:-1]), tok[-1], token_span(tok))

    def true(self, items):
        return A.Bool(True, token_span(items[0]))

    def false(self, items):
        return A.Bool(False, token_span(items[0]))

    def field(self, items):
        (tok,) = items
        return A.Field(str(tok)[1:], token_span(tok))

    def port(self, items):
        node, port = items
        return A.Port(ident(node), ident(port), cover(node, port))

    def call(self, items):
        name, _lp, args, rp = items
        positional, keywords = [], []
        for arg in args or ():
            (keywords if isinstance(arg, A.KwArg) else positional).append(arg)
        return A.Call(ident(name), tuple(positional), tuple(keywords), cover(name, rp))

    def args(self, items):
        return [a for a in items if a is not None]

    def kwarg(self, items):
        name, value = items
        return A.KwArg(ident(name), value, cover(name, value))

    def qlib_call(self, items):
        kw, _lp, text, rp = items
        return A.Qlib(A.String(unquote(text), token_span(text)), cover(kw, rp))

    # ---- operators
    def binop(self, items):
        left, op, right = items
        return A.BinOp(str(op), left, right, cover(left, right))

    compare = binop

    def and_(self, items):
        left, right = items
        return A.BinOp("and", left, right, cover(left, right))

    def or_(self, items):
        left, right = items
        return A.BinOp("or", left, right, cover(left, right))

    def not_(self, items):
        kw, operand = items
        return A.UnaryOp("not", operand, cover(kw, operand))

    def neg(self, items):
        minus, operand = items
        return A.UnaryOp("-", operand, cover(minus, operand))
