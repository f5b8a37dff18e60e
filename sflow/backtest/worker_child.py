"""The worker process: runs ``module:function`` jobs sent by :mod:`sflow.backtest.worker`.

Protocol: length-prefixed pickles. Parent → child on stdin: ``("run", id, target, kwargs)``,
``("cancel", id)``. Child → parent on the original stdout (fd 1 is then pointed at stderr so
library prints cannot corrupt the channel): ``("ready",)``, ``("progress", id, processed, total,
current, message)``, ``("done", id, value)``, ``("error", id, kind, message, traceback)``,
``("cancelled", id)``. A job function is called as ``fn(progress, **kwargs)``; ``progress(processed,
total, current=None, message=None)`` raises :class:`JobCancelled` once the parent asked to cancel.
When stdin closes (the parent died), the child exits: a worker never outlives its owner.
``SFLOW_WORKER_PRELOAD=module:function`` is called once at start (e.g. to import qlib early).
"""

from __future__ import annotations

import errno
import importlib
import os
import pickle
import queue
import resource
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO

_HEADER = struct.Struct("!I")


class JobCancelled(Exception):
    """Raised inside a job by ``progress(...)`` after the parent asked to cancel it."""


def write_message(stream: BinaryIO, msg: tuple) -> None:
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: BinaryIO) -> tuple | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    return pickle.loads(body) if len(body) == size else None


def noop(progress: Any = None) -> int:
    """A job that does nothing: waiting for it waits for the worker (and its preload) to be up."""
    return os.getpid()


def resolve(target: str) -> Any:
    """``package.module:function`` → the function."""
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


class _Child:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.jobs: queue.Queue[tuple | None] = queue.Queue()
        self.cancelled: set[str] = set()

    def send(self, msg: tuple) -> None:
        with self.lock:
            write_message(self.out, msg)

    def read_loop(self, stdin: BinaryIO) -> None:
        while True:
            msg = read_message(stdin)
            if msg is None:
                os._exit(0)  # parent gone
            if msg[0] == "run":
                self.jobs.put(msg)
            elif msg[0] == "cancel":
                self.cancelled.add(msg[1])

    def run(self, job_id: str, target: str, kwargs: dict) -> bool:
        """Run one job; False when the process should exit afterwards (memory exhausted)."""

        def progress(
            processed: int, total: int, current: str | None = None, message: str | None = None
        ) -> None:
            if job_id in self.cancelled:
                raise JobCancelled(job_id)
            self.send(("progress", job_id, processed, total, current, message))

        try:
            value = resolve(target)(progress, **kwargs)
            self.send(("done", job_id, value))
        except JobCancelled:
            self.send(("cancelled", job_id))
        except MemoryError:
            self.send(
                ("error", job_id, "memory", "the job ran out of memory (worker memory limit)", "")
            )
            return False
        except Exception as exc:
            from sflow.errors import SflowError

            if _out_of_memory(exc):  # under RLIMIT_AS, mmap failures surface as OS/import errors
                self.send(
                    (
                        "error",
                        job_id,
                        "memory",
                        "the job ran out of memory (worker memory limit)",
                        "",
                    )
                )
                return False

            kind = "user" if isinstance(exc, SflowError) else "internal"
            text = str(exc) if kind == "user" else f"{type(exc).__name__}: {exc}"
            self.send(("error", job_id, kind, text, traceback.format_exc()))
        return True


def _out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return (isinstance(exc, OSError) and exc.errno == errno.ENOMEM) or (
        "failed to map segment" in text or "Cannot allocate memory" in text
    )


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    mem_mb = int(os.environ.get("SFLOW_WORKER_MEMORY_MB", "0") or 0)
    if mem_mb > 0:
        limit = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    child = _Child(out)
    threading.Thread(target=child.read_loop, args=(sys.stdin.buffer,), daemon=True).start()
    preload = os.environ.get("SFLOW_WORKER_PRELOAD")
    if preload:
        try:
            resolve(preload)()
        except Exception:  # a failed preload only costs speed; the job will report the real error
            traceback.print_exc()
    child.send(("ready",))
    while True:
        msg = child.jobs.get()
        _, job_id, target, kwargs = msg
        if not child.run(job_id, target, kwargs):
            out.flush()
            os._exit(1)


if __name__ == "__main__":
    main()
