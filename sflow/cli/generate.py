"""`sflow generate` (a strategy → a standalone qlib module) and `sflow history` (stored generations)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sflow.config import Settings
from sflow.errors import SflowError, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate the Python (qlib) module of a strategy")
    p.add_argument("file", metavar="FILE", help="the .sflow file")
    p.add_argument("--strategy", help="the strategy (default: the file's only one)")
    p.add_argument("--test", help="the test block whose settings the module runs")
    p.add_argument("-o", "--output", metavar="OUT", help="write here (default: next to FILE)")
    p.add_argument("--no-store", action="store_true", help="do not record the generation")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _store_options(p)
    p.set_defaults(handler=cmd_generate)

    p = sub.add_parser("history", help="list stored generations, or diff two of them")
    p.add_argument("file", nargs="?", metavar="FILE", help="only generations of this file")
    p.add_argument("--strategy", help="only this strategy of FILE")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help="unified diff of two generations")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    _store_options(p)
    p.set_defaults(handler=cmd_history)


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", metavar="URL", help="SQLAlchemy URL (SFLOW_DATABASE_URL)")
    p.add_argument("--user", help="user id (SFLOW_USER, else the login name)")


def cmd_generate(args: argparse.Namespace) -> int:
    from sflow.cli.lang import library_for_cli, read_source
    from sflow.codegen import generate_for

    text, decode_diags = read_source(args.file)
    if decode_diags:
        raise SflowError(f"{args.file}: {decode_diags[0].message}")
    settings = None if args.no_store else Settings.resolve(args.database, args.user)
    generation = generate_for(
        text, args.file, args.strategy, args.test, library_for_cli(), store=settings
    )
    out = Path(args.output) if args.output else Path(generation.module_path)
    if out.is_dir():
        out = out / Path(generation.module_path).name
    try:
        out.write_text(generation.code, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    validation = generation.validation
    if args.json:
        outcome = {
            "path": str(out),
            "strategy": generation.strategy,
            "test": generation.test,
            "status": validation.status,
            "generation_id": generation.generation_id,
            "duplicate": generation.duplicate,
            "validation": validation.to_json(),
        }
        print(json.dumps(outcome, indent=2))
    else:
        print(out)
        stored = ""
        if generation.generation_id:
            what = "unchanged, generation" if generation.duplicate else "stored as"
            stored = f"; {what} {generation.generation_id[:8]}"
        print(f"{validation.status} ({validation.line_count} lines{stored})", file=sys.stderr)
        for issue in validation.issues:
            print(
                f"{out}:{issue.line}:{issue.col + 1}: {issue.severity} {issue.code} {issue.message}",
                file=sys.stderr,
            )
    return 0 if validation.status in ("VALID", "WARNING") else 1


def cmd_history(args: argparse.Namespace) -> int:
    from sflow.codegen.storage import diff_generations, history

    settings = Settings.resolve(args.database, args.user)
    if args.diff:
        sys.stdout.write(diff_generations(settings, *args.diff))
        return 0
    if args.strategy and not args.file:
        raise UsageError("--strategy needs FILE")
    rows = history(settings, args.file, args.strategy, limit=args.limit)
    if args.json:
        items = [
            {
                "id": r.id,
                "created": r.created.isoformat(),
                "strategy": r.strategy,
                "status": r.status,
                "warning": r.warning,
                "lines": r.line_count,
                "code_hash": r.code_hash,
                "code_version": r.code_version,
            }
            for r in rows
        ]
        print(json.dumps(items, indent=2))
        return 0
    if not rows:
        print("no generations", file=sys.stderr)
        return 0
    print(f"{'id':10} {'created':19} {'strategy':24} {'status':15} {'lines':>5}  hash")
    for r in rows:
        status = r.status + ("*" if r.warning else "")
        created = r.created.strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{r.id[:8]:10} {created:19} {r.strategy[:24]:24} {status:15} {r.line_count or 0:5d}  {r.code_hash[:12]}"
        )
    if any(r.warning for r in rows):
        print("* valid with complexity warnings", file=sys.stderr)
    return 0
