"""Benchmark: autosave upsert latency vs a raw single-row insert, on SQLite and PostgreSQL.

Each autosave is what the language server does on a debounced edit: one transaction holding the
``builder_sessions`` upsert of a ~6 KB document and its logic flow. The baseline, measured in the
same run on the same engine, is a raw one-row INSERT of the same payload into a bare table, each
in its own transaction. Targets: autosave p95 <= 5 ms on SQLite and <= 20 ms on PostgreSQL.

    python bench/bench_store.py [--n 500] [--postgres URL] [--mysql URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from sflow.store import migrate
from sflow.store.engine import make_engine, session_factory
from sflow.store.repositories.sessions import BuilderSessionRepository

TARGET_P95_MS = {"sqlite": 5.0, "postgresql": 20.0, "mysql": 20.0}
DOCUMENT = "\n".join(
    f"    n{i} = sma($close, period={i + 2})  # node {i}" for i in range(150)
)  # about 6 KB of .sflow text
FLOW = {
    "version": 1,
    "strategy": "bench",
    "nodes": [{"id": f"n{i}", "template": "sma", "params": {"period": i + 2}} for i in range(50)],
    "edges": [{"source": "$close", "target": f"n{i}", "target_port": "price"} for i in range(50)],
}


def percentile(sorted_ms: list[float], fraction: float) -> float:
    position = fraction * (len(sorted_ms) - 1)
    lower, upper = int(position), min(int(position) + 1, len(sorted_ms) - 1)
    return sorted_ms[lower] + (sorted_ms[upper] - sorted_ms[lower]) * (position - lower)


def measure(action: Callable[[int], None], n: int, warmup: int = 20) -> list[float]:
    for i in range(warmup):
        action(-1 - i)
    timings = []
    for i in range(n):
        started = time.perf_counter()
        action(i)
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


def bench(engine: Engine, n: int) -> dict[str, float]:
    migrate.upgrade(engine)
    raw_table = sa.Table(
        "bench_raw_insert",
        sa.MetaData(),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("payload", sa.Text),
    )
    raw_table.create(engine, checkfirst=True)
    make_session = session_factory(engine)
    user = f"bench-{uuid.uuid4().hex[:8]}"
    payload = DOCUMENT + json.dumps(FLOW)

    def autosave(i: int) -> None:
        with make_session() as session, session.begin():
            BuilderSessionRepository(session, user).autosave(
                f"file:///bench/doc{abs(i) % 5}.sflow", text=DOCUMENT, logic_flow=FLOW, version=i
            )

    def raw_insert(_i: int) -> None:
        with engine.begin() as connection:
            connection.execute(raw_table.insert().values(id=str(uuid.uuid4()), payload=payload))

    # Interleave the two in blocks so both see the same machine load.
    autosaves: list[float] = []
    raws: list[float] = []
    block = max(n // 10, 1)
    for _ in range(0, n, block):
        autosaves += measure(autosave, block, warmup=5)
        raws += measure(raw_insert, block, warmup=5)
    autosaves.sort()
    raws.sort()
    raw_table.drop(engine)
    return {
        "autosave_p50": statistics.median(autosaves),
        "autosave_p95": percentile(autosaves, 0.95),
        "raw_p50": statistics.median(raws),
        "raw_p95": percentile(raws, 0.95),
    }


def report(name: str, backend: str, figures: dict[str, float]) -> bool:
    target = TARGET_P95_MS[backend]
    ok = figures["autosave_p95"] <= target
    print(
        f"{name:11} autosave p50 {figures['autosave_p50']:6.2f} ms  p95 {figures['autosave_p95']:6.2f} ms"
        f"  | raw insert p50 {figures['raw_p50']:6.2f} ms  p95 {figures['raw_p95']:6.2f} ms"
        f"  | ratio p50 {figures['autosave_p50'] / figures['raw_p50']:4.2f}x"
        f"  p95 {figures['autosave_p95'] / figures['raw_p95']:4.2f}x"
        f"  | target p95 <= {target:g} ms: {'ok' if ok else 'MISSED'}"
    )
    return ok


def on_server(admin_url: str, n: int) -> dict[str, float] | None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"sflow_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        print(f"{make_url(admin_url).get_backend_name()}: skipped, server unreachable ({exc.orig})")
        return None
    engine = make_engine(
        make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    )
    try:
        return bench(engine, n)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="measured operations of each kind")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--mysql", default=None, help="also MariaDB/MySQL, e.g. mysql+pymysql://root@127.0.0.1/test"
    )
    args = parser.parse_args()
    print(f"store benchmark: {args.n} autosaves and {args.n} raw inserts per backend")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        ok &= report("SQLite", "sqlite", bench(engine, args.n))
        engine.dispose()
    figures = on_server(args.postgres, args.n)
    if figures:
        ok &= report("PostgreSQL", "postgresql", figures)
    if args.mysql:
        figures = on_server(args.mysql, args.n)
        if figures:
            ok &= report("MariaDB", "mysql", figures)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
