"""Generated modules run on a demo market: every example, qlib equality, stops, the warm path.

Each module runs as ``python module.py --provider-uri DIR --json`` in a subprocess (all started at
once, collected by one session fixture); qlib is needed, the modules are real qlib backtests.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sflow.codegen import generate_code

from .conftest import ROOT, example_strategies

pytest.importorskip("qlib")

HANDWRITTEN = ROOT / "bench" / "handwritten_topk.py"
DRIVER = Path(__file__).with_name("warm_driver.py")
PURE_DATES = ["--start", "2021-01-04", "--end", "2021-12-30"]  # handwritten_topk's defaults
# Strategies that trade a lot on the demo market (rsi_reversion's oversold entries are rare).
ACTIVE = {"golden_cross", "momentum_topk", "momentum_pure", "bollinger_breakout", "macd_trend"}
REASONS = {"signal", "stop_loss", "take_profit", "trailing_stop"}
PROBE = """
strategy stops_probe {
    universe  csi300
    benchmark SH000300
    up   = rising($close, period=1)
    buy  = signal(up, score=roc($close, period=5))
    book = equal_weight(buy, max_positions=20)
    stop_loss(book, pct=0.03)
    trailing_stop(book, pct=0.04)
    take_profit(book, pct=0.05)
}
test probe_6m for stops_probe {
    period 6M
}
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": "0", "TQDM_DISABLE": "1"}


@pytest.fixture(scope="session")
def runs(codegen_demo: Path, library, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Start every run at once; the JSON result (or the failure text) of each, by name."""
    out = tmp_path_factory.mktemp("modules")
    data = str(codegen_demo)
    commands: dict[str, list[str]] = {}
    for source, strategy in example_strategies():
        g = generate_code((ROOT / source).read_text(), source, strategy, None, library)
        path = out / f"{strategy}.py"
        path.write_text(g.code)
        extra = PURE_DATES if strategy == "momentum_pure" else []
        commands[strategy] = [sys.executable, str(path), "--provider-uri", data, "--json", *extra]
    probe = out / "stops_probe.py"
    probe.write_text(generate_code(PROBE, "probe.sflow", None, None, library).code)
    commands["stops_probe"] = [sys.executable, str(probe), "--provider-uri", data, "--json"]
    commands["handwritten"] = [sys.executable, str(HANDWRITTEN), "--provider-uri", data, "--json"]
    commands["warm"] = [sys.executable, str(DRIVER), str(out / "golden_cross.py"), data]
    procs = {
        name: subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=out
        )
        for name, cmd in commands.items()
    }
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=1500)
        results[name] = json.loads(stdout) if proc.returncode == 0 else stderr[-3000:]
    return results


def _ok(runs: dict, name: str) -> dict:
    result = runs[name]
    assert isinstance(result, dict), result
    return result


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("strategy", [s for _, s in example_strategies()])
def test_example_module_runs(runs: dict, strategy: str, codegen_demo: Path) -> None:
    from sflow.backtest.data.checks import last_tradable_date
    from sflow.backtest.metrics import METRIC_NAMES

    result = _ok(runs, strategy)
    metrics = result["metrics"]
    assert set(metrics) == set(METRIC_NAMES)
    assert all(math.isfinite(v) for v in metrics.values()), metrics
    assert metrics["days"] == len(result["equity"])
    buys = [o for o in result["orders"] if o["side"] == "BUY" and o["deal_amount"] > 0]
    sells = [o for o in result["orders"] if o["side"] == "SELL" and o["deal_amount"] > 0]
    assert buys and metrics["trade_count"] == len(buys) + len(sells)
    if strategy in ACTIVE:
        assert metrics["trade_count"] > 50 and sells
    if strategy == "momentum_pure":
        assert result["exits"] == []  # qlib's TopkDropoutStrategy: no exit log
        return
    assert result["test"]["end"] == last_tradable_date(codegen_demo)
    assert result["test"]["start"] == result["equity"][0]["date"]
    exits = result["exits"]
    assert {e["reason"] for e in exits} <= REASONS
    assert len(exits) <= len(sells)
    if strategy in ACTIVE:
        assert "signal" in {e["reason"] for e in exits}
    filled = {(o["date"], o["instrument"]): o["price"] for o in sells}
    for e in exits:
        assert filled[(e["date"], e["instrument"])] == e["exit_price"]
        assert e["decision_date"] < e["date"]  # decided on day t-1's data, filled on day t


@pytest.mark.timeout(1800)
def test_pure_topk_equals_the_handwritten_qlib_script(runs: dict) -> None:
    got = _ok(runs, "momentum_pure")["metrics"]
    ref = _ok(runs, "handwritten")
    assert _ok(runs, "momentum_pure")["test"]["start"] == PURE_DATES[1]
    for name, value in ref["metrics"].items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    for name, value in ref["qlib_risk_analysis"].items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.mark.timeout(1800)
def test_stops_fire_at_their_thresholds(runs: dict) -> None:
    result = _ok(runs, "stops_probe")
    exits = result["exits"]
    reasons = {e["reason"] for e in exits}
    assert {"stop_loss", "trailing_stop", "take_profit"} <= reasons, reasons
    assert result["test"]["period"] == "6M" and len(result["equity"]) < 140
    for e in exits:
        move = e["decision_close"] / e["entry_price"] - 1
        if e["reason"] == "stop_loss":
            assert move <= -0.03 + 1e-9, e  # the loss at the decision close reaches the stop
        elif e["reason"] == "take_profit":
            assert move >= 0.05 - 1e-9, e
        elif e["reason"] == "trailing_stop":
            assert move > -0.03, e  # else the stop loss (checked first) would have fired
    held: dict[str, float] = {}
    most = 0
    for o in sorted(result["orders"], key=lambda o: o["date"]):  # at most max_positions holdings
        if o["deal_amount"] > 0:
            sign = 1 if o["side"] == "BUY" else -1
            held[o["instrument"]] = held.get(o["instrument"], 0.0) + sign * o["deal_amount"]
            most = max(most, sum(1 for v in held.values() if v > 1e-3))
    assert 10 < most <= 20


@pytest.mark.timeout(1800)
def test_warm_worker_path_equals_the_command_line(runs: dict) -> None:
    warm = _ok(runs, "warm")
    cli = _ok(runs, "golden_cross")
    for name, value in cli["metrics"].items():
        assert warm["metrics"][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert warm["exits"] == cli["exits"] and warm["orders"] == cli["orders"]
    steps = warm["progress"]
    assert [s[0] for s in steps] == list(range(1, len(cli["equity"]) + 1))
    assert steps[-1][1] == len(cli["equity"]) and steps[-1][2] == cli["test"]["end"]
