#!/usr/bin/env bash
# Run-engine load on PostgreSQL, two figures (issue 12):
#
#  1. throughput: echo runs with no word delay, submitted as fast as wrk can
#     (POST /agents/{id}/execute, CONNECTIONS connections for SECONDS); then every run is
#     waited for. Prints runs accepted/s, runs completed/s end to end (first created_at to
#     last completed_at) and the claim latency (started_at - created_at) p50/p99.
#  2. concurrency: IN_FLIGHT runs submitted at once, echo at ECHO_WORD_DELAY_MS per word
#     (WORDS words: a run of ~WORDS x delay), all held by one process. Prints the most
#     runs seen running at once, the run time (completed_at - created_at) p50/p99/max
#     against the ideal, and the server's peak RSS.
#
#   tests/bench/runs.sh            (or: just bench-runs)
#
# env: DATABASE_URL (an empty postgres://… database; default postgres://postgres@127.0.0.1:5432/bench_runs, recreated)
#      SECONDS_LOAD (10) CONNECTIONS (32) IN_FLIGHT (1000) WORDS (10) ECHO_WORD_DELAY_MS (100)
#      WORKERS (2 HTTP workers) DATABASE_POOL_SIZE (default of the server) PORT (8093)
#      AGENTRY_BIN: a server already built (nothing is built then), to compare two builds
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${PORT:-8093}" SECS="${SECONDS_LOAD:-10}" CONNS="${CONNECTIONS:-32}"
IN_FLIGHT="${IN_FLIGHT:-1000}" WORDS="${WORDS:-10}" DELAY="${ECHO_WORD_DELAY_MS:-100}" WORKERS="${WORKERS:-2}"
DB="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_runs}"
out="$(mktemp -d /tmp/agentry-runs-bench.XXXXXX)"
B="http://127.0.0.1:$PORT"
log() { echo "[bench-runs] $*" >&2; }
sql() { psql "$DB" -Atq -c "$1"; }

if [ -z "${DATABASE_URL:-}" ]; then
    psql "${DB%/*}/postgres" -q -c "DROP DATABASE IF EXISTS bench_runs" -c "CREATE DATABASE bench_runs" >/dev/null
fi
command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
bin="${AGENTRY_BIN:-$root/target/release/api-server}"
if [ -z "${AGENTRY_BIN:-}" ]; then
    log "building the release server"
    cargo build --release -q -p api-server --manifest-path "$root/Cargo.toml"
fi

server=""
start_server() { # $1: echo word delay
    [ -n "$server" ] && { kill "$server"; wait "$server" 2>/dev/null || true; }
    # `env`: an optional assignment expanded among the others would end bash's assignment list.
    env APP_ENV=development DATABASE_URL="$DB" PORT="$PORT" WORKERS="$WORKERS" ECHO_WORD_DELAY_MS="$1" \
        ${DATABASE_POOL_SIZE:+DATABASE_POOL_SIZE=$DATABASE_POOL_SIZE} BCRYPT_COST=4 RUST_LOG=warn \
        JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
        "$bin" >>"$out/server.log" 2>&1 &
    server=$!
    for _ in $(seq 200); do curl -fs "$B/health" >/dev/null 2>&1 && return; sleep 0.1; done
    log "the server did not start"; cat "$out/server.log" >&2; exit 1
}
trap '[ -n "$server" ] && kill $server 2>/dev/null || true' EXIT

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
setup_user() {
    curl -fs "$B/api/v1/auth/register" -H 'content-type: application/json' \
        -d '{"email":"bench@example.com","username":"bench","password":"bench-password-1"}' >/dev/null || true
    TOKEN=$(curl -fs "$B/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"username":"bench","password":"bench-password-1"}' | json '["access_token"]')
    AGENT=$(curl -fs "$B/api/v1/agents" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        -d '{"name":"bench-'"$RANDOM"'","model":"echo-1","provider":"echo"}' | json '["id"]')
}
wait_all_done() {
    for _ in $(seq 1200); do
        left=$(sql "SELECT count(*) FROM executions WHERE status IN ('queued','running')")
        [ "$left" = 0 ] && return
        sleep 0.25
    done
    log "runs still not done: $left"
}

# ---- 1. throughput -------------------------------------------------------------------------
start_server 0
setup_user
input=$(python3 -c "print(' '.join(['word']*$WORDS))")
cat >"$out/execute.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input": "$input"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
log "throughput: wrk -c$CONNS -d${SECS}s POST /agents/{id}/execute (echo, no delay)"
wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$out/execute.lua" "$B/api/v1/agents/$AGENT/execute" >"$out/wrk.txt"
accepted=$(sql "SELECT count(*) FROM executions")
wait_all_done
read -r completed span p50 p99 <<<"$(sql "SELECT count(*),
    round(extract(epoch FROM max(completed_at) - min(created_at))::numeric, 3),
    round(1000 * extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY started_at - created_at))::numeric, 1),
    round(1000 * extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY started_at - created_at))::numeric, 1)
  FROM executions WHERE status = 'completed'" | tr '|' ' ')"
failed=$(sql "SELECT count(*) FROM executions WHERE status <> 'completed'")
non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$out/wrk.txt" | grep -o '[0-9]*$' || echo 0)
echo "throughput: accepted $accepted runs in ${SECS} s ($(python3 -c "print(round($accepted/$SECS))")/s, non-2xx: ${non2xx}); completed $completed (not completed: $failed) in $span s end to end = $(python3 -c "print(round($completed/$span))") runs/s; claim latency p50 $p50 ms, p99 $p99 ms"

# ---- 2. concurrency ------------------------------------------------------------------------
sql "TRUNCATE executions CASCADE" >/dev/null
start_server "$DELAY"
setup_user
ideal=$(python3 -c "print(($WORDS + 1) * $DELAY / 1000)")
log "concurrency: $IN_FLIGHT runs at once, $((WORDS + 1)) words x $DELAY ms (ideal run ${ideal} s)"
( peak=0; while kill -0 "$server" 2>/dev/null; do
    n=$(sql "SELECT count(*) FROM executions WHERE status = 'running'" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt "$peak" ] && peak=$n && echo "$peak" >"$out/peak"
    sleep 0.1; done ) &
sampler=$!
body="{\"input\": \"$input\"}"
# One curl holding every request (-Z), not a process per request: a thousand curl processes
# starting on two cores would load the machine more than the server does.
quoted=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$body")
for i in $(seq "$IN_FLIGHT"); do
    [ "$i" = 1 ] || echo next
    printf 'url = "%s"\nrequest = "POST"\nheader = "authorization: Bearer %s"\nheader = "content-type: application/json"\ndata = %s\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$B/api/v1/agents/$AGENT/execute" "$TOKEN" "$quoted"
done >"$out/in_flight.curl"
curl -s -Z --parallel-max "$IN_FLIGHT" --parallel-immediate -K "$out/in_flight.curl" | sort | uniq -c | sed 's/^/  status /' >&2
wait_all_done
kill "$sampler" 2>/dev/null || true
rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$server/status")
read -r done p50 p99 max <<<"$(sql "SELECT count(*),
    round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY completed_at - created_at))::numeric, 2),
    round(extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY completed_at - created_at))::numeric, 2),
    round(extract(epoch FROM max(completed_at - created_at))::numeric, 2)
  FROM executions WHERE status = 'completed'" | tr '|' ' ')"
echo "concurrency: $done of $IN_FLIGHT runs completed; at most $(cat "$out/peak" 2>/dev/null || echo '?') running at once; run time p50 $p50 s, p99 $p99 s, max $max s (ideal $ideal s, target <= 2x); server peak RSS $rss MiB"
