"""The synthetic market: qlib layout, determinism, and the behaviour it promises."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from sflow.backtest.data import binfmt, checks
from sflow.backtest.data.demo import SMALL_DEMO, generate_demo_data
from sflow.errors import SflowError


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_demo_data(
        tmp_path / "a", instruments=20, start="2021-01-01", end="2021-06-30", seed=3
    )
    generate_demo_data(tmp_path / "b", instruments=20, start="2021-01-01", end="2021-06-30", seed=3)
    generate_demo_data(tmp_path / "c", instruments=20, start="2021-01-01", end="2021-06-30", seed=4)
    assert a.instruments == 20
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_default_size_is_fast_and_complete(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    s = generate_demo_data(tmp_path)
    assert time.perf_counter() - t0 < 15
    assert s.instruments >= 300 and s.days >= 3 * 244
    assert set(checks.universes(tmp_path)) == {"all", "csi300", "csi500"}
    assert len(checks.check_universe(tmp_path, "csi300", s.start, s.end)) >= 150


def test_layout_matches_qlib(demo_data: Path) -> None:
    days = (demo_data / "calendars" / "day.txt").read_text().split()
    future = (demo_data / "calendars" / "day_future.txt").read_text().split()
    assert days == sorted(days) and future[: len(days)] == days and len(future) > len(days)
    assert all(d[:4] == "2021" for d in days) and "2021-01-01" not in days
    for sym, start, end in checks.universe_periods(demo_data, "all"):
        first, close = binfmt.read_feature(demo_data, sym, "close")
        assert days[first] == start
        assert days[first + len(close) - 1] == end
        for field in binfmt.FIELDS:
            f0, values = binfmt.read_feature(demo_data, sym, field)
            assert f0 == first and len(values) == len(close)
    for bench in ("SH000300", "SH000905"):
        first, close = binfmt.read_feature(demo_data, bench, "close")
        assert first == 0 and len(close) == len(days) and np.isfinite(close).all()


def _panel(root: Path, field: str) -> np.ndarray:
    n_days = len((root / "calendars" / "day.txt").read_text().split())
    rows = []
    for sym, _, _ in checks.universe_periods(root, "all"):
        first, v = binfmt.read_feature(root, sym, field)
        row = np.full(n_days, np.nan, dtype=np.float32)
        row[first : first + len(v)] = v
        rows.append(row)
    return np.array(rows)


def test_prices_are_consistent_and_limited(demo_data: Path) -> None:
    p = {f: _panel(demo_data, f) for f in binfmt.FIELDS}
    ok = np.isfinite(p["close"])
    tol = 1e-5 * p["close"][ok]
    assert (p["high"][ok] >= np.maximum(p["open"][ok], p["close"][ok]) - tol).all()
    assert (p["low"][ok] <= np.minimum(p["open"][ok], p["close"][ok]) + tol).all()
    assert ((p["vwap"][ok] <= p["high"][ok] + tol) & (p["vwap"][ok] >= p["low"][ok] - tol)).all()
    assert (p["volume"][ok] > 0).all() and (p["factor"][ok] > 0).all()
    change = p["change"][ok]
    assert np.abs(change).max() <= 0.1 + 1e-5
    assert (np.abs(change) > 0.0999).sum() > 0  # limit moves happen


def test_suspensions_listings_and_membership_changes(demo_data: Path) -> None:
    close = _panel(demo_data, "close")
    inside = [
        np.isnan(r[np.flatnonzero(~np.isnan(r))[0] : np.flatnonzero(~np.isnan(r))[-1]]).any()
        for r in close
    ]
    assert sum(inside) >= 3  # NaN gaps inside listed periods
    periods = checks.universe_periods(demo_data, "csi300")
    days = checks.read_calendar(demo_data)
    assert any(a != days[0] or b != days[-1] for _, a, b in periods)  # members enter and leave
    c300 = {s for s, _, _ in periods}
    c500 = {s for s, _, _ in checks.universe_periods(demo_data, "csi500")}
    assert c300 & c500  # someone moved between the indices at a rebalance
    assert checks.read_meta(demo_data)["seed"] == SMALL_DEMO["seed"]


def test_cross_section_has_momentum() -> None:
    """Past 60-day winners keep outperforming on average over 3 years (the drift is persistent)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        generate_demo_data(tmp, instruments=120, seed=11)
        close = _panel(Path(tmp), "close").astype(np.float64)
    past = close[:, 60:-20] / close[:, :-80] - 1
    future = close[:, 80:] / close[:, 60:-20] - 1
    ics = []
    for t in range(0, past.shape[1], 20):
        ok = np.isfinite(past[:, t]) & np.isfinite(future[:, t])
        ics.append(
            np.corrcoef(np.argsort(np.argsort(past[ok, t])), np.argsort(np.argsort(future[ok, t])))[
                0, 1
            ]
        )
    assert np.mean(ics) > 0.03


def test_rewrite_replaces_and_foreign_data_is_refused(tmp_path: Path) -> None:
    generate_demo_data(tmp_path / "d", instruments=30, start="2021-01-01", end="2021-04-30")
    generate_demo_data(tmp_path / "d", instruments=12, start="2021-01-01", end="2021-04-30")
    assert len(list((tmp_path / "d" / "features").iterdir())) == 12 + 2  # no stale instruments
    foreign = tmp_path / "cn_data"
    (foreign / "calendars").mkdir(parents=True)
    with pytest.raises(SflowError, match="not written by sflow"):
        generate_demo_data(foreign, instruments=12, start="2021-01-01", end="2021-04-30")
