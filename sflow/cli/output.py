"""Diagnostics for people and machines: `path:line:col: severity CODE message`, JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sflow import __version__
from sflow.dsl_grammar.diagnostics import Diagnostic
from sflow.flow.codes import CODES

FileDiagnostics = tuple[str, list[Diagnostic]]
_SARIF_LEVEL = {1: "error", 2: "warning", 3: "note", 4: "note"}


def as_text(results: Iterable[FileDiagnostics]) -> str:
    lines = []
    for path, diags in results:
        for d in diags:
            lines.append(
                f"{path}:{d.span.line + 1}:{d.span.col + 1}: {d.severity.label} {d.code} {d.message}"
            )
    return "\n".join(lines)


def as_json(results: Iterable[FileDiagnostics]) -> str:
    items = []
    for path, diags in results:
        for d in diags:
            items.append(
                {
                    "path": path,
                    "line": d.span.line + 1,
                    "col": d.span.col + 1,
                    "end_line": d.span.end_line + 1,
                    "end_col": d.span.end_col + 1,
                    "severity": d.severity.label,
                    "code": d.code,
                    "message": d.message,
                }
            )
    return json.dumps(items, indent=2, ensure_ascii=False)


def as_sarif(results: Iterable[FileDiagnostics]) -> str:
    results = list(results)
    used = sorted({d.code for _, diags in results for d in diags})
    sarif_results = []
    for path, diags in results:
        for d in diags:
            sarif_results.append(
                {
                    "ruleId": d.code,
                    "ruleIndex": used.index(d.code),
                    "level": _SARIF_LEVEL[int(d.severity)],
                    "message": {"text": d.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": path},
                                "region": {
                                    "startLine": d.span.line + 1,
                                    "startColumn": d.span.col + 1,
                                    "endLine": d.span.end_line + 1,
                                    "endColumn": d.span.end_col + 1,
                                },
                            }
                        }
                    ],
                }
            )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sflow",
                        "version": __version__,
                        "rules": [
                            {"id": code, "shortDescription": {"text": CODES.get(code, code)}}
                            for code in used
                        ],
                    }
                },
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


FORMATTERS = {"text": as_text, "json": as_json, "sarif": as_sarif}
