"""The .sflow language: grammar, error-recovering parser, typed AST and canonical printer."""

from sflow.dsl_grammar.diagnostics import Diagnostic, Severity
from sflow.dsl_grammar.parser import ParseResult, expected_at, parse
from sflow.dsl_grammar.printer import expr_text, format_document, format_source
from sflow.dsl_grammar.source import decode

__all__ = [
    "Diagnostic",
    "ParseResult",
    "Severity",
    "decode",
    "expected_at",
    "expr_text",
    "format_document",
    "format_source",
    "parse",
]
