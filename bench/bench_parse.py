"""Benchmark: parse + validate generated 2,000- and 100,000-line files (not a test).

Prints, for each size: the bare Lark LALR parse of the same text (the baseline, same run), sflow's
cold parse + validate (caches cleared), and the editor case (one line of one block edited, the
rest served from the per-block caches): median, p95, ratio to the baseline, lines per second.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lark import Lark

from sflow.dsl_grammar import parser as P
from sflow.flow import validate as V
from sflow.flow.templates import system_library

BLOCK = """\
# strategy {i}: moving-average cross with filters
strategy s{i} "Strategy {i}" {{
    universe  csi300
    benchmark SH000300

    fast   = sma($close, period={p})
    slow   = ema($close, period=20)
    rsi14  = rsi($close, period=14)
    m      = macd($close)
    bb     = bollinger($close, period=20, k=2)
    vr     = volume_ratio($volume, period=20)
    golden = cross_above(fast, slow)
    exit   = cross_below(fast, slow) or m.hist < 0

    buy  = signal(golden and rsi14 < 70 and vr > 1.5, score=fast / slow - 1)
    sell = signal(exit or $close < bb.lower)
    book = topk(buy, sell=sell, k=30, n_drop=5)
    stop_loss(book, pct=0.08)
    take_profit(book, pct=0.25)
}}

test t{i} for s{i} {{
    period     1Y
    account    100_000_000
    open_cost  0.0005
    close_cost 0.0015
}}

"""


def generate(lines: int) -> str:
    out, i = [], 0
    while sum(b.count("\n") for b in out) < lines:
        out.append(BLOCK.format(i=i, p=5 + i % 10))
        i += 1
    return "".join(out)


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def clear_caches() -> None:
    P._parse_chunk.cache_clear()
    V._cache.clear()


def main() -> None:
    library = system_library()
    bare = Lark(
        P.GRAMMAR_PATH.read_text(), parser="lalr", lexer="contextual", postlex=P._ParenPostLexer()
    )
    print(f"{'case':<34}{'median ms':>11}{'p95 ms':>10}{'× bare':>9}{'lines/s':>12}")
    for lines, repeat in ((2_000, 15), (100_000, 3)):
        text = generate(lines)
        n = text.count("\n")
        P._state.depth, P._state.open_parens, P._state.comments = 0, [], []
        base = timed(lambda text=text: bare.parse(text), repeat)

        def cold(text=text):
            clear_caches()
            V.check_text(text, library)

        cold_t = timed(cold, repeat)
        # Editor case: each iteration edits a number in a different block, then re-checks.
        V.check_text(text, library)
        blocks = text.split("strategy s")
        edits = []
        for k in range(repeat):
            j = 1 + (k * 7) % (len(blocks) - 1)
            changed = [*blocks[:j], blocks[j].replace("k=30", f"k={31 + k}", 1), *blocks[j + 1 :]]
            edits.append("strategy s".join(changed))
        pending = iter(edits)
        edit_t = timed(lambda pending=pending: V.check_text(next(pending), library), repeat)
        med_base = statistics.median(base)
        for name, xs in (
            ("bare Lark parse (baseline)", base),
            ("parse + validate, cold", cold_t),
            ("parse + validate, one edit", edit_t),
        ):
            med = statistics.median(xs)
            print(
                f"{f'{n:,} lines: ' + name:<34}{med:>11.1f}{percentile(xs, 0.95):>10.1f}"
                f"{med / med_base:>9.2f}{n / (med / 1000):>12,.0f}"
            )


if __name__ == "__main__":
    main()
