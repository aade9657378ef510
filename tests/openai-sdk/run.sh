#!/usr/bin/env bash
# The official OpenAI SDKs against Agentry's OpenAI-compatible `/v1` API:
#   1. installs the pinned `openai` npm package (npm ci) and the pinned `openai` Python
#      package (.venv) when missing,
#   2. starts a server on a fresh SQLite database with the offline echo provider, registers
#      a user, creates an API key and an echo agent,
#   3. plays the same scripted tour through the Python SDK (tour.py) and the JavaScript SDK
#      (tour.mjs): models, chat whole and streamed, a client-tool round trip, responses,
#      and the errors the SDKs raise.
# Needs cargo, Node 20 with npm and Python 3 with venv; a missing one is an error, never a skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

log() { printf '\n== openai-sdk: %s\n' "$*"; }
fail() { printf 'openai-sdk: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || fail "node is missing"
command -v npm >/dev/null || fail "npm is missing"
command -v python3 >/dev/null || fail "python3 is missing"

if [ ! -d node_modules/openai ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
if ! .venv/bin/python -c 'import openai' 2>/dev/null; then
    log "pip install into .venv"
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi

log "server"
(cd "$root" && cargo build --quiet --locked -p api-server)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
rm -rf build && mkdir -p build/server
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AGENTRY_URL="http://127.0.0.1:$port"
(
    cd build/server
    APP_ENV=development HOST=127.0.0.1 PORT="$port" DATABASE_URL="sqlite://$here/build/server/sdk.db" \
        ECHO_WORD_DELAY_MS=10 LLM_DEFAULT_PROVIDER= OPENAI_BASE_URL= OPENAI_API_KEY= ANTHROPIC_API_KEY= RUST_LOG=warn \
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

log "user, API key and agent"
json() { python3 -c "import sys, json; print(json.load(sys.stdin)[\"$1\"])"; }
curl -fs "$AGENTRY_URL/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"sdk@example.com","username":"sdk","password":"correct-horse-battery"}' > /dev/null
token=$(curl -fs "$AGENTRY_URL/api/v1/auth/login" -d 'username=sdk&password=correct-horse-battery' | json access_token)
export AGENTRY_API_KEY=$(curl -fs "$AGENTRY_URL/api/v1/api-keys" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"sdk tour"}' | json key)
export AGENTRY_AGENT_ID=$(curl -fs "$AGENTRY_URL/api/v1/agents" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"name":"tour-echo","model":"echo-1","provider":"echo","system_prompt":"You echo."}' | json id)
export AGENTRY_MODEL=tour-echo

passed=0
log "Python SDK tour"
.venv/bin/python tour.py || { tail -50 build/server.log; fail "the Python SDK tour failed"; }
passed=$((passed + 1))
log "JavaScript SDK tour"
node tour.mjs || { tail -50 build/server.log; fail "the JavaScript SDK tour failed"; }
passed=$((passed + 1))

printf '\nopenai-sdk: %d passed, 0 failed\n' "$passed"
