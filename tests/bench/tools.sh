#!/usr/bin/env bash
# Tool runs on PostgreSQL (issue 13): echo runs that each call one local HTTP tool, many in
# parallel, against the same runs without a tool, on one server:
#
#  - runs/s: completed runs per second end to end (first created_at to last completed_at),
#    with and without the tool call;
#  - the added latency of one tool round trip: run time (completed_at - started_at) p50/p99
#    with the call, minus the same percentiles without it (a tool run is two model turns
#    around one HTTP call, its tool_call events and tool messages).
#
# The tool's endpoint is a local threaded Python HTTP server answering 200 "ok" (allowed by
# OUTBOUND_ALLOWLIST=127.0.0.1/32); submissions come from wrk (POST /agents/{id}/execute).
#
#   tests/bench/tools.sh            (or: just bench-tools)
#
# env: DATABASE_URL (an empty postgres://… database; default postgres://postgres@127.0.0.1:5432/bench_tools, recreated)
#      SECONDS_LOAD (10) CONNECTIONS (32) WORKERS (2 HTTP workers) PORT (8094) TOOL_PORT (8095)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${PORT:-8094}" TOOL_PORT="${TOOL_PORT:-8095}" SECS="${SECONDS_LOAD:-10}" CONNS="${CONNECTIONS:-32}" WORKERS="${WORKERS:-2}"
DB="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_tools}"
out="$(mktemp -d /tmp/agentry-tools-bench.XXXXXX)"
B="http://127.0.0.1:$PORT"
log() { echo "[bench-tools] $*" >&2; }
sql() { psql "$DB" -Atq -c "$1"; }
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

if [ -z "${DATABASE_URL:-}" ]; then
    psql "${DB%/*}/postgres" -q -c "DROP DATABASE IF EXISTS bench_tools" -c "CREATE DATABASE bench_tools" >/dev/null
fi
command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
log "building the release server"
cargo build --release -q -p api-server --manifest-path "$root/Cargo.toml"

python3 - "$TOOL_PORT" >"$out/tool.log" 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
PY
tool_server=$!
APP_ENV=development DATABASE_URL="$DB" PORT="$PORT" WORKERS="$WORKERS" BCRYPT_COST=4 RUST_LOG=warn \
    OUTBOUND_ALLOWLIST=127.0.0.1/32 JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    "$root/target/release/api-server" >>"$out/server.log" 2>&1 &
server=$!
trap 'kill $server $tool_server 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -fs "$B/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$B/health" >/dev/null || { log "the server did not start"; cat "$out/server.log" >&2; exit 1; }

curl -fs "$B/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","username":"bench","password":"bench-password-1"}' >/dev/null || true
TOKEN=$(curl -fs "$B/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' | json '["access_token"]')
auth=(-H "authorization: Bearer $TOKEN" -H 'content-type: application/json')
TOOL=$(curl -fs "$B/api/v1/tools" "${auth[@]}" -d '{"name":"ping","parameters":{"type":"object"},
    "kind":"http","http":{"method":"GET","url":"http://127.0.0.1:'"$TOOL_PORT"'/ping"}}' | json '["id"]')
AGENT=$(curl -fs "$B/api/v1/agents" "${auth[@]}" \
    -d '{"name":"bench-tools","model":"echo-1","provider":"echo","tool_ids":["'"$TOOL"'"]}' | json '["id"]')

wait_all_done() {
    for _ in $(seq 2400); do
        left=$(sql "SELECT count(*) FROM executions WHERE status IN ('queued','running')")
        [ "$left" = 0 ] && return
        sleep 0.25
    done
    log "runs still not done: $left"
}

phase() { # $1: label, $2: the input of every run
    sql "TRUNCATE executions CASCADE" >/dev/null
    local body
    body=$(python3 -c "import json,sys; print(json.dumps(json.dumps({'input': sys.argv[1]})))" "$2")
    cat >"$out/execute.lua" <<LUA
wrk.method = "POST"
wrk.body = $body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
    log "$1: wrk -c$CONNS -d${SECS}s POST /agents/{id}/execute"
    wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$out/execute.lua" "$B/api/v1/agents/$AGENT/execute" >"$out/wrk-$1.txt"
    wait_all_done
    sql "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status <> 'completed'),
        round(extract(epoch FROM max(completed_at) - min(created_at))::numeric, 3),
        round(1000 * extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY completed_at - started_at))::numeric, 2),
        round(1000 * extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY completed_at - started_at))::numeric, 2)
      FROM executions" | tr '|' ' '
}

read -r plain_done plain_bad plain_span plain_p50 plain_p99 <<<"$(phase plain "hello there")"
read -r tool_done tool_bad tool_span tool_p50 tool_p99 <<<"$(phase tool '/call ping {}')"
calls=$(sql "SELECT count(*) FROM execution_events WHERE type = 'tool_call.completed' AND data->>'is_error' = 'false'")
rate() { python3 -c "print(round($1 / $2) if $2 else 0)"; }
echo "without a tool: $plain_done runs completed ($plain_bad not) = $(rate "$plain_done" "$plain_span") runs/s; run time p50 $plain_p50 ms, p99 $plain_p99 ms"
echo "with one HTTP tool call: $tool_done runs completed ($tool_bad not; $calls successful calls) = $(rate "$tool_done" "$tool_span") runs/s; run time p50 $tool_p50 ms, p99 $tool_p99 ms"
echo "added by one tool round trip: p50 $(python3 -c "print(round($tool_p50 - $plain_p50, 2))") ms, p99 $(python3 -c "print(round($tool_p99 - $plain_p99, 2))") ms"
