"""One qlib per process: quiet init, a correct WMA, a large memory cache, reused exchanges.

qlib is imported only inside functions here: importing this module costs nothing, so the editor and
``sflow check`` never pay for (or depend on) qlib. The worker calls :func:`init_qlib` once per data
directory; later calls with the same directory return at once (that is the warm worker's lever).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sflow.backtest.data import checks
from sflow.errors import NotAvailableError

# The default LRU of 500 expressions thrashes on a few hundred instruments (notes/qlib.md §Speed).
EXPR_CACHE_ENTRIES = 10**6

_lock = threading.RLock()
_current: QlibContext | None = None
_exchanges: dict[tuple, Any] = {}


@dataclass(frozen=True)
class QlibContext:
    """The data directory qlib is initialised on in this process."""

    provider_uri: Path
    region: str
    meta: dict
    version: int = 0  # mtime of calendars/day.txt: rewritten data means a fresh init


def _data_version(path: Path) -> int:
    return (path / "calendars" / "day.txt").stat().st_mtime_ns


def _quiet_imports() -> None:
    """Import gym (pulled in by ``qlib.backtest``) with its deprecation notice swallowed."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Exception):  # gym is optional for the daily backtest
            import gym  # noqa: F401
        import qlib.backtest  # noqa: F401


def preload() -> None:
    """The worker's start-up preload: import qlib's backtest modules and, when
    ``SFLOW_WORKER_QLIB_DATA`` names a data directory, initialise qlib on it."""
    _quiet_imports()
    import qlib.contrib.strategy
    import qlib.data  # noqa: F401

    data = os.environ.get("SFLOW_WORKER_QLIB_DATA")
    if data:
        with contextlib.suppress(Exception):  # a bad directory is reported by the job itself
            init_qlib(data)


def _correct_wma() -> type:
    """A WMA operator with weights 1..n over each (possibly partial) window, NaN-aware.

    qlib 0.9.7's WMA divides the weighted sum by the window length a second time (qlib #1993).
    """
    import numpy as np
    import pandas as pd
    from qlib.data.ops import Rolling

    class WMA(Rolling):
        """Weighted moving average: sum(w_i x_i) / sum(w_i), w = 1..len(window), NaNs skipped."""

        def __init__(self, feature: Any, N: int) -> None:
            super().__init__(feature, N, "wma")

        def _load_internal(self, instrument: str, start_index: int, end_index: int, *args: Any):
            series = self.feature.load(instrument, start_index, end_index, *args)
            return pd.Series(
                wma_values(series.to_numpy(dtype=np.float64), self.N), index=series.index
            )

    return WMA


def wma_values(x: Any, n: int) -> Any:
    """Vectorised WMA of a 1-d float array; ``n == 0`` is the expanding variant."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    length = len(x)
    if length == 0:
        return x.astype(np.float64)
    valid = ~np.isnan(x)
    if n == 0:
        w = np.arange(1, length + 1, dtype=np.float64)
        num = np.cumsum(np.where(valid, x, 0.0) * w)
        den = np.cumsum(valid * w)
    else:
        pad = np.concatenate([np.full(n - 1, np.nan), x])
        win = sliding_window_view(pad, n)
        fill = np.minimum(np.arange(length), n - 1)[:, None]
        weights = np.clip(np.arange(n)[None, :] - (n - 1) + fill + 1, 0, None).astype(np.float64)
        ok = ~np.isnan(win)
        num = (np.where(ok, win, 0.0) * weights).sum(axis=1)
        den = (ok * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def init_qlib(provider_uri: str | os.PathLike[str], region: str | None = None) -> QlibContext:
    """Initialise qlib on a data directory once per process.

    A different directory, or the same one rewritten, re-initialises qlib (``qlib.init`` clears its
    memory caches) and drops the reused exchanges.
    """
    global _current
    path = checks.check_data_dir(provider_uri)
    with _lock:
        version = _data_version(path)
        if _current is not None and _current.provider_uri == path and _current.version == version:
            return _current
        try:
            _quiet_imports()
            import qlib
            from qlib.data.cache import H
        except ImportError as exc:
            raise NotAvailableError("qlib is not installed: pip install 'sflow[qlib]'") from exc
        meta = checks.read_meta(path)
        reg = region or checks.detect_region(path)
        with contextlib.redirect_stderr(io.StringIO()):
            qlib.init(
                provider_uri=str(path),
                region=reg,
                kernels=1,
                logging_level="ERROR",
                custom_ops=[_correct_wma()],
            )
        H["f"].set_limit_size(EXPR_CACHE_ENTRIES)
        _exchanges.clear()
        _current = QlibContext(path, reg, meta, version)
        return _current


def current() -> QlibContext | None:
    """The context of the last :func:`init_qlib` in this process, if any."""
    return _current


def get_exchange(
    universe: str | list[str],
    start: str,
    end: str,
    *,
    deal_price: str = "close",
    open_cost: float = 0.0005,
    close_cost: float = 0.0015,
    min_cost: float = 5.0,
    limit_threshold: float | None = None,
    freq: str = "day",
) -> Any:
    """A qlib ``Exchange`` for these settings, built once per process and data directory.

    Pass it to ``backtest(..., exchange_kwargs={"exchange": x})``; results are identical to a fresh
    exchange (tested) and the 3–4 s build is skipped on re-runs.
    """
    if _current is None:
        raise RuntimeError("init_qlib() must be called before get_exchange()")
    from qlib.backtest import get_exchange as qlib_get_exchange
    from qlib.config import C

    threshold = C.limit_threshold if limit_threshold is None else limit_threshold
    codes = universe if isinstance(universe, str) else tuple(sorted(universe))
    key = (
        str(_current.provider_uri),
        codes,
        start,
        end,
        deal_price,
        open_cost,
        close_cost,
        min_cost,
        threshold,
        freq,
    )
    with _lock:
        if key not in _exchanges:
            _exchanges[key] = qlib_get_exchange(
                freq=freq,
                start_time=start,
                end_time=end,
                codes=universe if isinstance(universe, str) else list(codes),
                deal_price=deal_price,
                open_cost=open_cost,
                close_cost=close_cost,
                min_cost=min_cost,
                limit_threshold=threshold,
            )
        return _exchanges[key]


def clear_caches() -> None:
    """Drop reused exchanges and qlib's expression memory cache (e.g. after the data changed)."""
    with _lock:
        _exchanges.clear()
        if _current is not None:
            from qlib.data.cache import H

            H["f"].clear()
