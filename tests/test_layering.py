"""Architecture invariants (ARCHITECTURE.md): the layering and the editor's import budget."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sflow"
# Who may import whom: dsl_grammar ← flow ← codegen ← backtest; store beside; server/cli on top.
FORBIDDEN = {
    "dsl_grammar": {"flow", "codegen", "backtest", "store", "server", "cli"},
    "flow": {"codegen", "backtest", "store", "server", "cli"},
    "codegen": {"backtest", "server", "cli"},
    "backtest": {"server", "cli"},
    "store": {"codegen", "backtest", "server", "cli"},
}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_server_imports_pygls_and_lsprotocol() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "server" in path.relative_to(PACKAGE).parts:
            continue
        bad = {n for n in imports_of(path) if n.split(".")[0] in ("pygls", "lsprotocol")}
        assert not bad, f"{path} imports {bad}"


def test_layers_import_only_downwards() -> None:
    for layer, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for name in imports_of(path):
                parts = name.split(".")
                if parts[0] == "sflow" and len(parts) > 1:
                    assert parts[1] not in forbidden, f"{path} imports {name}"


def test_check_does_not_import_qlib_pandas_or_the_store(tmp_path) -> None:
    code = (
        "import sys; from sflow.cli import main; rc = main(['check', 'examples/golden_cross.sflow']);"
        "heavy = [m for m in ('qlib', 'pandas', 'numpy', 'sqlalchemy', 'pygls') if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    env = {"SFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        env=env,
        timeout=120,
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
