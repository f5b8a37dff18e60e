"""Run a qlib strategy over a period with progress, reused exchange and sflow's metrics.

The job functions here run inside the worker process (``sflow.backtest.worker``); they import qlib
lazily. :func:`run_strategy` is qlib's own ``backtest(...)`` (same ``get_strategy_executor`` and
``backtest_loop``) with a progress hook on ``post_exe_step`` and the exchange taken from
``qlib_env.get_exchange``, so its numbers equal a hand-written qlib script's.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sflow.backtest import qlib_env
from sflow.backtest.data import checks
from sflow.errors import SflowError

Progress = Callable[[int, int, str | None], None]  # (processed steps, total steps, current date)


@dataclass(frozen=True)
class BacktestSpec:
    """Everything a daily backtest needs besides the strategy (the ``test`` block, resolved)."""

    provider_uri: str
    start: str
    end: str
    universe: str = "csi300"
    benchmark: str | None = None  # None: the data's recorded benchmark for the universe
    account: float = 1e8
    open_cost: float = 0.0005
    close_cost: float = 0.0015
    min_cost: float = 5.0
    deal_price: str = "close"
    limit_threshold: float | None = None  # region default (cn: 0.095, us: none)
    reuse_exchange: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BacktestSpec:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare(spec: BacktestSpec) -> BacktestSpec:
    """Check the data for this spec, initialise qlib on it (instant when warm), fill the benchmark."""
    checks.check_data_dir(spec.provider_uri)
    checks.check_period(spec.provider_uri, spec.start, spec.end)
    checks.check_universe(spec.provider_uri, spec.universe, spec.start, spec.end)
    bench = spec.benchmark or checks.default_benchmark(spec.provider_uri, spec.universe)
    if not bench:
        raise SflowError(f"no benchmark recorded for {spec.provider_uri}: name one (e.g. SH000300)")
    checks.check_instrument(spec.provider_uri, bench)
    qlib_env.init_qlib(spec.provider_uri)
    return replace(spec, benchmark=bench)


def signal_start(start: str) -> str:
    """The trading day before ``start``: decisions on day t read the signal of t-1."""
    from qlib.data import D

    cal = D.calendar(end_time=start)
    return str(cal[-2] if len(cal) > 1 else cal[-1])[:10]


_TOKEN = re.compile(
    r"\s+|\$[a-z][a-z0-9_]*|[A-Z][A-Za-z]*(?=\s*\()|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+*/(),<>=!&|]"
)


def check_expression(expr: str) -> str:
    """Refuse anything but ``$fields``, qlib operator calls, numbers and arithmetic (qlib evals it)."""
    from qlib.data.ops import Operators

    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise SflowError(f"unsafe or invalid qlib expression at column {pos + 1}: {expr!r}")
        word = m.group()
        if word[0].isupper():
            try:
                getattr(Operators, word)
            except AttributeError:
                raise SflowError(f"unknown qlib operator {word!r} in {expr!r}") from None
        pos = m.end()
    return expr


_SIGNALS: OrderedDict[tuple, Any] = OrderedDict()
SIGNAL_CACHE_SIZE = 8


def load_signal(expr: str, spec: BacktestSpec) -> Any:
    """A qlib expression over the universe as a (datetime, instrument) Series, benchmark dropped.

    Kept per process for re-runs on the same data (a warm worker skips the 0.2–0.4 s reload);
    callers must not modify the returned Series.
    """
    from qlib.data import D

    check_expression(expr)
    ctx = qlib_env.current()
    key = (
        ctx and (ctx.provider_uri, ctx.version),
        expr,
        spec.universe,
        spec.start,
        spec.end,
        spec.benchmark,
    )
    if key in _SIGNALS:
        _SIGNALS.move_to_end(key)
        return _SIGNALS[key]
    raw = D.features(
        D.instruments(spec.universe), [expr], start_time=signal_start(spec.start), end_time=spec.end
    )
    series = raw.iloc[:, 0].swaplevel().sort_index()
    if spec.benchmark:
        series = series.drop(spec.benchmark, level="instrument", errors="ignore")
    _SIGNALS[key] = series
    while len(_SIGNALS) > SIGNAL_CACHE_SIZE:
        _SIGNALS.popitem(last=False)
    return series


def _exchange_kwargs(spec: BacktestSpec) -> dict[str, Any]:
    from qlib.config import C

    threshold = C.limit_threshold if spec.limit_threshold is None else spec.limit_threshold
    kwargs = {
        "codes": spec.universe,
        "freq": "day",
        "limit_threshold": threshold,
        "deal_price": spec.deal_price,
        "open_cost": spec.open_cost,
        "close_cost": spec.close_cost,
        "min_cost": spec.min_cost,
    }
    if spec.reuse_exchange:
        x = qlib_env.get_exchange(
            spec.universe,
            spec.start,
            spec.end,
            **{k: kwargs[k] for k in kwargs if k not in ("codes", "freq")},
        )
        return {"exchange": x}
    return kwargs


def run_strategy(
    strategy: Any, spec: BacktestSpec, progress: Progress | None = None
) -> dict[str, Any]:
    """Backtest a qlib strategy object: metrics, equity, orders (JSON-ready) and the report frame."""
    from qlib.backtest import get_strategy_executor
    from qlib.backtest.backtest import backtest_loop
    from qlib.data import D

    from sflow.backtest import metrics

    days = [str(d)[:10] for d in D.calendar(start_time=spec.start, end_time=spec.end)]
    total = len(days)
    executor = {
        "class": "SimulatorExecutor",
        "module_path": "qlib.backtest.executor",
        "kwargs": {"time_per_step": "day", "generate_portfolio_metrics": True},
    }
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trade_strategy, trade_executor = get_strategy_executor(
            spec.start,
            spec.end,
            strategy,
            executor,
            spec.benchmark,
            spec.account,
            _exchange_kwargs(spec),
        )
        if progress is not None:
            step_done = trade_strategy.post_exe_step
            done = [0]

            def hook(execute_result: Any) -> None:
                step_done(execute_result)
                done[0] += 1
                progress(done[0], total, days[done[0] - 1] if done[0] <= total else None)

            trade_strategy.post_exe_step = hook
        pm, ind = backtest_loop(spec.start, spec.end, trade_strategy, trade_executor)
    report = pm["1day"][0]
    orders = metrics.orders_from_indicator(ind["1day"][1])
    return {
        "metrics": metrics.compute_metrics(report, orders),
        "equity": metrics.equity_curve(report),
        "orders": orders,
        "report": report,
    }


def run_topk_job(
    progress: Progress | None = None,
    *,
    spec: dict[str, Any],
    signal: str = "$close/Ref($close,20)-1",
    topk: int = 30,
    n_drop: int = 5,
) -> dict[str, Any]:
    """Worker job: qlib's ``TopkDropoutStrategy`` on a signal expression (bench / reference)."""
    t0 = time.perf_counter()
    bt = prepare(BacktestSpec.from_dict(spec))
    from qlib.contrib.strategy import TopkDropoutStrategy

    t_init = time.perf_counter()
    strategy = TopkDropoutStrategy(signal=load_signal(signal, bt), topk=topk, n_drop=n_drop)
    t_signal, cpu0 = time.perf_counter(), time.process_time()
    result = run_strategy(strategy, bt, progress)
    result.pop("report")
    result["timings"] = {
        "init": t_init - t0,
        "signal": t_signal - t_init,
        "run": time.perf_counter() - t_signal,
        "run_cpu": time.process_time() - cpu0,
    }
    return result


def warm_up(progress: Progress | None = None, *, provider_uri: str) -> dict[str, Any]:
    """Worker job: initialise qlib on a data directory and import the backtest modules."""
    t0 = time.perf_counter()
    qlib_env.init_qlib(provider_uri)
    from qlib.backtest import backtest  # noqa: F401
    from qlib.contrib.strategy import TopkDropoutStrategy  # noqa: F401

    return {"seconds": time.perf_counter() - t0, "pid": __import__("os").getpid()}
