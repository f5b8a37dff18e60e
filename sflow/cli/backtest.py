"""`sflow backtest` (quick tests, their history and comparison) and `sflow screen`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any

from sflow.config import Settings
from sflow.errors import SflowError, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="run a quick test of a strategy (qlib, worker process)")
    p.add_argument("file", nargs="?", metavar="FILE", help=".sflow file")
    pick = p.add_mutually_exclusive_group()
    pick.add_argument("--test", help="the test block to run")
    pick.add_argument("--strategy", help="the strategy to run (its test block, or the presets)")
    p.add_argument(
        "--period", choices=["1M", "3M", "6M", "1Y", "2Y"], help="counted back from the end"
    )
    p.add_argument("--universe", help="csi300, csi500, all, … (a file of the data's instruments/)")
    p.add_argument(
        "--benchmark", help="benchmark instrument (default: the strategy's / the data's)"
    )
    p.add_argument("--start", help="first day YYYY-MM-DD (default: from the period)")
    p.add_argument("--end", help="last day YYYY-MM-DD (default: the last tradable day)")
    p.add_argument(
        "--provider-uri", help="qlib data directory (default: SFLOW_QLIB_DATA, ~/.qlib/…)"
    )
    p.add_argument("--timeout", type=float, help="seconds before the test is stopped (default 900)")
    p.add_argument("--memory-mb", type=int, default=4096, help="worker memory limit (default 4096)")
    p.add_argument("--json", action="store_true", help="print the stored test (config, metrics, …)")
    p.add_argument("--report", metavar="FILE.html", help="also write the HTML report here")
    p.add_argument("--open", action="store_true", help="open the HTML report in a browser")
    p.add_argument("--progress", action="store_true", help="show a progress bar even without a TTY")
    p.add_argument(
        "--history", action="store_true", help="list past quick tests (of FILE if given)"
    )
    p.add_argument("--limit", type=int, default=20, help="rows of --history (default 20)")
    p.add_argument(
        "--compare", nargs=2, metavar=("ID_A", "ID_B"), help="compare two tests' metrics"
    )
    p.add_argument("--status", metavar="ID", help="state and progress of one test")
    p.set_defaults(handler=cmd_backtest)

    p = sub.add_parser("screen", help="evaluate a strategy's signals on one day over its universe")
    p.add_argument("file", metavar="FILE", help=".sflow file")
    p.add_argument("--strategy", help="the strategy (default: the file's only one)")
    p.add_argument("--date", help="trading day YYYY-MM-DD (default: the data's last day)")
    p.add_argument("--universe", help="override the strategy's universe")
    p.add_argument("--provider-uri", help="qlib data directory")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    p.add_argument("--limit", type=int, default=30, help="rows printed (default 30; 0 = all)")
    p.add_argument("--json", action="store_true", help="print the run and every row as JSON")
    p.add_argument("--progress", action="store_true", help="show a progress bar even without a TTY")
    p.set_defaults(handler=cmd_screen)


class ProgressBar:
    """A one-line progress bar on stderr (only on a TTY, or when asked)."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.label = label
        self.last = 0.0

    def __call__(self, status: dict[str, Any]) -> None:
        if not self.enabled or status.get("status") != "RUNNING":
            return
        now = time.monotonic()
        if now - self.last < 0.1 and status.get("processed") != status.get("total"):
            return
        self.last = now
        if not status.get("total"):
            sys.stderr.write(f"\r{self.label}: starting the worker…")
            sys.stderr.flush()
            return
        pct = status.get("percent") or 0.0
        filled = int(pct / 100 * 30)
        sys.stderr.write(
            f"\r\033[K{self.label} [{'#' * filled}{'.' * (30 - filled)}] {pct:5.1f}% "
            f"{status.get('current') or ''} {status.get('processed') or 0}/{status.get('total') or 0}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(qlib_data=args.provider_uri)


def _read(path: str) -> str:
    from sflow.cli.lang import read_source

    text, problems = read_source(path)
    if problems:
        raise SflowError(f"{path}: {problems[0].message}")
    return text


def cmd_backtest(args: argparse.Namespace) -> int:
    from sflow.backtest.quicktest import QuickTestService

    settings = _settings(args)
    if args.compare:
        return _compare(settings, *args.compare, as_json=args.json)
    if args.status:
        return _status(settings, args.status, as_json=args.json)
    if args.history:
        return _history(settings, args)
    if not args.file:
        raise UsageError("backtest needs a FILE (or --history / --compare ID_A ID_B)")
    return _run(settings, args, QuickTestService)


def _run(settings: Settings, args: argparse.Namespace, service_cls: Any) -> int:
    from sflow.backtest import report
    from sflow.backtest.quicktest import QuickTestOptions

    text = _read(args.file)
    if args.report:  # refuse a bad report path before spending a backtest on it
        target = Path(args.report)
        if target.is_dir():
            raise UsageError(
                f"--report {args.report}: is a folder; give a file such as report.html"
            )
    opts = QuickTestOptions(
        period=args.period,
        universe=args.universe,
        start=args.start,
        end=args.end,
        benchmark=args.benchmark,
        provider_uri=args.provider_uri,
        timeout=args.timeout,
    )
    bar = ProgressBar(args.progress or sys.stderr.isatty(), Path(args.file).name)
    with service_cls(settings, eager=True, warm=False, memory_mb=args.memory_mb) as service:
        service.mark_stuck()
        test_id = service.submit(
            text, args.file, strategy=args.strategy, test=args.test, options=opts, on_status=bar
        )
        try:
            status = service.wait(test_id)
        except KeyboardInterrupt:
            service.cancel(test_id)
            service.wait(test_id, 5)
            bar.close()
            print(f"sflow: quick test {test_id} cancelled", file=sys.stderr)
            return 130
        bar.close()
        result = service.result(test_id)
    if status["status"] == "COMPLETED" and (args.report or args.open):
        path = Path(args.report) if args.report else Path(status["reportPath"])
        if args.report:
            report.write_report(result, path)
        if args.open:
            webbrowser.open(path.resolve().as_uri())
        result["reportPath"] = str(path)
    if args.json:
        print(json.dumps(report.clean(result), indent=2, sort_keys=True))
    elif status["status"] == "COMPLETED":
        _print_result(result)
    if status["status"] != "COMPLETED":
        reason = status.get("error") or status["status"].lower()
        print(f"sflow: quick test {test_id} {status['status']}: {reason}", file=sys.stderr)
        return 1
    return 0


def _print_result(result: dict[str, Any]) -> None:
    from sflow.backtest.report import fmt_metric

    cfg = result["config"]
    name = result["strategy"] + (f" / {result['test']}" if result.get("test") else "")
    print(f"quick test {result['testId']}: {name}")
    print(
        f"  {cfg['start']} → {cfg['end']}  universe {cfg['universe']}  benchmark "
        f"{cfg['benchmark']}  costs {cfg['open_cost']}/{cfg['close_cost']}  deal {cfg['deal_price']}"
    )
    for key, value in result["metrics"].items():
        print(f"  {key:30s} {fmt_metric(key, value):>16s}")
    trades = result.get("trades") or []
    closed = [t for t in trades if t.get("exit_date")]
    print(f"  trades: {len(closed)} closed, {len(trades) - len(closed)} open")
    if result.get("reportPath"):
        print(f"  report: {result['reportPath']}")


def _history(settings: Settings, args: argparse.Namespace) -> int:
    from sflow.backtest.quicktest import QuickTestService
    from sflow.backtest.report import fmt_metric

    service = QuickTestService(settings)
    service.mark_stuck()
    rows = service.history(args.file, args.strategy, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True, default=str))
        return 0
    if not rows:
        print("no quick tests", file=sys.stderr)
        return 0
    print(
        f"{'id':36s}  {'created':19s}  {'strategy':18s} {'status':9s} {'ann.ret':>9s} {'IR':>7s} {'maxDD':>9s}"
    )
    for r in rows:
        m = r.get("metrics") or {}
        print(
            f"{r['testId']:36s}  {(r['created'] or '')[:19]:19s}  {str(r['strategy'])[:18]:18s} "
            f"{r['status']:9s} {fmt_metric('annualized_return', m.get('annualized_return')):>9s} "
            f"{fmt_metric('information_ratio', m.get('information_ratio')):>7s} "
            f"{fmt_metric('max_drawdown', m.get('max_drawdown')):>9s}"
        )
    return 0


def _status(settings: Settings, test_id: str, *, as_json: bool) -> int:
    from sflow.backtest.quicktest import QuickTestService

    st = QuickTestService(settings).status(test_id)
    if as_json:
        print(json.dumps(st, indent=2, sort_keys=True, default=str))
    else:
        pct = st["percent"] or 0.0
        print(f"{st['testId']}: {st['strategy']} {st['status']} {pct:.1f}% {st['current'] or ''}")
        if st["error"]:
            print(f"  error: {st['error']}")
        if st["reportPath"]:
            print(f"  report: {st['reportPath']}")
    return 0 if st["status"] != "FAILED" else 1


def _compare(settings: Settings, a: str, b: str, *, as_json: bool = False) -> int:
    from sflow.backtest.quicktest import QuickTestService, compare
    from sflow.backtest.report import clean, fmt_metric

    service = QuickTestService(settings)
    ra, rb = service.result(a), service.result(b)
    for r in (ra, rb):
        if not r.get("metrics"):
            raise SflowError(f"quick test {r['testId']} has no results ({r['status']})")
    rows = compare(ra, rb)
    if as_json:
        table = [{"metric": n, "a": x, "b": y, "diff": d} for n, x, y, d in rows]
        print(json.dumps({"a": a, "b": b, "metrics": clean(table)}, indent=2))
        return 0
    print(f"{'metric':30s} {'A ' + a[:8]:>16s} {'B ' + b[:8]:>16s} {'B - A':>16s}")
    for name, x, y, diff in rows:
        print(
            f"{name:30s} {fmt_metric(name, x):>16s} {fmt_metric(name, y):>16s} "
            f"{fmt_metric(name, diff):>16s}"
        )
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    from sflow.backtest.screen import ScreenService

    settings = _settings(args)
    text = _read(args.file)
    bar = ProgressBar(args.progress or sys.stderr.isatty(), Path(args.file).name)
    out = ScreenService(settings).run(
        text,
        args.file,
        strategy=args.strategy,
        date=args.date,
        universe=args.universe,
        provider_uri=args.provider_uri,
        timeout=args.timeout,
        on_status=bar,
    )
    bar.close()
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True, default=str))
        return 0 if out["status"] == "completed" else 1
    if out["status"] != "completed":
        print(f"sflow: screen {out['runId']} {out['status']}: {out.get('error')}", file=sys.stderr)
        return 1
    rows = out["rows"] if not args.limit else out["rows"][: args.limit]
    print(f"screen {out['runId']}: {out['strategy']} on {out['date']} ({out['universe']})")
    print(f"{'#':>4s}  {'ticker':12s} {'class':6s} {'score':>12s}  reasons")
    for n, r in enumerate(rows, 1):
        score = "" if r["score"] is None else f"{r['score']:.6g}"
        print(
            f"{n:4d}  {r['ticker']:12s} {r['classification']:6s} {score:>12s}  {'; '.join(r['reasons'])}"
        )
    counts = out["counts"]
    print(f"{len(out['rows'])} tickers: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0
