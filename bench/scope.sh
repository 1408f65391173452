#!/usr/bin/env bash
# Benchmark: resolving personal-data occurrences into the register of
# affected people (internal/scope), against the same de-duplication done in
# PostgreSQL in the same run.
#
#   bench/scope.sh [OCCURRENCES]     (default 10000000: about 2,000,000
#                                     people, half of them in a
#                                     1,000,000-row master)
#
# mamori: normalise, key, cluster (union-find), build the register, then add
# 1% more occurrences and update the register (the incremental step). The
# figures come from BenchmarkResolve; the process's CPU time and peak RSS
# from /usr/bin/time. The summary prints mamori's time over PostgreSQL's and
# the goal (full run under 30 s and 4 GiB, incremental under 2 s). On a
# shared machine wall times grow with the load, which the summary prints:
# compare CPU seconds there.
#
# PostgreSQL (MAMORI_TEST_POSTGRES, default the local test database): the
# same normalised keys (normalised in Go, since SQL has no NFKC/E.164), COPY
# into an unlogged table, then connected components by GROUP BY on the keys:
# every record takes the smallest label among the records sharing one of its
# keys, repeated until nothing changes. Phone keys carry the name, as
# mamori's contact rule does for differently named people sharing a phone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-10000000}"
pg="${MAMORI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
go test -c -o "$work/scope.test" ./internal/scope

echo "== mamori scope, $n occurrences"
MAMORI_SCOPE_BENCH_N="$n" /usr/bin/time -o "$work/time" -f '%e %U %S %M' \
	"$work/scope.test" -test.run '^$' -test.bench Resolve -test.benchtime 1x | tee "$work/bench.out"
# metric VALUE UNIT pairs of the benchmark line, by unit.
metric() { awk -v u="$1" '/^BenchmarkResolve/ { for (i = 3; i < NF; i++) if ($(i+1) == u) print $i }' "$work/bench.out"; }
full=$(metric s/full)
fullcpu=$(metric cpu-s/full)
inc=$(metric s/incremental)
read -r pwall puser psys prss <"$work/time"
echo "mamori: full ${full} s wall (${fullcpu} s CPU), incremental ${inc} s wall; process ${pwall} s wall, $(echo "$puser + $psys" | bc) s CPU, $((prss / 1024)) MiB peak RSS"

echo "== PostgreSQL, same keys"
MAMORI_SCOPE_BENCH_N="$n" MAMORI_SCOPE_BENCH_CSV="$work/keys.csv" "$work/scope.test" -test.run '^TestBenchCSV$' >/dev/null
wc -l <"$work/keys.csv" | sed 's/^/key rows: /'
start=$(date +%s.%N)
psql "$pg" -q -v ON_ERROR_STOP=1 <<SQL
\timing on
DROP SCHEMA IF EXISTS mamori_scope_bench CASCADE;
CREATE SCHEMA mamori_scope_bench;
SET search_path = mamori_scope_bench;
SET work_mem = '256MB';
CREATE UNLOGGED TABLE occ (rec bigint, kind text, key text);
\copy occ FROM '$work/keys.csv' WITH (FORMAT csv)
CREATE UNLOGGED TABLE label AS SELECT DISTINCT rec, rec AS l FROM occ;
CREATE UNIQUE INDEX ON label (rec);
ANALYZE occ; ANALYZE label;
DO \$\$
DECLARE changed bigint; rounds int := 0;
BEGIN
	LOOP
		rounds := rounds + 1;
		WITH k AS (SELECT o.kind, o.key, min(l.l) AS m FROM occ o JOIN label l USING (rec) GROUP BY o.kind, o.key),
		     best AS (SELECT o.rec, min(k.m) AS m FROM occ o JOIN k USING (kind, key) GROUP BY o.rec)
		UPDATE label SET l = best.m FROM best WHERE label.rec = best.rec AND best.m < label.l;
		GET DIAGNOSTICS changed = ROW_COUNT;
		EXIT WHEN changed = 0;
	END LOOP;
	RAISE NOTICE 'rounds: %', rounds;
END
\$\$;
SELECT count(*) AS people FROM (SELECT l FROM label GROUP BY l HAVING max(rec) >= 0) t;
DROP SCHEMA mamori_scope_bench CASCADE;
SQL
end=$(date +%s.%N)
pgs=$(echo "$end - $start" | bc)
echo "postgres: ${pgs} s wall (COPY + GROUP BY rounds)"

echo "== summary, $n occurrences, load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "mamori full ${full} s, postgres ${pgs} s: mamori/postgres = $(echo "scale=3; $full / $pgs" | bc)"
verdict() { if [ "$(echo "$1" | bc)" = 1 ]; then echo met; else echo missed; fi; }
echo "goal full < 30 s: $(verdict "$full < 30"); peak RSS < 4 GiB: $(verdict "$prss < 4194304"); incremental < 2 s: $(verdict "$inc < 2")"
