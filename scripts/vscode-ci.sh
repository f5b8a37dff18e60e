#!/usr/bin/env bash
# One entry point for the VS Code extension's checks: npm ci, strict compile + bundle, lint, unit tests,
# grammar tests, the .vsix package, code-server + Chromium install (cached), and the end-to-end run in
# code-server. Every stage runs (a stage whose prerequisite failed counts as failed); the last line is
# "vscode: N passed, N failed" and the exit code is non-zero when anything failed.
#
# The e2e runs three times: without a server (the "server missing" path), against
# vscode-client/test/e2e/mock_server.py (a stand-in that speaks the server contract; needs a Python with
# pygls, default .venv/bin/python, else skipped), and, with SFLOW_E2E_SERVER=1, against the real server.
#
#   SFLOW_VSCODE_SKIP_E2E=1   skip the code-server install and the end-to-end runs (counted as skipped)
#   SFLOW_E2E_SERVER=1        also run the e2e steps against the sflow language server
#   SFLOW_E2E_PYTHON          Python with sflow (and pygls) installed; default <repo>/.venv/bin/python
#   SFLOW_VSCODE_FORCE_CI=1   run npm ci even when node_modules matches package-lock.json
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENT="$ROOT/vscode-client"
cd "$CLIENT" || exit 2
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

passed=0
failed=0
skipped=0
declare -A status=()
script_start=$(date +%s)

# stage NAME [PREREQ...] -- COMMAND...
stage() {
    local name=$1
    shift
    local prereqs=()
    while [[ $1 != "--" ]]; do prereqs+=("$1"); shift; done
    shift
    for p in "${prereqs[@]}"; do
        if [[ ${status[$p]:-} != ok ]]; then
            echo "=== $name: not run ($p did not pass)"
            status[$name]=failed
            failed=$((failed + 1))
            return
        fi
    done
    echo "=== $name: $*"
    local t0
    t0=$(date +%s)
    if "$@"; then
        status[$name]=ok
        passed=$((passed + 1))
        echo "=== $name: ok ($(($(date +%s) - t0)) s)"
    else
        status[$name]=failed
        failed=$((failed + 1))
        echo "=== $name: FAILED ($(($(date +%s) - t0)) s)"
    fi
}

skip() {
    echo "=== $1: skipped ($2)"
    status[$1]=skipped
    skipped=$((skipped + 1))
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are required (node >= 20)"
    echo "vscode: 0 passed, 1 failed"
    exit 1
fi
echo "node $(node --version), npm $(npm --version 2>/dev/null)"

# No install scripts are needed (esbuild's binary comes as a platform package; keytar and vsce-sign are
# only for publishing) and some would try the network. A warm tree that matches the lock file is kept.
npm_install() {
    local want have=""
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    [[ -f node_modules/.sflow-lock-sha ]] && have=$(cat node_modules/.sflow-lock-sha)
    if [[ $want == "$have" && ${SFLOW_VSCODE_FORCE_CI:-} != 1 ]]; then
        echo "node_modules matches package-lock.json: npm ci skipped"
        return 0
    fi
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && echo "$want" >node_modules/.sflow-lock-sha
}
# A browser-driven UI step can miss a beat on a loaded 2-core machine (a quick-input widget that is
# not visible yet within its timeout): an e2e run that fails is run once more, and both logs are kept.
retry_once() {
    "$@" && return 0
    echo "# e2e failed once; running it again"
    "$@"
}
stage npm-ci -- npm_install
stage compile npm-ci -- npm run -s compile
stage lint npm-ci -- npm run -s lint
stage unit compile -- npm run -s test:unit
stage grammar npm-ci -- npm run -s test:grammar
stage package compile -- npm run -s package

if [[ ${SFLOW_VSCODE_SKIP_E2E:-} == 1 ]]; then
    skip e2e-install "SFLOW_VSCODE_SKIP_E2E=1"
    skip e2e "SFLOW_VSCODE_SKIP_E2E=1"
else
    entry_file=$(mktemp)
    install_e2e() { bash "$ROOT/scripts/vscode-e2e-install.sh" >"$entry_file"; }
    stage e2e-install -- install_e2e
    export SFLOW_CODE_SERVER_ENTRY
    SFLOW_CODE_SERVER_ENTRY=$(tail -n 1 "$entry_file")
    rm -f "$entry_file"
    export SFLOW_E2E_PYTHON="${SFLOW_E2E_PYTHON:-$ROOT/.venv/bin/python}"
    stage e2e package e2e-install -- retry_once env -u SFLOW_E2E_SERVER node test/e2e/run.mjs
    if "$SFLOW_E2E_PYTHON" -c "import pygls, lsprotocol" 2>/dev/null; then
        stage e2e-mock-server package e2e-install -- retry_once env SFLOW_E2E_SERVER=mock node test/e2e/run.mjs
    else
        skip e2e-mock-server "$SFLOW_E2E_PYTHON has no pygls"
    fi
    if [[ ${SFLOW_E2E_SERVER:-} == 1 ]]; then
        stage e2e-server package e2e-install -- retry_once env SFLOW_E2E_SERVER=1 node test/e2e/run.mjs
    else
        skip e2e-server "set SFLOW_E2E_SERVER=1 to run it against the sflow language server"
    fi
fi

echo "vscode-ci took $(($(date +%s) - script_start)) s"
echo "vscode: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
