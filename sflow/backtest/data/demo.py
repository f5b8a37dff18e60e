"""A deterministic synthetic A-share-like market in qlib's binary format (``sflow data demo``).

What is in it, so strategies have something real-looking to trade and something to find:
- business-day calendar (a few fixed holidays removed) plus ``day_future.txt``;
- market returns with drift regimes (bull / flat / bear Markov chain) and GARCH(1,1) volatility;
- a cross-sectional factor structure (market beta, three style factors), a slowly varying
  per-stock drift (so momentum pays), and a negative lag-1 idiosyncratic term (short-term reversal);
- per-stock GARCH idiosyncratic volatility clusters; ±10 % daily limit moves (clipped returns);
- suspensions (all fields NaN), late listings and a few delistings; dividends and splits through
  ``$factor`` (prices are adjusted: raw × factor, volume is raw / factor, as in qlib's cn_data);
- ``all``/``csi300``/``csi500`` universes re-ranked by market cap every January and July (members
  enter and leave) and the indices SH000300/SH000905 built cap-weighted from their members.
Same arguments → same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sflow.backtest.data import binfmt

DEMO_VERSION = 1
HOLIDAYS_MMDD = ("01-01", "05-01", "10-01", "10-02", "10-03")
LIMIT = 0.10


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote."""

    path: Path
    instruments: int
    days: int
    start: str
    end: str
    universes: dict[str, int]  # universe -> number of distinct members over the period


def _calendar(start: str, end: str) -> np.ndarray:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    days = days[np.is_busday(days)]
    mmdd = np.array([str(d)[5:] for d in days])
    return days[~np.isin(mmdd, HOLIDAYS_MMDD)]


def _future(last: np.datetime64, n: int = 30) -> list[str]:
    days = np.arange(last + 1, last + 3 * n)
    return [str(d) for d in days[np.is_busday(days)][:n]]


def _symbols(n: int) -> list[str]:
    return [f"SH{600000 + i // 2:06d}" if i % 2 == 0 else f"SZ{1 + i // 2:06d}" for i in range(n)]


def _garch(
    rng: np.random.Generator, z: np.ndarray, var0: np.ndarray, a: float, b: float
) -> np.ndarray:
    """Innovations with GARCH(1,1) variance (omega keeps the long-run variance at ``var0``)."""
    t_len = z.shape[0]
    omega = var0 * (1 - a - b)
    h = var0.copy()
    out = np.empty_like(z)
    for t in range(t_len):
        out[t] = np.sqrt(h) * z[t]
        h = omega + a * out[t] ** 2 + b * h
    return out


def _returns(rng: np.random.Generator, t_len: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily simple returns (T×N, limit-clipped) and the conditional volatility (T×N)."""
    # Market: regime drift + GARCH volatility.
    drift = np.array([0.0009, 0.0, -0.0008])
    stay = 0.985
    state = np.empty(t_len, dtype=int)
    s = 0
    u = rng.random(t_len)
    jump = rng.integers(1, 3, t_len)
    for t in range(t_len):
        if u[t] > stay:
            s = (s + jump[t]) % 3
        state[t] = s
    market = (
        drift[state]
        + _garch(rng, rng.standard_normal((t_len, 1)), np.array([1.1e-4]), 0.08, 0.9)[:, 0]
    )
    # Style factors and loadings.
    factors = rng.standard_normal((t_len, 3)) * 0.006
    beta = rng.normal(1.0, 0.25, n)
    loads = rng.standard_normal((n, 3))
    # Persistent stock drift (momentum) via AR(1).
    phi = 0.995
    alpha = np.empty((t_len, n))
    a = rng.normal(0, 0.0012, n)
    shocks = rng.standard_normal((t_len, n)) * 0.0012 * np.sqrt(1 - phi**2)
    for t in range(t_len):
        a = phi * a + shocks[t]
        alpha[t] = a
    # Idiosyncratic GARCH innovations with a short-term reversal term.
    idio_var = rng.uniform(0.012, 0.025, n) ** 2
    u_idio = _garch(rng, rng.standard_normal((t_len, n)), idio_var, 0.09, 0.88)
    eps = u_idio.copy()
    eps[1:] -= 0.08 * u_idio[:-1]
    log_r = alpha + market[:, None] * beta[None, :] + factors @ loads.T + eps
    vol = np.sqrt(idio_var[None, :] + (beta[None, :] ** 2) * 1.1e-4)
    return np.clip(np.expm1(log_r), -LIMIT, LIMIT), vol * np.ones((t_len, 1))


def _spells(rng: np.random.Generator, t_len: int, n: int, per_year: float) -> np.ndarray:
    """Boolean T×N mask of suspension spells (Poisson starts, geometric lengths)."""
    mask = np.zeros((t_len, n), dtype=bool)
    counts = rng.poisson(per_year * t_len / 244, n)
    for i in range(n):
        starts = rng.integers(0, t_len, counts[i])
        lengths = rng.geometric(0.3, counts[i])
        for s0, ln in zip(starts, lengths, strict=True):
            mask[s0 : s0 + ln, i] = True
    return mask


def _membership(
    cap: np.ndarray, listed: np.ndarray, rebal: np.ndarray, k300: int, k500: int
) -> tuple:
    """Membership masks (T×N) of csi300 and csi500, re-ranked on each rebalance day."""
    t_len, n = cap.shape
    m300 = np.zeros((t_len, n), dtype=bool)
    m500 = np.zeros((t_len, n), dtype=bool)
    bounds = [*rebal.tolist(), t_len]
    for j, t0 in enumerate(bounds[:-1]):
        lo = max(0, t0 - 120)
        seen = listed[lo : t0 + 1]
        score = np.where(seen, cap[lo : t0 + 1], 0.0).sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
        score = np.where(listed[t0], score, -np.inf)
        order = np.argsort(-score, kind="stable")
        eligible = order[np.isfinite(score[order])]
        t1 = bounds[j + 1]
        m300[t0:t1, eligible[:k300]] = True
        m500[t0:t1, eligible[k300 : k300 + k500]] = True
    return m300 & listed, m500 & listed


def _periods(mask: np.ndarray, days: list[str], symbols: list[str]) -> list[tuple[str, str, str]]:
    """(symbol, start, end) for each contiguous run of True per column."""
    out = []
    padded = np.vstack(
        [np.zeros((1, mask.shape[1]), bool), mask, np.zeros((1, mask.shape[1]), bool)]
    )
    diff = np.diff(padded.astype(np.int8), axis=0)
    for i, sym in enumerate(symbols):
        starts = np.flatnonzero(diff[:, i] == 1)
        ends = np.flatnonzero(diff[:, i] == -1) - 1
        out += [(sym, days[a], days[b]) for a, b in zip(starts, ends, strict=True)]
    return out


def generate_demo_data(
    target: str | Path,
    instruments: int = 300,
    start: str = "2020-01-01",
    end: str = "2022-12-31",
    seed: int = 42,
) -> DemoSummary:
    """Write the synthetic market to ``target`` (see ``binfmt.prepare_target`` for an existing one)."""
    root = Path(target)
    rng = np.random.default_rng(seed)
    cal = _calendar(start, end)
    days = [str(d) for d in cal]
    t_len, n = len(days), int(instruments)
    if n < 10 or t_len < 60:
        raise ValueError("the demo market needs at least 10 instruments and 60 trading days")
    symbols = _symbols(n)
    binfmt.prepare_target(root)

    ret, vol = _returns(rng, t_len, n)
    first = np.where(rng.random(n) < 0.85, 0, rng.integers(int(t_len * 0.05), int(t_len * 0.7), n))
    last = np.where(rng.random(n) < 0.03, rng.integers(int(t_len * 0.75), t_len, n), t_len - 1)
    idx = np.arange(t_len)[:, None]
    listed = (idx >= first[None, :]) & (idx <= last[None, :])
    suspended = _spells(rng, t_len, n, per_year=2.0) & listed & (idx > first[None, :])
    trading = listed & ~suspended
    ret = np.where(trading & (idx > first[None, :]), ret, 0.0)

    close = rng.lognormal(np.log(15), 0.7, n)[None, :] * np.cumprod(1 + ret, axis=0)
    prev = np.vstack([close[:1] / (1 + ret[:1]), close[:-1]])
    # Corporate actions: one dividend a year, a few 2:1 splits.
    events = np.ones((t_len, n))
    div_day = rng.random((t_len, n)) < 1 / 244
    events[div_day] = 1 + rng.uniform(0.005, 0.03, int(div_day.sum()))
    split = rng.random((t_len, n)) < 0.04 / t_len
    events[split] *= 2.0
    factor = rng.uniform(0.8, 1.5, n)[None, :] * np.cumprod(events, axis=0)

    sig = vol * rng.uniform(0.8, 1.2, (t_len, n))
    overnight = 0.35 * np.log1p(ret) + rng.standard_normal((t_len, n)) * 0.3 * sig
    open_ = np.clip(prev * np.exp(overnight), prev * (1 - LIMIT), prev * (1 + LIMIT))
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = np.minimum(
        top * (1 + np.abs(rng.standard_normal((t_len, n))) * 0.5 * sig), prev * (1 + LIMIT)
    )
    low = np.maximum(
        bottom * (1 - np.abs(rng.standard_normal((t_len, n))) * 0.5 * sig), prev * (1 - LIMIT)
    )
    high, low = np.maximum(high, top), np.minimum(low, bottom)
    vwap = (open_ + high + low + close) / 4
    shares = rng.lognormal(np.log(3e8), 0.9, n)[None, :]
    base_vol = shares * rng.uniform(0.004, 0.02, n)[None, :]
    raw_vol = base_vol * np.exp(0.4 * rng.standard_normal((t_len, n))) * (1 + 4 * np.abs(ret) / vol)
    locked = np.isclose(np.abs(ret), LIMIT) & np.isclose(high, low)
    raw_vol = np.where(locked, raw_vol * 0.1, raw_vol)
    change = close / prev - 1

    adj = factor / factor[:1]  # prices are adjusted to the first day's factor (qlib cn_data style)
    fields = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": raw_vol / adj,
        "vwap": vwap,
        "factor": adj,
        "change": change,
    }

    nan = np.float32("nan")
    for i, sym in enumerate(symbols):
        sl = slice(first[i], last[i] + 1)
        gap = suspended[sl, i]
        cols = {k: np.where(gap, nan, v[sl, i]).astype("<f4") for k, v in fields.items()}
        binfmt.write_features(root, sym, int(first[i]), cols)

    k300 = min(300, n * 3 // 5)
    k500 = min(500, n - k300 - max(1, n // 10))
    cap = (close / adj) * shares
    rebal = np.array(
        [0]
        + [
            t
            for t in range(1, t_len)
            if days[t][5:7] in ("01", "07") and days[t - 1][5:7] not in ("01", "07")
        ]
    )
    m300, m500 = _membership(cap, listed, rebal, k300, k500)

    for code, mask in (("SH000300", m300), ("SH000905", m500)):
        _write_index(root, code, mask & trading, cap, fields, prev, raw_vol)

    binfmt.write_calendar(root, days, _future(cal[-1]))
    binfmt.write_instruments(
        root, "all", [(s, days[first[i]], days[last[i]]) for i, s in enumerate(symbols)]
    )
    binfmt.write_instruments(root, "csi300", _periods(m300, days, symbols))
    binfmt.write_instruments(root, "csi500", _periods(m500, days, symbols))
    binfmt.write_meta(
        root,
        {
            "source": "sflow data demo",
            "version": DEMO_VERSION,
            "region": "cn",
            "benchmark": "SH000300",
            "benchmarks": {"csi300": "SH000300", "csi500": "SH000905", "all": "SH000300"},
            "instruments": n,
            "seed": seed,
            "start": days[0],
            "end": days[-1],
        },
    )
    universes = {
        "all": n,
        "csi300": int(m300.any(axis=0).sum()),
        "csi500": int(m500.any(axis=0).sum()),
    }
    return DemoSummary(root, n, t_len, days[0], days[-1], universes)


SMALL_DEMO = {"instruments": 50, "start": "2021-01-01", "end": "2021-12-31", "seed": 7}


def generate_small_demo(target: str | Path) -> DemoSummary:
    """The test-fixture market: 50 instruments over 2021 (csi300 ≈ 30 members), in well under 1 s."""
    return generate_demo_data(target, **SMALL_DEMO)  # type: ignore[arg-type]


def _write_index(
    root: Path, code: str, members: np.ndarray, cap: np.ndarray, f: dict, prev, raw_vol
) -> None:
    """Cap-weighted index of the members trading that day (weights: previous-day caps)."""
    w_cap = np.vstack([cap[:1], cap[:-1]])
    w = np.where(members, w_cap, 0.0)
    total = w.sum(axis=1)
    w = np.divide(w, total[:, None], out=np.zeros_like(w), where=total[:, None] > 0)

    def rel(x: np.ndarray) -> np.ndarray:
        return (w * np.nan_to_num(x / prev, nan=1.0)).sum(axis=1) + (total <= 0)

    r_close = rel(f["close"])
    level = 1000.0 * np.cumprod(r_close)
    prev_level = level / r_close
    o, h, lo = prev_level * rel(f["open"]), prev_level * rel(f["high"]), prev_level * rel(f["low"])
    h, lo = np.maximum.reduce([h, o, level]), np.minimum.reduce([lo, o, level])
    cols = {
        "open": o,
        "high": h,
        "low": lo,
        "close": level,
        "volume": np.where(members, raw_vol, 0.0).sum(axis=1),
        "vwap": (o + h + lo + level) / 4,
        "factor": np.ones_like(level),
        "change": r_close - 1,
    }
    binfmt.write_features(root, code, 0, {k: v.astype("<f4") for k, v in cols.items()})
