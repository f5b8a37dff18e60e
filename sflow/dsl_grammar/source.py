"""Turning bytes from disk or the editor into text the parser can take, with diagnostics."""

from __future__ import annotations

from sflow.dsl_grammar.ast import Span
from sflow.dsl_grammar.diagnostics import Diagnostic, error


def decode(data: bytes) -> tuple[str, list[Diagnostic]]:
    """Decode UTF-8 (BOM allowed); invalid bytes become U+FFFD and one SF100 diagnostic."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n")
        col = len(before) - (before.rfind("\n") + 1)
        message = (
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        )
        return text, [error("SF100", message, Span(line, col, line, col + 1))]
