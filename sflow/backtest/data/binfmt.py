"""Writer of qlib's on-disk day-frequency layout (what qlib's ``dump_bin.py`` produces).

Layout: ``calendars/day.txt`` (and ``day_future.txt``), ``instruments/<market>.txt`` with lines
``SYMBOL<TAB>start<TAB>end``, ``features/<symbol lower>/<field>.day.bin`` = little-endian float32,
the first value the calendar index of the first row, then one value per calendar day.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

FIELDS = ("open", "high", "low", "close", "volume", "vwap", "factor", "change")
META_FILE = "sflow_data.json"


def prepare_target(root: Path) -> None:
    """Make ``root`` ready for a fresh data set: never clobber qlib data sflow did not write.

    A directory written by ``sflow data`` (it has ``sflow_data.json``) has its calendars,
    instruments and features removed first, so no stale instrument survives a smaller rewrite.
    """
    from sflow.errors import SflowError

    parts = [root / d for d in ("calendars", "instruments", "features")]
    if any(p.exists() for p in parts):
        if not (root / META_FILE).is_file():
            raise SflowError(
                f"{root} already holds qlib data not written by sflow; choose another directory"
            )
        for p in parts:
            shutil.rmtree(p, ignore_errors=True)
        (root / META_FILE).unlink()
    root.mkdir(parents=True, exist_ok=True)


def write_calendar(root: Path, days: Sequence[str], future: Sequence[str] = ()) -> None:
    """Write ``day.txt`` and ``day_future.txt`` (the calendar followed by ``future`` days)."""
    cal = root / "calendars"
    cal.mkdir(parents=True, exist_ok=True)
    (cal / "day.txt").write_text("".join(f"{d}\n" for d in days))
    (cal / "day_future.txt").write_text("".join(f"{d}\n" for d in (*days, *future)))


def write_instruments(root: Path, market: str, periods: Iterable[tuple[str, str, str]]) -> None:
    """Write one universe file; ``periods`` are (symbol, start, end), sorted for stable bytes."""
    inst = root / "instruments"
    inst.mkdir(parents=True, exist_ok=True)
    lines = sorted(periods)
    (inst / f"{market}.txt").write_text("".join(f"{s}\t{a}\t{b}\n" for s, a, b in lines))


def write_features(
    root: Path, symbol: str, start_index: int, columns: Mapping[str, np.ndarray]
) -> None:
    """Write every field of one instrument, starting at calendar index ``start_index``."""
    folder = root / "features" / symbol.lower()
    folder.mkdir(parents=True, exist_ok=True)
    for field, values in columns.items():
        out = np.empty(len(values) + 1, dtype="<f4")
        out[0] = start_index
        out[1:] = values
        out.tofile(folder / f"{field}.day.bin")


def read_feature(root: Path, symbol: str, field: str) -> tuple[int, np.ndarray]:
    """Read one field back: (start calendar index, float32 values)."""
    raw = np.fromfile(root / "features" / symbol.lower() / f"{field}.day.bin", dtype="<f4")
    return int(raw[0]), raw[1:]


def write_meta(root: Path, meta: Mapping[str, object]) -> None:
    """Record how the directory was made (region, benchmark, source) for the runtime and checks."""
    (root / META_FILE).write_text(json.dumps(dict(meta), indent=2, sort_keys=True) + "\n")
