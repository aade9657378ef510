#!/usr/bin/env bash
# Fuzz every operation of the OpenAPI document with schemathesis, authenticated, on a fresh
# database: every check except positive_data_acceptance (the spec cannot express opaque
# cursors, ownership of referenced ids, or the 72-byte password limit).
#
#   tests/fuzz/schemathesis.sh                      (SQLite)
#   DATABASE_URL=postgres://…/empty_db tests/fuzz/schemathesis.sh
#
# env: SCHEMATHESIS (path of the CLI; default: installed into a venv under /tmp), MAX_EXAMPLES (50), PORT (8095)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${PORT:-8095}" B="http://127.0.0.1:${PORT:-8095}"
out="$(mktemp -d /tmp/agentry-fuzz.XXXXXX)"
db_url="${DATABASE_URL:-sqlite://$out/fuzz.db}"
st="${SCHEMATHESIS:-/tmp/agentry-st-venv/bin/schemathesis}"
if [ ! -x "$st" ]; then
    python3 -m venv /tmp/agentry-st-venv && /tmp/agentry-st-venv/bin/pip install -q 'schemathesis>=4.3,<5'
    st=/tmp/agentry-st-venv/bin/schemathesis
fi
cargo build -q -p api-server --manifest-path "$root/Cargo.toml"
APP_ENV=development DATABASE_URL="$db_url" PORT="$PORT" BCRYPT_COST=4 RUST_LOG=warn \
    AUTH_RATE_LIMIT_PER_MINUTE=100000 JWT_SECRET=fuzz-secret-fuzz-secret-fuzz-secret-0123 \
    "$root/target/debug/api-server" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -fs "$B/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$B/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"fuzz@example.com","username":"fuzz","password":"fuzz-password-1"}' >/dev/null
token=$(curl -fs "$B/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"fuzz","password":"fuzz-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
# The operations that end the caller's session (deleting the account, changing the password)
# would leave every later request a 401: they are fuzzed in their own pass, last.
enders=(--exclude-operation-id delete_me --exclude-operation-id change_password)
run() { "$st" --config-file "$root/tests/fuzz/schemathesis.toml" run "$B/openapi.json" --checks all --exclude-checks positive_data_acceptance \
    -H "Authorization: Bearer $token" -n "${MAX_EXAMPLES:-50}" --no-color "$@" 2>&1; }
run "${enders[@]}" | tee "$out/report.txt" | tail -25
run --include-operation-id delete_me --include-operation-id change_password | tee -a "$out/report.txt" | tail -8
# Our own errors (not actix's refusal of unparseable requests, which the fuzzer sends on purpose).
if grep -v "actix_http::h1::dispatcher" "$out/server.log" | grep -q "ERROR\|panicked"; then
    echo "the server logged errors: $out/server.log"; exit 1
fi
