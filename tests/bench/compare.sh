#!/usr/bin/env bash
# Side-by-side benchmark: Agentry (release build) and the FastAPI reference, on the same
# PostgreSQL with the same settings, driven by the shared wrk harness (../shared/bench).
#
#   tests/bench/compare.sh            (or: just bench)
#
# Prints one table: req/s, p50 and p99 per scenario for both servers and the ratio, the
# login capacity against what bcrypt allows on this machine's cores, /agents/{id} during
# a login storm, and the server's peak resident memory under load.
#
# env: SHARED (../shared/bench)  PG (postgres://postgres@127.0.0.1:5432)  BCRYPT_COST (12)
#      DURATION (10)  CONNECTIONS (32)  RUST_WORKERS (2)  FASTAPI_WORKERS (1)  SKIP_FASTAPI
#      BIN (a server binary to measure instead of building one)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
SHARED="${SHARED:-$root/../shared/bench}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
export BCRYPT_COST="${BCRYPT_COST:-12}" DURATION="${DURATION:-10}" CONNECTIONS="${CONNECTIONS:-32}"
RUST_WORKERS="${RUST_WORKERS:-2}" FASTAPI_WORKERS="${FASTAPI_WORKERS:-1}"
RUST_PORT=8090 PEER_PORT=8001
out="$(mktemp -d /tmp/agentry-bench.XXXXXX)"
log() { echo "[bench] $*" >&2; }

command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
[ -x "$SHARED/load.sh" ] || { echo "load harness not found at $SHARED (set SHARED)" >&2; exit 2; }

db=bench_agentry
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
url="$PG/$db?sslmode=disable"

server_bin="${BIN:-$root/target/release/api-server}"
if [[ -z ${BIN:-} ]]; then
    log "building the release binary"
    cargo build --release -q -p api-server --manifest-path "$root/Cargo.toml"
fi

peak_rss() {  # pid outfile: samples VmRSS every 200 ms until the process or the file's owner stops
    # $file gets the peak; $file.phases the peak of each phase named in $file.phase.
    local pid=$1 file=$2 max=0 kb phase
    while kill -0 "$pid" 2>/dev/null && [ -e "$file.on" ]; do
        kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        (( kb > max )) && max=$kb
        echo "$max" >"$file"
        phase=$(cat "$file.phase" 2>/dev/null || echo start)
        echo "$phase $kb" >>"$file.samples"
        sleep 0.2
    done
}
phase() { echo "$1" >"$out/rss.phase"; }

log "starting Agentry on :$RUST_PORT (workers $RUST_WORKERS, bcrypt $BCRYPT_COST)"
APP_ENV=development DATABASE_URL="$url" PORT=$RUST_PORT WORKERS=$RUST_WORKERS RUST_LOG=warn \
    AUTH_RATE_LIMIT_PER_MINUTE=100000000 JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    DATABASE_POOL_SIZE="${RUST_POOL_SIZE:-16}" "$server_bin" >"$out/rust.log" 2>&1 &
rust_pid=$!
trap 'kill $rust_pid 2>/dev/null || true; rm -f "$out"/*.on' EXIT
touch "$out/rss.on"; peak_rss $rust_pid "$out/rss" &

for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$RUST_PORT/health" >/dev/null && break; sleep 0.1; done
log "GET /api/v1/users/me with a valid token"
phase users_me
me_user="me_$RANDOM$RANDOM"
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d "{\"email\":\"$me_user@example.com\",\"username\":\"$me_user\",\"password\":\"bench-password-123\"}" \
    "http://127.0.0.1:$RUST_PORT/api/v1/auth/register"
me_token=$(curl -fsS -d "username=$me_user&password=bench-password-123" "http://127.0.0.1:$RUST_PORT/api/v1/auth/login" \
    | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
wrk -t1 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $me_token" "http://127.0.0.1:$RUST_PORT/api/v1/users/me" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $me_token" \
    "http://127.0.0.1:$RUST_PORT/api/v1/users/me" >"$out/users_me.txt"
log "login storm (c=32) with GET /agents/{id} (c=32) at the same time"
phase login_storm
LOGIN_DURATION=25 SCENARIOS=login OUT="$out/rust_storm_login.json" "$SHARED/load.sh" "http://127.0.0.1:$RUST_PORT" >/dev/null &
storm=$!
sleep 4   # the storm run sets up (register, 50 agents); the GET run then sets up behind the queued logins and measures while the storm lasts
DURATION=5 WARMUP=0 SCENARIOS=get_agent OUT="$out/rust_storm_get.json" "$SHARED/load.sh" "http://127.0.0.1:$RUST_PORT" >/dev/null
wait $storm
# The standard scenarios come after the storm: create_agent bulk-inserts tens of thousands of
# rows in seconds, which leaves PostgreSQL's cached generic plans built for a tiny table
# until autoanalyze catches up (see docs/benchmarks.md), and would distort the storm phase.
# Each scenario's peak apart (load.sh names a scenario as its measured run starts; the
# warm-up before it counts with the scenario before).
phase setup
OUT="$out/rust.json" "$SHARED/load.sh" "http://127.0.0.1:$RUST_PORT" >"$out/rust.txt" 2> >(
    while IFS= read -r line; do
        echo "$line" >&2
        if [[ $line =~ ^\[load\]\ ([a-z_]+):\ [0-9]+s$ ]]; then phase "${BASH_REMATCH[1]}"; fi
    done)
phase login_c4
LOGIN_CONNECTIONS=4 LOGIN_DURATION=10 SCENARIOS=login OUT="$out/rust_login.json" \
    "$SHARED/load.sh" "http://127.0.0.1:$RUST_PORT" >/dev/null
rm -f "$out/rss.on"
kill $rust_pid; wait $rust_pid 2>/dev/null || true

if [ -z "${SKIP_FASTAPI:-}" ]; then
    log "starting the FastAPI reference on :$PEER_PORT (workers $FASTAPI_WORKERS)"
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_fastapi WITH (FORCE)" -c "CREATE DATABASE bench_fastapi" >/dev/null
    (cd "$SHARED" && WORKERS=$FASTAPI_WORKERS DATABASE_URL="$PG/bench_fastapi?sslmode=disable" ./run_peer.sh $PEER_PORT >&2)
    OUT="$out/peer.json" "$SHARED/load.sh" "http://127.0.0.1:$PEER_PORT" >"$out/peer.txt" || true
    LOGIN_CONNECTIONS=4 LOGIN_DURATION=10 SCENARIOS=login OUT="$out/peer_login.json" \
        "$SHARED/load.sh" "http://127.0.0.1:$PEER_PORT" >/dev/null || true
    (cd "$SHARED" && ./run_peer.sh stop $PEER_PORT >&2) || true
fi

# What bcrypt at this cost allows on these cores, timed with the server's own implementation.
hash_ms=$(cargo run --release -q -p auth --example bcrypt_time --manifest-path "$root/Cargo.toml")

python3 - "$out" "$hash_ms" "$(nproc)" <<'PY'
import json, os, sys
out, hash_ms, cores = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def load(name):
    p = os.path.join(out, name)
    if not os.path.exists(p): return {}
    return {r["scenario"]: r for r in json.load(open(p))["scenarios"]}
rust, peer = load("rust.json"), load("peer.json")
rust.update({"login_c4": v for v in load("rust_login.json").values()})
peer.update({"login_c4": v for v in load("peer_login.json").values()})
print(f"{'scenario':<14}{'agentry req/s':>14}{'p50 ms':>8}{'p99 ms':>8}{'fastapi req/s':>15}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>8}")
for sc in ["health", "get_agent", "list_agents", "create_agent", "login", "login_c4"]:
    r, p = rust.get(sc), peer.get(sc)
    if not r: continue
    ratio = f"{r['req_per_s'] / p['req_per_s']:.1f}x" if p and p['req_per_s'] else "-"
    pr = f"{p['req_per_s']:>15.1f}{p['p50_ms']:>8.2f}{p['p99_ms']:>8.2f}" if p else f"{'-':>15}{'-':>8}{'-':>8}"
    print(f"{sc:<14}{r['req_per_s']:>14.1f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{pr}{ratio:>8}")
bound = cores * 1000.0 / hash_ms
cap = rust.get("login_c4", {}).get("req_per_s", 0)
print(f"\nbcrypt cost {os.environ.get('BCRYPT_COST','12')}: {hash_ms:.0f} ms/hash -> {bound:.1f} logins/s on {cores} cores; "
      f"agentry login capacity (c=4) {cap:.1f}/s = {100*cap/bound:.0f}% of that bound")
storm = load("rust_storm_get.json").get("get_agent")
if storm:
    print(f"GET /agents/{{id}} during a c=32 login storm: {storm['req_per_s']:.0f} req/s, p50 {storm['p50_ms']:.2f} ms, p99 {storm['p99_ms']:.2f} ms, non2xx {storm['non2xx']}")
me = os.path.join(out, "users_me.txt")
if os.path.exists(me):
    text = open(me).read()
    rps = next((l.split()[1] for l in text.splitlines() if l.startswith("Requests/sec")), "?")
    p50 = next((l.split()[1] for l in text.splitlines() if l.strip().startswith("50%")), "?")
    p99 = next((l.split()[1] for l in text.splitlines() if l.strip().startswith("99%")), "?")
    print(f"GET /api/v1/users/me (valid token, c={os.environ.get('CONNECTIONS','32')}): {rps} req/s, p50 {p50}, p99 {p99}")
rss = open(os.path.join(out, "rss")).read().strip() if os.path.exists(os.path.join(out, "rss")) else "0"
peaks = {}
samples = os.path.join(out, "rss.samples")
if os.path.exists(samples):
    for line in open(samples):
        name, kb = line.split()
        peaks[name] = max(peaks.get(name, 0), int(kb))
by_phase = ", ".join(f"{name} {kb/1024:.1f}" for name, kb in peaks.items())
print(f"agentry peak RSS under load: {int(rss)/1024:.1f} MiB" + (f" (peak by phase, MiB: {by_phase})" if peaks else ""))
PY
log "raw results in $out"
