"""Shared fixtures of the backtest tests: one small demo market per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# worker_jobs.py is imported by name here and, through the worker's PYTHONPATH, in worker children.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50-instrument × 2021 synthetic qlib data directory (``generate_small_demo``), read-only."""
    from sflow.backtest import generate_small_demo

    path = tmp_path_factory.mktemp("qlib_demo")
    generate_small_demo(path)
    return path
