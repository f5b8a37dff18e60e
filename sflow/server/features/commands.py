"""`workspace/executeCommand`: code generation, quick tests, screens, sessions and history.

Long commands run in threads with work-done progress and honour both `$/cancelRequest` and the
progress cancel button. Code generation, quick tests and screens call `sflow.codegen` and the
services of `sflow.backtest` (looked up lazily: if a module is missing the command fails with a
clear "not available yet" error, never a fake result).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.exceptions import JsonRpcException

from sflow.dsl_grammar import decode


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but could not be done."""

    CODE = -32803
    MESSAGE = "Request failed"


class Cancelled(Exception):
    """The user cancelled the command (progress button or $/cancelRequest)."""


def not_available(what: str) -> RequestFailed:
    return RequestFailed(f"{what} is not available yet in this version of sflow")


# ---- adapters to modules that are still landing ---------------------------------------------


def codegen_entry() -> Callable[..., Any] | None:
    """`sflow.codegen.generator.generate_for(text, source_path, strategy, test, library, *, store)`."""
    try:
        module = importlib.import_module("sflow.codegen.generator")
    except Exception:
        return None
    return getattr(module, "generate_for", None)


def codegen_can_store() -> bool:
    """Whether code generation records its results itself (`sflow.codegen.storage`)."""
    try:
        return importlib.util.find_spec("sflow.codegen.storage") is not None
    except Exception:
        return False


def quick_test_entry() -> Callable[..., Any] | None:
    """`sflow.backtest.quicktest.run_quick_test` (blocking; run it in a thread)."""
    try:
        module = importlib.import_module("sflow.backtest.quicktest")
    except Exception:
        return None
    return getattr(module, "run_quick_test", None)


def screen_entry() -> Callable[..., Any] | None:
    """`sflow.backtest.screen.run_screen` (blocking; run it in a thread)."""
    try:
        module = importlib.import_module("sflow.backtest.screen")
    except Exception:
        return None
    return getattr(module, "run_screen", None)


# ---- progress and cancellation --------------------------------------------------------------


class Job:
    """Work-done progress for one command, with a cancel flag the worker thread polls."""

    def __init__(self, ls, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self.cancel_event = threading.Event()
        self.loop = asyncio.get_running_loop()

    async def begin(self) -> None:
        caps = self.ls.client_capabilities.window
        if caps is None or not caps.work_done_progress:
            return
        token = f"sflow-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), 5)
        except Exception:
            return
        self.token = token
        self.ls.work_done_progress.begin(
            token, T.WorkDoneProgressBegin(title=self.title, cancellable=True, percentage=0)
        )

    @property
    def cancelled(self) -> bool:
        if self.cancel_event.is_set():
            return True
        fut = self.ls.work_done_progress.tokens.get(self.token) if self.token else None
        return bool(fut is not None and fut.cancelled())

    def report(self, message: str, percent: float | None = None) -> None:
        """Thread-safe progress report; raises Cancelled when the user cancelled."""
        if self.cancelled:
            raise Cancelled()
        if self.token is None:
            return
        value = T.WorkDoneProgressReport(
            message=message, percentage=None if percent is None else int(percent), cancellable=True
        )
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, value)

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, T.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)

    async def run(self, work: Callable[[Job], Any]) -> Any:
        await self.begin()
        try:
            result = await asyncio.to_thread(work, self)
        except asyncio.CancelledError:
            self.cancel_event.set()
            self.end("cancelled")
            raise
        except Cancelled:
            self.end("cancelled")
            raise RequestFailed(f"{self.title}: cancelled") from None
        except Exception:
            self.end("failed")
            raise
        self.end("done")
        return result


def step_delay() -> float:
    """A test hook: seconds to sleep per step of long commands (SFLOW_LSP_STEP_DELAY)."""
    try:
        return float(os.environ.get("SFLOW_LSP_STEP_DELAY", "0"))
    except ValueError:
        return 0.0


def workspace_files(roots: list[Path], limit: int) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [
                d
                for d in dirnames
                if not d.startswith(".") and d not in ("node_modules", "__pycache__")
            ]
            for name in sorted(filenames):
                if name.endswith(".sflow"):
                    out.append(Path(dirpath) / name)
                    if len(out) >= limit:
                        return out
    return out


def read_source(path: Path) -> str:
    text, _ = decode(path.read_bytes())
    return text


def check_files(job: Job, files: list[Path], check: Callable[[str], Any]) -> dict[str, Any]:
    totals = {"files": 0, "errors": 0, "warnings": 0, "results": []}
    for i, path in enumerate(files):
        job.report(path.name, 100 * i / max(len(files), 1))
        if step_delay():
            time.sleep(step_delay())
        try:
            result = check(read_source(path))
        except OSError:
            continue
        errors = sum(1 for d in result.diagnostics if d.severity == 1)
        warnings = sum(1 for d in result.diagnostics if d.severity == 2)
        totals["files"] += 1
        totals["errors"] += errors
        totals["warnings"] += warnings
        totals["results"].append({"path": str(path), "errors": errors, "warnings": warnings})
    job.report("done", 100)
    return totals
