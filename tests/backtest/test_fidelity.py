"""The worker's top-k job equals the hand-written qlib script to 1e-9, and warm re-runs agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qlib")

from sflow.backtest.metrics import METRIC_NAMES
from sflow.backtest.worker import COMPLETED, QLIB_PRELOAD, Worker

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "handwritten_topk.py"
PERIOD = {"start": "2021-02-01", "end": "2021-12-30"}


def test_worker_equals_handwritten_qlib_script(demo_data: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"
    }  # the script pins it itself
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--provider-uri",
        str(demo_data),
        "--topk",
        "10",
        "--n-drop",
        "2",
    ]
    cmd += ["--start", PERIOD["start"], "--end", PERIOD["end"], "--json"]
    script = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )

    spec = {"provider_uri": str(demo_data), **PERIOD}
    steps = []
    worker_env = {"SFLOW_WORKER_QLIB_DATA": str(demo_data)}
    with Worker(warm=True, preload=QLIB_PRELOAD, env=worker_env, eager=True) as w:
        first = w.submit(
            "sflow.backtest.runtime:run_topk_job",
            {"spec": spec, "topk": 10, "n_drop": 2},
            on_progress=steps.append,
            timeout=120,
        ).wait()
        again = w.submit(
            "sflow.backtest.runtime:run_topk_job",
            {"spec": spec, "topk": 10, "n_drop": 2},
            timeout=120,
        ).wait()
    stdout, stderr = script.communicate(timeout=180)
    assert script.returncode == 0, stderr
    ref = json.loads(stdout)
    assert first is not None and first.state == COMPLETED, first and first.error
    assert again is not None and again.state == COMPLETED
    got = first.value["metrics"]
    assert set(got) == set(METRIC_NAMES) == set(ref["metrics"])
    for name in METRIC_NAMES:
        assert got[name] == pytest.approx(ref["metrics"][name], rel=1e-9, abs=1e-12), name
    for name, value in ref["qlib_risk_analysis"].items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    for name, value in ref["qlib_excess_risk_analysis"].items():
        assert got[f"excess_{name}"] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert again.value["metrics"] == got and again.value["orders"] == first.value["orders"]
    assert first.value["timings"]["init"] < 0.5  # the preload initialised qlib on the data
    assert again.value["timings"]["init"] < 0.5
    assert got["trade_count"] > 50 and len(first.value["equity"]) == got["days"]
    assert (
        steps[-1].processed == steps[-1].total == got["days"] and steps[-1].current == PERIOD["end"]
    )
