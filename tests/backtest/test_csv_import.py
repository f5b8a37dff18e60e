"""CSV import: the real US sample from bokeh-sampledata, and clear errors for malformed rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import sflow.cli
from sflow.backtest.data import binfmt, checks
from sflow.backtest.data.csv_import import EW_INDEX, import_csv, sample_us
from sflow.errors import SflowError

HEADER = "date,open,high,low,close,volume,adj_close\n"
GOOD = "2020-01-02,10,11,9,10.5,1000,5.25\n2020-01-03,10.5,11,10,10.8,1200,5.4\n"


@pytest.fixture(scope="module")
def us_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("bokeh_sampledata")
    root = tmp_path_factory.mktemp("us")
    sample_us(root)
    return root


def test_sample_us_import(us_data: Path) -> None:
    assert [s for s, _, _ in checks.universe_periods(us_data, "all")] == [
        "AAPL",
        "GOOG",
        "IBM",
        "MSFT",
    ]
    assert checks.detect_region(us_data) == "us"
    assert checks.default_benchmark(us_data, "all") == EW_INDEX
    days = checks.read_calendar(us_data)
    assert days[0] == "2000-03-01" and days[-1] == "2013-03-01"
    goog_first, _ = binfmt.read_feature(us_data, "GOOG", "close")
    assert days[goog_first] == "2004-08-19"  # starts later than the calendar
    with (us_data / "csv" / "AAPL.csv").open() as f:
        rows = list(csv.DictReader(f))
    _, close = binfmt.read_feature(us_data, "AAPL", "close")
    _, factor = binfmt.read_feature(us_data, "AAPL", "factor")
    _, volume = binfmt.read_feature(us_data, "AAPL", "volume")
    raw_close, adj = float(rows[0]["close"]), float(rows[0]["adj_close"])
    assert factor[0] == pytest.approx(adj / raw_close, rel=1e-6)
    assert close[0] == pytest.approx(adj, rel=1e-6)  # adjusted close = raw x factor
    assert volume[0] == pytest.approx(float(rows[0]["volume"]) * raw_close / adj, rel=1e-6)
    first, ew = binfmt.read_feature(us_data, EW_INDEX, "close")
    assert first == 0 and len(ew) == len(days) and np.isfinite(ew).all()


def test_gaps_are_nan_and_calendar_is_the_union(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "aaa.csv").write_text(HEADER + GOOD + "2020-01-07,10,11,9,10,900,5\n")
    (tmp_path / "src" / "BBB.csv").write_text(HEADER + GOOD.replace("2020-01-03", "2020-01-06"))
    s = import_csv(tmp_path / "src", tmp_path / "out")
    assert s.symbols == ["AAA", "BBB"] and s.days == 4
    first, close = binfmt.read_feature(tmp_path / "out", "AAA", "close")
    assert first == 0 and np.isnan(close[2]) and close[3] == pytest.approx(5.0)
    _, change = binfmt.read_feature(tmp_path / "out", "AAA", "change")
    assert change[3] == pytest.approx(5.0 / 5.4 - 1, rel=1e-6)  # over its own previous row


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2020-13-01,10,11,9,10,100,5", r"AAA\.csv:4: bad date '2020-13-01'"),
        ("2020-01-06,10,abc,9,10,100,5", r"AAA\.csv:4: column 'high': 'abc' is not a number"),
        ("2020-01-06,-10,11,9,10,100,5", r"AAA\.csv:4: open must be positive"),
        ("2020-01-06,10,8,9,8.5,100,5", r"AAA\.csv:4: high 8 is below low 9"),
        ("2020-01-06,10,11,9,12,100,5", r"AAA\.csv:4: open/close outside the high-low range"),
        ("2020-01-06,10,11,9,10,-1,5", r"AAA\.csv:4: volume must not be negative"),
        (
            "2020-01-02,10,11,9,10,100,5",
            r"AAA\.csv:4: duplicate date 2020-01-02 \(first on line 2\)",
        ),
        ("2020-01-06,10,11", r"AAA\.csv:4: expected 7 columns, got 3"),
        (
            "2020-01-06,10,11,9,10,100,nan",
            r"AAA\.csv:4: column 'adj_close': 'nan' is not a finite number",
        ),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    (tmp_path / "AAA.csv").write_text(HEADER + GOOD + row + "\n")
    with pytest.raises(SflowError, match=message):
        import_csv(tmp_path / "AAA.csv", tmp_path / "out")


def test_file_level_errors(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(SflowError, match=r"has no \.csv files"):
        import_csv(tmp_path / "a", tmp_path / "out")
    (tmp_path / "a" / "X.csv").write_text("date,open,close\n2020-01-02,1,1\n")
    with pytest.raises(SflowError, match=r"X\.csv:1: missing column\(s\) high, low, volume"):
        import_csv(tmp_path / "a", tmp_path / "out")
    (tmp_path / "a" / "X.csv").write_text(HEADER + GOOD)
    with pytest.raises(SflowError, match="benchmark 'SPY' is not one of the imported symbols"):
        import_csv(tmp_path / "a", tmp_path / "out", benchmark="SPY")


def test_cli_reports_bad_rows_without_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sflow.cli, "COMMAND_MODULES", ["sflow.cli.data"])
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "AAA.csv").write_text(HEADER + GOOD + "2020-01-06,10,11,9,x,1,1\n")
    code = sflow.cli.main(["data", "import-csv", str(tmp_path / "src"), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "AAA.csv:4: column 'close': 'x' is not a number" in err and "Traceback" not in err
    (tmp_path / "src" / "AAA.csv").write_text(HEADER + GOOD)
    assert (
        sflow.cli.main(
            ["data", "import-csv", str(tmp_path / "src"), str(tmp_path / "out"), "--json"]
        )
        == 0
    )
    assert '"benchmark": "SFLOW_EW"' in capsys.readouterr().out


def test_topk_job_on_the_us_sample_uses_the_recorded_benchmark(us_data: Path) -> None:
    pytest.importorskip("qlib")
    from sflow.backtest.worker import COMPLETED, run_isolated

    spec = {
        "provider_uri": str(us_data),
        "universe": "all",
        "start": "2012-01-03",
        "end": "2012-12-31",
    }
    out = run_isolated(
        "sflow.backtest.runtime:run_topk_job", {"spec": spec, "topk": 2, "n_drop": 1}, timeout=120
    )
    assert out.state == COMPLETED, out.error
    m = out.value["metrics"]
    assert m["days"] == 250 and m["trade_count"] > 10
    assert m["benchmark_cumulative_return"] != 0.0  # SFLOW_EW was used
    assert {o["instrument"] for o in out.value["orders"]} <= {"AAPL", "GOOG", "IBM", "MSFT"}
