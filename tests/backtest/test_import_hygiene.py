"""Importing sflow.backtest (and the worker shell, qlib_env, checks) loads no qlib, pandas or numpy."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import sflow.backtest, sflow.backtest.worker, sflow.backtest.qlib_env, sflow.backtest.runtime
import sflow.backtest.metrics, sflow.backtest.data.checks, sflow.backtest.worker_child
import sflow.backtest.worker_proc
print(",".join(m for m in ("qlib", "pandas", "numpy", "pygls", "lsprotocol") if m in sys.modules))
"""


def test_no_heavy_imports() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
