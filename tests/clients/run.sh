#!/usr/bin/env bash
# Generated clients and Swagger UI, against the whole OpenAPI document and a live server:
#   1. dumps the document (`api-server openapi`),
#   2. generates a TypeScript client (openapi-typescript) and compiles tour.ts under
#      `tsc --strict` (no cast, no `any`), and a Python client (openapi-python-client) whose
#      every module must import; both generators must print no warning,
#   3. starts a server on a fresh SQLite database and plays the README tour through the
#      TypeScript client, the Python client and Swagger UI in headless Chromium (swagger.mjs).
# Installs the pinned Node packages (npm ci) and Python packages (.venv) when missing.
# Needs cargo, Node 20 with npm, Python 3.11 and Debian's chromium at /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

log() { printf '\n== clients: %s\n' "$*"; }
fail() { printf 'clients: %s\n' "$*" >&2; exit 1; }
passed=0
pass() { passed=$((passed + 1)); printf 'ok: %s\n' "$*"; }

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (apt-get install chromium)"

if [ ! -d node_modules ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -x .venv/bin/openapi-python-client ]; then
    log "pip install into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi
# The Python generator formats its output with the ruff it brings: it must be on PATH.
export PATH="$here/.venv/bin:$here/node_modules/.bin:$PATH"

rm -rf build && mkdir -p build
log "OpenAPI document"
(cd "$root" && cargo run --quiet --locked -p api-server -- openapi) > build/openapi.json

# Generator output must hold no warning; it is shown either way.
quiet_or_fail() {
    local what="$1" out="$2"
    cat "$out"
    if grep -Eiq 'warn|error|⚠|✗|skipp|unsupported|not supported' "$out"; then
        fail "$what printed a warning (above)"
    fi
}

log "TypeScript client"
openapi-typescript build/openapi.json -o build/schema.d.ts > build/openapi-typescript.log 2>&1 \
    || { cat build/openapi-typescript.log; fail "openapi-typescript failed"; }
quiet_or_fail openapi-typescript build/openapi-typescript.log
# The tour may not cast or use `any`: the generated types alone must carry it.
node no-casts.mjs tour.ts || fail "tour.ts casts or uses any (above)"
tsc -p tsconfig.json
pass "TypeScript client generated without warning; tour.ts compiles under --strict"

log "Python client"
openapi-python-client generate --path build/openapi.json --meta none --fail-on-warning \
    --config openapi-python-client.yaml --output-path build/python/agentry_client \
    > build/openapi-python-client.log 2>&1 \
    || { cat build/openapi-python-client.log; fail "openapi-python-client failed"; }
quiet_or_fail openapi-python-client build/openapi-python-client.log
# openapi-python-client 0.29 annotates a required body with several media types (audio
# transcriptions: multipart or JSON) `| Unset` without importing `Unset`
# (openapi-generators/openapi-python-client#1451, fix pending in #1478): add the import to
# the modules it wrote that way, so that they import. Remove when a fixed release is pinned.
{ grep -rl '| Unset = UNSET' build/python/agentry_client/api || true; } | while read -r module; do
    grep -q '^from \.\.\.types import .*\bUnset\b' "$module" \
        || sed -i 's/^from \.\.\.types import UNSET, Response$/from ...types import UNSET, Response, Unset/' "$module"
done
PYTHONPATH=build/python python3 tour.py
pass "Python client generated without warning; every module imports"

log "server"
(cd "$root" && cargo build --quiet --locked -p api-server)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AGENTRY_URL="http://127.0.0.1:$port"
mkdir -p build/server
(
    cd build/server
    APP_ENV=development HOST=127.0.0.1 PORT="$port" DATABASE_URL="sqlite://$here/build/server/clients.db" \
        LLM_DEFAULT_PROVIDER= OPENAI_BASE_URL= OPENAI_API_KEY= ANTHROPIC_API_KEY= RUST_LOG=warn \
        exec "$target_dir/debug/api-server" serve
) > build/server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -fs "$AGENTRY_URL/health/ready" > /dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat build/server.log; fail "the server stopped"; }
    sleep 0.1
done
curl -fs "$AGENTRY_URL/health/ready" > /dev/null || { cat build/server.log; fail "the server is not ready"; }

log "TypeScript tour"
node build/js/tour.js
pass "TypeScript tour against $AGENTRY_URL"

log "Python tour"
PYTHONPATH=build/python python3 tour.py
pass "Python tour against $AGENTRY_URL"

log "Swagger UI tour in Chromium"
node swagger.mjs
pass "Swagger UI tour and the execution viewer, no console error"

printf '\nclients: %d passed, 0 failed\n' "$passed"
