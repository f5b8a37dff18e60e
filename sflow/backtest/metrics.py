"""The quick test's metrics, defined once for the worker, ``bench/handwritten_topk.py`` and reports.

Inputs are what qlib's ``backtest(...)`` returns: the daily portfolio report ``pm["1day"][0]``
(columns ``account, return, total_turnover, turnover, total_cost, cost, value, cash, bench``) and
the orders, read from the indicator object (``ind["1day"][1]``) by :func:`orders_from_indicator`
because ``NumpyOrderIndicator.to_series()`` breaks on pandas 3 (qlib #2020).

Definitions (``net = return - cost``, ``bench`` = the benchmark's daily return, N = 238 as qlib):

===============================  ================================================================
``mean`` / ``std``               ``net.mean()`` / ``net.std(ddof=1)``
``annualized_return``            ``mean * N`` (arithmetic, qlib ``risk_analysis`` mode "sum")
``information_ratio``            ``mean / std * sqrt(N)``
``max_drawdown``                 ``min(net.cumsum() - net.cumsum().cummax())`` (additive, ≤ 0)
``excess_*``                     the same five on ``return - bench - cost``
``cumulative_return``            ``prod(1 + net) - 1``
``benchmark_cumulative_return``  ``prod(1 + bench) - 1``
``excess_return``                ``cumulative_return - benchmark_cumulative_return``
``turnover``                     mean daily ``turnover`` (traded value / previous account value)
``win_rate``                     share of days with ``net > 0``
``trade_count``                  orders with a non-zero filled amount
``fill_rate``                    ``sum |deal_amount| / sum |amount|`` over all orders (1.0 if none)
``total_cost``                   ``total_cost`` of the last day (currency)
``final_account``                ``account`` of the last day (currency)
``days``                         number of trading days
===============================  ================================================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ANNUALIZATION = 238  # qlib's day scaler in risk_analysis

RISK_NAMES = ("mean", "std", "annualized_return", "information_ratio", "max_drawdown")
METRIC_NAMES = (
    *RISK_NAMES,
    *(f"excess_{n}" for n in RISK_NAMES),
    "cumulative_return",
    "benchmark_cumulative_return",
    "excess_return",
    "turnover",
    "win_rate",
    "trade_count",
    "fill_rate",
    "total_cost",
    "final_account",
    "days",
)


def risk(r: pd.Series, n: int = ANNUALIZATION) -> dict[str, float]:
    """qlib ``risk_analysis(r, freq="day")`` (mode "sum") as floats, same pandas operations."""
    mean = r.mean()
    std = r.std(ddof=1)
    cum = r.cumsum()
    return {
        "mean": float(mean),
        "std": float(std),
        "annualized_return": float(mean * n),
        "information_ratio": float(mean / std * math.sqrt(n)) if std else float("nan"),
        "max_drawdown": float((cum - cum.cummax()).min()),
    }


def orders_from_indicator(indicator: Any) -> list[dict[str, Any]]:
    """Every order of a run (date, instrument, side, amount, deal_amount, price, value, cost).

    ``indicator`` is qlib's ``Indicator`` (``ind["1day"][1]``); amounts are in shares, positive.
    """
    rows: list[dict[str, Any]] = []
    for when, oi in indicator.order_indicator_his.items():
        data = oi.data
        if "amount" not in data:
            continue
        names = data["amount"].index.tolist()
        cols = {
            k: data[k].data
            for k in (
                "amount",
                "deal_amount",
                "trade_price",
                "trade_value",
                "trade_cost",
                "trade_dir",
            )
        }
        for i, inst in enumerate(names):
            rows.append(
                {
                    "date": str(when)[:10],
                    "instrument": str(inst),
                    "side": "BUY" if int(cols["trade_dir"][i]) == 1 else "SELL",
                    "amount": abs(float(cols["amount"][i])),
                    "deal_amount": abs(float(cols["deal_amount"][i])),
                    "price": float(cols["trade_price"][i]),
                    "value": abs(float(cols["trade_value"][i])),
                    "cost": float(cols["trade_cost"][i]),
                }
            )
    return rows


def compute_metrics(report: pd.DataFrame, orders: list[dict[str, Any]]) -> dict[str, float]:
    """All of ``METRIC_NAMES`` from the daily report and the order list (see module docstring)."""
    net = report["return"] - report["cost"]
    bench = report["bench"]
    out: dict[str, float] = dict(risk(net))
    excess = report["return"] - bench - report["cost"]  # qlib's operand order, for exact equality
    out.update({f"excess_{k}": v for k, v in risk(excess).items()})
    cum = float((1 + net).prod() - 1)
    bcum = float((1 + bench).prod() - 1)
    ordered = sum(o["amount"] for o in orders)
    filled = sum(o["deal_amount"] for o in orders)
    out.update(
        {
            "cumulative_return": cum,
            "benchmark_cumulative_return": bcum,
            "excess_return": cum - bcum,
            "turnover": float(report["turnover"].mean()),
            "win_rate": float((net > 0).mean()),
            "trade_count": float(sum(1 for o in orders if o["deal_amount"] > 0)),
            "fill_rate": float(filled / ordered) if ordered else 1.0,
            "total_cost": float(report["total_cost"].iloc[-1]),
            "final_account": float(report["account"].iloc[-1]),
            "days": float(len(report)),
        }
    )
    return {k: out[k] for k in METRIC_NAMES}


def equity_curve(report: pd.DataFrame) -> list[dict[str, Any]]:
    """Daily rows for charts: account, net return, benchmark, cumulative curves and drawdown."""
    net = report["return"] - report["cost"]
    wealth = (1 + net).cumprod()
    bench = (1 + report["bench"]).cumprod()
    dd = wealth / wealth.cummax() - 1
    return [
        {
            "date": str(d)[:10],
            "account": float(a),
            "return": float(r),
            "bench": float(b),
            "equity": float(w),
            "bench_equity": float(be),
            "drawdown": float(x),
        }
        for d, a, r, b, w, be, x in zip(
            report.index, report["account"], net, report["bench"], wealth, bench, dd, strict=True
        )
    ]
