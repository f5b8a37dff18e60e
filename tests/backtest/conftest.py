"""Shared fixtures of the backtest tests: one small demo market per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50-instrument × 2021 synthetic qlib data directory (``generate_small_demo``), read-only."""
    from sflow.backtest import generate_small_demo

    path = tmp_path_factory.mktemp("qlib_demo")
    generate_small_demo(path)
    return path
