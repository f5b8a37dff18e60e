"""Job functions the worker tests run in the child process (imported there by module name)."""

from __future__ import annotations

import os
import time
from typing import Any


def count(progress: Any, n: int = 5, delay: float = 0.0) -> dict[str, Any]:
    for i in range(1, n + 1):
        time.sleep(delay)
        progress(i, n, f"step-{i}")
    return {"n": n, "pid": os.getpid()}


def sleep_forever(progress: Any) -> None:
    while True:  # never reports progress: only a kill ends it
        time.sleep(0.05)


def crash(progress: Any, code: int = 13) -> None:
    progress(1, 2, "about to crash")
    os._exit(code)


def allocate(progress: Any, megabytes: int) -> int:
    import numpy as np

    block = np.ones(megabytes * 1024 * 1024 // 8)
    return int(block.size)


def fail(progress: Any) -> None:
    raise ValueError("boom")


def pid(progress: Any) -> int:
    return os.getpid()


def mark() -> None:
    """A preload: leaves a file naming the process."""
    with open(os.environ["SFLOW_TEST_MARKER"], "w") as f:
        f.write(str(os.getpid()))
