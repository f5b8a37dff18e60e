"""Fidelity: a quick test of the pure top-k example equals the generated module run by itself and
the hand-written qlib script (``bench/handwritten_topk.py``) on the same data, to 1e-9."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qlib")

from sflow.backtest.metrics import METRIC_NAMES
from sflow.backtest.quicktest import QuickTestService
from sflow.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "examples" / "momentum_topk.sflow"
SCRIPT = ROOT / "bench" / "handwritten_topk.py"


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 instruments from 2020-07 (as tests/codegen): csi300 has more members than top-k 30 +
    dropout 5, and the 20-day momentum has a value from the first day of the test."""
    from sflow.backtest.data.demo import generate_demo_data

    path = tmp_path_factory.mktemp("fidelity_market")
    generate_demo_data(path, instruments=100, start="2020-07-01", end="2021-12-31", seed=7)
    return path


def _close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_quick_test_equals_module_and_handwritten_script(
    market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFLOW_HOME", str(tmp_path))
    settings = Settings(f"sqlite:///{tmp_path / 'sflow.db'}", "fidelity", market)
    with QuickTestService(settings, eager=True) as service:
        test_id = service.submit(SOURCE.read_text(), str(SOURCE), test="last_year_pure")
        status = service.wait(test_id, 300)
        assert status["status"] == "COMPLETED", status["error"]
        result = service.result(test_id)
    cfg = result["config"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    module_cmd = [sys.executable, cfg["module_path"], "--provider-uri", str(market), "--json"]
    script_cmd = [sys.executable, str(SCRIPT), "--provider-uri", str(market), "--json"]
    script_cmd += ["--start", cfg["start"], "--end", cfg["end"], "--topk", "30", "--n-drop", "5"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
        for cmd, e in ((module_cmd, {**env, "PYTHONHASHSEED": "0"}), (script_cmd, env))
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    module, script = (json.loads(out) for out, _ in outputs)
    assert (module["test"]["start"], module["test"]["end"]) == (cfg["start"], cfg["end"])
    got = result["metrics"]
    assert got["trade_count"] > 100 and got["days"] > 200
    for name in METRIC_NAMES:
        assert _close(got[name], module["metrics"][name]), (
            name,
            got[name],
            module["metrics"][name],
        )
        assert _close(got[name], script["metrics"][name]), (
            name,
            got[name],
            script["metrics"][name],
        )
    for name, value in script[
        "qlib_risk_analysis"
    ].items():  # qlib's own risk_analysis, net of costs
        assert _close(got[name], value), name
    for name, value in script["qlib_excess_risk_analysis"].items():
        assert _close(got[f"excess_{name}"], value), name
    equity = [row["equity"] for row in module["equity"]]
    assert result["series"]["equity"] == pytest.approx(equity, rel=1e-12)
