"""The metric definitions on a hand-made report (no qlib needed)."""

from __future__ import annotations

import math

import pytest

pd = pytest.importorskip("pandas")

from sflow.backtest.metrics import METRIC_NAMES, compute_metrics, equity_curve  # noqa: E402


def _report() -> pd.DataFrame:
    idx = pd.to_datetime(["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07"])
    return pd.DataFrame(
        {
            "account": [100.0, 110.0, 99.0, 108.9],
            "return": [0.0, 0.11, -0.09, 0.10],
            "cost": [0.0, 0.01, 0.01, 0.0],
            "turnover": [1.0, 0.2, 0.4, 0.0],
            "total_cost": [0.0, 1.0, 2.0, 2.0],
            "bench": [0.0, 0.05, -0.05, 0.0],
        },
        index=idx,
    )


def test_definitions() -> None:
    orders = [
        {"amount": 100.0, "deal_amount": 100.0},
        {"amount": 100.0, "deal_amount": 50.0},
        {"amount": 200.0, "deal_amount": 0.0},
    ]
    m = compute_metrics(_report(), orders)
    assert tuple(m) == METRIC_NAMES
    net = [0.0, 0.10, -0.10, 0.10]
    mean = sum(net) / 4
    std = math.sqrt(sum((x - mean) ** 2 for x in net) / 3)
    assert m["mean"] == pytest.approx(mean) and m["std"] == pytest.approx(std)
    assert m["annualized_return"] == pytest.approx(mean * 238)
    assert m["information_ratio"] == pytest.approx(mean / std * math.sqrt(238))
    assert m["max_drawdown"] == pytest.approx(-0.10)
    assert m["cumulative_return"] == pytest.approx(1.1 * 0.9 * 1.1 - 1)
    assert m["benchmark_cumulative_return"] == pytest.approx(1.05 * 0.95 - 1)
    assert m["excess_return"] == pytest.approx(
        m["cumulative_return"] - m["benchmark_cumulative_return"]
    )
    assert m["excess_mean"] == pytest.approx((0.0 + 0.05 - 0.05 + 0.10) / 4)
    assert m["win_rate"] == pytest.approx(0.5)
    assert m["turnover"] == pytest.approx(0.4)
    assert m["trade_count"] == 2 and m["fill_rate"] == pytest.approx(150 / 400)
    assert m["total_cost"] == 2.0 and m["final_account"] == 108.9 and m["days"] == 4
    assert compute_metrics(_report(), [])["fill_rate"] == 1.0


def test_equity_curve() -> None:
    rows = equity_curve(_report())
    assert [r["date"] for r in rows] == ["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07"]
    assert rows[-1]["equity"] == pytest.approx(1.1 * 0.9 * 1.1)
    assert rows[2]["drawdown"] == pytest.approx(-0.1)
    assert rows[1]["bench_equity"] == pytest.approx(1.05)
