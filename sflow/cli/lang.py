"""`sflow check | fmt | export | import`: the language commands (no qlib, no database needed)."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

from sflow import config
from sflow.cli.output import FORMATTERS
from sflow.dsl_grammar import decode, format_source
from sflow.dsl_grammar.diagnostics import Diagnostic, Severity
from sflow.errors import SflowError, UsageError
from sflow.flow.logic_json import document_to_json, json_to_text
from sflow.flow.templates import TemplateLibrary, system_library
from sflow.flow.validate import check_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="report diagnostics (exit 1 on errors)")
    p.add_argument("files", nargs="+", metavar="FILE", help=".sflow files ('-' for standard input)")
    p.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    p.add_argument("--no-warnings", action="store_true", help="report errors only")
    p.add_argument("--offline", action="store_true", help="built-in templates only (no database)")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("fmt", help="format files in place (canonical layout)")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to format; '-' = stdin → stdout")
    p.add_argument(
        "--check", action="store_true", help="only report files that would change (exit 1)"
    )
    p.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    p.set_defaults(handler=cmd_fmt)

    p = sub.add_parser("export", help="print the logic-flow JSON of a file's strategies")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--strategy", help="only this strategy (default: all; one prints an object)")
    p.add_argument("--positions", action="store_true", help="include source spans of nodes")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="turn logic-flow JSON back into formatted .sflow text")
    p.add_argument(
        "file", metavar="FILE.json", help="a logic flow object, or a list of them ('-' = stdin)"
    )
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(handler=cmd_import)


def library_for_cli(offline: bool = False) -> TemplateLibrary:
    """System templates plus the user's own templates when a database is configured
    (SFLOW_DATABASE_URL) or the default SQLite file exists; otherwise (or `--offline`) the
    package's built-in library, without importing the store at all."""
    url = os.environ.get("SFLOW_DATABASE_URL")
    if offline or (not url and not (config.data_dir() / "sflow.db").exists()):
        return system_library()
    try:
        from sflow.store.database import ensure_database
        from sflow.store.engine import session_factory
        from sflow.store.repositories.templates import load_template_records

        engine = ensure_database(url)
        with session_factory(engine)() as session:
            records = load_template_records(session, config.user_id())
        return TemplateLibrary.from_records(records)
    except Exception as exc:  # a database problem must not stop a lint run
        print(
            f"sflow: warning: cannot read templates from the database ({exc}); "
            "using the built-in library",
            file=sys.stderr,
        )
        return system_library()


def read_source(path: str) -> tuple[str, list[Diagnostic]]:
    if path == "-":
        return decode(sys.stdin.buffer.read())
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    return decode(data)


def check_paths(paths: list[str], library: TemplateLibrary) -> list[tuple[str, list[Diagnostic]]]:
    results = []
    for path in paths:
        text, decode_diags = read_source(path)
        result = check_text(text, library)
        results.append(("<stdin>" if path == "-" else path, [*decode_diags, *result.diagnostics]))
    return results


def run_check(
    paths: list[str], fmt: str = "text", errors_only: bool = False, offline: bool = False
) -> int:
    """Shared by `sflow check` and `sflow-lsp --check`."""
    results = check_paths(paths, library_for_cli(offline))
    if errors_only:
        results = [(p, [d for d in ds if d.severity == Severity.ERROR]) for p, ds in results]
    output = FORMATTERS[fmt](results)
    if output:
        print(output)
    n_errors = sum(d.severity == Severity.ERROR for _, ds in results for d in ds)
    n_warnings = sum(d.severity == Severity.WARNING for _, ds in results for d in ds)
    if fmt == "text":
        files = len(results)
        print(
            f"{files} file{'s' * (files != 1)} checked: {n_errors} error{'s' * (n_errors != 1)}, "
            f"{n_warnings} warning{'s' * (n_warnings != 1)}",
            file=sys.stderr,
        )
    return 1 if n_errors else 0


def cmd_check(args: argparse.Namespace) -> int:
    return run_check(args.files, args.format, args.no_warnings, args.offline)


def cmd_fmt(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        text, decode_diags = read_source(path)
        formatted = None if decode_diags else format_source(text)
        if formatted is None:
            result = check_text(text, system_library())
            problems = decode_diags + [d for d in result.diagnostics if d.code.startswith("SF1")]
            print(FORMATTERS["text"]([(path, problems)]), file=sys.stderr)
            print(f"sflow: {path}: not formatted (fix the syntax errors first)", file=sys.stderr)
            status = 1
            continue
        if path == "-":
            sys.stdout.write(formatted)
            continue
        if formatted == text:
            continue
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(keepends=True), formatted.splitlines(keepends=True), path, path
                )
            )
        if args.check or args.diff:
            print(f"would reformat {path}", file=sys.stderr)
            status = 1
            continue
        Path(path).write_bytes(formatted.encode("utf-8"))
        print(f"reformatted {path}", file=sys.stderr)
    return status


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_export(args: argparse.Namespace) -> int:
    text, decode_diags = read_source(args.file)
    library = library_for_cli()
    result = check_text(text, library)
    syntax = decode_diags + [d for d in result.diagnostics if d.code.startswith("SF1")]
    if syntax:
        print(FORMATTERS["text"]([(args.file, syntax)]), file=sys.stderr)
        raise SflowError(f"{args.file}: cannot export a file with syntax errors")
    flows = document_to_json(result.document, library, positions=args.positions)
    if args.strategy:
        flows = [f for f in flows if f["strategy"] == args.strategy]
        if not flows:
            raise UsageError(f"{args.file}: no strategy named `{args.strategy}`")
    if not flows:
        raise SflowError(f"{args.file}: no strategy to export")
    data = flows[0] if len(flows) == 1 else flows
    _write(json.dumps(data, indent=2, ensure_ascii=False) + "\n", args.output)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    raw, _ = read_source(args.file)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SflowError(
            f"{args.file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    library = library_for_cli()
    text = json_to_text(data, library)
    result = check_text(text, library)
    _write(text, args.output)
    errors = [d for d in result.diagnostics if d.severity == Severity.ERROR]
    if errors:
        print(FORMATTERS["text"]([(args.output or "<output>", errors)]), file=sys.stderr)
        return 1
    return 0
