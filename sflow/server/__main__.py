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
    tcp = None
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            parser.error("--tcp expects HOST:PORT with a port between 1 and 65535")
        tcp = (host or "127.0.0.1", int(port))
    from sflow.server.app import serve

    try:
        serve(tcp=tcp)
    except OSError as exc:  # port in use, unknown host…: one line, not a traceback
        where = f" on {args.tcp}" if args.tcp else ""
        print(f"sflow-lsp: cannot serve{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
