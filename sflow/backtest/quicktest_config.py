"""Quick-test configuration without qlib: options, dates from the calendar, module files, summaries.

Shared by the service (:mod:`sflow.backtest.quicktest`), the screen and the CLI. Pure Python on
files and dicts.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sflow import config as sflow_config
from sflow.backtest.data import checks
from sflow.errors import SflowError

PERIODS = ("1M", "3M", "6M", "1Y", "2Y")
PERIOD_MONTHS = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12, "2Y": 24}
SUMMARY_KEYS = (
    "annualized_return",
    "information_ratio",
    "max_drawdown",
    "cumulative_return",
    "trade_count",
)


@dataclass(frozen=True)
class QuickTestOptions:
    """What a quick test may change of the test block (None: the block's value)."""

    period: str | None = None
    universe: str | None = None
    start: str | None = None
    end: str | None = None
    benchmark: str | None = None
    account: float | None = None
    open_cost: float | None = None
    close_cost: float | None = None
    provider_uri: str | None = None
    timeout: float | None = None  # seconds; None: the service's default

    def __post_init__(self) -> None:
        if self.period is not None and self.period not in PERIODS:
            raise SflowError(f"bad period {self.period!r} (use one of {', '.join(PERIODS)})")

    def overrides(self) -> dict[str, Any]:
        keys = (
            "period",
            "universe",
            "start",
            "end",
            "benchmark",
            "account",
            "open_cost",
            "close_cost",
        )
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def reports_dir() -> Path:
    return sflow_config.data_dir() / "reports"


def modules_dir() -> Path:
    return sflow_config.data_dir() / "quicktests"


def report_path(test_id: str) -> Path:
    """Where the HTML report of a test is written (its JSON sits beside it)."""
    return reports_dir() / f"{test_id}.html"


def metrics_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The small dict lists and the editor's code lens show."""
    return {k: metrics.get(k) for k in SUMMARY_KEYS}


def options_from(raw: dict[str, Any]) -> QuickTestOptions:
    """Options from a client's dict (snake_case or camelCase keys; unknown keys are an error)."""
    known = set(QuickTestOptions.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        if name not in known:
            raise SflowError(
                f"unknown quick-test option {key!r} (known: {', '.join(sorted(known))})"
            )
        values[name] = value
    return QuickTestOptions(**values)


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """(metric, value in A, value in B, B − A) for every metric of two test results."""
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    rows = []
    for name in [*ma, *(k for k in mb if k not in ma)]:
        x, y = ma.get(name), mb.get(name)
        diff = y - x if isinstance(x, int | float) and isinstance(y, int | float) else None
        rows.append((name, x, y, diff))
    return rows


def test_config(test: dict[str, Any], opts: QuickTestOptions, provider: str) -> dict[str, Any]:
    """The test block with the options applied and its dates resolved from the data's calendar.

    The worker resolves the dates again with the module's own ``resolve_dates`` and the stored
    config is updated with its values; this early value is what a PENDING test shows.
    """
    cfg = {**test, **opts.overrides(), "provider_uri": provider}
    if opts.period is not None and opts.start is None:
        cfg["start"] = None
    cfg.setdefault("period", "1Y")
    try:
        if not cfg.get("benchmark"):
            cfg["benchmark"] = checks.default_benchmark(provider, cfg.get("universe") or "csi300")
        cfg["start"], cfg["end"] = resolve_dates(
            provider, cfg.get("start"), cfg.get("end"), cfg["period"]
        )
    except SflowError as exc:
        cfg["_error"] = str(exc)
    return cfg


def resolve_dates(
    provider: str, start: str | None, end: str | None, period: str | None
) -> tuple[str, str]:
    """As the generated module's ``resolve_dates``, on the calendar file (no qlib)."""
    days = checks.read_calendar(provider)
    end = str(end or checks.last_tradable_date(provider))[:10]
    if start is None:
        floor = _months_before(date.fromisoformat(end), PERIOD_MONTHS[period or "1Y"])
        after = (floor + timedelta(days=1)).isoformat()
        inside = [d for d in days if after <= d <= end]
        if not inside:
            raise SflowError(f"no trading day in the {period} before {end} in {provider}")
        start = inside[0]
    return str(start)[:10], end


def _months_before(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def write_module(code: str) -> Path:
    """The module file of a generation (content-addressed, written once, atomically)."""
    folder = modules_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"m_{code_sha256(code)[:24]}.py"
    if not path.is_file() or path.read_text(encoding="utf-8") != code:
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(code, encoding="utf-8")
        os.replace(tmp, path)
    return path


def code_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
