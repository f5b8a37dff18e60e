"""Data-directory checks: clear SflowError messages, no qlib needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sflow.backtest.data import checks
from sflow.errors import SflowError


def test_good_directory(demo_data: Path) -> None:
    assert checks.check_data_dir(demo_data) == demo_data.resolve()
    assert checks.detect_region(demo_data) == "cn"
    assert checks.list_fields(demo_data, "csi300") == [
        "$change", "$close", "$factor", "$high", "$low", "$open", "$volume", "$vwap"
    ]  # fmt: skip
    assert checks.last_tradable_date(demo_data) == checks.read_calendar(demo_data)[-1]
    assert checks.default_benchmark(demo_data, "csi500") == "SH000905"
    checks.check_instrument(demo_data, "SH000300")
    members = checks.check_universe(demo_data, "csi300", "2021-03-01", "2021-03-31")
    assert 20 <= len(members) <= 50 and members == sorted(members)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: shutil.rmtree(p), "does not exist"),
        (lambda p: (p / "calendars" / "day.txt").unlink(), "calendars/day.txt"),
        (lambda p: shutil.rmtree(p / "instruments"), "instruments"),
        (lambda p: shutil.rmtree(p / "features"), "features"),
    ],
)
def test_broken_directories(demo_data: Path, tmp_path: Path, damage, message: str) -> None:
    copy = tmp_path / "data"
    shutil.copytree(demo_data, copy)
    damage(copy)
    with pytest.raises(SflowError, match=message):
        checks.check_data_dir(copy)


def test_universe_and_field_errors(demo_data: Path) -> None:
    with pytest.raises(SflowError, match=r"unknown universe 'csi30'.*did you mean 'csi300'"):
        checks.check_universe(demo_data, "csi30")
    with pytest.raises(SflowError, match="unknown universe"):
        checks.check_universe(demo_data, "../etc/passwd")
    with pytest.raises(SflowError, match="no instruments between 2030-01-01"):
        checks.check_universe(demo_data, "csi300", "2030-01-01", "2030-12-31")
    with pytest.raises(SflowError, match=r"\$clsoe .*did you mean \$close"):
        checks.check_fields(demo_data, ["$close", "$clsoe"])
    with pytest.raises(SflowError, match="SH999999"):
        checks.check_instrument(demo_data, "SH999999")


def test_last_tradable_date_without_future_calendar(demo_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(demo_data, copy)
    (copy / "calendars" / "day_future.txt").unlink()
    assert checks.last_tradable_date(copy) == checks.read_calendar(copy)[-2]  # qlib #2278


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2021-06-01", "2021-03-01", "starts"),
        ("2019-01-01", "2019-12-31", "outside the data"),
        ("2021-06-01", "2022-03-01", "after the last tradable day"),
        ("2021-6-1", "2021-12-01", "bad start date"),
        ("2021-03-06", "2021-03-07", "no trading day"),
    ],
)
def test_bad_periods(demo_data: Path, start: str, end: str, message: str) -> None:
    with pytest.raises(SflowError, match=message):
        checks.check_period(demo_data, start, end)
    checks.check_period(demo_data, "2021-03-01", "2021-06-30")
