"""The diagnostic record every layer produces: a stable code, a severity, a message and a span."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from sflow.dsl_grammar.ast import Span


class Severity(IntEnum):
    """Ordered like LSP's DiagnosticSeverity (1 = error … 4 = hint)."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    # Machine-readable details for quick fixes, e.g. {"suggestions": [...]} or {"cycle": [...]}.
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR


def error(code: str, message: str, span: Span, **data: Any) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, data)


def warning(code: str, message: str, span: Span, **data: Any) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, data)
