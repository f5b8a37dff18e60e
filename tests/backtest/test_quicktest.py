"""The quick-test service on the demo market: every example, states, progress, failures, CLI.

Real qlib in a real worker process, a real SQLite database; one warm service is shared by the
tests that can share it (a cold worker costs seconds).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("qlib")

from sflow.backtest.metrics import METRIC_NAMES
from sflow.backtest.quicktest import SUMMARY_KEYS, QuickTestOptions, QuickTestService
from sflow.config import Settings
from sflow.errors import SflowError
from sflow.store import (
    QuickTestRepository,
    StrategyInstanceRepository,
    ensure_database,
    transaction,
)
from sflow.store.base import utcnow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_STRATEGIES = [
    ("golden_cross.sflow", "golden_cross"),
    ("momentum_topk.sflow", "momentum_topk"),
    ("momentum_topk.sflow", "momentum_pure"),
    ("bollinger_breakout.sflow", "bollinger_breakout"),
    ("macd_trend.sflow", "macd_trend"),
    ("rsi_reversion.sflow", "rsi_reversion"),
]
REASONS = {"signal", "stop_loss", "take_profit", "trailing_stop", "open"}
ODD_FIELD = """
strategy odd {
    universe  csi300
    benchmark SH000300
    m    = sma($turnover, period=5)
    buy  = signal(m > 0, score=m)
    book = topk(buy, k=5, n_drop=1)
}
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("sflow_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SFLOW_HOME", str(path))
        mp.delenv("SFLOW_DATABASE_URL", raising=False)
        yield path


@pytest.fixture(scope="module")
def settings(home: Path, demo_data: Path) -> Settings:
    return Settings(f"sqlite:///{home / 'sflow.db'}", "tester", demo_data)


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[QuickTestService]:
    with QuickTestService(settings, eager=True) as svc:
        yield svc


def _row(settings: Settings, test_id: str):
    with transaction(ensure_database(settings.database_url)) as s:
        row = QuickTestRepository(s, settings.user_id).get(test_id)
        s.expunge(row)
        return row


def _text(name: str) -> str:
    return (EXAMPLES / name).read_text()


def _wait_running(service: QuickTestService, test_id: str, steps: int = 3) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = service.status(test_id)
        if st["status"] == "RUNNING" and (st["processed"] or 0) >= steps:
            return
        assert st["status"] in ("PENDING", "RUNNING"), st
        time.sleep(0.05)
    raise AssertionError("the test never started")


def test_every_example_runs_end_to_end(service: QuickTestService, settings: Settings) -> None:
    statuses: dict[str, list[dict]] = {}
    ids = {}
    for source, strategy in EXAMPLE_STRATEGIES:
        t0 = time.perf_counter()
        ids[strategy] = service.submit(
            _text(source),
            str(EXAMPLES / source),
            strategy=strategy,
            on_status=statuses.setdefault(strategy, []).append,
        )
        assert time.perf_counter() - t0 < 2.0  # returns at once, the test runs in the worker
    for strategy, test_id in ids.items():
        st = service.wait(test_id, 180)
        assert st["status"] == "COMPLETED", (strategy, st["error"])
        result = service.result(test_id)
        assert result["strategy"] == strategy and result["testId"] == test_id
        cfg = result["config"]
        for key in (
            "start",
            "end",
            "universe",
            "benchmark",
            "open_cost",
            "close_cost",
            "deal_price",
        ):
            assert cfg[key] is not None, key
        assert set(result["metrics"]) == set(METRIC_NAMES)
        days = int(result["metrics"]["days"])
        assert all(
            len(result["series"][k]) == days for k in ("dates", "equity", "benchmark", "drawdown")
        )
        assert (
            result["series"]["dates"][0] == cfg["start"]
            and result["series"]["dates"][-1] == cfg["end"]
        )
        assert {t["reason"] for t in result["trades"]} <= REASONS
        assert set(st["metrics"]) == set(SUMMARY_KEYS)
        assert (
            Path(st["reportPath"]).is_file()
            and Path(st["reportPath"]).with_suffix(".json").is_file()
        )
        page = Path(st["reportPath"]).read_text()
        assert "annualized_return" in page and not re.search(r"https?://", page)
        row = _row(settings, test_id)
        assert row.progress_percent == 100.0 and row.processed_count == row.total_count == days
        assert (
            row.test_config["start"] == cfg["start"]
            and row.logic_flow_snapshot["strategy"] == strategy
        )
        running = [s for s in statuses[strategy] if s["status"] == "RUNNING" and s["total"]]
        assert running[-1]["processed"] == days and running[-1]["current"] == cfg["end"]
        assert statuses[strategy][-1]["status"] == "COMPLETED"
        assert statuses[strategy][0]["status"] == "PENDING"
    # stops fire somewhere in the examples with stops, and their trades say so
    reasons = {t["reason"] for sid in ids.values() for t in service.result(sid)["trades"]}
    assert {"signal", "open"} <= reasons and reasons & {"stop_loss", "take_profit", "trailing_stop"}


def test_options_override_the_test_block(service: QuickTestService) -> None:
    opts = QuickTestOptions(period="3M", universe="csi500", end="2021-11-30")
    test_id = service.submit(
        _text("momentum_topk.sflow"),
        str(EXAMPLES / "momentum_topk.sflow"),
        strategy="momentum_pure",
        options=opts,
    )
    assert service.wait(test_id, 120)["status"] == "COMPLETED"
    cfg = service.result(test_id)["config"]
    assert (cfg["end"], cfg["universe"], cfg["period"]) == ("2021-11-30", "csi500", "3M")
    assert "2021-08-31" <= cfg["start"] <= "2021-09-02"  # the first trading day after 08-30


def test_cancel_from_the_service_and_from_the_database(
    service: QuickTestService, settings: Settings
) -> None:
    src = str(EXAMPLES / "golden_cross.sflow")
    first = service.submit(_text("golden_cross.sflow"), src)
    _wait_running(service, first)
    assert service.cancel(first)
    assert service.wait(first, 30)["status"] == "CANCELLED"
    second = service.submit(_text("golden_cross.sflow"), src)
    _wait_running(service, second)
    with transaction(ensure_database(settings.database_url)) as s:  # as the server's command does
        assert QuickTestRepository(s, settings.user_id).cancel(second)
    t0 = time.monotonic()
    assert service.wait(second, 30)["status"] == "CANCELLED"
    assert time.monotonic() - t0 < 10
    assert service._tracked[second].handle.state == "CANCELLED"  # the job itself stopped
    assert not service.cancel(second)  # already finished


def test_failures_are_clear_and_final(
    service: QuickTestService, demo_data: Path, tmp_path: Path
) -> None:
    src = str(EXAMPLES / "momentum_topk.sflow")
    text = _text("momentum_topk.sflow")
    bad_dir = service.submit(
        text,
        src,
        strategy="momentum_pure",
        options=QuickTestOptions(provider_uri=str(tmp_path / "nope")),
    )
    unknown_universe = service.submit(
        text, src, strategy="momentum_pure", options=QuickTestOptions(universe="csi3000")
    )
    empty = tmp_path / "data"
    shutil.copytree(demo_data, empty)
    (empty / "instruments" / "empty.txt").write_text("")
    empty_universe = service.submit(
        text,
        src,
        strategy="momentum_pure",
        options=QuickTestOptions(provider_uri=str(empty), universe="empty"),
    )
    odd = service.submit(
        ODD_FIELD, str(tmp_path / "odd.sflow"), options=QuickTestOptions(period="1M")
    )
    expected = {
        bad_dir: "does not exist",
        unknown_universe: "unknown universe 'csi3000'",
        empty_universe: "universe 'empty' has no instruments",
        odd: "field $turnover is not in the data",
    }
    for test_id, message in expected.items():
        st = service.wait(test_id, 120)
        assert st["status"] == "FAILED" and message in st["error"], st
        assert "Traceback" not in st["error"]
    with pytest.raises(SflowError, match="no code generated"):
        service.submit("strategy broken {\n  buy = signal(\n}\n", str(tmp_path / "b.sflow"))


def test_timeout_and_worker_crash_end_failed(settings: Settings) -> None:
    src = str(EXAMPLES / "golden_cross.sflow")
    text = _text("golden_cross.sflow")
    with QuickTestService(settings, eager=True) as svc:
        svc.worker().wait_ready(60)
        crash = svc.submit(text, src)
        _wait_running(svc, crash)
        os.kill(svc.worker().pid, signal.SIGKILL)  # e.g. the OOM killer
        st = svc.wait(crash, 30)
        assert st["status"] == "FAILED" and "worker process died" in st["error"], st
        slow = svc.submit(text, src, options=QuickTestOptions(timeout=1.0))
        st = svc.wait(slow, 60)
        assert st["status"] == "FAILED" and "timed out after 1 s" in st["error"], st


def test_stuck_tests_are_swept(service: QuickTestService, settings: Settings) -> None:
    import sqlalchemy as sa

    from sflow.store import QuickTest

    with transaction(ensure_database(settings.database_url)) as s:
        instance, _ = StrategyInstanceRepository(s, settings.user_id).get_or_create(
            "/nowhere/orphan.sflow", "orphan", logic_flow={}
        )
        repo = QuickTestRepository(s, settings.user_id)
        row = repo.create(instance.id, test_config={}, logic_flow_snapshot={}, test_name="orphan")
        repo.start(row.id)
        old = utcnow() - timedelta(minutes=30)
        s.execute(
            sa.update(QuickTest).where(QuickTest.id == row.id).values(last_progress_update=old)
        )
        orphan = row.id
        never = repo.create(instance.id, test_config={}, logic_flow_snapshot={}).id
        s.execute(
            sa.update(QuickTest)
            .where(QuickTest.id == never)
            .values(created_at=old - timedelta(hours=1))
        )
        fresh = repo.create(instance.id, test_config={}, logic_flow_snapshot={}).id
    assert sorted(service.mark_stuck()) == sorted([orphan, never])
    assert service.status(fresh)["status"] == "PENDING"
    assert "never started" in service.status(never)["error"]
    service.cancel(fresh)
    st = service.status(orphan)
    assert st["status"] == "FAILED" and "stuck" in st["error"]
    assert service.mark_stuck() == []


def test_cli_backtest_json_history_and_compare(
    service: QuickTestService,
    settings: Settings,
    demo_data: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = service.submit(
        _text("momentum_topk.sflow"),
        str(EXAMPLES / "momentum_topk.sflow"),
        strategy="momentum_pure",
        options=QuickTestOptions(period="3M"),
    )
    env = {
        **os.environ,
        "SFLOW_HOME": str(home),
        "SFLOW_USER": "tester",
        "SFLOW_QLIB_DATA": "/nowhere",
    }
    env.pop("SFLOW_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "sflow.cli", "backtest", str(EXAMPLES / "momentum_topk.sflow")]
    cmd += [
        "--strategy",
        "momentum_pure",
        "--period",
        "1M",
        "--provider-uri",
        str(demo_data),
        "--json",
    ]
    report = home / "out" / "r.html"
    proc = subprocess.run(
        [*cmd, "--report", str(report)], capture_output=True, text=True, env=env, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "COMPLETED" and data["strategy"] == "momentum_pure"
    cfg = data["config"]
    assert cfg["period"] == "1M" and cfg["end"] == "2021-12-31" and cfg["start"] == "2021-12-01"
    assert (
        cfg["open_cost"] == 0.0005 and cfg["close_cost"] == 0.0015 and cfg["deal_price"] == "close"
    )
    assert set(data["metrics"]) == set(METRIC_NAMES) and report.is_file()
    assert "Traceback" not in proc.stderr

    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sflow.cli",
            "backtest",
            str(EXAMPLES / "momentum_topk.sflow"),
            "--strategy",
            "momentum_pure",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (
        bad.returncode == 1
        and "/nowhere does not exist" in bad.stderr
        and "Traceback" not in bad.stderr
    )

    from sflow.cli import main

    os.environ["SFLOW_USER"] = "tester"
    try:
        svc = QuickTestService(settings)
        rows = svc.history(str(EXAMPLES / "momentum_topk.sflow"), "momentum_pure")
        done = [r for r in rows if r["status"] == "COMPLETED"]
        assert done[0]["testId"] == data["testId"] and done[0]["metrics"]["trade_count"] > 0
        assert main(["backtest", "--history", str(EXAMPLES / "momentum_topk.sflow")]) == 0
        assert service.wait(other, 120)["status"] == "COMPLETED"
        a, b = done[0]["testId"], other
        capsys.readouterr()
        assert main(["backtest", "--compare", a, b, "--json"]) == 0
        table = {r["metric"]: r for r in json.loads(capsys.readouterr().out)["metrics"]}
        ra, rb = svc.result(a)["metrics"], svc.result(b)["metrics"]
        assert table["trade_count"]["diff"] == rb["trade_count"] - ra["trade_count"]
        assert main(["backtest", "--compare", a, b]) == 0
        assert "annualized_return" in capsys.readouterr().out
        assert main(["backtest", "--status", a]) == 0
        assert "COMPLETED 100.0%" in capsys.readouterr().out
        assert main(["backtest", "--status", "no-such-test"]) == 1
        assert "no quick test 'no-such-test'" in capsys.readouterr().err
    finally:
        os.environ.pop("SFLOW_USER", None)


def test_service_modules_import_no_qlib_pandas_numpy() -> None:
    code = (
        "import sys, sflow.backtest.quicktest, sflow.backtest.screen, sflow.backtest.report, "
        "sflow.backtest.jobs, sflow.backtest.quicktest_config, sflow.cli.backtest\n"
        "from sflow.backtest import run_quick_test, run_screen\n"
        "heavy = ('qlib', 'pandas', 'numpy', 'pygls', 'lsprotocol')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


class _Stop(Exception):
    pass


def test_blocking_entry_of_the_language_server(settings: Settings, demo_data: Path) -> None:
    from sflow.backtest.quicktest import close_shared_services, run_quick_test

    src = str(EXAMPLES / "momentum_topk.sflow")
    common = {
        "database_url": settings.database_url,
        "user_id": settings.user_id,
        "qlib_data": str(demo_data),
    }
    percents: list[float] = []
    try:
        out = run_quick_test(
            _text("momentum_topk.sflow"),
            src,
            "momentum_pure",
            None,
            options={"period": "1M", "openCost": 0.001},
            progress=lambda percent=None, message=None: percents.append(percent),
            **common,
        )
        assert out["status"] == "COMPLETED" and Path(out["report_path"]).is_file(), out
        assert set(out["metrics_summary"]) == set(SUMMARY_KEYS)
        assert out["test_result"]["config"]["open_cost"] == 0.001
        assert out["test_result"]["config"]["period"] == "1M" and percents[-1] == 100.0

        seen: list[dict] = []

        def stop(percent=None, message=None):
            if percent and percent > 10:
                raise _Stop()

        with pytest.raises(_Stop):
            run_quick_test(
                _text("golden_cross.sflow"),
                str(EXAMPLES / "golden_cross.sflow"),
                progress=stop,
                on_status=seen.append,
                **common,
            )
        test_id = seen[0]["testId"]
        svc = QuickTestService(settings)
        assert svc.wait(test_id, 30)["status"] == "CANCELLED"
    finally:
        close_shared_services()


def test_warm_reruns_are_identical(service: QuickTestService) -> None:
    src = str(EXAMPLES / "golden_cross.sflow")
    ids = [service.submit(_text("golden_cross.sflow"), src) for _ in range(2)]
    first, again = (service.result(i) for i in ids if service.wait(i, 120))
    assert first["status"] == again["status"] == "COMPLETED"
    assert again["metrics"] == first["metrics"] and again["trades"] == first["trades"]
    assert again["timings"]["total"] < first["timings"]["total"] + 1.0


def test_memory_limit_ends_failed(settings: Settings) -> None:
    src = str(EXAMPLES / "momentum_topk.sflow")
    with QuickTestService(settings, memory_mb=200) as svc:  # too small for qlib to import
        test_id = svc.submit(_text("momentum_topk.sflow"), src, strategy="momentum_pure")
        st = svc.wait(test_id, 120)
    assert st["status"] == "FAILED" and "memory" in st["error"], st
