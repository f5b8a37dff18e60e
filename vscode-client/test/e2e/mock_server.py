"""A stand-in sflow language server for the client's end-to-end test (SFLOW_E2E_SERVER=mock).

It speaks the client/server contract (commands, code lenses, sflow/quickTestStatus) with canned
answers, so the extension's server-dependent steps can be exercised before and independently of the
real server. It is not the product: `sflow-lsp` is. Needs pygls 2 (run with the project's venv).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

TEMPLATES = {
    "sma": "**sma** — simple moving average of `price` over `period` days.",
    "ema": "**ema** — exponential moving average.",
    "rsi": "**rsi** — relative strength index.",
    "macd": "**macd** — moving average convergence divergence; ports `macd`, `signal`, `hist`.",
    "cross_above": "**cross_above** — true on the day `a` crosses above `b`.",
    "cross_below": "**cross_below** — true on the day `a` crosses below `b`.",
    "signal": "**signal** — instruments and scores where `cond` holds.",
    "topk": "**topk** — qlib TopkDropoutStrategy book.",
    "stop_loss": "**stop_loss** — exit when the loss exceeds `pct`.",
    "take_profit": "**take_profit** — exit when the gain exceeds `pct`.",
}
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "quick-test-result.json"
HEADER = re.compile(r"^\s*(strategy|test)\s+(\w+)")
CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")

server = LanguageServer("sflow-mock", "0.0.1")
out_dir = Path(tempfile.mkdtemp(prefix="sflow-mock-gen-"))


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _check(ls: LanguageServer, uri: str) -> None:
    doc = ls.workspace.get_text_document(uri)
    diagnostics = []
    for line_no, line in enumerate(doc.lines):
        code = re.sub(r'"(?:\\.|[^"\\])*"', lambda m: " " * len(m.group(0)), line.split("#", 1)[0])
        for m in CALL.finditer(code):
            name = m.group(1)
            if name not in TEMPLATES and name != "qlib":
                diagnostics.append(
                    t.Diagnostic(
                        range=t.Range(t.Position(line_no, m.start(1)), t.Position(line_no, m.end(1))),
                        message=f"unknown template '{name}' (did you mean 'sma'?)",
                        severity=t.DiagnosticSeverity.Error,
                        code="SF201",
                        source="sflow",
                    )
                )
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
    _check(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
    _check(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["=", " "]))
def completion(ls: LanguageServer, params: t.CompletionParams) -> t.CompletionList:
    items = [
        t.CompletionItem(label=name, kind=t.CompletionItemKind.Function, detail="template")
        for name in TEMPLATES
    ]
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: t.HoverParams) -> t.Hover | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    word = doc.word_at_position(params.position)
    if word in TEMPLATES:
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=TEMPLATES[word]))
    return None


@server.feature(t.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: LanguageServer, params: t.CodeLensParams) -> list[t.CodeLens]:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    lenses = []
    for line_no, line in enumerate(doc.lines):
        m = HEADER.match(line)
        if not m:
            continue
        rng = t.Range(t.Position(line_no, 0), t.Position(line_no, len(line)))
        uri, kind, name = params.text_document.uri, m.group(1), m.group(2)
        if kind == "strategy":
            cmd = t.Command(title="Generate Python", command="sflow.generateCode", arguments=[uri, name])
            lenses.append(t.CodeLens(range=rng, command=cmd))
        run = t.Command(title="Run quick test", command="sflow.runQuickTest", arguments=[uri, name])
        lenses.append(t.CodeLens(range=rng, command=run))
    return lenses


def _args(args: tuple) -> list:
    return list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)


@server.command("sflow.generateCode")
def generate_code(ls: LanguageServer, *args: object) -> dict:
    uri, name = (_args(args) + [None, None])[:2]
    stem = name or _path(str(uri)).stem
    path = out_dir / f"{stem}.py"
    code = f'"""Generated from {_path(str(uri)).name} by the mock server."""\n\nimport qlib\n\n\ndef main() -> None:\n    qlib.init()\n'
    path.write_text(code)
    return {"path": str(path), "code": code, "validationStatus": "passed"}


@server.command("sflow.runQuickTest")
async def run_quick_test(ls: LanguageServer, *args: object) -> dict:
    uri, name = (_args(args) + [None, None])[:2]
    test_id = "qt-mock-0001"
    for pct in (0, 40, 80):
        ls.protocol.notify(
            "sflow/quickTestStatus",
            {"testId": test_id, "status": "RUNNING", "percent": pct, "message": f"step {pct}"},
        )
        await asyncio.sleep(0.4)
    result = json.loads(FIXTURE.read_text())
    result.update(testId=test_id, strategy="golden_cross", test=name or "last_quarter")
    ls.protocol.notify("sflow/quickTestStatus", {"testId": test_id, "status": "COMPLETED", "percent": 100})
    return {"testId": test_id, "status": "COMPLETED", "result": result}


@server.command("sflow.cancelQuickTest")
def cancel_quick_test(ls: LanguageServer, *args: object) -> dict:
    return {"testId": (_args(args) + [None])[0], "status": "CANCELLED"}


if __name__ == "__main__":
    if "--stdio" not in sys.argv[1:]:
        print("usage: mock_server.py --stdio", file=sys.stderr)
    server.start_io()
