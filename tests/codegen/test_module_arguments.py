"""A generated module refuses bad command-line arguments with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sflow.codegen import generate_code
from sflow.flow.templates import system_library
from tests.helpers import EXAMPLES

pytest.importorskip("qlib")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider-uri", "/nonexistent"], "not a qlib data directory"),
        (["--start", "notadate"], "expected a date"),
        (["--start", "2022-06-01", "--end", "2022-01-01"], "--start must be before --end"),
    ],
)
def test_bad_arguments(tmp_path, args: list[str], message: str) -> None:
    text = (EXAMPLES / "golden_cross.sflow").read_text(encoding="utf-8")
    g = generate_code(text, str(EXAMPLES / "golden_cross.sflow"), None, None, system_library())
    module = tmp_path / "module.py"
    module.write_text(g.code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(module), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
