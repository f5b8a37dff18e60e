"""qlib runtime: quiet init, the WMA bug and its fix, exchange reuse, the metric definitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qlib")
pd = pytest.importorskip("pandas")

from sflow.backtest import qlib_env  # noqa: E402
from sflow.backtest.runtime import BacktestSpec, load_signal, run_strategy  # noqa: E402


def _pandas_wma(s: pd.Series, n: int) -> pd.Series:
    def f(x: np.ndarray) -> float:
        w = np.arange(1, len(x) + 1, dtype=float)
        ok = ~np.isnan(x)
        return float((x[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan

    return s.rolling(n, min_periods=1).apply(f, raw=True)


@pytest.fixture(scope="module")
def qlib_demo(demo_data: Path) -> Path:
    ctx = qlib_env.init_qlib(demo_data)
    assert ctx.region == "cn" and qlib_env.init_qlib(demo_data) is ctx  # second call is free
    return demo_data


def test_wma_values_against_pandas() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 40)
    x[[3, 17, 18]] = np.nan
    for n in (1, 5, 20):
        np.testing.assert_allclose(
            qlib_env.wma_values(x, n), _pandas_wma(pd.Series(x), n), rtol=1e-12
        )
    expanding = (
        pd.Series(x)
        .expanding(min_periods=1)
        .apply(
            lambda v: (
                np.nansum(v * np.arange(1, len(v) + 1))
                / np.arange(1, len(v) + 1)[~np.isnan(v)].sum()
            ),
            raw=True,
        )
    )
    np.testing.assert_allclose(qlib_env.wma_values(x, 0), expanding, rtol=1e-12)


def test_qlib_wma_is_wrong_and_ours_is_right(qlib_demo: Path) -> None:
    from qlib.data import D
    from qlib.data.base import Feature
    from qlib.data.ops import WMA as QlibWMA

    from sflow.backtest.data import checks

    days = checks.read_calendar(qlib_demo)
    sym = next(
        s for s, a, b in checks.universe_periods(qlib_demo, "all") if a == days[0] and b == days[-1]
    )
    df = D.features(
        [sym], ["$close", "WMA($close, 5)"], start_time="2021-01-01", end_time="2021-12-31"
    )
    close, ours = df.iloc[:, 0].droplevel(0), df.iloc[:, 1].droplevel(0)
    expected = _pandas_wma(close.astype(float), 5)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    # qlib 0.9.7's own operator divides by the window length again (qlib #1993). Call it
    # uncached: the memory cache is keyed by the expression text, which ours shares.
    raw = QlibWMA(Feature("close"), 5)._load_internal(sym, 0, len(days) - 1, "day")
    assert not np.allclose(raw.to_numpy(), expected.to_numpy(), rtol=1e-3)
    full = (close.rolling(5).count() == 5).to_numpy()  # windows without a suspension gap
    np.testing.assert_allclose(raw.to_numpy()[full] * 5, expected.to_numpy()[full], rtol=1e-5)


def test_exchange_reuse_gives_identical_results(qlib_demo: Path) -> None:
    from qlib.contrib.strategy import TopkDropoutStrategy

    base = {
        "provider_uri": str(qlib_demo),
        "start": "2021-02-01",
        "end": "2021-06-30",
        "benchmark": "SH000300",
    }
    fresh = BacktestSpec(**base, reuse_exchange=False)
    reused = BacktestSpec(**base, reuse_exchange=True)

    def run(spec: BacktestSpec) -> dict:
        sig = load_signal("$close/Ref($close,20)-1", spec)
        return run_strategy(TopkDropoutStrategy(signal=sig, topk=10, n_drop=2), spec)

    a, b, c = run(fresh), run(reused), run(reused)
    x1 = qlib_env.get_exchange("csi300", base["start"], base["end"])
    assert qlib_env.get_exchange("csi300", base["start"], base["end"]) is x1
    assert qlib_env.get_exchange("csi300", base["start"], base["end"], deal_price="open") is not x1
    pd.testing.assert_frame_equal(a["report"], b["report"])
    pd.testing.assert_frame_equal(b["report"], c["report"])
    assert a["orders"] == b["orders"] == c["orders"] and a["metrics"] == c["metrics"]
    assert a["metrics"]["trade_count"] > 20


def test_risk_matches_qlib_risk_analysis() -> None:
    from qlib.contrib.evaluate import risk_analysis

    from sflow.backtest.metrics import risk

    r = pd.Series(np.random.default_rng(1).normal(0.0005, 0.01, 250))
    ours = risk(r)
    theirs = risk_analysis(r, freq="day")["risk"]
    assert ours == {k: float(theirs[k]) for k in ours}


def test_switching_data_reinitialises(qlib_demo: Path, tmp_path: Path) -> None:
    from qlib.data import D

    from sflow.backtest.data.demo import generate_demo_data

    other = tmp_path / "other"
    generate_demo_data(other, instruments=12, start="2021-01-01", end="2021-03-31", seed=99)

    def close() -> pd.Series:
        return D.features(
            ["SH000300"], ["$close"], start_time="2021-02-01", end_time="2021-02-26"
        ).iloc[:, 0]

    a = close()
    x = qlib_env.get_exchange("csi300", "2021-02-01", "2021-02-26")
    qlib_env.init_qlib(other)
    assert qlib_env.current().provider_uri == other.resolve()
    b = close()
    assert not np.allclose(a.to_numpy(), b.to_numpy())  # no stale cache from the first directory
    assert qlib_env.get_exchange("csi300", "2021-02-01", "2021-02-26") is not x
    qlib_env.init_qlib(qlib_demo)
    pd.testing.assert_series_equal(close(), a)


@pytest.mark.parametrize(
    "expr",
    [
        "$close+[[__import__][0]('os').system][0]('true')*0",
        "$close.__class__",
        "Foo($close, 5)",
        "$close; 1",
        "open('/tmp/x')",
    ],
)
def test_signal_expressions_are_checked_before_qlib_evaluates_them(
    qlib_demo: Path, expr: str
) -> None:
    from sflow.backtest.runtime import check_expression
    from sflow.errors import SflowError

    with pytest.raises(SflowError):
        check_expression(expr)


def test_safe_expressions_pass(qlib_demo: Path) -> None:
    from sflow.backtest.runtime import check_expression

    for expr in (
        "$close/Ref($close,20)-1",
        "Mean($close, 5) > EMA($close, 0.5)",
        "WMA($vwap,10)*1e-3",
    ):
        assert check_expression(expr) == expr
