#!/usr/bin/env bash
# Streaming uploads and downloads: CONCURRENCY clients (curl) each upload a SIZE_MIB file to
# `POST /api/v1/files` at once, then all download theirs at once (`GET /files/{id}/content`),
# against a PROFILE (release) server on SQLite with the local-disk store. Prints throughput
# (MiB/s) of each phase and the server's peak RSS (VmHWM), which must stay under RSS_MAX_MIB
# (64) whatever the file size: bodies are streamed, never held whole.
#
#   tests/bench/files.sh            (or: just bench-files)
#
# env: CONCURRENCY (32)  SIZE_MIB (10)  WORKERS (2)  PORT (8094)  PROFILE (release)  RSS_MAX_MIB (64)
#      BIN (a server binary to measure instead of building one)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
CONCURRENCY="${CONCURRENCY:-32}" SIZE_MIB="${SIZE_MIB:-10}" WORKERS="${WORKERS:-2}"
PORT="${PORT:-8094}" PROFILE="${PROFILE:-release}" RSS_MAX_MIB="${RSS_MAX_MIB:-64}"
out="$(mktemp -d /tmp/agentry-files-bench.XXXXXX)"
log() { echo "[bench-files] $*" >&2; }
flag=$([ "$PROFILE" = release ] && echo --release || true)

if [[ -n ${BIN:-} ]]; then
    server_bin="$BIN"
else
    log "building ($PROFILE) the server"
    cargo build $flag -q -p api-server --manifest-path "$root/Cargo.toml"
    server_bin="$root/target/$([ "$PROFILE" = release ] && echo release || echo debug)/api-server"
fi

# One random file (a PNG signature, then random bytes) uploaded by every client.
python3 - "$out/upload.png" "$SIZE_MIB" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(int(sys.argv[2]) * 1024 * 1024 - 8))
PY

APP_ENV=development DATABASE_URL="sqlite://$out/files.db" PORT="$PORT" WORKERS="$WORKERS" BCRYPT_COST=4 \
    RUST_LOG=warn FILE_STORE_URL="$out/store" FILE_QUOTA_BYTES=$((64 * 1024 * 1024 * 1024)) \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    "$server_bin" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done
base="http://127.0.0.1:$PORT"
curl -fs "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","username":"bench","password":"correct-horse-battery"}' >/dev/null
token=$(curl -fs "$base/api/v1/auth/login" -d 'username=bench&password=correct-horse-battery' |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")

now() { date +%s.%N; }
mib=$((CONCURRENCY * SIZE_MIB))

log "$CONCURRENCY concurrent uploads of $SIZE_MIB MiB"
start=$(now)
for i in $(seq "$CONCURRENCY"); do
    curl -fs "$base/api/v1/files" -H "authorization: Bearer $token" \
        -F purpose=attachment -F "file=@$out/upload.png;filename=f$i.png" -o "$out/up$i.json" &
done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
up_secs=$(python3 -c "print($(now) - $start)")
ids=()
for i in $(seq "$CONCURRENCY"); do
    ids+=("$(python3 -c 'import sys, json; print(json.load(open(sys.argv[1]))["id"])' "$out/up$i.json")")
done

log "$CONCURRENCY concurrent downloads"
start=$(now)
for i in "${!ids[@]}"; do
    curl -fs "$base/api/v1/files/${ids[$i]}/content" -H "authorization: Bearer $token" -o "$out/down$i" &
done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
down_secs=$(python3 -c "print($(now) - $start)")
for i in "${!ids[@]}"; do
    cmp -s "$out/upload.png" "$out/down$i" || { log "download $i differs from the upload"; exit 1; }
done

peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
python3 - "$mib" "$up_secs" "$down_secs" "$rss_before" "$peak_kib" "$RSS_MAX_MIB" <<'PY'
import sys
mib, up, down, before, peak, limit = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
print(f"uploads:   {mib:.0f} MiB in {up:.2f} s = {mib / up:.0f} MiB/s")
print(f"downloads: {mib:.0f} MiB in {down:.2f} s = {mib / down:.0f} MiB/s")
print(f"server RSS: {before / 1024:.1f} MiB idle, peak {peak / 1024:.1f} MiB (limit {limit:.0f} MiB)")
if peak / 1024 >= limit:
    sys.exit(f"peak RSS {peak / 1024:.1f} MiB is over {limit:.0f} MiB")
PY
rm -rf "$out"
