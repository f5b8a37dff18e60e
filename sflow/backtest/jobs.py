"""Worker jobs of the quick test and the screen: they import a generated module and run it.

These functions run inside the worker process (:mod:`sflow.backtest.worker`); qlib and pandas are
imported there only. A job re-checks the module it is given (the SHA-256 the service recorded and
``validate_code``) before importing it, checks the data directory, the universe and every
``$field`` the module reads, initialises qlib once per process (:func:`qlib_env.init_qlib`) and
calls the module's own ``run(..., init=False, exchange=<reused>, progress=…)``: the numbers are
those of ``python module.py`` by construction.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sflow.backtest import qlib_env
from sflow.backtest.data import checks
from sflow.errors import SflowError

Progress = Callable[..., None]  # the worker's progress(processed, total, current, message)
TEST_OVERRIDES = ("universe", "benchmark", "period", "account", "open_cost", "close_cost")
_FIELD = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_names = itertools.count(1)
_SIGNALS: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
SIGNAL_CACHE_SIZE = 8


def load_module(module_path: str, code_hash: str) -> ModuleType:
    """Import a generated module from its file after checking its hash and validating it again."""
    from sflow.codegen import validate_code

    path = Path(module_path)
    try:
        code = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SflowError(f"generated module {path} cannot be read: {exc.strerror}") from None
    if hashlib.sha256(code.encode("utf-8")).hexdigest() != code_hash:
        raise SflowError(f"generated module {path} changed after it was validated; run again")
    validation = validate_code(code)
    if validation.status not in ("VALID", "WARNING"):
        raise SflowError(f"generated module {path} did not pass validation ({validation.status})")
    name = f"sflow_generated_{next(_names)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SflowError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def apply_overrides(module: ModuleType, provider_uri: str, overrides: dict[str, Any]) -> dict:
    """The module's TEST with the quick test's options, the data's benchmark filled in."""
    test = module.TEST
    for key in TEST_OVERRIDES:
        if overrides.get(key) is not None:
            test[key] = overrides[key]
    if overrides.get("period") is not None:
        test["start"] = None
    if not test.get("benchmark"):
        test["benchmark"] = checks.default_benchmark(provider_uri, test["universe"])
    return test


def check_inputs(module: ModuleType, provider_uri: str, test: dict, start: str, end: str) -> None:
    """Refuse a missing universe, unknown ``$fields`` and a missing benchmark with a message."""
    checks.check_period(provider_uri, start, end)
    checks.check_universe(provider_uri, test["universe"], start, end)
    fields = sorted({f for expr in module.EXPRESSIONS.values() for f in _FIELD.findall(expr)})
    checks.check_fields(provider_uri, fields, test["universe"])
    if not test.get("benchmark"):
        raise SflowError(f"no benchmark recorded for {provider_uri}: name one in the strategy")
    checks.check_instrument(provider_uri, test["benchmark"])


def quick_test_job(
    progress: Progress,
    *,
    module_path: str,
    code_hash: str,
    provider_uri: str,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Worker job: one quick test. Returns config, metrics, series, trades and timings."""
    t0 = time.perf_counter()
    progress(0, 0, None, "starting")
    root = str(checks.check_data_dir(provider_uri))
    module = load_module(module_path, code_hash)
    opts = overrides or {}
    test = apply_overrides(module, root, opts)
    qlib_env.init_qlib(root)
    start, end = _resolve_dates(module, root, opts.get("start"), opts.get("end"))
    check_inputs(module, root, test, start, end)
    t_init = time.perf_counter()
    exchange = qlib_env.get_exchange(
        test["universe"],
        start,
        end,
        deal_price=test["deal_price"],
        open_cost=test["open_cost"],
        close_cost=test["close_cost"],
        min_cost=test["min_cost"],
        limit_threshold=test["limit_threshold"],
    )
    t_exchange = time.perf_counter()

    def step(done: int, total: int, day: str | None) -> None:
        progress(done, total, day, None)

    module.load_signals = _cached_signals(module)
    result = module.run(start=start, end=end, exchange=exchange, progress=step, init=False)
    t_run = time.perf_counter()
    return {
        "config": {**result["test"], "provider_uri": root},
        "metrics": result["metrics"],
        "series": series(result["equity"]),
        "trades": trades(result["orders"], result["exits"]),
        "orders": len(result["orders"]),
        "timings": {
            "init": t_init - t0,
            "exchange": t_exchange - t_init,
            "run": t_run - t_exchange,
            "total": t_run - t0,
        },
    }


def _cached_signals(module: ModuleType) -> Callable[..., dict[str, Any]]:
    """The module's own ``load_signals``, memoised per process for re-runs on the same data.

    The key holds the module's EXPRESSIONS and the data's version, so a re-run gets the very
    values the function would load again (a warm worker skips the 0.2–0.5 s ``D.features``).
    """
    load = module.load_signals
    exprs = tuple(sorted(module.EXPRESSIONS.items()))

    def cached(start: str, end: str, universe: str, benchmark: str) -> dict[str, Any]:
        ctx = qlib_env.current()
        key = (ctx and (str(ctx.provider_uri), ctx.version), exprs, start, end, universe, benchmark)
        if key in _SIGNALS:
            _SIGNALS.move_to_end(key)
            return dict(_SIGNALS[key])
        value = load(start, end, universe, benchmark)
        _SIGNALS[key] = value
        while len(_SIGNALS) > SIGNAL_CACHE_SIZE:
            _SIGNALS.popitem(last=False)
        return dict(value)

    return cached


def _resolve_dates(
    module: ModuleType, root: str, start: str | None, end: str | None
) -> tuple[str, str]:
    try:
        return module.resolve_dates(start, end)
    except IndexError:
        raise SflowError(f"the test period has no trading days in {root}") from None


def series(equity: list[dict[str, Any]]) -> dict[str, list]:
    """Daily dates, strategy and benchmark wealth (start = 1) and drawdown, as parallel lists."""
    return {
        "dates": [row["date"] for row in equity],
        "equity": [_num(row["equity"]) for row in equity],
        "benchmark": [_num(row["bench_equity"]) for row in equity],
        "drawdown": [_num(row["drawdown"]) for row in equity],
    }


def trades(orders: list[dict[str, Any]], exits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round trips from the fills (FIFO per instrument), with the strategy's exit reasons.

    A sell fill closes (part of) the holding at the average entry price; its reason is the one the
    strategy logged for that instrument and fill day (``RuleStrategy.exits``), else ``signal``
    (qlib's top-k dropout). Holdings still open at the end are listed with reason ``open``.
    """
    reasons = {(e["instrument"], e["date"]): e["reason"] for e in exits}
    book: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for o in sorted(orders, key=lambda o: (o["date"], o["side"] != "SELL", o["instrument"])):
        amount = o["deal_amount"]
        if amount <= 0:
            continue
        inst = o["instrument"]
        held = book.get(inst)
        if o["side"] == "BUY":
            if held is None:
                book[inst] = {"date": o["date"], "amount": amount, "value": amount * o["price"]}
            else:
                held["amount"] += amount
                held["value"] += amount * o["price"]
            continue
        if held is None:
            continue
        entry = held["value"] / held["amount"]
        sold = min(amount, held["amount"])
        out.append(
            _trade(
                inst,
                held["date"],
                o["date"],
                entry,
                o["price"],
                sold,
                reasons.get((inst, o["date"])),
            )
        )
        held["value"] -= entry * sold
        held["amount"] -= sold
        if held["amount"] <= 1e-9 * max(1.0, sold):
            del book[inst]
    for inst, held in sorted(book.items()):
        entry = held["value"] / held["amount"]
        out.append(_trade(inst, held["date"], None, entry, None, held["amount"], "open"))
    return out


def _trade(
    inst: str,
    entry_date: str,
    exit_date: str | None,
    entry: float,
    exit_price: float | None,
    amount: float,
    reason: str | None,
) -> dict[str, Any]:
    ret = exit_price / entry - 1 if exit_price is not None and entry else None
    return {
        "instrument": inst,
        "entry_date": entry_date,
        "exit_date": exit_date,
        "entry_price": _num(entry),
        "exit_price": _num(exit_price),
        "amount": _num(amount),
        "return": _num(ret),
        "reason": reason or "signal",
    }


def _num(x: float | None) -> float | None:
    """JSON-safe floats: NaN and infinities become null."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def screen_job(
    progress: Progress,
    *,
    module_path: str,
    code_hash: str,
    provider_uri: str,
    date: str | None = None,
    universe: str | None = None,
) -> dict[str, Any]:
    """Worker job: the strategy's signals on one day over its universe, one row per ticker.

    Each row is also sent as a progress message (JSON) so the caller can store it as it comes.
    Classification: ``SELL`` when the sell signal holds, else ``BUY`` when the buy signal holds,
    else ``NONE``; the score is the buy score (the sell score for SELL rows).
    """
    root = str(checks.check_data_dir(provider_uri))
    module = load_module(module_path, code_hash)
    test = apply_overrides(module, root, {"universe": universe})
    qlib_env.init_qlib(root)
    day = _screen_day(root, date)
    check_inputs(module, root, test, day, day)
    from qlib.data import D

    members = [
        str(i)
        for i in D.list_instruments(
            D.instruments(test["universe"]), start_time=day, end_time=day, as_list=True
        )
        if str(i) != test["benchmark"]
    ]
    frame = module.load_frame(day, day, test["universe"], test["benchmark"])
    signals = module.load_signals(day, day, test["universe"], test["benchmark"])
    rows = []
    today = _rows_on(frame, day)
    buy = _values_on(signals.get("buy"), day)
    sell = _values_on(signals.get("sell"), day)
    total = len(members)
    progress(0, total, None, None)
    for n, ticker in enumerate(sorted(members), 1):
        t0 = time.perf_counter()
        values = {k: _num(float(v)) for k, v in today.get(ticker, {}).items()}
        reasons = []
        if ticker in sell:
            cls, score = "SELL", sell[ticker]
            reasons.append("sell signal holds")
        elif ticker in buy:
            cls, score = "BUY", buy[ticker]
            reasons.append("buy signal holds")
        else:
            cls, score = "NONE", None
            reasons.append("no signal" if values else "no data on this day")
        row = {
            "ticker": ticker,
            "passed": cls == "BUY",
            "score": _num(score),
            "classification": cls,
            "reasons": reasons,
            "metrics": values,
            "processing_time_ms": int((time.perf_counter() - t0) * 1000),
        }
        rows.append(row)
        progress(n, total, ticker, json.dumps(row))
    rows.sort(key=_rank)
    return {
        "date": day,
        "universe": test["universe"],
        "strategy": module.SFLOW["strategy"],
        "rows": rows,
    }


_CLASS_ORDER = {"BUY": 0, "SELL": 1, "NONE": 2}


def _rank(row: dict[str, Any]) -> tuple:
    """BUY rows first, then SELL, then the rest; best score first within each; then ticker."""
    score = row["score"]
    return (
        _CLASS_ORDER.get(row["classification"], 3),
        score is None,
        -(score or 0.0),
        row["ticker"],
    )


def _screen_day(root: str, date: str | None) -> str:
    """The given trading day, else the data's last day (a screen reads the newest bar)."""
    days = checks.read_calendar(root)
    if date is None:
        return days[-1]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise SflowError(f"bad date {date!r} (expected YYYY-MM-DD)")
    if date not in days:
        earlier = [d for d in days if d <= date]
        if not earlier:
            raise SflowError(f"{date} is before the data starts ({days[0]})")
        return earlier[-1]
    return date


def _rows_on(frame: Any, day: str) -> dict[str, dict[str, float]]:
    import pandas as pd

    try:
        part = frame.xs(pd.Timestamp(day), level="datetime")
    except KeyError:
        return {}
    return {str(inst): row.to_dict() for inst, row in part.iterrows()}


def _values_on(signal: Any, day: str) -> dict[str, float]:
    import pandas as pd

    if signal is None or len(signal) == 0:
        return {}
    try:
        part = signal.xs(pd.Timestamp(day), level="datetime")
    except KeyError:
        return {}
    return {str(k): float(v) for k, v in part.items()}
