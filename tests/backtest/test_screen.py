"""Screens (seed 003) on the demo market: per-ticker rows, atomic progress, ranking, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("qlib")

from sflow.backtest.data import checks
from sflow.backtest.screen import ScreenService
from sflow.backtest.worker import QLIB_PRELOAD, Worker
from sflow.config import Settings
from sflow.store import StrategyRunRepository, ensure_database, transaction

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "examples" / "momentum_topk.sflow"


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Iterator[ScreenService]:
    home = tmp_path_factory.mktemp("screen_home")
    with pytest.MonkeyPatch.context() as mp, Worker(warm=True, preload=QLIB_PRELOAD) as worker:
        mp.setenv("SFLOW_HOME", str(home))
        settings = Settings(f"sqlite:///{home / 'sflow.db'}", "screener", demo_data)
        yield ScreenService(settings, worker=worker)


def test_screen_writes_rows_and_progress(screens: ScreenService, demo_data: Path) -> None:
    seen: list[dict] = []
    out = screens.run(
        SOURCE.read_text(),
        str(SOURCE),
        strategy="momentum_topk",
        date="2021-06-15",
        on_status=seen.append,
    )
    assert out["status"] == "completed" and out["date"] == "2021-06-15", out["error"]
    members = {
        s
        for s, a, b in checks.universe_periods(demo_data, "csi300")
        if a <= "2021-06-15" <= b and s != "SH000300"
    }
    rows = out["rows"]
    assert {r["ticker"] for r in rows} == members
    buys = [r for r in rows if r["classification"] == "BUY"]
    assert buys and all(r["passed"] and r["score"] > 0 for r in buys)  # buy = roc(20) > 0
    assert all(
        not r["passed"] and r["score"] is None for r in rows if r["classification"] == "NONE"
    )
    assert rows[: len(buys)] == sorted(buys, key=lambda r: -r["score"])  # ranked, BUY first
    assert out["counts"]["BUY"] == len(buys)
    assert seen[-1]["processed"] == seen[-1]["total"] == len(members)

    settings = screens.settings
    with transaction(ensure_database(settings.database_url)) as s:
        runs = StrategyRunRepository(s, settings.user_id)
        run = runs.get(out["runId"])
        assert run.execution_status == "completed" and run.progress_percent == 100.0
        assert run.processed_count == run.total_count == len(members) and run.completed_at
        stored = runs.results(out["runId"])
        timeline = runs.timeline(out["runId"])
        assert [p.sequence_number for p in timeline] == list(range(1, len(members) + 1))
        by_ticker = {r.ticker: r for r in stored}
        for row in rows:
            db = by_ticker[row["ticker"]]
            assert (db.passed, db.classification) == (row["passed"], row["classification"])
            assert db.score == (pytest.approx(row["score"]) if row["score"] is not None else None)
            assert json.loads(db.reasons) == row["reasons"]
            assert set(json.loads(db.metrics_json)) == {"buy.condition", "buy.score", "close"}
    status = screens.status(out["runId"])
    assert status["status"] == "completed" and len(status["recent"]) == 10


def test_screen_on_a_holiday_uses_the_day_before(screens: ScreenService) -> None:
    out = screens.run(SOURCE.read_text(), str(SOURCE), strategy="momentum_pure", date="2021-10-03")
    assert out["status"] == "completed" and out["date"] < "2021-10-03"


def test_screen_failures_are_recorded(screens: ScreenService) -> None:
    out = screens.run(SOURCE.read_text(), str(SOURCE), strategy="momentum_pure", universe="csi3000")
    assert out["status"] == "failed" and "unknown universe 'csi3000'" in out["error"]
    assert out["rows"] == []
    assert screens.status(out["runId"])["exitStatus"].startswith("unknown universe")


def test_screen_cancel(screens: ScreenService) -> None:
    out = screens.run(
        SOURCE.read_text(), str(SOURCE), strategy="momentum_pure", cancelled=lambda: True
    )
    assert out["status"] == "cancelled" and out["rows"] == []
    assert screens.status(out["runId"])["status"] == "cancelled"

    def stop(status: dict) -> None:  # a caller that cancels once the first tickers are in
        if status["processed"] >= 3:
            calls.append(status)

    calls: list[dict] = []
    out = screens.run(
        SOURCE.read_text(),
        str(SOURCE),
        strategy="momentum_pure",
        on_status=stop,
        cancelled=lambda: bool(calls),
    )
    assert out["status"] in ("cancelled", "completed")  # a 30-ticker screen may finish first
    run = screens.status(out["runId"])
    assert run["status"] == out["status"]
    if out["status"] == "cancelled":
        assert 3 <= run["processed"] < run["total"]
