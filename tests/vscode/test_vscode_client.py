"""Runs the VS Code extension's checks (build, lint, unit, grammar, .vsix, e2e in code-server).

One pytest test around ``scripts/vscode-ci.sh`` so that ``make test`` covers ``vscode-client/``.
Outside CI it skips when node/npm are missing; in CI (``CI=true``) it always runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "vscode-ci.sh"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_vscode_client_checks_pass() -> None:
    """Every stage of scripts/vscode-ci.sh passes and its summary line says so."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing and not IN_CI:
        pytest.skip(f"{', '.join(missing)} not installed (needed for the VS Code extension)")
    proc = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=2900,
        check=False,
    )
    out = proc.stdout
    log = ROOT / ".artifacts" / "vscode-ci.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(out)
    summary = [line for line in out.splitlines() if line.startswith("vscode: ")]
    tail = "\n".join(out.splitlines()[-80:])
    assert proc.returncode == 0, f"scripts/vscode-ci.sh failed (full log: {log}):\n{tail}"
    assert summary, f"no summary line:\n{tail}"
    assert " 0 failed" in summary[-1], summary[-1]
