#!/usr/bin/env bash
# What one request costs a running server: user and kernel CPU (µs) and context switches
# per request, read from /proc around one wrk run (CPU time counts, whatever else the
# machine is doing; req/s does not). Run it against two servers in turn to compare them.
#
#   tests/bench/cpu_per_request.sh PID URL [LABEL]
#   e.g. tests/bench/cpu_per_request.sh "$(pgrep -f api-server)" http://127.0.0.1:8090/health agentry
#
# env: CONNECTIONS (32)  DURATION (10)  wrk's extra arguments in WRK_ARGS (e.g. -H 'Authorization: …')
set -euo pipefail
pid=${1:?PID}; url=${2:?URL}; label=${3:-$pid}
CONNECTIONS="${CONNECTIONS:-32}" DURATION="${DURATION:-10}"
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
[[ -r /proc/$pid/stat ]] || { echo "no process $pid" >&2; exit 2; }

cpu() { awk '{print $14, $15}' "/proc/$pid/stat"; }   # utime stime, in clock ticks
switches() { cat /proc/"$pid"/task/*/status | awk -v k="$1" '$1 == k":" {s += $2} END {print s}'; }

read -r u0 s0 < <(cpu)
v0=$(switches voluntary_ctxt_switches); n0=$(switches nonvoluntary_ctxt_switches)
# shellcheck disable=SC2086
out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" ${WRK_ARGS:-} "$url")
read -r u1 s1 < <(cpu)
v1=$(switches voluntary_ctxt_switches); n1=$(switches nonvoluntary_ctxt_switches)

requests=$(awk '/requests in/ {print $1}' <<<"$out")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
python3 - "$label" "$rps" "$requests" "$(getconf CLK_TCK)" "$u0" "$u1" "$s0" "$s1" "$v0" "$v1" "$n0" "$n1" <<'PY'
import sys
label, rps, n, tck = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u0, u1, s0, s1, v0, v1, n0, n1 = map(int, sys.argv[5:13])
us = lambda ticks: ticks * 1e6 / tck / n
print(f"{label}: {rps} req/s, user {us(u1 - u0):.2f} µs/req, kernel {us(s1 - s0):.2f} µs/req, "
      f"voluntary switches {(v1 - v0) / n:.3f}/req, involuntary {(n1 - n0) / n:.3f}/req")
PY
