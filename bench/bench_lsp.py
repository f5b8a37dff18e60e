"""Benchmark of the language server over stdio on a generated 2,000-line file.

Prints completion p50/p95, diagnostics latency after an edit (debounce set to 0 through the
settings, so the figure is the analysis and publication only) and, in the same run, the round
trip of a no-op request (`sflow/debugInfo`) and of a hover on whitespace as the baseline.

    .venv/bin/python bench/bench_lsp.py [--lines 2000] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.client import LanguageClient
from pytest_lsp import client_capabilities

ROOT = Path(__file__).resolve().parents[1]


def generate(lines: int) -> str:
    block = (ROOT / "examples" / "golden_cross.sflow").read_text()
    out, i = [], 0
    while sum(part.count("\n") for part in out) < lines:
        out.append(block.replace("golden_cross", f"gc{i}").replace("last_year", f"t{i}") + "\n")
        i += 1
    return "".join(out)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


async def main(n_lines: int, runs: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="sflow-bench-"))
    env = {
        "SFLOW_HOME": str(tmp),
        "SFLOW_DATABASE_URL": f"sqlite:///{tmp / 'sflow.db'}",
        "PATH": "/usr/bin:/bin",
    }
    versions: dict[int, asyncio.Future] = {}

    def publish(ls, params: T.PublishDiagnosticsParams):
        fut = versions.get(params.version)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    # pygls' own client: pytest-lsp's test client checks every result, which would be timed too
    client = LanguageClient("sflow-bench", "1")
    client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(publish)

    @client.feature(T.WORKSPACE_CONFIGURATION)
    def configuration(ls, params: T.ConfigurationParams):
        return [None for _ in params.items]

    @client.feature(T.WORKSPACE_SEMANTIC_TOKENS_REFRESH)
    def refresh(ls, params):
        return None

    @client.feature(T.WINDOW_LOG_MESSAGE)
    def log_message(ls, params):
        pass

    @client.feature(T.WINDOW_SHOW_MESSAGE)
    def show_message(ls, params):
        print("server:", params.message, file=sys.stderr)

    await client.start_io(
        sys.executable, "-m", "sflow.server", "--stdio", env={**os.environ, **env}
    )
    t0 = time.perf_counter()
    await client.initialize_async(
        T.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp.as_uri(),
            initialization_options={"diagnosticsDebounceMs": 0, "autosave": False},
        )
    )
    client.initialized(T.InitializedParams())
    started = time.perf_counter() - t0
    text = generate(n_lines)
    path = tmp / "big.sflow"
    path.write_text(text)
    uri = path.as_uri()
    loop = asyncio.get_running_loop()
    versions[1] = loop.create_future()
    t0 = time.perf_counter()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "sflow", 1, text))
    )
    cold = await versions[1] - t0
    lines = text.split("\n")
    ident = T.TextDocumentIdentifier(uri)
    blank = next(i for i, line in enumerate(lines) if not line.strip() and i > len(lines) // 2)
    positions = [
        (i, len("    golden = "))
        for i, line in enumerate(lines)
        if line.startswith("    golden = ")
    ]

    async def timed(coro_factory, count):
        out = []
        for k in range(count):
            t = time.perf_counter()
            await coro_factory(k)
            out.append(time.perf_counter() - t)
        return out

    # the server migrates the fresh database in a thread after `initialized`: wait for it, so
    # the figures are those of a server at rest
    for _ in range(300):
        info = await client.protocol.send_request_async("sflow/debugInfo", {})
        if getattr(info, "libraryFromDatabase", False):
            break
        await asyncio.sleep(0.05)
    # warm up
    await timed(lambda k: client.protocol.send_request_async("sflow/debugInfo", {}), 20)
    await timed(
        lambda k: client.text_document_completion_async(
            T.CompletionParams(ident, T.Position(*positions[k % len(positions)]))
        ),
        20,
    )
    noop = await timed(lambda k: client.protocol.send_request_async("sflow/debugInfo", {}), runs)
    hover_ws = await timed(
        lambda k: client.text_document_hover_async(T.HoverParams(ident, T.Position(blank, 0))), runs
    )
    completion = await timed(
        lambda k: client.text_document_completion_async(
            T.CompletionParams(ident, T.Position(*positions[k % len(positions)]))
        ),
        runs,
    )
    # diagnostics after an edit: alternate a typo and its fix in different blocks
    diag = []
    version = 1
    for k in range(min(runs, 60)):
        line, _ = positions[(k * 7) % len(positions)]
        version += 1
        versions[version] = loop.create_future()
        typo = k % 2 == 0
        change = T.TextDocumentContentChangePartial(
            range=T.Range(T.Position(line, 4), T.Position(line, 4 if typo else 5)),
            text="x" if typo else "",
        )
        t = time.perf_counter()
        client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                T.VersionedTextDocumentIdentifier(version=version, uri=uri), [change]
            )
        )
        done = await asyncio.wait_for(versions[version], 30)
        diag.append(done - t)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    c50, c95 = pct(completion, 50), pct(completion, 95)
    n50, n95 = pct(noop, 50), pct(noop, 95)
    h50, h95 = pct(hover_ws, 50), pct(hover_ws, 95)
    print(
        f"file: {len(lines)} lines; server start+initialize {started * 1000:.0f} ms; cold open to diagnostics {cold * 1000:.0f} ms"
    )
    print(f"no-op request (sflow/debugInfo) p50 {n50:.2f} ms  p95 {n95:.2f} ms")
    print(f"hover on whitespace             p50 {h50:.2f} ms  p95 {h95:.2f} ms")
    print(
        f"completion                      p50 {c50:.2f} ms  p95 {c95:.2f} ms  (target p95 <= 16 ms)"
    )
    print(
        f"  completion / no-op:  p50 {c50 / n50:.1f}x  p95 {c95 / n95:.1f}x (debugInfo);"
        f"  p50 {c50 / h50:.1f}x  p95 {c95 / h95:.1f}x (hover on whitespace); target <= 3x"
    )
    print(
        f"diagnostics after an edit       p50 {pct(diag, 50):.2f} ms  p95 {pct(diag, 95):.2f} ms  (target p95 <= 50 ms)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.lines, args.runs)))
