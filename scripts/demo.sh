#!/usr/bin/env bash
# `make run`: the main job on the embedded defaults — SQLite in sflow's data dir, a synthetic qlib
# market in .sflow-demo/ — checking, generating and backtesting the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DEMO=${DEMO:-.sflow-demo}
DATA="$DEMO/qlib"
mkdir -p "$DEMO"
export TQDM_DISABLE=1

step() { printf '\n== %s\n' "$*"; }

step "sflow check examples/*.sflow"
$BIN/sflow check examples/*.sflow

if [ ! -f "$DATA/calendars/day.txt" ]; then
    step "sflow data demo $DATA  (synthetic market: 300 instruments, 2020–2022)"
    $BIN/sflow data demo "$DATA"
fi

step "sflow db upgrade  (SQLite: ${SFLOW_DATABASE_URL:-the default SQLite file})"
$BIN/sflow db upgrade

step "sflow generate examples/momentum_topk.sflow --strategy momentum_pure"
$BIN/sflow generate examples/momentum_topk.sflow --strategy momentum_pure -o "$DEMO/momentum_pure.py"

if $BIN/sflow backtest --help >/dev/null 2>&1; then
    for spec in "golden_cross.sflow last_year" "momentum_topk.sflow last_year_pure"; do
        set -- $spec
        step "sflow backtest examples/$1 --test $2"
        $BIN/sflow backtest "examples/$1" --test "$2" --provider-uri "$DATA" \
            --report "$DEMO/report_$2.html"
    done
    step "sflow screen examples/golden_cross.sflow"
    $BIN/sflow screen examples/golden_cross.sflow --provider-uri "$DATA" | head -20
else
    step "python $DEMO/momentum_pure.py --provider-uri $DATA  (the generated module on its own)"
    $BIN/python "$DEMO/momentum_pure.py" --provider-uri "$DATA"
fi

step "done: generated module and reports are in $DEMO/"
