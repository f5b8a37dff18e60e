"""`sflow db upgrade | current | downgrade | cleanup | stats`: the database's schema and upkeep."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from sflow import config
from sflow.errors import SflowError, UsageError
from sflow.store import migrate
from sflow.store.database import ensure_database, seed_if_needed
from sflow.store.engine import check_connection, make_engine, safe_url, transaction
from sflow.store.jobs import run_cleanup
from sflow.store.stats import collect_stats


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema, cleanup jobs and monitoring")
    commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=type(db))
    commands.required = True

    upgrade = commands.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    upgrade.set_defaults(handler=cmd_upgrade)

    current = commands.add_parser("current", help="show the schema revision of the database")
    current.add_argument("--json", action="store_true", help="machine-readable output")
    current.set_defaults(handler=cmd_current)

    downgrade = commands.add_parser("downgrade", help="revert migrations (e.g. -1, 0003, base)")
    downgrade.add_argument("revision", help="target revision, -N, or base")
    downgrade.set_defaults(handler=cmd_downgrade)

    cleanup = commands.add_parser("cleanup", help="expire sessions, archive and purge old data")
    cleanup.add_argument("--json", action="store_true", help="machine-readable output")
    cleanup.set_defaults(handler=cmd_cleanup)

    stats = commands.add_parser("stats", help="sessions, quick-test times, validation failures")
    stats.add_argument("--days", type=int, default=7, help="validation window (default: 7)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(handler=cmd_stats)

    for sub in (upgrade, current, downgrade, cleanup, stats):
        sub.add_argument("--database", metavar="URL", help="SQLAlchemy URL (SFLOW_DATABASE_URL)")


def _engine(args: argparse.Namespace) -> Engine:
    engine = make_engine(config.database_url(args.database))
    check_connection(engine)
    return engine


def cmd_upgrade(args: argparse.Namespace) -> int:
    engine = _engine(args)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, args.revision)
    after = migrate.current_revision(engine)
    where = safe_url(engine.url)
    if before == after:
        print(f"{where}: already at {after}")
    else:
        print(f"{where}: upgraded {before or '(empty)'} -> {after}")
    if after == migrate.head_revision():
        report = seed_if_needed(engine)
        if report is not None and report.changed:
            print(
                f"system templates (library {report.library_version}): "
                f"{len(report.inserted)} added, {len(report.updated)} updated, "
                f"{len(report.retired)} retired"
            )
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    engine = _engine(args)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if args.json:
        print(json.dumps({"database": safe_url(engine.url), "current": current, "head": head}))
    else:
        state = "up to date" if current == head else f"head is {head}: run `sflow db upgrade`"
        print(f"{safe_url(engine.url)}: {current or '(not initialised)'} ({state})")
    return 0


def cmd_downgrade(args: argparse.Namespace) -> int:
    engine = _engine(args)
    known = {revision for revision, _ in migrate.revisions()}
    target = args.revision
    if target != "base" and target not in known and not target.lstrip("-").isdigit():
        raise UsageError(f"unknown revision {target!r} (known: base, {', '.join(sorted(known))})")
    before = migrate.current_revision(engine)
    if before is None:
        raise SflowError(f"{safe_url(engine.url)} has no sflow schema to downgrade")
    migrate.downgrade(engine, target)
    print(
        f"{safe_url(engine.url)}: downgraded {before} -> {migrate.current_revision(engine) or 'base'}"
    )
    return 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    engine = ensure_database(args.database, seed=False)
    with transaction(engine) as session:
        report = run_cleanup(session).as_dict()
    if args.json:
        print(json.dumps(report))
    else:
        for name, count in report.items():
            print(f"{name.replace('_', ' '):28} {count}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    engine = ensure_database(args.database, seed=False)
    with transaction(engine) as session:
        stats = collect_stats(session, window=timedelta(days=args.days))
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    _print_stats(stats)
    return 0


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _print_stats(stats: dict[str, Any]) -> None:
    sessions = stats["active_sessions"]
    print(f"active sessions: {sessions['total']}")
    for user, count in sessions["by_user"].items():
        print(f"  {user:30} {count}")
    tests = stats["quick_tests"]
    times = tests["execution_time_s"]
    states = ", ".join(f"{k} {v}" for k, v in sorted(tests["by_status"].items())) or "none"
    print(f"quick tests: {states}; stuck {tests['stuck']}")
    print(
        f"  execution time over {times['count']} completed: p50 {_seconds(times['p50'])}"
        f"  p95 {_seconds(times['p95'])}  p99 {_seconds(times['p99'])}"
    )
    validation = stats["code_validation"]
    print(f"code validation, last {validation['window_days']} days:")
    for status, count in sorted(validation["by_status"].items()):
        print(f"  {status:30} {count}")
    print(f"  failure rate {validation['failure_rate']:.1%}")
    for alert in stats["alerts"]:
        print(f"ALERT: {alert}")
