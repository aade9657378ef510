#!/usr/bin/env bash
# Instructions per request of the release server, counted by valgrind's callgrind (exact and
# repeatable, unlike wall-clock figures on a shared machine), plus what PostgreSQL saw.
#
#   tests/bench/profile.sh                     (or: just bench-profile)
#
# Starts the release binary under `valgrind --tool=callgrind` on a fresh PostgreSQL database,
# registers a user, creates $AGENTS agents, warms up, then zeroes the counters and drives
# SCENARIO with wrk for DURATION seconds; the instructions counted in that window divided by
# the requests wrk completed are the server's cost per request (every thread: HTTP workers,
# runtime, pool). Prints that figure and the top functions (inclusive and self), and, when
# the cluster has pg_stat_statements loaded, the statements PostgreSQL ran in the window
# (calls per request, whether prepared).
#
# env: SCENARIO (get_agent | health | users_me) DURATION (10) CONNECTIONS (8) AGENTS (50)
#      WORKERS (2) POOL (server's default) PG (postgres://postgres@127.0.0.1:5432) PORT (18490)
#      BIN ($root/target/release/api-server) TOP (25) KEEP (set: keep the work folder)
#      SHARED (../shared/bench: its lua/bench.lua drives wrk)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
SCENARIO="${SCENARIO:-get_agent}" DURATION="${DURATION:-10}" CONNECTIONS="${CONNECTIONS:-8}"
AGENTS="${AGENTS:-50}" WORKERS="${WORKERS:-2}" PORT="${PORT:-18490}" TOP="${TOP:-25}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
BIN="${BIN:-$root/target/release/api-server}"
SHARED="${SHARED:-$root/../shared/bench}"
for tool in valgrind callgrind_control callgrind_annotate wrk psql curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "$BIN not found (cargo build --release -p api-server)" >&2; exit 2; }
log() { echo "[profile] $*" >&2; }
# valgrind and callgrind_control name their control pipes after USER and HOST (which is
# also the server's bind address): both must see the same values.
export USER="${USER:-$(id -un)}" LOGNAME="${LOGNAME:-$(id -un)}"

out="$(mktemp -d /tmp/agentry-profile.XXXXXX)"
db="profile_$$"
pid=""
cleanup() {
    [[ -n $pid ]] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    if [[ -n ${KEEP:-} ]]; then log "kept $out"; else rm -rf "$out"; fi
}
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
url="$PG/$db?sslmode=disable"
pool_env=()
[[ -n ${POOL:-} ]] && pool_env=(DATABASE_POOL_SIZE="$POOL")

log "starting $BIN under callgrind (WORKERS=$WORKERS) on :$PORT"
env APP_ENV=development HOST=127.0.0.1 PORT="$PORT" WORKERS="$WORKERS" DATABASE_URL="$url" \
    JWT_SECRET=profile-secret-profile-secret-profile-0123 AUTH_RATE_LIMIT_PER_MINUTE=100000000 \
    BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECS=14400 "${pool_env[@]}" \
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" --dump-instr=no \
    "$BIN" serve >"$out/server.log" 2>&1 &
pid=$!
A="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
    curl -fs "$A/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$out/server.log" >&2; exit 1; }
    sleep 0.2
done

user="profile_$RANDOM$RANDOM"
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"email\":\"$user@example.com\",\"username\":\"$user\",\"password\":\"profile-password-123\"}" "$A/api/v1/auth/register"
TOKEN="$(curl -fsS -H 'Content-Type: application/json' -d "{\"username\":\"$user\",\"password\":\"profile-password-123\"}" \
    "$A/api/v1/auth/login" | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')"
ids=()
for _ in $(seq 1 "$AGENTS"); do
    ids+=("$(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"name":"profile agent","description":"created by profile.sh","provider":"echo","model":"echo-1","system_prompt":"You are a benchmark.","temperature":0.5,"max_tokens":256,"metadata":{"bench":true}}' \
        "$A/api/v1/agents" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')")
done
AGENT_IDS="$(IFS=,; echo "${ids[*]}")"
export TOKEN AGENT_IDS
case "$SCENARIO" in
    get_agent) path=/api/v1/agents; lua_sc=get_agent ;;
    health) path=/health; lua_sc=health ;;
    users_me) path=/api/v1/users/me; lua_sc=users_me ;;
    *) echo "unknown SCENARIO $SCENARIO" >&2; exit 2 ;;
esac
auth=()
[[ $SCENARIO != health ]] && auth=(-H "Authorization: Bearer $TOKEN")
lua="$SHARED/lua/bench.lua"
[[ -f $lua ]] || { echo "$lua not found (set SHARED to the shared bench folder)" >&2; exit 2; }
run() {  # seconds -> wrk output
    SCENARIO=$lua_sc wrk -t1 -c"$CONNECTIONS" -d"$1"s --timeout 30s "${auth[@]}" -s "$lua" "$A$path"
}

log "warm-up (5 s), then $DURATION s of $SCENARIO at c=$CONNECTIONS, counted"
run 5 >/dev/null
stats=""
if psql "$PG/$db" -qAtc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null 2>&1; then
    stats=1
fi
HOST=127.0.0.1 callgrind_control -z "$pid" >/dev/null
run "$DURATION" >"$out/wrk.txt"
HOST=127.0.0.1 callgrind_control -d "$pid" >/dev/null
requests="$(awk '/requests in/ {print $1}' "$out/wrk.txt")"
non2xx="$(awk '/Non-2xx/ {print $NF}' "$out/wrk.txt")"
dump="$(ls -t "$out"/callgrind.out.* | head -1)"
total="$(awk '/^summary:|^totals:/ {print $2; exit}' "$dump")"
echo "scenario $SCENARIO: $requests requests (non-2xx: ${non2xx:-0}) in $DURATION s under callgrind, c=$CONNECTIONS, WORKERS=$WORKERS"
python3 -c "import sys; t,r=int(sys.argv[1]),int(sys.argv[2]); print(f'instructions: {t:,} total, {t//r:,} per request')" "$total" "$requests"
echo
echo "top $TOP functions, inclusive (per request = Ir / $requests):"
callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null \
    | awk -v n="$TOP" -v r="$requests" '/^-+$/ {sec++; next} sec>=3 && $1 ~ /^[0-9,]+$/ && c < n {
        ir=$1; gsub(",", "", ir); $1=""; printf "%10d  %s\n", ir / r, substr($0, 2); c++ }'
echo
echo "top $TOP functions, self:"
callgrind_annotate --threshold=100 "$dump" 2>/dev/null \
    | awk -v n="$TOP" -v r="$requests" '/^-+$/ {sec++; next} sec>=3 && $1 ~ /^[0-9,]+$/ && c < n {
        ir=$1; gsub(",", "", ir); $1=""; printf "%10d  %s\n", ir / r, substr($0, 2); c++ }'
if [[ -n $stats ]]; then
    echo
    echo "PostgreSQL (pg_stat_statements, same window): calls per request, statement"
    psql "$PG/$db" -qAt -F ' | ' -c "SELECT round(calls::numeric / $requests, 3), round(total_exec_time::numeric * 1000 / greatest(calls, 1), 1) || ' us', left(regexp_replace(query, '\s+', ' ', 'g'), 160)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND calls > 0 ORDER BY calls DESC LIMIT 10"
else
    echo
    echo "(pg_stat_statements is not loaded in this cluster: no statement counts)"
fi
cp "$dump" "/tmp/callgrind.$SCENARIO.latest" && log "callgrind dump copied to /tmp/callgrind.$SCENARIO.latest"
