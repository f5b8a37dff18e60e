"""Quick-test speed on demo data (300 instruments, one year): cold, warm and submission figures.

Measured, each a few times, sequentially (the machine has 2 cores):
- cold script: ``bench/handwritten_topk.py`` as a subprocess (imports, init, signal, exchange, loop);
- cold worker: the first quick test on a worker started with the qlib preload (as the server does
  at start-up), submit → outcome; and, for reference, on a worker without preload;
- bare loop: qlib's ``backtest(...)`` of the same strategy in this process after a warm-up run
  (signal loaded, exchange built): the floor a quick test can reach;
- warm worker: re-runs on the warm worker (signal from qlib's memory cache, reused exchange,
  metrics, trade list, IPC), submit → outcome;
- submission: time for ``Worker.submit`` to return.
Targets: warm ≤ 1.1 × bare loop, cold worker ≤ 0.8 × cold script, submission p95 ≤ 20 ms.

    python bench/bench_backtest.py [--data DIR] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "2021-01-04", "2021-12-30"
TARGETS = {"warm_vs_bare": 1.1, "cold_vs_script": 0.8, "submit_p95_ms": 20.0}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": pct(values, 0.95), "n": len(values)}


def cold_script(data: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        cmd = [
            sys.executable,
            str(ROOT / "bench" / "handwritten_topk.py"),
            "--provider-uri",
            str(data),
        ]
        subprocess.run(
            [*cmd, "--start", START, "--end", END, "--json"], check=True, capture_output=True
        )
        out.append(time.perf_counter() - t0)
    return out


def worker_runs(
    data: Path, runs: int, warm_runs: int, preload: bool
) -> tuple[list[float], list[float], dict]:
    from sflow.backtest.worker import QLIB_PRELOAD, Worker

    spec = {"provider_uri": str(data), "start": START, "end": END}
    cold, warm, metrics = [], [], {}
    for i in range(runs):
        with Worker(warm=True, preload=QLIB_PRELOAD if preload else None, eager=True) as w:
            w.wait_ready(120)
            t0 = time.perf_counter()
            out = w.submit("sflow.backtest.runtime:run_topk_job", {"spec": spec}).wait(600)
            cold.append(time.perf_counter() - t0)
            assert out is not None and out.state == "COMPLETED", out
            metrics = out.value["metrics"]
            if i == 0:
                for _ in range(warm_runs):
                    t0 = time.perf_counter()
                    out = w.submit("sflow.backtest.runtime:run_topk_job", {"spec": spec}).wait(600)
                    warm.append(time.perf_counter() - t0)
                    assert out is not None and out.value["metrics"] == metrics
    return cold, warm, metrics


def bare_loop(data: Path, runs: int) -> list[float]:
    from sflow.backtest import qlib_env
    from sflow.backtest.runtime import BacktestSpec, load_signal

    qlib_env.init_qlib(data)
    from qlib.backtest import backtest
    from qlib.contrib.strategy import TopkDropoutStrategy

    spec = BacktestSpec(provider_uri=str(data), start=START, end=END)
    signal = load_signal("$close/Ref($close,20)-1", spec)
    exchange = qlib_env.get_exchange("csi300", START, END)
    executor = {
        "class": "SimulatorExecutor",
        "module_path": "qlib.backtest.executor",
        "kwargs": {"time_per_step": "day", "generate_portfolio_metrics": True},
    }
    out = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            backtest(
                start_time=START,
                end_time=END,
                strategy=TopkDropoutStrategy(signal=signal, topk=30, n_drop=5),
                executor=executor,
                benchmark="SH000300",
                account=1e8,
                exchange_kwargs={"exchange": exchange},
            )
        if i:  # the first run is the warm-up
            out.append(time.perf_counter() - t0)
    return out


def submission(n: int = 200) -> list[float]:
    from sflow.backtest.worker import Worker

    times = []
    with Worker(warm=True, eager=True) as w:
        w.wait_ready(60)
        handles = []
        for _ in range(n):
            t0 = time.perf_counter()
            handles.append(w.submit("sflow.backtest.worker_child:noop"))
            times.append((time.perf_counter() - t0) * 1000)
        for h in handles:
            h.wait(60)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="demo data directory (default: generated in a temp dir)")
    p.add_argument("--runs", type=int, default=3, help="cold runs of each kind (default 3)")
    p.add_argument("--warm-runs", type=int, default=5, help="warm / bare runs (default 5)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else Path(tmp) / "demo"
        if not args.data:
            from sflow.backtest.data.demo import generate_demo_data

            generate_demo_data(data, instruments=300, start="2021-01-01", end="2021-12-31", seed=42)
        script = cold_script(data, args.runs)
        cold, warm, _ = worker_runs(data, args.runs, args.warm_runs, preload=True)
        cold_plain, _, _ = worker_runs(data, 1, 0, preload=False)
        bare = bare_loop(data, args.warm_runs)
        submit = submission()

    res = {
        "cold_script_s": summary(script),
        "cold_worker_s": summary(cold),
        "cold_worker_no_preload_s": summary(cold_plain),
        "bare_loop_s": summary(bare),
        "warm_worker_s": summary(warm),
        "submit_ms": summary(submit),
    }
    res["ratios"] = {
        "warm_vs_bare": res["warm_worker_s"]["p50"] / res["bare_loop_s"]["p50"],
        "cold_vs_script": res["cold_worker_s"]["p50"] / res["cold_script_s"]["p50"],
        "cold_no_preload_vs_script": res["cold_worker_no_preload_s"]["p50"]
        / res["cold_script_s"]["p50"],
        "submit_p95_ms": res["submit_ms"]["p95"],
    }
    res["targets"] = TARGETS
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"quick-test benchmark: 300 instruments, csi300 top-30/drop-5 momentum, {START} .. {END}")
    for key in (
        "cold_script_s",
        "cold_worker_s",
        "cold_worker_no_preload_s",
        "bare_loop_s",
        "warm_worker_s",
    ):
        r = res[key]
        print(f"  {key:26s} p50 {r['p50']:7.2f} s   p95 {r['p95']:7.2f} s   (n={r['n']})")
    s = res["submit_ms"]
    print(f"  {'submit':26s} p50 {s['p50']:7.3f} ms  p95 {s['p95']:7.3f} ms  (n={s['n']})")
    for k, v in res["ratios"].items():
        target = TARGETS.get(k)
        mark = "" if target is None else (" ok" if v <= target else f" MISSES target {target}")
        print(f"  {k:26s} {v:7.3f}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
