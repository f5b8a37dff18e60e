"""Parse .sflow text into the typed AST. Never raises: returns the document and the syntax errors.

Error recovery (panic mode at statement level): on an unexpected token the parser reports it once,
skips the raw text to the next line end or ``}``, closes whatever the broken statement left open
(inserting ``)``, a newline or ``}``, or popping the unfinished statement), and goes on, so one typo
does not hide the rest of the file.
"""

from __future__ import annotations

import re
import threading
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerState
from lark.parsers.lalr_interactive_parser import InteractiveParser

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar.diagnostics import Diagnostic, error
from sflow.dsl_grammar.transformer import AstBuilder, token_span

GRAMMAR_PATH = Path(__file__).with_name("sflow.lark")
MAX_ERRORS = 100
MAX_SOURCE_CHARS = 8 * 1024 * 1024  # strategies are small; this protects the editor and CI
MAX_EXPR_DEPTH = 200

# Tokens after which a statement (or block) can start again.
_SYNC = frozenset({"_NL", "RBRACE", "$END", "STRATEGY", "TEST"})
_BLOCK_KEYWORDS = {"strategy": "STRATEGY", "test": "TEST"}
_REPAIRS = ("RPAR", "RBRACE", "_NL")

_TOKEN_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "FIELD": "a $field",
    "DATE": "a date (YYYY-MM-DD)",
    "DURATION": "a period (1M, 3M, 6M, 1Y, 2Y)",
    "_NL": "end of line",
    "$END": "end of file",
    "COMP_OP": "a comparison",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "MUL_OP": "`*` or `/`",
    "NOT": "`not`",
    "TRUE": "`true`",
    "FALSE": "`false`",
}


class _State(threading.local):
    """Per-thread scratch space for the lexer callbacks of the shared, cached parser."""

    comments: list[Token]
    depth: int
    open_parens: list[Token]


_state = _State()


class _ParenPostLexer:
    """Drops newlines inside parentheses so calls and expressions may span lines."""

    always_accept = ("_NL",)

    def process(self, stream):
        line_start = True
        for tok in stream:
            kind = tok.type
            if line_start and kind == "NAME" and tok in _BLOCK_KEYWORDS:
                # Inside a block the contextual lexer sees `strategy` as a name; at the start of a
                # line it is always the keyword, so a missing `}` is reported where it matters.
                kind = _BLOCK_KEYWORDS[tok]
                tok = Token.new_borrow_pos(kind, str(tok), tok)
            line_start = kind == "_NL"
            if kind == "LPAR":
                _state.depth += 1
                _state.open_parens.append(tok)
            elif kind == "RPAR" and _state.depth:
                _state.depth -= 1
                _state.open_parens.pop()
            elif kind == "_NL" and _state.depth:
                continue
            yield tok


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, built once per process (grammar analysis takes ~100 ms)."""
    return Lark(
        GRAMMAR_PATH.read_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=True,
        transformer=AstBuilder(),
        postlex=_ParenPostLexer(),
        lexer_callbacks={"COMMENT": lambda tok: _state.comments.append(tok)},
    )


@dataclass(frozen=True, slots=True)
class ParseResult:
    document: A.Document
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def describe_expected(expected: set[str] | frozenset[str]) -> str:
    names = sorted({_TOKEN_NAMES.get(t) or _literal(t) for t in expected})
    if not names:
        return "nothing"
    if len(names) > 8:
        names = [*names[:8], "…"]
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def _literal(terminal: str) -> str:
    try:
        pattern = lark_parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return f"`{pattern.value}`" if pattern.type == "str" else terminal.lower()


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_NL":
        return "end of line"
    text = str(tok)
    return f"`{text[:40]}`" if tok.type != "NAME" else f"name `{text[:40]}`"


class _Recovery:
    """The ``on_error`` handler: report, skip to a sync point, repair the parser stack, go on."""

    def __init__(self, text: str, last_chunk: bool = True, stop_at_end: bool = False) -> None:
        self.text = text
        self.last_chunk = last_chunk
        self.stop_at_end = stop_at_end  # expected_at only needs what the end accepts
        self.diagnostics: list[Diagnostic] = []
        self.sync_pos = -1
        self.last_bad_char = -2
        self.bad_char_line = -1
        self.gave_up = False
        self.end_accepts: set[str] | None = None

    def __call__(self, exc: UnexpectedInput) -> bool:
        if isinstance(exc, UnexpectedCharacters):
            return self._bad_character(exc)
        assert isinstance(exc, UnexpectedToken)
        tok, ip = exc.token, exc.interactive_parser
        at_sync_point = (tok.type == "$END" and self.sync_pos == len(self.text)) or (
            tok.type != "$END" and tok.start_pos == self.sync_pos
        )
        if tok.type == "$END" and self.stop_at_end and self.end_accepts is None:
            self.end_accepts = _cheap_accepts(ip)
            if self.stop_at_end:
                return False  # no repair needed: the caller has its answer
        # A bad character was skipped on this line: the error it causes next is the same typo.
        same_typo = (
            tok.type != "$END" and tok.line is not None and tok.line - 1 == self.bad_char_line
        )
        if not at_sync_point and not same_typo:
            self._report(exc)
        if tok.type in _SYNC:
            self._repair(ip, tok)
            return True
        self._skip_to_sync(ip, tok.end_pos, _next_sync(self.text, tok.end_pos))
        return True

    # ---- reporting
    def _report(self, exc: UnexpectedToken) -> None:
        tok = exc.token
        expected = _cheap_accepts(exc.interactive_parser) or set(exc.expected)
        span = token_span(tok) if tok.type != "$END" else self._end_span()
        unclosed = _state.open_parens[-1] if _state.open_parens else None
        if tok.type == "COMP_OP" and "COMP_OP" not in expected:
            diag = error(
                "SF104",
                f"comparisons cannot be chained; write `a {tok} b and b {tok} c` explicitly",
                span,
            )
        elif tok.type == "$END" and not self.last_chunk and "RBRACE" in expected:
            diag = error(
                "SF103", "missing `}`: the block is not closed before the next block", span
            )
        elif tok.type == "$END":
            diag = error(
                "SF103", f"unexpected end of file; expected {describe_expected(expected)}", span
            )
        elif unclosed is not None and unclosed.line < tok.line:
            diag = error(
                "SF106",
                f"`(` on line {unclosed.line} is never closed",
                token_span(unclosed),
                expected=sorted(expected),
            )
        else:
            diag = error(
                "SF101",
                f"unexpected {_describe_token(tok)}; expected {describe_expected(expected)}",
                span,
                expected=sorted(expected),
            )
        self._add(diag)

    def _bad_character(self, exc: UnexpectedCharacters) -> bool:
        pos = exc.pos_in_stream
        char = self.text[pos]
        line, col = exc.line - 1, exc.column - 1
        if char == '"':  # an unterminated string: skip the rest of the line, report once
            end = self.text.find("\n", pos)
            end = len(self.text) if end < 0 else end
            span = A.Span(line, col, line, col + (end - pos))
            self._add(error("SF105", 'unterminated string: add the closing `"`', span))
            self._skip_to_sync(exc.interactive_parser, pos, end)
            return True
        self.bad_char_line = line
        if pos != self.last_bad_char + 1:
            shown = repr(char)[1:-1] if not char.isprintable() else char
            span = A.Span(line, col, line, col + 1)
            self._add(error("SF102", f"unexpected character `{shown}`", span))
        self.last_bad_char = pos
        return True

    def _add(self, diag: Diagnostic) -> None:
        if self.gave_up:
            return
        if len(self.diagnostics) >= MAX_ERRORS:
            self.gave_up = True
            self.diagnostics.append(
                error(
                    "SF109",
                    f"too many syntax errors; stopped checking after {MAX_ERRORS}",
                    diag.span,
                )
            )
            return
        self.diagnostics.append(diag)

    def _end_span(self) -> A.Span:
        n = len(self.text)
        line = self.text.count("\n")
        col = n - (self.text.rfind("\n") + 1)
        return A.Span(line, col, line, col)

    # ---- recovery
    def _skip_to_sync(self, ip, start: int, stop: int) -> None:
        text = self.text
        if self.gave_up:
            stop = len(text)
        lexer_state: LexerState = ip.lexer_thread.state
        lexer_state.line_ctr.feed(text[lexer_state.line_ctr.char_pos : stop])
        _state.depth = 0
        _state.open_parens.clear()
        self.sync_pos = stop

    def _repair(self, ip, tok: Token) -> None:
        """Close what the broken statement left open so `tok` fits; else pop to a state that
        takes it. Only states whose table has the token are tried: deep stacks stay linear."""
        if self._try(ip, tok, len(ip.parser_state.state_stack)):
            return
        table = ip.parser_state.parse_conf.parse_table.states
        stack = ip.parser_state.state_stack
        tried = 0
        for keep in range(len(stack) - 1, 0, -1):
            actions = table[stack[keep - 1]]
            if tok.type in actions or any(r in actions for r in _REPAIRS):
                if self._try(ip, tok, keep):
                    return
                tried += 1
                if tried > 64:
                    break
        # Nothing can take this token (a stray `}`): it is simply dropped.

    @staticmethod
    def _try(ip, tok: Token, keep: int) -> bool:
        trial = _cheap_copy(ip)
        del trial.parser_state.state_stack[keep:]
        del trial.parser_state.value_stack[keep - 1 :]
        if not _close_until_accepted(trial, tok):
            return False
        ip.parser_state.state_stack[:] = trial.parser_state.state_stack
        ip.parser_state.value_stack[:] = trial.parser_state.value_stack
        return True


def _close_until_accepted(ip, tok: Token) -> bool:
    """Insert closing tokens until ``tok`` is acceptable; feed it (except $END, Lark feeds that)."""
    last = None
    for _ in range(16):
        if _accepts(ip, tok.type):
            if tok.type != "$END":
                ip.feed_token(tok)
            return True
        for kind in _REPAIRS:
            if (kind == "RBRACE" and tok.type == "_NL") or (kind == "_NL" and last == "_NL"):
                continue
            if _accepts(ip, kind):
                ip.feed_token(Token.new_borrow_pos(kind, "", tok))
                last = kind
                break
        else:
            return False
    return False


def _cheap_copy(ip):
    """Lark's copy() deep-copies the value stack (quadratic on big files). The AST is immutable;
    only the helper trees of expanded repetitions are mutated in place by reductions."""
    state = ip.parser_state
    values = [
        Tree(v.data, list(v.children)) if isinstance(v, Tree) else v for v in state.value_stack
    ]
    clone = type(state)(state.parse_conf, state.lexer, list(state.state_stack), values)
    return InteractiveParser(ip.parser, clone, ip.lexer_thread)


def _cheap_accepts(ip) -> set[str]:
    """The terminals the parser can take now (Lark's accepts() deep-copies the whole stack)."""
    return {kind for kind in ip.choices() if kind.isupper() and _accepts(ip, kind)}


def _accepts(ip, kind: str) -> bool:
    if kind not in ip.choices():
        return False
    trial = _cheap_copy(ip)
    try:
        if kind == "$END":
            trial.feed_token(Token("$END", ""))
        else:
            trial.feed_token(Token(kind, ""))
    except UnexpectedToken:
        return False
    except Exception:  # a transformer callback on an odd partial stack: not an acceptable repair
        return False
    return True


def _next_sync(text: str, pos: int) -> int:
    """Offset of the next newline or ``}`` outside comments and strings (or the end)."""
    n = len(text)
    i = pos
    while i < n:
        ch = text[i]
        if ch in "\n}":
            return i
        if ch == "#":
            nl = text.find("\n", i)
            return n if nl < 0 else nl
        if ch == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            if i < n and text[i] == '"':
                i += 1
            continue
        i += 1
    return n


_BLOCK_START = re.compile(r"^[ \t]*(?:strategy|test)\b", re.M)


def parse(text: str) -> ParseResult:
    """Parse a whole document. Never raises on any text.

    The text is cut into top-level chunks at lines starting with `strategy`/`test` (where the
    recovering parser would resynchronise anyway) and each chunk is parsed on its own and cached
    by (chunk text, first line): an edit re-parses only the block it touches.
    """
    if len(text) > MAX_SOURCE_CHARS:
        size = f"{len(text) / 1024 / 1024:.1f} MB"
        limit = f"{MAX_SOURCE_CHARS // 1024 // 1024} MB"
        diag = error(
            "SF108", f"file too large to check ({size}; the limit is {limit})", A.Span(0, 0, 0, 0)
        )
        return ParseResult(A.Document(), (diag,))
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    blocks: list[A.Block] = []
    comments: list[A.Comment] = []
    diagnostics: list[Diagnostic] = []
    line = 0
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[start:end]
        result = _parse_chunk(chunk, line, i + 1 == len(starts))
        blocks.extend(result.document.blocks)
        comments.extend(result.document.comments)
        diagnostics.extend(result.diagnostics)
        line += chunk.count("\n")
    return ParseResult(A.Document(tuple(blocks), tuple(comments)), tuple(diagnostics))


@lru_cache(maxsize=16384)  # a 100,000-line file has ~8,000 blocks
def _parse_chunk(chunk: str, first_line: int, last_chunk: bool) -> ParseResult:
    # Leading newlines put the chunk on its real lines; the lexer eats them as one token.
    text = "\n" * first_line + chunk
    _state.comments = []
    _state.depth = 0
    _state.open_parens = []
    recovery = _Recovery(text, last_chunk)
    blocks: tuple[A.Block, ...] = ()
    try:
        blocks = lark_parser().parse(text, on_error=recovery)
    except Exception as exc:  # recovery could not resync (a bug): keep what we know, never raise
        recovery.diagnostics.append(
            error("SF101", f"syntax error: {str(exc).splitlines()[0]}", recovery._end_span())
        )
    comments = tuple(A.Comment(str(t), token_span(t)) for t in _state.comments)
    blocks, depth_diags = _limit_depth(blocks)
    return ParseResult(A.Document(blocks, comments), tuple(recovery.diagnostics) + depth_diags)


def expected_at(prefix: str) -> set[str]:
    """Terminal names the parser accepts right after ``prefix`` (keywords for completion).

    Only the block the cursor is in is parsed, so this stays fast at the end of a long file.
    """
    starts = [m.start() for m in _BLOCK_START.finditer(prefix)]
    if starts:
        prefix = prefix[starts[-1] :]
    _state.comments = []
    _state.depth = 0
    _state.open_parens = []
    recovery = _Recovery(prefix, stop_at_end=True)
    with suppress(Exception):  # completion must keep working on any text
        lark_parser().parse(prefix, on_error=recovery)
    return recovery.end_accepts if recovery.end_accepts is not None else {"STRATEGY", "TEST"}


def _limit_depth(blocks):
    """Drop statements nested deeper than MAX_EXPR_DEPTH so no later pass can hit the recursion limit."""
    diags: list[Diagnostic] = []
    kept_blocks = []
    for block in blocks:
        body = []
        for stmt in block.body:
            if isinstance(stmt, A.NodeDef) and _depth(stmt.expr) > MAX_EXPR_DEPTH:
                diags.append(
                    error(
                        "SF107",
                        f"expression nested more than {MAX_EXPR_DEPTH} levels deep",
                        stmt.span,
                    )
                )
                continue
            body.append(stmt)
        if len(body) != len(block.body):
            block = type(block)(**{**_fields(block), "body": tuple(body)})
        kept_blocks.append(block)
    return tuple(kept_blocks), tuple(diags)


def _fields(block) -> dict:
    return {name: getattr(block, name) for name in block.__dataclass_fields__}


def _depth(expr: A.Expr) -> int:
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_EXPR_DEPTH:
            return d
        stack.extend((child, d + 1) for child in A.children(node))
    return deepest
