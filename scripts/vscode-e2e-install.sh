#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, idempotently and offline from the npm registry and
# Debian: Chromium and the build tools (apt, root only), and code-server into a cache outside the repo.
# Prints the code-server entry point path as its last line.
set -euo pipefail

CS_VERSION="${SFLOW_CODE_SERVER_VERSION:-4.100.3}"   # newest code-server that accepts node 20
CACHE="${SFLOW_E2E_CACHE:-$HOME/.cache/sflow-e2e}"
PREFIX="$CACHE/code-server-$CS_VERSION"
CS="$PREFIX/node_modules/code-server"
ENTRY="$CS/out/node/entry.js"
STAMP="$PREFIX/.installed"

log() { echo "[vscode-e2e-install] $*" >&2; }

apt_packages=(build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing Debian packages (install them as root): ${missing[*]}"
        exit 1
    fi
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [[ -f "$STAMP" && -f "$ENTRY" ]]; then
    log "code-server $CS_VERSION already installed in $PREFIX"
    echo "$ENTRY"
    exit 0
fi

log "installing code-server $CS_VERSION into $PREFIX"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
[[ $(id -u) -eq 0 ]] && export npm_config_unsafe_perm=true
cd "$PREFIX"
echo '{"name":"sflow-e2e-code-server","private":true}' >package.json
npm install --no-save --ignore-scripts --loglevel=error "code-server@$CS_VERSION" >&2
npm rebuild argon2 --loglevel=error >&2

cd "$CS/lib/vscode"
npm install --omit=dev --ignore-scripts --loglevel=error >&2
# @vscode/ripgrep's postinstall downloads a binary unless bin/ exists: use Debian's rg.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild --loglevel=error >&2
# The rest of code-server's own postinstall.
[[ -e node_modules.asar ]] || ln -s node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --loglevel=error >&2)

test -f "$ENTRY"
touch "$STAMP"
log "done"
echo "$ENTRY"
