"""`sflow data demo | import-csv | sample-us | check`: qlib data directories for backtests."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from sflow import config
from sflow.errors import SflowError, UsageError


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r} (expected YYYY-MM-DD)") from None


def register(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="make and check qlib data (demo market, CSV import)")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(data))
    commands.required = True

    demo = commands.add_parser("demo", help="write a deterministic synthetic market in qlib format")
    demo.add_argument("dir", help="output directory")
    demo.add_argument("--instruments", type=int, default=300, help="number of stocks (default 300)")
    demo.add_argument(
        "--start", type=_date, default="2020-01-01", help="first day (default 2020-01-01)"
    )
    demo.add_argument(
        "--end", type=_date, default="2022-12-31", help="last day (default 2022-12-31)"
    )
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.set_defaults(handler=cmd_demo)

    imp = commands.add_parser(
        "import-csv", help="convert per-symbol OHLCV CSV files to qlib format"
    )
    imp.add_argument("src", help="directory of SYMBOL.csv files (or one CSV file)")
    imp.add_argument("dir", help="output qlib data directory")
    imp.add_argument(
        "--region", choices=("cn", "us"), default="us", help="trading rules (default us)"
    )
    imp.add_argument(
        "--benchmark", help="use this imported symbol as benchmark (default: SFLOW_EW index)"
    )
    imp.set_defaults(handler=cmd_import_csv)

    sample = commands.add_parser(
        "sample-us", help="real US daily prices (AAPL IBM MSFT GOOG) from bokeh-sampledata"
    )
    sample.add_argument("dir", help="output qlib data directory (CSV copies go to DIR/csv)")
    sample.add_argument(
        "--benchmark", help="use this symbol as benchmark (default: SFLOW_EW index)"
    )
    sample.set_defaults(handler=cmd_sample_us)

    check = commands.add_parser("check", help="check a qlib data directory and summarise it")
    check.add_argument(
        "dir",
        nargs="?",
        help="qlib data directory (default: SFLOW_QLIB_DATA or ~/.qlib/qlib_data/cn_data)",
    )
    check.add_argument(
        "--universe", default=None, help="also check that this universe is non-empty"
    )
    check.add_argument("--start", type=_date, help="period start for --universe")
    check.add_argument("--end", type=_date, help="period end for --universe")
    check.set_defaults(handler=cmd_check)

    for sub in (demo, imp, sample, check):
        sub.add_argument("--json", action="store_true", help="machine-readable output")


def _emit(args: argparse.Namespace, payload: dict[str, Any], lines: list[str]) -> int:
    if args.json:
        print(json.dumps(payload, indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(lines))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sflow.backtest.data.demo import generate_demo_data

    if args.instruments < 10:
        raise UsageError("--instruments must be at least 10")
    if args.start >= args.end:
        raise UsageError("--start must be before --end")
    t0 = time.perf_counter()
    try:
        s = generate_demo_data(args.dir, args.instruments, args.start, args.end, args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise SflowError(f"cannot write {args.dir}: {exc}") from None
    payload = {
        "path": str(s.path),
        "instruments": s.instruments,
        "days": s.days,
        "start": s.start,
        "end": s.end,
        "universes": s.universes,
        "benchmarks": ["SH000300", "SH000905"],
        "seconds": round(time.perf_counter() - t0, 3),
    }
    sizes = ", ".join(f"{k} {v}" for k, v in s.universes.items())
    return _emit(
        args,
        payload,
        [
            f"wrote a demo market to {s.path}: {s.instruments} instruments, {s.days} days {s.start} .. {s.end}",
            f"universes (distinct members): {sizes}; benchmarks SH000300, SH000905",
            f"use it with --provider-uri {s.path} (or SFLOW_QLIB_DATA={s.path})",
        ],
    )


def _import_payload(s: Any) -> dict[str, Any]:
    return {
        "path": str(s.path),
        "symbols": s.symbols,
        "days": s.days,
        "start": s.start,
        "end": s.end,
        "benchmark": s.benchmark,
    }


def _import_lines(s: Any) -> list[str]:
    return [
        f"wrote {len(s.symbols)} symbols ({', '.join(s.symbols)}) to {s.path}: {s.days} days {s.start} .. {s.end}",
        f"benchmark: {s.benchmark}; universe: all",
    ]


def cmd_import_csv(args: argparse.Namespace) -> int:
    from sflow.backtest.data.csv_import import import_csv

    try:
        s = import_csv(args.src, args.dir, region=args.region, benchmark=args.benchmark)
    except OSError as exc:
        raise SflowError(f"cannot write {args.dir}: {exc}") from None
    return _emit(args, _import_payload(s), _import_lines(s))


def cmd_sample_us(args: argparse.Namespace) -> int:
    from sflow.backtest.data.csv_import import sample_us

    try:
        s = sample_us(args.dir, benchmark=args.benchmark)
    except OSError as exc:
        raise SflowError(f"cannot write {args.dir}: {exc}") from None
    return _emit(args, _import_payload(s), _import_lines(s))


def cmd_check(args: argparse.Namespace) -> int:
    from sflow.backtest.data import checks

    root = checks.check_data_dir(config.qlib_data_path(args.dir))
    days = checks.read_calendar(root)
    unis = {
        u: len({s for s, _, _ in checks.universe_periods(root, u)}) for u in checks.universes(root)
    }
    payload: dict[str, Any] = {
        "path": str(root),
        "region": checks.detect_region(root),
        "calendar": {"start": days[0], "end": days[-1], "days": len(days)},
        "last_tradable_date": checks.last_tradable_date(root),
        "universes": unis,
        "fields": checks.list_fields(root, "all") if "all" in unis else [],
        "benchmark": checks.default_benchmark(root),
    }
    lines = [
        f"{root}: qlib day data ({payload['region']})",
        f"calendar {days[0]} .. {days[-1]} ({len(days)} days); last tradable day {payload['last_tradable_date']}",
        "universes: " + ", ".join(f"{k} ({v})" for k, v in unis.items()),
        "fields: " + " ".join(payload["fields"]),
        f"benchmark: {payload['benchmark'] or 'none found'}",
    ]
    if args.universe:
        members = checks.check_universe(root, args.universe, args.start, args.end)
        payload["checked_universe"] = {"name": args.universe, "members": len(members)}
        lines.append(f"universe {args.universe}: {len(members)} members in the period")
    return _emit(args, payload, lines)
