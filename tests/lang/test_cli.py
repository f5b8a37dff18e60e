"""`sflow check | fmt | export | import` and `sflow-lsp --check`: outputs and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import EXAMPLES

GOOD = str(EXAMPLES / "golden_cross.sflow")
BAD = str(EXAMPLES / "invalid" / "SF201_unknown_template.sflow")


def run(
    *args: str, stdin: str | None = None, module: str = "sflow.cli"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_check_exit_codes() -> None:
    assert run("check", GOOD).returncode == 0
    bad = run("check", BAD)
    assert bad.returncode == 1
    assert bad.stdout.startswith(f"{BAD}:4:12: error SF201 unknown template `smaa`")
    missing = run("check", "/no/such/file.sflow")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert run("check").returncode == 2
    assert run("frobnicate").returncode == 2


def test_check_json_and_sarif() -> None:
    items = json.loads(run("check", "--format", "json", BAD).stdout)
    assert items[0]["code"] == "SF201" and items[0]["line"] == 4 and items[0]["severity"] == "error"
    sarif = json.loads(run("check", "--format", "sarif", BAD, GOOD).stdout)
    assert sarif["version"] == "2.1.0"
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "SF201" and result["level"] == "error"
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "SF201"


def test_lsp_check_mode_is_the_same_engine() -> None:
    a = run("check", BAD)
    b = run("--check", BAD, module="sflow.server")
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)


def test_fmt_in_place_check_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "x.sflow"
    path.write_text("strategy s {\n  fast=sma($close,period=5)\n}\n")
    assert run("fmt", "--check", str(path)).returncode == 1
    assert run("fmt", str(path)).returncode == 0
    assert path.read_text() == "strategy s {\n    fast = sma($close, period=5)\n}\n"
    assert run("fmt", "--check", str(path)).returncode == 0
    out = run("fmt", "-", stdin="strategy s {\n x=1\n}\n")
    assert out.returncode == 0 and out.stdout == "strategy s {\n    x = 1\n}\n"
    broken = tmp_path / "broken.sflow"
    broken.write_text("strategy s {\n x = (\n")
    before = broken.read_text()
    res = run("fmt", str(broken))
    assert res.returncode == 1 and broken.read_text() == before and "SF1" in res.stderr


def test_export_import(tmp_path: Path) -> None:
    out = run("export", GOOD)
    assert out.returncode == 0
    flow = json.loads(out.stdout)
    assert flow["strategy"] == "golden_cross" and flow["version"] == 1
    json_path = tmp_path / "flow.json"
    json_path.write_text(out.stdout)
    back = run("import", str(json_path))
    assert back.returncode == 0 and back.stdout.startswith(
        'strategy golden_cross "Golden cross on CSI300" {'
    )
    json_path.write_text("{not json")
    bad = run("import", str(json_path))
    assert bad.returncode == 1 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_console_scripts_are_installed() -> None:
    assert shutil.which("sflow", path=str(Path(sys.executable).parent))
    assert shutil.which("sflow-lsp", path=str(Path(sys.executable).parent))
