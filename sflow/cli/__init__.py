"""`sflow` command line: one subcommand module per area, each with ``register(subparsers)``.

Every subcommand handler returns an exit code: 0 success, 1 problems found or the operation
failed, 2 usage errors. No traceback reaches the user unless SFLOW_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sflow.errors import SflowError

# Each module here has `register(subparsers)`; the order is the order of `sflow --help`.
COMMAND_MODULES = [
    "sflow.cli.lang",  # check, fmt, export, import
    "sflow.cli.templates",  # templates list/seed/add
    "sflow.cli.db",  # db upgrade/current/downgrade/cleanup/stats
    "sflow.cli.data",  # data demo/import-csv/sample-us/check
    "sflow.cli.generate",  # generate, history
    "sflow.cli.backtest",  # backtest, screen
]


class _Parser(argparse.ArgumentParser):
    def error(
        self, message: str
    ) -> None:  # argparse exits 2 on usage errors; keep that, no usage dump
        self.print_usage(sys.stderr)
        self.exit(2, f"sflow: error: {message}\n")


# Which module defines each command: `sflow check` imports only the language modules, never the
# store or qlib. Commands missing here are found by importing every module (e.g. for --help).
COMMAND_OWNERS = {
    "check": "sflow.cli.lang",
    "fmt": "sflow.cli.lang",
    "export": "sflow.cli.lang",
    "import": "sflow.cli.lang",
    "templates": "sflow.cli.templates",
    "db": "sflow.cli.db",
    "data": "sflow.cli.data",
    "generate": "sflow.cli.generate",
    "history": "sflow.cli.generate",
    "backtest": "sflow.cli.backtest",
    "screen": "sflow.cli.backtest",
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="sflow", description="Trading-strategy logic flows for qlib.")
    parser.add_argument("--version", action="version", version=f"sflow {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    command = next((a for a in (argv or []) if not a.startswith("-")), None)
    owner = COMMAND_OWNERS.get(command or "")
    for name in [owner] if owner in COMMAND_MODULES else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    from sflow import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    return run_guarded(lambda: args.handler(args))


def run_guarded(action) -> int:
    """Run a command handler: user errors become one message, never a traceback."""
    try:
        return int(action() or 0)
    except SflowError as exc:
        print(f"sflow: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: never a traceback for the user
        if os.environ.get("SFLOW_DEBUG"):
            raise
        print(
            f"sflow: internal error: {type(exc).__name__}: {exc} (set SFLOW_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3
