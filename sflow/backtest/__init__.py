"""qlib runner, quick-test worker and data tools.

Importing this package is free: qlib, pandas and numpy load only inside the functions that need
them. Public entry points (lazy attributes):

- ``generate_demo_data(target, instruments=300, start=..., end=..., seed=42)`` — synthetic market;
  ``generate_small_demo(target)`` — the 50-instrument × 2021 market the tests share
- ``Worker``, ``run_isolated`` — worker processes (``sflow.backtest.worker``)
- ``BacktestSpec`` — a resolved test block (``sflow.backtest.runtime``)
- ``QuickTestService``, ``run_quick_test``, ``run_screen`` — quick tests and screens (``quicktest``,
  ``screen``)
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "generate_demo_data": "sflow.backtest.data.demo",
    "DemoSummary": "sflow.backtest.data.demo",
    "generate_small_demo": "sflow.backtest.data.demo",
    "Worker": "sflow.backtest.worker",
    "run_isolated": "sflow.backtest.worker",
    "JobOutcome": "sflow.backtest.worker",
    "ProgressEvent": "sflow.backtest.worker",
    "BacktestSpec": "sflow.backtest.runtime",
    "QuickTestService": "sflow.backtest.quicktest",
    "run_quick_test": "sflow.backtest.quicktest",
    "run_screen": "sflow.backtest.screen",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sflow.backtest' has no attribute {name!r}")
