"""`sflow data demo | check` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sflow.cli


@pytest.fixture(autouse=True)
def _only_data_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sflow.cli, "COMMAND_MODULES", ["sflow.cli.data"])


def test_demo_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    argv = [
        "data",
        "demo",
        str(out),
        "--instruments",
        "12",
        "--start",
        "2021-01-01",
        "--end",
        "2021-04-30",
    ]
    assert sflow.cli.main([*argv, "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["instruments"] == 12 and made["start"] == "2021-01-04"
    assert sflow.cli.main(["data", "check", str(out), "--universe", "csi300", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["region"] == "cn" and info["benchmark"] == "SH000300"
    assert info["last_tradable_date"] == "2021-04-30" and "$close" in info["fields"]
    assert info["checked_universe"]["members"] >= 7


def test_errors_are_messages_with_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sflow.cli.main(["data", "check", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        sflow.cli.main(["data", "demo", str(tmp_path), "--end", "2021-02-30"])
    assert exc.value.code == 2
    assert "bad date '2021-02-30'" in capsys.readouterr().err
    assert sflow.cli.main(["data", "demo", str(tmp_path), "--instruments", "3"]) == 2


def test_sample_us(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bokeh_sampledata")
    assert (
        sflow.cli.main(["data", "sample-us", str(tmp_path / "us"), "--benchmark", "ibm", "--json"])
        == 0
    )
    made = json.loads(capsys.readouterr().out)
    assert made["symbols"] == ["AAPL", "GOOG", "IBM", "MSFT"] and made["benchmark"] == "IBM"
    assert sorted(p.name for p in (tmp_path / "us" / "csv").iterdir()) == [
        "AAPL.csv",
        "GOOG.csv",
        "IBM.csv",
        "MSFT.csv",
    ]
