"""The HTML report: self-contained (no network), escaped, with metrics, charts and trades."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from sflow.backtest.report import fmt_metric, render_html, svg_chart, write_report


def _result() -> dict:
    dates = [f"2021-01-{d:02d}" for d in range(4, 14)]
    equity = [1 + 0.01 * i for i in range(10)]
    return {
        "testId": "t-1",
        "status": "COMPLETED",
        "strategy": "evil<script>alert(1)</script>",
        "test": "last_year",
        "config": {
            "start": dates[0],
            "end": dates[-1],
            "universe": "csi300",
            "benchmark": "SH000300",
            "open_cost": 0.0005,
            "close_cost": 0.0015,
            "deal_price": "close",
        },
        "metrics": {
            "annualized_return": 0.1234,
            "information_ratio": 1.5,
            "max_drawdown": -0.05,
            "trade_count": 42.0,
            "excess_information_ratio": math.nan,
        },
        "series": {
            "dates": dates,
            "equity": equity,
            "benchmark": [1.0] * 10,
            "drawdown": [0.0, -0.01, None, -0.02, 0, 0, 0, 0, 0, 0],
        },
        "trades": [
            {
                "instrument": "SH600000",
                "entry_date": dates[0],
                "exit_date": dates[3],
                "entry_price": 10.0,
                "exit_price": 9.0,
                "amount": 100.0,
                "return": -0.1,
                "reason": "stop_loss",
            },
            {
                "instrument": "SZ000001",
                "entry_date": dates[2],
                "exit_date": None,
                "entry_price": 5.0,
                "exit_price": None,
                "amount": 200.0,
                "return": None,
                "reason": "open",
            },
        ],
    }


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    path = write_report(_result(), tmp_path / "r" / "t-1.html")
    page = path.read_text()
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "&lt;script&gt;" in page  # user text is escaped
    for text in ("12.34%", "1.5000", "-5.00%", "42", "stop_loss", "SH600000", "-10.00%", "open"):
        assert text in page, text
    assert page.count("<svg") == 2 and page.count("<polyline") == 3
    data = json.loads(path.with_suffix(".json").read_text())
    assert data["metrics"]["excess_information_ratio"] is None  # JSON has no NaN
    assert data["trades"][1]["exit_date"] is None


def test_chart_scales_to_the_box_and_skips_gaps() -> None:
    svg = svg_chart(["a", "b", "c"], [("x", [0.0, None, 2.0], "#000")], width=100, height=50)
    points = re.search(r'points="([^"]*)"', svg).group(1).split()
    assert len(points) == 2 and points[0].startswith("36.0,") and points[1].startswith("64.0,")
    ys = sorted(float(p.split(",")[1]) for p in points)
    assert ys == [14.0, 36.0]  # the padded top and bottom of a 50-high chart
    assert svg_chart([], [("x", [], "#000")]).count("<svg") == 0


def test_metric_formats() -> None:
    assert fmt_metric("annualized_return", 0.1) == "10.00%"
    assert fmt_metric("information_ratio", math.nan) == "–"
    assert fmt_metric("final_account", 1e8) == "100,000,000.00"
    assert fmt_metric("trade_count", 3.0) == "3"
    assert "t-1" in render_html({**_result(), "series": {}, "trades": []})
