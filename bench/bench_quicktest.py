"""sflow's quick test end to end against plain qlib (300 instruments, one year of demo data).

The example strategy ``momentum_pure`` (examples/momentum_topk.sflow: qlib's TopkDropoutStrategy,
top 30 / drop 5 on 20-day momentum) over the same period as ``bench/bench_backtest.py``:

- cold script: ``bench/handwritten_topk.py`` in a subprocess (imports, init, signal, exchange, loop);
- cold quick test: a new ``QuickTestService`` (new worker process), submit → COMPLETED; given from
  the service's creation (the CLI's case) and from a worker that finished its preload (the
  server's case: it starts its worker at start-up);
- bare loop: qlib's ``backtest(...)`` of the same strategy in this process after a warm-up;
- warm quick test: more runs on the same service (generation, database rows and per-step progress,
  the module's own ``run`` on the reused exchange, metrics, trade list, report files);
- submission: ``QuickTestService.submit`` (generate + validate + store + queue) until it returns.
Targets: warm ≤ 1.1 × bare loop; cold ≤ 0.8 × cold script; submission p95 ≤ 20 ms.

    python bench/bench_quicktest.py [--data DIR] [--runs 2] [--warm-runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import END, START, Bare, cold_script, summary

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "examples" / "momentum_topk.sflow"
TARGETS = {"warm_vs_bare": 1.1, "cold_ready_vs_script": 0.8, "submit_p95_ms": 20.0}


def quick_test(service: Any, options: Any) -> tuple[float, dict]:
    t0 = time.perf_counter()
    test_id = service.submit(
        SOURCE.read_text(), str(SOURCE), strategy="momentum_pure", options=options
    )
    status = service.wait(test_id, 900)
    wall = time.perf_counter() - t0
    assert status["status"] == "COMPLETED", status
    return wall, service.result(test_id)["metrics"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="demo data directory (default: generated in a temp dir)")
    p.add_argument("--runs", type=int, default=2, help="cold runs of each kind (default 2)")
    p.add_argument("--warm-runs", type=int, default=5, help="warm / bare runs (default 5)")
    p.add_argument("--submits", type=int, default=60, help="submissions timed (default 60)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    from sflow.backtest.quicktest import QuickTestOptions, QuickTestService
    from sflow.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFLOW_HOME"] = str(Path(tmp) / "home")
        data = Path(args.data) if args.data else Path(tmp) / "demo"
        if not args.data:
            from sflow.backtest.data.demo import generate_demo_data

            generate_demo_data(data, instruments=300, start="2021-01-01", end="2021-12-31", seed=42)
        settings = Settings(f"sqlite:///{tmp}/home/sflow.db", "bench", data)
        options = QuickTestOptions(start=START, end=END)
        QuickTestService(settings).library()  # create and migrate the database once
        m: dict[str, list[float]] = {
            k: [] for k in ("cold_script_s", "cold_quicktest_s", "cold_quicktest_ready_s")
        }
        keep = metrics = None
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            m["cold_script_s"].append(cold_script(data)[0])
            t0 = time.perf_counter()
            service = QuickTestService(settings, eager=True)
            wall, metrics = quick_test(service, options)
            m["cold_quicktest_s"].append(time.perf_counter() - t0)
            service.close()
            service = QuickTestService(settings, eager=True)
            service.worker().wait_ready(300)
            m["cold_quicktest_ready_s"].append(quick_test(service, options)[0])
            if keep is None:
                keep = service
            else:
                service.close()
        bare = Bare(data)
        m["bare_loop_s"], m["warm_quicktest_s"] = [], []
        for _ in range(args.warm_runs):
            m["bare_loop_s"].append(bare.run()[0])
            wall, again = quick_test(keep, options)
            assert again == metrics
            m["warm_quicktest_s"].append(wall)
        m["submit_ms"] = []
        for _ in range(args.submits):
            t0 = time.perf_counter()
            test_id = keep.submit(
                SOURCE.read_text(), str(SOURCE), strategy="momentum_pure", options=options
            )
            m["submit_ms"].append((time.perf_counter() - t0) * 1000)
            keep.cancel(test_id)
            keep.wait(test_id, 60)  # each submission finds the worker idle, as a user's click
        keep.close()

    res: dict[str, Any] = {k: summary(v) for k, v in m.items()}
    p50 = {k: v["p50"] for k, v in res.items()}
    res["ratios"] = {
        "warm_vs_bare": p50["warm_quicktest_s"] / p50["bare_loop_s"],
        "warm_vs_bare_min": res["warm_quicktest_s"]["min"] / res["bare_loop_s"]["min"],
        "cold_ready_vs_script": p50["cold_quicktest_ready_s"] / p50["cold_script_s"],
        "cold_vs_script": p50["cold_quicktest_s"] / p50["cold_script_s"],
        "submit_p95_ms": res["submit_ms"]["p95"],
    }
    res["targets"] = TARGETS
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(
        f"quick test (sflow) vs qlib: 300 instruments, momentum_pure top-30/drop-5, {START} .. {END}"
    )
    print(f"  load average: {os.getloadavg()} (2 cores: wall times are noisy)")
    for key, r in res.items():
        if key in ("ratios", "targets"):
            continue
        unit = "ms" if key.endswith("_ms") else "s"
        print(
            f"  {key:24s} min {r['min']:8.3f} {unit}  p50 {r['p50']:8.3f} {unit}  p95 {r['p95']:8.3f} {unit}  (n={r['n']})"
        )
    for k, v in res["ratios"].items():
        target = TARGETS.get(k)
        mark = "" if target is None else (" ok" if v <= target else f" MISSES target {target}")
        print(f"  {k:24s} {v:8.3f}{mark}")
    return 0


if __name__ == "__main__":
    # The worker pins PYTHONHASHSEED=0 (qlib's Position iterates a set): the bare loop here too.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(
            sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"}
        )
    sys.exit(main())
