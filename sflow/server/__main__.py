"""`sflow-lsp`: the language server (`--stdio`, `--tcp HOST:PORT`) or the CI lint mode (`--check`)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sflow-lsp", description="sflow language server")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--stdio", action="store_true", help="serve over standard input/output (default)"
    )
    mode.add_argument("--tcp", metavar="HOST:PORT", help="serve over TCP")
    mode.add_argument(
        "--check", nargs="+", metavar="FILE", help="print diagnostics and exit (CI mode)"
    )
    parser.add_argument(
        "--format", choices=["text", "json", "sarif"], default="text", help="with --check"
    )
    args = parser.parse_args(argv)
    if args.check:
        from sflow.cli import run_guarded
        from sflow.cli.lang import run_check

        return run_guarded(lambda: run_check(args.check, args.format))
    from sflow.server.app import serve

    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            parser.error("--tcp expects HOST:PORT")
        serve(tcp=(host or "127.0.0.1", int(port)))
    else:
        serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
