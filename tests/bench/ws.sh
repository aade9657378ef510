#!/usr/bin/env bash
# Execution WebSocket fan-out: a release server whose `echo` provider pauses
# ECHO_WORD_DELAY_MS before each word runs one long execution, and the load tool
# (tests/examples/ws_watchers.rs) opens WATCHERS WebSockets on it. Prints how many connected
# and saw every event, the store-to-socket latency (p50/p99/max) and the server's memory.
#
#   tests/bench/ws.sh            (or: just bench-ws)
#
# env: WATCHERS (5000)  WORDS (150)  ECHO_WORD_DELAY_MS (100)  WORKERS (2)  PORT (8092)
#      DATABASE_URL (default: a fresh SQLite file; give an empty postgres://… database to use PostgreSQL)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
WATCHERS="${WATCHERS:-5000}" WORDS="${WORDS:-150}" DELAY="${ECHO_WORD_DELAY_MS:-100}"
WORKERS="${WORKERS:-2}" PORT="${PORT:-8092}"
out="$(mktemp -d /tmp/agentry-ws-bench.XXXXXX)"
db_url="${DATABASE_URL:-sqlite://$out/ws.db}"
log() { echo "[bench-ws] $*" >&2; }

# Each watcher is one socket on each side; both processes inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((WATCHERS + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    log "open-file limit $(ulimit -n) is below $need: lower WATCHERS or raise the hard limit"
    exit 1
fi

log "building the release server and the load tool"
cargo build --release -q -p api-server --manifest-path "$root/Cargo.toml"
cargo build --release -q -p agentry-tests --example ws_watchers --manifest-path "$root/Cargo.toml"

log "starting the server on :$PORT (workers $WORKERS, echo word delay $DELAY ms, ${db_url%%:*})"
APP_ENV=development DATABASE_URL="$db_url" PORT="$PORT" WORKERS="$WORKERS" \
    ECHO_WORD_DELAY_MS="$DELAY" BCRYPT_COST=4 RUST_LOG=warn JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    "$root/target/release/api-server" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done

log "$WATCHERS watchers of one execution streaming $((WORDS + 1)) words"
BASE_URL="http://127.0.0.1:$PORT" WATCHERS="$WATCHERS" WORDS="$WORDS" SERVER_PID="$server" \
    "$root/target/release/examples/ws_watchers"
