"""Per-symbol OHLCV CSV files → qlib day data (``sflow data import-csv``), and the bokeh US sample.

Input: a directory of ``SYMBOL.csv`` files (or one file), header row with ``date, open, high, low,
close, volume`` and optionally ``adj_close`` (aliases ``adj close``, ``adjclose``) or ``factor``
and ``vwap``. Dates are ``YYYY-MM-DD``; rows may come in any order.

Output follows qlib's convention: ``$factor = adj_close / close`` (1 without either column), prices
are adjusted (raw × factor), ``$volume`` is raw / factor, ``$change`` is the adjusted close-to-close
return over the symbol's own rows, ``$vwap`` is the file's column or the typical price
(high + low + close) / 3. The calendar is the union of all dates; a symbol's missing days are NaN.

Benchmark decision: a CSV set has no SH000300, and qlib needs a benchmark series, so the import
also writes an equal-weight index of all imported symbols as instrument ``SFLOW_EW`` (daily return =
mean return of the symbols that traded that day; not in ``all.txt``, so never traded). It is the
recorded default benchmark; ``--benchmark SYMBOL`` records one of the imported symbols instead.

Malformed input fails with ``file:line: what is wrong`` (an :class:`~sflow.errors.SflowError`).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sflow.backtest.data import binfmt
from sflow.errors import SflowError

EW_INDEX = "SFLOW_EW"
SAMPLE_SYMBOLS = ("AAPL", "IBM", "MSFT", "GOOG")
_ALIASES = {
    "adj close": "adj_close",
    "adjclose": "adj_close",
    "adj_close": "adj_close",
    "adjusted_close": "adj_close",
}
_REQUIRED = ("date", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class ImportSummary:
    """What ``import_csv`` wrote."""

    path: Path
    symbols: list[str]
    days: int
    start: str
    end: str
    benchmark: str


@dataclass
class _Series:
    symbol: str
    dates: list[str]
    cols: dict[str, np.ndarray]


def _number(raw: str, where: str, col: str) -> float:
    try:
        value = float(raw.replace("_", "").strip())
    except ValueError:
        raise SflowError(f"{where}: column {col!r}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise SflowError(f"{where}: column {col!r}: {raw!r} is not a finite number")
    return value


def _check_row(v: dict[str, float], where: str) -> None:
    for col in ("open", "high", "low", "close"):
        if v[col] <= 0:
            raise SflowError(f"{where}: {col} must be positive, got {v[col]:g}")
    if v["volume"] < 0:
        raise SflowError(f"{where}: volume must not be negative, got {v['volume']:g}")
    if v["high"] < v["low"]:
        raise SflowError(f"{where}: high {v['high']:g} is below low {v['low']:g}")
    if v["high"] < max(v["open"], v["close"]) or v["low"] > min(v["open"], v["close"]):
        raise SflowError(f"{where}: open/close outside the high-low range")
    for col in ("adj_close", "factor"):
        if col in v and v[col] <= 0:
            raise SflowError(f"{where}: {col} must be positive, got {v[col]:g}")


def read_symbol_csv(path: Path) -> _Series:
    """Parse and validate one file (symbol = file name without extension, upper case)."""
    symbol = path.name.split(".")[0].upper()
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise SflowError(f"{path}: cannot read: {exc}") from None
    if not rows:
        raise SflowError(f"{path}: the file is empty")
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise SflowError(
            f"{path}:1: missing column(s) {', '.join(missing)} (header: {', '.join(rows[0])})"
        )
    pos = {c: header.index(c) for c in header}
    numeric = [c for c in (*_REQUIRED[1:], "adj_close", "factor", "vwap") if c in pos]
    seen: dict[str, int] = {}
    values: list[tuple[str, list[float]]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}:{n}"
        if len(row) < len(header):
            raise SflowError(f"{where}: expected {len(header)} columns, got {len(row)}")
        raw_date = row[pos["date"]].strip()
        try:
            day = dt.date.fromisoformat(raw_date[:10]).isoformat()
        except ValueError:
            raise SflowError(f"{where}: bad date {raw_date!r} (expected YYYY-MM-DD)") from None
        if day in seen:
            raise SflowError(f"{where}: duplicate date {day} (first on line {seen[day]})")
        seen[day] = n
        v = {c: _number(row[pos[c]], where, c) for c in numeric}
        _check_row(v, where)
        values.append((day, [v[c] for c in numeric]))
    if not values:
        raise SflowError(f"{path}: no data rows")
    values.sort()
    data = np.array([x for _, x in values], dtype=np.float64)
    cols = {c: data[:, i] for i, c in enumerate(numeric)}
    return _Series(symbol, [d for d, _ in values], cols)


def _fields(s: _Series) -> dict[str, np.ndarray]:
    c = s.cols
    if "adj_close" in c:
        factor = c["adj_close"] / c["close"]
    elif "factor" in c:
        factor = c["factor"]
    else:
        factor = np.ones_like(c["close"])
    vwap = c["vwap"] if "vwap" in c else (c["high"] + c["low"] + c["close"]) / 3
    close = c["close"] * factor
    change = np.concatenate([[np.nan], close[1:] / close[:-1] - 1])
    return {
        "open": c["open"] * factor,
        "high": c["high"] * factor,
        "low": c["low"] * factor,
        "close": close,
        "volume": c["volume"] / factor,
        "vwap": vwap * factor,
        "factor": factor,
        "change": change,
    }


def _future_days(last: str, n: int = 30) -> list[str]:
    start = np.datetime64(last, "D") + 1
    days = np.arange(start, start + 3 * n)
    return [str(d) for d in days[np.is_busday(days)][:n]]


def import_csv(
    src: str | Path, target: str | Path, region: str = "us", benchmark: str | None = None
) -> ImportSummary:
    """Convert the CSV file(s) at ``src`` into qlib's format at ``target`` (see module docstring)."""
    src, root = Path(src), Path(target)
    if region not in ("us", "cn"):
        raise SflowError(f"unknown region {region!r} (use cn or us)")
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.name.lower().endswith((".csv", ".csv.gz")))
    elif src.is_file():
        files = [src]
    else:
        raise SflowError(f"{src} does not exist")
    if not files:
        raise SflowError(f"{src} has no .csv files")
    series = sorted((read_symbol_csv(f) for f in files), key=lambda s: s.symbol)
    symbols = [s.symbol for s in series]
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise SflowError(f"{src}: more than one file for symbol(s) {', '.join(dupes)}")
    if benchmark is not None and benchmark.upper() not in symbols:
        raise SflowError(
            f"benchmark {benchmark!r} is not one of the imported symbols ({', '.join(symbols)})"
        )
    if EW_INDEX in symbols:
        raise SflowError(f"{EW_INDEX} is reserved for the equal-weight index; rename that file")

    binfmt.prepare_target(root)
    days = sorted({d for s in series for d in s.dates})
    index = {d: i for i, d in enumerate(days)}
    full = {k: np.full((len(days), len(series)), np.nan) for k in binfmt.FIELDS}
    for j, s in enumerate(series):
        rows = np.array([index[d] for d in s.dates])
        first, last = int(rows[0]), int(rows[-1])
        cols = {}
        for k, v in _fields(s).items():
            full[k][rows, j] = v
            cols[k] = full[k][first : last + 1, j].astype("<f4")
        binfmt.write_features(root, s.symbol, first, cols)
    _write_equal_weight(root, full)
    binfmt.write_calendar(root, days, _future_days(days[-1]))
    firsts = {s.symbol: (s.dates[0], s.dates[-1]) for s in series}
    binfmt.write_instruments(root, "all", [(sym, a, b) for sym, (a, b) in firsts.items()])
    bench = benchmark.upper() if benchmark else EW_INDEX
    binfmt.write_meta(
        root,
        {
            "source": "sflow data import-csv",
            "region": region,
            "benchmark": bench,
            "benchmarks": {"all": bench},
            "instruments": len(symbols),
            "start": days[0],
            "end": days[-1],
            "vwap": "file column"
            if all("vwap" in s.cols for s in series)
            else "typical price (H+L+C)/3",
        },
    )
    return ImportSummary(root, symbols, len(days), days[0], days[-1], bench)


def _write_equal_weight(root: Path, full: dict[str, np.ndarray]) -> None:
    """The equal-weight index: mean daily return of the symbols that traded on the day and before."""
    close = full["close"]
    prev = np.vstack([np.full((1, close.shape[1]), np.nan), close[:-1]])
    ret = close / prev - 1
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # all-NaN days: nanmean warns, nan_to_num fixes
        r = np.nan_to_num(np.nanmean(ret, axis=1), nan=0.0)
        ro = np.nan_to_num(np.nanmean(full["open"] / prev, axis=1), nan=1.0)
        rh = np.nan_to_num(np.nanmean(full["high"] / prev, axis=1), nan=1.0)
        rl = np.nan_to_num(np.nanmean(full["low"] / prev, axis=1), nan=1.0)
    level = 100.0 * np.cumprod(1 + r)
    prev_level = level / (1 + r)
    o = prev_level * ro
    h = np.maximum.reduce([prev_level * rh, o, level])
    lo = np.minimum.reduce([prev_level * rl, o, level])
    cols = {
        "open": o,
        "high": h,
        "low": lo,
        "close": level,
        "volume": np.nansum(full["volume"], axis=1),
        "vwap": (h + lo + level) / 3,
        "factor": np.ones_like(level),
        "change": r,
    }
    binfmt.write_features(root, EW_INDEX, 0, {k: v.astype("<f4") for k, v in cols.items()})


def write_sample_csvs(out_dir: str | Path, symbols: tuple[str, ...] = SAMPLE_SYMBOLS) -> list[Path]:
    """Write the public-domain daily prices of ``bokeh-sampledata`` as one CSV per symbol."""
    try:
        from bokeh_sampledata import package_path
    except ImportError:
        raise SflowError(
            "the US sample needs the bokeh-sampledata package (pip install bokeh-sampledata)"
        ) from None
    src = package_path("stocks.csv.gz")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(src, "rt", newline="") as f:
        rows = list(csv.reader(f))
    written = []
    for sym in symbols:
        lines = [r for r in rows[1:] if r and r[0] == sym]
        if not lines:
            raise SflowError(
                f"symbol {sym} is not in the bokeh sample (has {', '.join(SAMPLE_SYMBOLS)}, FB)"
            )
        path = out / f"{sym}.csv"
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["date", "open", "high", "low", "close", "volume", "adj_close"])
            w.writerows(r[1:] for r in lines)
        written.append(path)
    return written


def sample_us(target: str | Path, benchmark: str | None = None) -> ImportSummary:
    """``sflow data sample-us``: write the bokeh CSVs under ``target/csv`` and import them."""
    root = Path(target)
    write_sample_csvs(root / "csv")
    return import_csv(root / "csv", root, region="us", benchmark=benchmark)
