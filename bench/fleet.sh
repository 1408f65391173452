#!/usr/bin/env bash
# Benchmark: one `mamori server` (fresh data directory, SQLite) against N
# simulated agents from `mamori loadtest agents`, on loopback. Prints the
# load generator's report: agents connected, server RSS and CPU, command
# round-trip p50/p99 and findings ingested per second.
#
#   bench/fleet.sh [N] [FINDINGS_PER_SECOND] [DURATION] [extra loadtest flags...]
#
# Defaults: 20000 agents, 5000 findings/s, 60s measured phase. Identities
# are kept in $MAMORI_BENCH_DIR (default: a temporary directory) so that a
# re-run with the same directory skips enrolment; the server's data
# directory lives there too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-20000}"
rate="${2:-5000}"
duration="${3:-60s}"
shift $(( $# < 3 ? $# : 3 ))

# Every connection costs a descriptor on each side.
ulimit -n "$(( n * 2 + 4096 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="${MAMORI_BENCH_DIR:-}"
if [[ -z "$work" ]]; then
	work="$(mktemp -d)"
	trap 'kill "${server_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
else
	mkdir -p "$work"
	trap 'kill "${server_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
fi
(cd "$root" && go build -o "$work/mamori" ./cmd/mamori)

port="${MAMORI_BENCH_PORT:-18643}"
"$work/mamori" server --data "$work/server" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	[[ -s "$work/server/admin.token" ]] && grep -q listening "$work/server.log" && break
	sleep 0.1
done
grep -q listening "$work/server.log" || { cat "$work/server.log" >&2; exit 1; }

echo "server pid $server_pid on 127.0.0.1:$port; $n agents, $rate findings/s, $duration; $(nproc) cores"
"$work/mamori" loadtest agents -n "$n" \
	--server "https://127.0.0.1:$port" --ca "$work/server/ca.pem" \
	--enroll-token "$(cat "$work/server/enroll.token")" --admin-token "@$work/server/admin.token" \
	--findings-rate "$rate" --duration "$duration" --server-pid "$server_pid" \
	--identities "$work/identities.jsonl" -v "$@"
