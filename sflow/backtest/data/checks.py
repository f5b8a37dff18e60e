"""Checks of a qlib data directory that the quick test runs before qlib sees it.

Pure Python on the files (no qlib, numpy or pandas), so the editor can call them too. Every failure
is an :class:`~sflow.errors.SflowError` whose message says what is wrong and what to do.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

from sflow.errors import SflowError

META_FILE = "sflow_data.json"
_HINT = (
    "point --provider-uri / SFLOW_QLIB_DATA at a qlib data directory, or run `sflow data demo DIR`"
)


def check_data_dir(path: str | os.PathLike[str]) -> Path:
    """The resolved directory if it looks like qlib day data (calendar, instruments, features)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise SflowError(f"qlib data directory {root} does not exist: {_HINT}")
    cal = root / "calendars" / "day.txt"
    if not cal.is_file() or cal.stat().st_size == 0:
        raise SflowError(
            f"{root} is not a qlib data directory: calendars/day.txt is missing or empty; {_HINT}"
        )
    inst = root / "instruments"
    if not inst.is_dir() or not any(inst.glob("*.txt")):
        raise SflowError(f"{root} has no instruments/*.txt universe files; {_HINT}")
    feats = root / "features"
    if not feats.is_dir() or not any(feats.iterdir()):
        raise SflowError(f"{root} has no features/ directory with data; {_HINT}")
    return root.resolve()


def read_meta(path: str | os.PathLike[str]) -> dict:
    """What ``sflow data`` recorded about the directory ({} for data made elsewhere)."""
    f = Path(path) / META_FILE
    try:
        return json.loads(f.read_text()) if f.is_file() else {}
    except (OSError, ValueError):
        return {}


def read_calendar(path: str | os.PathLike[str], future: bool = False) -> list[str]:
    """Trading days (``YYYY-MM-DD``) of the day calendar, or of ``day_future.txt``."""
    root = check_data_dir(path)
    name = "day_future.txt" if future else "day.txt"
    f = root / "calendars" / name
    if not f.is_file():
        return []
    return [line.strip()[:10] for line in f.read_text().splitlines() if line.strip()]


def detect_region(path: str | os.PathLike[str]) -> str:
    """``cn`` or ``us``: recorded by ``sflow data``, else guessed from the symbols (SH/SZ → cn)."""
    meta = read_meta(path)
    if meta.get("region") in ("cn", "us"):
        return str(meta["region"])
    first = (
        (Path(path) / "instruments" / "all.txt").read_text().split("\t", 1)[0]
        if (Path(path) / "instruments" / "all.txt").is_file()
        else ""
    )
    return "cn" if re.match(r"^(SH|SZ|BJ)\d{6}$", first.strip().upper()) else "us"


def universes(path: str | os.PathLike[str]) -> list[str]:
    """Names of the universe files (``all``, ``csi300``…)."""
    return sorted(p.stem for p in (Path(path) / "instruments").glob("*.txt"))


def universe_periods(path: str | os.PathLike[str], universe: str) -> list[tuple[str, str, str]]:
    """(symbol, start, end) membership periods of a universe; an unknown name fails."""
    root = check_data_dir(path)
    f = root / "instruments" / f"{universe}.txt"
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", universe) or not f.is_file():
        known = universes(root)
        near = difflib.get_close_matches(universe, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise SflowError(
            f"unknown universe {universe!r} in {root} (available: {', '.join(known)}){hint}"
        )
    out = []
    for n, line in enumerate(f.read_text().splitlines(), 1):
        parts = line.split("\t")
        if len(parts) < 3:
            parts = line.split()
        if len(parts) >= 3:
            out.append((parts[0].strip(), parts[1].strip()[:10], parts[2].strip()[:10]))
        elif line.strip():
            raise SflowError(f"{f}:{n}: expected 'SYMBOL<TAB>start<TAB>end', got {line!r}")
    return out


def check_universe(
    path: str | os.PathLike[str], universe: str, start: str | None = None, end: str | None = None
) -> list[str]:
    """Sorted members of ``universe`` at some point of [start, end]; never empty."""
    lo, hi = start or "0000-00-00", end or "9999-99-99"
    members = sorted({s for s, a, b in universe_periods(path, universe) if a <= hi and b >= lo})
    if not members:
        span = f" between {start or 'the start'} and {end or 'the end'}" if start or end else ""
        raise SflowError(f"universe {universe!r} has no instruments{span} in {Path(path)}")
    return members


def list_fields(path: str | os.PathLike[str], universe: str = "all") -> list[str]:
    """The ``$fields`` with data for at least one member of ``universe`` (sorted)."""
    root = check_data_dir(path)
    fields: set[str] = set()
    for sym in {s for s, _, _ in universe_periods(root, universe)}:
        folder = root / "features" / sym.lower()
        if folder.is_dir():
            fields.update(p.name.split(".")[0] for p in folder.glob("*.day.bin"))
    return [f"${f}" for f in sorted(fields)]


def check_fields(path: str | os.PathLike[str], fields: list[str], universe: str = "all") -> None:
    """Fail on a ``$field`` the data lacks (qlib would silently return NaN for it)."""
    known = list_fields(path, universe)
    for f in fields:
        name = f if f.startswith("$") else f"${f}"
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise SflowError(
                f"field {name} is not in the data of universe {universe!r}"
                f" (has {', '.join(known)}){hint}"
            )


def last_tradable_date(path: str | os.PathLike[str]) -> str:
    """The last day a backtest may end on (qlib needs one calendar day after it: qlib #2278)."""
    days = read_calendar(path)
    future = read_calendar(path, future=True)
    if future and future[-1] > days[-1]:
        return days[-1]
    if len(days) < 2:
        raise SflowError(f"the calendar of {path} has fewer than two days")
    return days[-2]


def default_benchmark(path: str | os.PathLike[str], universe: str = "csi300") -> str | None:
    """The benchmark recorded for the universe, else SH000300 when its data exists, else None."""
    meta = read_meta(path)
    bench = meta.get("benchmarks", {}).get(universe) or meta.get("benchmark")
    if bench:
        return str(bench)
    return "SH000300" if (Path(path) / "features" / "sh000300").is_dir() else None


def check_instrument(path: str | os.PathLike[str], symbol: str) -> None:
    """Fail if an instrument (e.g. a benchmark) has no feature data."""
    root = check_data_dir(path)
    if not (root / "features" / symbol.lower() / "close.day.bin").is_file():
        raise SflowError(
            f"instrument {symbol} has no $close data in {root} (a benchmark must exist in the data)"
        )


def check_period(path: str | os.PathLike[str], start: str, end: str) -> None:
    """Fail unless [start, end] is a valid backtest period inside the data's calendar."""
    days = read_calendar(path)
    last = last_tradable_date(path)
    for name, value in (("start", start), ("end", end)):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""):
            raise SflowError(f"bad {name} date {value!r} (expected YYYY-MM-DD)")
    if start > end:
        raise SflowError(f"the period starts ({start}) after it ends ({end})")
    if end < days[0] or start > last:
        raise SflowError(f"the period {start} .. {end} is outside the data ({days[0]} .. {last})")
    if end > last:
        raise SflowError(f"the period ends {end}, after the last tradable day of the data ({last})")
    if not any(start <= d <= end for d in days):
        raise SflowError(f"no trading day between {start} and {end}")
