"""A quick test's report: one self-contained HTML file (inline CSS and SVG, no network assets).

``write_report(result, path)`` writes ``path`` (HTML) and the same name with ``.json`` (the full
``test_result``, which the VS Code extension reads beside the HTML). Charts are drawn here as SVG
polylines: equity vs benchmark, and drawdown.
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Any

# How each metric is shown: percentages, ratios, counts, money.
_PERCENT = {
    "mean",
    "std",
    "annualized_return",
    "max_drawdown",
    "excess_mean",
    "excess_std",
    "excess_annualized_return",
    "excess_max_drawdown",
    "cumulative_return",
    "benchmark_cumulative_return",
    "excess_return",
    "turnover",
    "win_rate",
    "fill_rate",
}
_COUNT = {"trade_count", "days"}
_MONEY = {"total_cost", "final_account"}
MAX_TRADES_SHOWN = 2000

_CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.sub{color:#666;margin-bottom:16px} table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6} td:first-child,th:first-child{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:4px 24px}
svg{background:#fcfcfc;border:1px solid #eee} .neg{color:#b00} .pos{color:#070}
.legend span{margin-right:16px} .k{display:inline-block;width:12px;height:3px;vertical-align:middle}
"""


def fmt_metric(name: str, value: Any) -> str:
    """A metric for people: percentages, counts and money with sensible precision."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if not isinstance(value, int | float):
        return str(value)
    if name in _PERCENT:
        return f"{value * 100:.2f}%"
    if name in _COUNT:
        return f"{value:,.0f}"
    if name in _MONEY:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def _points(values: list[float | None], lo: float, hi: float, w: int, h: int, pad: int) -> str:
    n = max(1, len(values) - 1)
    span = (hi - lo) or 1.0
    pts = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x = pad + (w - 2 * pad) * i / n
        y = pad + (h - 2 * pad) * (1 - (v - lo) / span)
        pts.append(f"{x:.1f},{y:.1f}")
    return " ".join(pts)


def svg_chart(
    dates: list[str],
    lines: list[tuple[str, list[float | None], str]],
    *,
    width: int = 900,
    height: int = 260,
    fill_zero: bool = False,
) -> str:
    """An inline SVG line chart: (label, values, colour) lines over the dates, with a y axis."""
    pad = 36
    finite = [v for _, vals, _ in lines for v in vals if v is not None]
    if not finite or not dates:
        return '<p class="sub">no data</p>'
    lo, hi = min(finite), max(finite)
    if fill_zero:
        hi = max(hi, 0.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = pad + (height - 2 * pad) * (1 - i / 4)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="2" y="{y + 4:.1f}" font-size="10" fill="#666">{v:.3g}</text>'
        )
    for i in (0, len(dates) // 2, len(dates) - 1):
        x = pad + (width - 2 * pad) * i / max(1, len(dates) - 1)
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="10" fill="#666" '
            f'text-anchor="middle">{html.escape(dates[i])}</text>'
        )
    for label, vals, colour in lines:
        pts = _points(vals, lo, hi, width, height, pad)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}">'
            f"<title>{html.escape(label)}</title></polyline>"
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="k" style="background:{c}"></i> {html.escape(label)}</span>'
        for label, _, c in lines
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


def render_html(result: dict[str, Any]) -> str:
    """The report page of a ``test_result``."""
    esc = html.escape
    cfg = result.get("config") or {}
    metrics = result.get("metrics") or {}
    series = result.get("series") or {}
    trades = result.get("trades") or []
    title = f"Quick test: {result.get('strategy') or ''}" + (
        f" / {result['test']}" if result.get("test") else ""
    )
    sub = (
        f"{cfg.get('start')} → {cfg.get('end')} · universe {cfg.get('universe')} · benchmark "
        f"{cfg.get('benchmark')} · costs {cfg.get('open_cost')}/{cfg.get('close_cost')} · deal "
        f"{cfg.get('deal_price')} · status {result.get('status')} · test {result.get('testId')}"
    )
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(fmt_metric(k, v))}</td></tr>" for k, v in metrics.items()
    )
    dates = series.get("dates") or []
    equity = svg_chart(
        dates,
        [
            ("strategy (net of costs)", series.get("equity") or [], "#1f6feb"),
            ("benchmark", series.get("benchmark") or [], "#999999"),
        ],
    )
    drawdown = svg_chart(
        dates, [("drawdown", series.get("drawdown") or [], "#c0392b")], height=180, fill_zero=True
    )
    trade_rows = "".join(_trade_row(t) for t in trades[:MAX_TRADES_SHOWN])
    more = (
        f'<p class="sub">… {len(trades) - MAX_TRADES_SHOWN} more in the JSON file</p>'
        if len(trades) > MAX_TRADES_SHOWN
        else ""
    )
    error = f'<p class="neg">{esc(str(result["error"]))}</p>' if result.get("error") else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><div class="sub">{esc(sub)}</div>{error}'
        f'<h2>Metrics</h2><div class="grid"><table>{rows}</table></div>'
        f"<h2>Equity vs benchmark</h2>{equity}<h2>Drawdown</h2>{drawdown}"
        f"<h2>Trades ({len(trades)})</h2><table><tr><th>instrument</th><th>entry</th>"
        "<th>exit</th><th>entry price</th><th>exit price</th><th>amount</th><th>return</th>"
        f"<th>reason</th></tr>{trade_rows}</table>{more}</body></html>\n"
    )


def _trade_row(t: dict[str, Any]) -> str:
    r = t.get("return")
    cls = "" if r is None else (' class="neg"' if r < 0 else ' class="pos"')
    cells = [
        html.escape(str(t.get("instrument"))),
        html.escape(str(t.get("entry_date") or "")),
        html.escape(str(t.get("exit_date") or "–")),
        _num(t.get("entry_price")),
        _num(t.get("exit_price")),
        _num(t.get("amount"), 0),
    ]
    ret = "–" if r is None else f"{r * 100:.2f}%"
    return (
        "<tr>"
        + "".join(f"<td>{c}</td>" for c in cells)
        + f"<td{cls}>{ret}</td><td>{html.escape(str(t.get('reason')))}</td></tr>"
    )


def _num(v: Any, digits: int = 4) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def write_report(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the HTML report and, beside it, the result as JSON; returns the HTML path."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(result), encoding="utf-8")
    target.with_suffix(".json").write_text(
        json.dumps(clean(result), indent=1, sort_keys=True, allow_nan=False, default=str),
        encoding="utf-8",
    )
    return target
