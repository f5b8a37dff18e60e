"""Between the language core's objects and LSP types: positions, ranges, diagnostics, symbols.

Our spans are 0-based lines and code-point columns; LSP columns count code units of the
negotiated `positionEncoding` (UTF-16 unless the client offered UTF-32 or UTF-8). Every
conversion goes through this module and the document's line list.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as T

from sflow.dsl_grammar import Diagnostic
from sflow.dsl_grammar.ast import Span
from sflow.flow.codes import CODES

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


class Positions:
    """Column conversion for one document's lines in one position encoding."""

    def __init__(self, lines: Sequence[str], encoding: str = UTF16) -> None:
        self.lines = lines
        self.encoding = str(encoding)

    def _line(self, line: int) -> str:
        return self.lines[line] if 0 <= line < len(self.lines) else ""

    def to_client_col(self, line: int, col: int) -> int:
        if self.encoding == UTF32:
            return col
        text = self._line(line)
        if text.isascii():
            return col
        head = text[:col]
        if self.encoding == UTF8:
            return len(head.encode("utf-8", "surrogatepass")) + max(0, col - len(text))
        return _utf16_len(head) + max(0, col - len(text))

    def from_client_col(self, line: int, units: int) -> int:
        text = self._line(line)
        if self.encoding == UTF32 or text.isascii():
            return max(0, min(units, len(text)))
        count = 0
        for i, ch in enumerate(text):
            width = _units(ch, self.encoding)
            if count + width > units:
                return i
            count += width
        return len(text)

    def position(self, line: int, col: int) -> T.Position:
        return T.Position(line=max(line, 0), character=self.to_client_col(line, col))

    def range(self, span: Span) -> T.Range:
        return T.Range(
            self.position(span.line, span.col), self.position(span.end_line, span.end_col)
        )

    def from_position(self, pos: T.Position) -> tuple[int, int]:
        return pos.line, self.from_client_col(pos.line, pos.character)

    def from_range(self, rng: T.Range) -> Span:
        line, col = self.from_position(rng.start)
        end_line, end_col = self.from_position(rng.end)
        return Span(line, col, end_line, end_col)

    def length(self, line: int, col: int, end_col: int) -> int:
        return self.to_client_col(line, end_col) - self.to_client_col(line, col)


def _units(ch: str, encoding: str) -> int:
    if encoding == UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if ord(ch) > 0xFFFF else 1


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def diagnostic(diag: Diagnostic, pos: Positions) -> T.Diagnostic:
    data = {k: v for k, v in diag.data.items() if _jsonable(v)}
    return T.Diagnostic(
        range=pos.range(diag.span),
        message=diag.message,
        severity=T.DiagnosticSeverity(int(diag.severity)),
        code=diag.code,
        source="sflow",
        code_description=None,
        data=data or None,
        tags=[T.DiagnosticTag.Unnecessary] if diag.code == "SF205" else None,
    )


def code_title(code: str) -> str:
    return CODES.get(code, code)


def _jsonable(value: object) -> bool:
    return isinstance(value, str | int | float | bool | list | dict | type(None))


NODE_SYMBOL_KIND = {
    "INDICATOR": T.SymbolKind.Function,
    "CONDITION": T.SymbolKind.Boolean,
    "SIGNAL": T.SymbolKind.Event,
    "POSITION": T.SymbolKind.Object,
    "STOP_LOSS": T.SymbolKind.Operator,
    "STOP_PROFIT": T.SymbolKind.Operator,
}


def symbol_kind(node_type: str | None) -> T.SymbolKind:
    return NODE_SYMBOL_KIND.get(node_type or "", T.SymbolKind.Variable)
