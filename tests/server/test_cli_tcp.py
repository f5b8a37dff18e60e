"""`sflow-lsp --tcp`: bad addresses get one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def serve(address: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sflow.server", "--tcp", address],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_port_in_use() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = serve(f"127.0.0.1:{port}")
    assert proc.returncode == 1
    assert "cannot serve" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:http", "nohost"])
def test_bad_port_is_a_usage_error(address: str) -> None:
    proc = serve(address)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
