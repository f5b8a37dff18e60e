"""Paths and the golden-file helper shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("SFLOW_UPDATE_GOLDEN") == "1"


def assert_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; SFLOW_UPDATE_GOLDEN=1 rewrites it."""
    if UPDATE_GOLDEN:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"missing golden file {path} (run with SFLOW_UPDATE_GOLDEN=1 to create it)")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} differs from its golden file (SFLOW_UPDATE_GOLDEN=1 to accept)"
    )
