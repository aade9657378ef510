#!/usr/bin/env bash
# What Agentry's OpenAI-compatible API adds to an LLM call: a mock OpenAI-compatible LLM
# (tests/examples/mock_llm.rs, answers at once) called directly and through
# `POST /v1/chat/completions` with an agent on it (the `openai` provider pointed at the
# mock), whole and streamed, by CONNECTIONS clients (tests/examples/openai_load.rs).
# Prints req/s, p50 and p99 of both, the added latency and the throughput ratio.
#
#   tests/bench/openai.sh            (or: just bench-openai)
#
# env: CONNECTIONS (32)  DURATION (10 s per run)  WORDS (8 per answer)  WORKERS (2)
#      LATENCY_MS (0: the mock answers at once; a model's time to first token otherwise)
#      PORT (8092)  MOCK_PORT (8093)  PROFILE (release)  CARGO_TARGET_DIR (target)
#      AGENTRY_BIN (a server binary to measure instead of this checkout's build)
#      DATABASE_URL (default: a fresh SQLite file; give an empty postgres://… database to use PostgreSQL)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${PORT:-8092}" MOCK_PORT="${MOCK_PORT:-8093}" WORKERS="${WORKERS:-2}" PROFILE="${PROFILE:-release}"
out="$(mktemp -d /tmp/agentry-openai-bench.XXXXXX)"
db_url="${DATABASE_URL:-sqlite://$out/openai.db}"
log() { echo "[bench-openai] $*" >&2; }
flag=$([ "$PROFILE" = release ] && echo --release || true)

log "building ($PROFILE) the server, the mock LLM and the load tool"
[ -n "${AGENTRY_BIN:-}" ] || cargo build $flag -q -p api-server --manifest-path "$root/Cargo.toml"
cargo build $flag -q -p agentry-tests --example mock_llm --example openai_load --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/$([ "$PROFILE" = release ] && echo release || echo debug)"
server_bin="${AGENTRY_BIN:-$bin/api-server}"

PORT="$MOCK_PORT" WORDS="${WORDS:-8}" LATENCY_MS="${LATENCY_MS:-0}" "$bin/examples/mock_llm" >"$out/mock.log" 2>&1 &
mock=$!
APP_ENV=development DATABASE_URL="$db_url" PORT="$PORT" WORKERS="$WORKERS" BCRYPT_COST=4 RUST_LOG=warn \
    OPENAI_BASE_URL="http://127.0.0.1:$MOCK_PORT/v1" OPENAI_API_KEY=mock-key \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    "$server_bin" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server $mock 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$MOCK_PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done

base="http://127.0.0.1:$PORT"
json() { python3 -c "import sys, json; print(json.load(sys.stdin)[\"$1\"])"; }
curl -fs "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","username":"bench","password":"correct-horse-battery"}' >/dev/null
token=$(curl -fs "$base/api/v1/auth/login" -d 'username=bench&password=correct-horse-battery' | json access_token)
key=$(curl -fs "$base/api/v1/api-keys" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"bench"}' | json key)
curl -fs "$base/api/v1/agents" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"bench","provider":"openai","model":"mock-1"}' >/dev/null

log "load (${DURATION:-10} s per run, ${CONNECTIONS:-32} connections)"
MOCK_URL="http://127.0.0.1:$MOCK_PORT" AGENTRY_URL="$base" API_KEY="$key" MODEL=bench \
    "$bin/examples/openai_load"
