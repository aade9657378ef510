#!/usr/bin/env bash
# Streamed-chat load: a release server whose `echo` provider pauses ECHO_WORD_DELAY_MS before
# each word, and STREAMS Server-Sent-Events replies opened at once by the load tool
# (tests/examples/chat_load.rs). Prints how many streams were held open together, time to the
# first delta and to completion (p50/p99), and the server's resident memory.
#
#   tests/bench/chat.sh            (or: just bench-chat)
#
# env: STREAMS (1000)  WORDS (20 per message; the reply streams one more)  ECHO_WORD_DELAY_MS (50)
#      WORKERS (2)  DATABASE_POOL_SIZE (16)  PORT (8091)
#      DATABASE_URL (default: a fresh SQLite file; give an empty postgres://… database to use PostgreSQL)
#      AGENTRY_BIN, LOAD_BIN: a server and a load tool already built (nothing is built then), to
#      compare two builds side by side
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
STREAMS="${STREAMS:-1000}" WORDS="${WORDS:-20}" DELAY="${ECHO_WORD_DELAY_MS:-50}"
WORKERS="${WORKERS:-2}" POOL="${DATABASE_POOL_SIZE:-16}" PORT="${PORT:-8091}"
out="$(mktemp -d /tmp/agentry-chat-bench.XXXXXX)"
db_url="${DATABASE_URL:-sqlite://$out/chat.db}"
log() { echo "[bench-chat] $*" >&2; }

bin="${AGENTRY_BIN:-$root/target/release/api-server}"
load="${LOAD_BIN:-$root/target/release/examples/chat_load}"
if [ -z "${AGENTRY_BIN:-}" ] || [ -z "${LOAD_BIN:-}" ]; then
    log "building the release server and the load tool"
    cargo build --release -q -p api-server --manifest-path "$root/Cargo.toml"
    cargo build --release -q -p agentry-tests --example chat_load --manifest-path "$root/Cargo.toml"
fi

log "starting the server on :$PORT (workers $WORKERS, echo word delay $DELAY ms, ${db_url%%:*})"
APP_ENV=development DATABASE_URL="$db_url" PORT="$PORT" WORKERS="$WORKERS" DATABASE_POOL_SIZE="$POOL" \
    ECHO_WORD_DELAY_MS="$DELAY" BCRYPT_COST=4 RUST_LOG=warn JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    "$bin" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done

log "$STREAMS streams of $((WORDS + 1)) words each"
BASE_URL="http://127.0.0.1:$PORT" STREAMS="$STREAMS" WORDS="$WORDS" SERVER_PID="$server" \
    "$load"
