"""One worker child process: start (own session, memory limit, pinned hash seed) and messages.

The parent side of the protocol in :mod:`sflow.backtest.worker_child`: a buffered, select-based
reader (so the dispatcher can watch deadlines and cancels while waiting) and a group kill.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile

from sflow.backtest.worker_child import _HEADER, write_message


class ChildProcess:
    """One child process and a buffered, select-based reader of its messages."""

    def __init__(self, memory_mb: int | None, env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        child_env = {
            **os.environ,
            "PYTHONHASHSEED": "0",  # qlib's Position iterates a set: pin it (see bench/handwritten_topk.py)
            "TQDM_DISABLE": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p and os.path.isdir(p)),
            "SFLOW_WORKER_MEMORY_MB": str(memory_mb or 0),
            **env,
        }
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "sflow.backtest.worker_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=child_env,
            start_new_session=True,
        )
        self.fd = self.popen.stdout.fileno()  # type: ignore[union-attr]
        self.buf = bytearray()
        self.log_offset = 0

    def send(self, msg: tuple) -> bool:
        try:
            write_message(self.popen.stdin, msg)  # type: ignore[arg-type]
            return True
        except (BrokenPipeError, OSError):
            return False

    def poll(self, timeout: float) -> tuple | bool | None:
        """A message, None if nothing arrived in ``timeout``, False at end of stream (child gone)."""
        msg = self._take()
        if msg is not None:
            return msg
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return None
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            return False
        self.buf += chunk
        msg = self._take()
        return msg

    def _take(self) -> tuple | None:
        if len(self.buf) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack(self.buf[: _HEADER.size])
        if len(self.buf) < _HEADER.size + size:
            return None
        body = bytes(self.buf[_HEADER.size : _HEADER.size + size])
        del self.buf[: _HEADER.size + size]
        return pickle.loads(body)

    def stderr_tail(self, limit: int = 2000) -> str:
        with contextlib.suppress(OSError):
            self.log.seek(self.log_offset)
            return self.log.read().decode(errors="replace")[-limit:].strip()
        return ""

    def kill(self) -> int | None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.popen.wait(5)
        self.close_pipes()
        return self.popen.returncode

    def close_pipes(self) -> None:
        for s in (self.popen.stdin, self.popen.stdout, self.log):
            with contextlib.suppress(Exception):
                s.close()  # type: ignore[union-attr]
