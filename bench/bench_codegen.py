"""Code generation speed: p50/p95 of `generate_code` for a 10-node and a 100-node flow, warm.

Two cases per size: the same text again (warm: the editor's "Generate" on a document the server
has already checked; parser, validation and code-validator caches hit) and an edited text every run
(one parameter changes, so the strategy is re-parsed, re-validated, re-planned, re-rendered and the
new module re-validated). Wall and CPU time are printed (CPU time is the honest figure on a shared
machine), and for edited texts the CPU share of `check_text` (the language layer) alone.
Target: p95 ≤ 20 ms for 100 nodes.

    python bench/bench_codegen.py [--runs 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from sflow.codegen import generate_code
from sflow.flow.templates import system_library
from sflow.flow.validate import check_text


def flow_text(nodes: int, variant: int = 0) -> str:
    """A strategy of about `nodes` logic-flow nodes: averages, their crosses, a combined signal."""
    pairs = max(1, (nodes - 8) // 4)
    lines = []
    for i in range(pairs):
        lines.append(f"    f{i} = sma($close, period={3 + i % 10})")
        lines.append(f"    s{i} = ema($close, period={12 + i % 30 + (variant if i == 0 else 0)})")
        lines.append(f"    up{i} = f{i} > s{i}")
    votes = " + ".join(["0"] + [f"up{i}" for i in range(pairs)])
    lines.append(f"    score = {votes}")
    lines.append(f"    buy  = signal(score > {pairs // 2}, score=score)")
    lines.append("    sell = signal(cross_below(f0, s0))")
    lines.append("    book = topk(buy, sell=sell, k=30, n_drop=5)")
    lines.append("    stop_loss(book, pct=0.08)")
    lines.append("    take_profit(book, pct=0.25)")
    body = "\n".join(lines)
    return f"strategy bench {{\n    universe csi300\n    benchmark SH000300\n{body}\n}}\n"


def node_count(text: str) -> int:
    result = check_text(text, system_library())
    assert not result.errors, result.errors[:3]
    return len(result.flows["bench"].nodes)


def measure(nodes: int, runs: int, edited: bool) -> dict[str, float]:
    library = system_library()
    texts = [flow_text(nodes, variant=i + 1 if edited else 0) for i in range(runs + 5)]
    for text in texts[:5]:  # warm: imports, Jinja templates, caches (not measured)
        generate_code(text, "bench.sflow", None, None, library)
    times, cpu, checks = [], [], []
    for text in texts[5:] if edited else texts[:runs]:
        t0, c0 = time.perf_counter(), time.process_time()
        g = generate_code(text, "bench.sflow", None, None, library)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert g.status == "VALID", g.validation.issues
        if edited:  # the language layer's share: parse + six validation layers of the new text
            c0 = time.process_time()
            check_text(text + "\n", library)
            checks.append((time.process_time() - c0) * 1000)
    times.sort()
    cpu.sort()
    return {
        "nodes": node_count(texts[0]),
        "p50_ms": statistics.median(times),
        "p95_ms": _p95(times),
        "max_ms": times[-1],
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p95_ms": _p95(cpu),
        "check_text_cpu_p50_ms": statistics.median(checks) if checks else 0.0,
        "lines": len(g.code.splitlines()),
    }


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {
        f"{size}_{mode}": measure(size, args.runs, mode == "edited")
        for size in (10, 100)
        for mode in ("same", "edited")
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    head = ("case", "nodes", "p50", "p95", "max", "cpu p50", "cpu p95", "check_text", "lines")
    print("{:14} {:>5} {:>7} {:>7} {:>7} {:>8} {:>8} {:>10} {:>6}".format(*head), "(ms)")
    for name, r in results.items():
        print(
            f"{name:14} {r['nodes']:5d} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f} {r['max_ms']:7.2f}"
            f" {r['cpu_p50_ms']:8.2f} {r['cpu_p95_ms']:8.2f} {r['check_text_cpu_p50_ms']:10.2f}"
            f" {r['lines']:6d}"
        )
    for case in ("100_same", "100_edited"):
        ok = results[case]["p95_ms"] <= 20
        print(f"target p95 ≤ 20 ms for 100 nodes ({case}): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
