#!/usr/bin/env bash
# `make run`: the main job on the embedded defaults (SQLite in the data dir, synthetic demo data).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "== sflow check examples/*.sflow"
$BIN/sflow check examples/*.sflow
