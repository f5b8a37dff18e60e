"""`sflow backtest --report` naming a folder is refused before any backtest runs."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import EXAMPLES


def test_report_folder_is_refused_up_front(tmp_path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sflow.cli",
            "backtest",
            str(EXAMPLES / "golden_cross.sflow"),
            "--report",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "is a folder" in proc.stderr and "Traceback" not in proc.stderr
