"""Fixtures of the codegen tests: the example strategies, their modules, a demo market."""

from __future__ import annotations

from pathlib import Path

import pytest

from sflow.dsl_grammar import parse
from sflow.flow.templates import system_library

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def example_strategies() -> list[tuple[str, str]]:
    """(example file relative to the repository, strategy name) of every example strategy."""
    out = []
    for path in sorted(EXAMPLES.glob("*.sflow")):
        for strategy in parse(path.read_text()).document.strategies:
            out.append((f"examples/{path.name}", strategy.name.name))
    return out


@pytest.fixture(scope="session")
def library():
    return system_library()


@pytest.fixture(scope="session")
def codegen_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 instruments × 18 months (csi300 ≈ 68 members: more than top-k 30 + dropout 5)."""
    from sflow.backtest.data.demo import generate_demo_data

    path = tmp_path_factory.mktemp("codegen_demo")
    generate_demo_data(path, instruments=100, start="2020-07-01", end="2021-12-31", seed=7)
    return path
