#!/usr/bin/env bash
# Benchmark: the incident timeline (internal/store) on SQLite and
# PostgreSQL: ingest in events/s (batches of 1,000, as agents send them)
# and the time of the filtered queries a responder runs (Sigma hits at
# level high and above, first page; one host's page in the middle of the
# window), over the whole table.
#
#   bench/timeline.sh [EVENTS]     (default 10000000; the target is a
#                                   filtered query under 200 ms at 10^7)
#
# Measured 2026-11-29 on a shared, loaded 2-core machine, 2,000,000 events
# (10^7 would have taken over an hour there): SQLite 2,581 events/s, 2.2 ms
# a query; PostgreSQL 13,342 events/s (2,118 before multi-row INSERTs),
# 1.8 ms. At 1,000,000 before the query fix SQLite took 163 ms a query.
#
# PostgreSQL is MAMORI_TEST_POSTGRES (default the local test database);
# without it reachable the PostgreSQL half is skipped by the benchmark.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-10000000}"
export MAMORI_TEST_POSTGRES="${MAMORI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
go test -c -o "$work/store.test" ./internal/store
echo "== timeline, $n events"
MAMORI_BENCH_TIMELINE="$n" TMPDIR="$work" "$work/store.test" -test.run '^$' -test.bench '^BenchmarkTimeline$' -test.benchtime 20x -test.timeout 0 |
	tee "$work/out.txt"
# ns/op covers both queries: report per query.
awk '/^BenchmarkTimeline\// {
	split($1, a, "/"); sub(/-[0-9]+$/, "", a[2])
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") q = $i / 2 / 1e6
		if ($(i+1) == "ingest-events/s") ing = $i
	}
	printf "%-8s ingest %.0f events/s, filtered query %.1f ms\n", a[2], ing, q
}' "$work/out.txt"
