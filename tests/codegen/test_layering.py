"""Code generation needs neither qlib nor the backtest package nor the LSP libraries."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from pathlib import Path
from sflow.codegen import generate_for
import sflow.cli.generate
from sflow.flow.templates import system_library
text = Path("examples/golden_cross.sflow").read_text()
g = generate_for(text, "examples/golden_cross.sflow", None, None, system_library())
assert g.status == "VALID"
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("qlib", "pygls", "lsprotocol", "gym"))
bad += sorted(m for m in sys.modules if m.startswith("sflow.backtest"))
print(",".join(bad))
"""


def test_generation_imports_no_qlib_backtest_or_lsp() -> None:
    from .conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
