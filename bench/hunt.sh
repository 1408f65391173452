#!/usr/bin/env bash
# Benchmark: `mamori hunt` inputs and matching.
#
#   bench/hunt.sh        (HUNT_BENCH_SIZE=64000000 HUNT_BENCH_DIR=/tmp/mamori-hunt-bench)
#
# Part 1, EVTX parsing: writes a dense multi-chunk EVTX file from the records
# of SigmaHQ's regression .evtx files (bench/evtxgen) once, warms the page
# cache, then in the same run times
#   - libevtx's evtxexport (text output to /dev/null; its fastest mode), and
#   - internal/evtx reading every record to a logevent.Event, parse only,
#     through `go test -bench BenchmarkEvents`, on one core and in the
#     parallel chunk mode on all cores.
# Prints records per CPU second (user+sys: on a shared machine wall time
# measures the neighbours too; wall times are printed beside), the ratio to
# evtxexport, and peak RSS.
#
# Part 2, full hunt (function full_hunt, owned by internal/sigma and
# internal/hunt): `mamori hunt --threads 2` with every SigmaHQ Windows rule
# (rules/windows and the windows directories of rules-emerging-threats and
# rules-threat-hunting) over the same file: MB/s per wall second and per
# CPU second, peak RSS. Goal: >= 25 MB/s on 2 cores, peak RSS < 500 MiB on
# a 1 GB input (HUNT_BENCH_SIZE=1000000000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
size="${HUNT_BENCH_SIZE:-64000000}"
dir="${HUNT_BENCH_DIR:-/tmp/mamori-hunt-bench}"
corpus="${SIGMA_CORPUS:-$root/../shared/corpus/sigma}"
command -v evtxexport >/dev/null || { echo "evtxexport missing: apt-get install libevtx-utils" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/evtxgen" ./bench/evtxgen && go test -c -o "$work/evtx.test" ./internal/evtx && go build -o "$work/mamori" ./cmd/mamori)

big="$dir/big.evtx"
if [[ ! -f "$big" || "$(cat "$dir/.size" 2>/dev/null)" != "$size" ]]; then
	echo "generating a $size-byte EVTX file in $dir..."
	mkdir -p "$dir"
	"$work/evtxgen" -src "$corpus/regression_data" -out "$big" -size "$size"
	echo "$size" > "$dir/.size"
fi
bytes=$(stat -c %s "$big")
cat "$big" > /dev/null
echo "input: $big, $bytes bytes; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # run OUTFILE CMD... -> "cpu_seconds wall_seconds max_rss_kb"
	local out=$1; shift
	/usr/bin/time -f '%U %S %e %M' -o "$work/time" "$@" > "$out" 2>"$work/stderr"
	tail -n 1 "$work/time" | awk '{printf "%.3f %.3f %d", $1+$2, $3, $4}'
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", n/s}'; }

read -r e_cpu e_wall e_rss <<< "$(run "$work/evtxexport.out" evtxexport "$big")"
e_n=$(grep -c '^Event number' "$work/evtxexport.out")
echo "evtxexport:            $e_n records; cpu ${e_cpu}s (wall ${e_wall}s) = $(rate "$e_n" "$e_cpu") records/s per CPU s; peak RSS ${e_rss} KB"

bench() { # bench LABEL GOMAXPROCS PARALLEL
	read -r cpu wall rss <<< "$(cd "$root/internal/evtx" && run "$work/bench.out" env MAMORI_EVTX_BENCH_FILE="$big" MAMORI_EVTX_BENCH_PARALLEL="$3" GOMAXPROCS="$2" "$work/evtx.test" -test.run '^$' -test.bench '^BenchmarkEvents$' -test.benchtime 1x -test.cpu "$2")"
	n=$(awk '/^BenchmarkEvents/ {for (i=1;i<=NF;i++) if ($(i+1)=="records") print $i}' "$work/bench.out")
	echo "$1 $n records; cpu ${cpu}s (wall ${wall}s) = $(rate "$n" "$cpu") records/s per CPU s, $(rate "$n" "$wall") per wall s; peak RSS ${rss} KB"
	echo "  ratio to evtxexport per CPU s: $(awk -v a="$cpu" -v b="$e_cpu" -v n="$n" -v m="$e_n" 'BEGIN{printf "%.1f", (n/a)/(m/b)}')"
	[[ "$n" == "$e_n" ]] || echo "  RECORD COUNT DIFFERS from evtxexport ($n vs $e_n)"
}
bench "mamori evtx (1 core): " 1 0
bench "mamori evtx (parallel):" "$(nproc)" 1

# full_hunt: the Sigma engine's part.
full_hunt() {
	local rules=(--sigma "$corpus/rules/windows") d cpu wall rss
	while IFS= read -r d; do rules+=(--sigma "$d"); done < <(find "$corpus/rules-emerging-threats" "$corpus/rules-threat-hunting" -type d -name windows | sort)
	read -r cpu wall rss <<< "$(run "$work/hits.ndjson" "$work/mamori" hunt --threads 2 --no-progress --format ndjson "${rules[@]}" "$big" || true)"
	grep -E 'rules and [0-9]+ correlations loaded' "$work/stderr" | sed 's/^mamori hunt: /full hunt: /'
	echo "full hunt: $(tail -1 "$work/hits.ndjson" | jq -r '"\(.events) events, \(.hits) hits, \(.errors) error records"')"
	echo "full hunt: $(awk -v b="$bytes" -v c="$cpu" -v w="$wall" 'BEGIN{printf "%.1f MB/s per wall s (%.2f s), %.1f MB/s per CPU s (%.2f s)", b/1e6/w, w, b/1e6/c, c}'); peak RSS $((rss / 1024)) MiB"
}
full_hunt
