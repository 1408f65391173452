#!/usr/bin/env bash
# Benchmark: personal-data scanning per core against grep.
#
#   bench/pii.sh            (PII_BENCH_SIZE=1GiB PII_BENCH_DIR=/tmp/mamori-pii-bench)
#
# Generates a mixed labelled corpus (customer lists in UTF-8 and CP932, JSONL
# orders, letters, UTF-16 exports, e-mails, logs full of decoys) once, warms
# the page cache, then in the same run times
#   - grep -E -o with unvalidated e-mail, phone and card patterns (LC_ALL=C,
#     its fastest mode; one process, so one core), and
#   - the pii matcher alone through `go test -bench BenchmarkScanDir -cpu 1`
#     (decoding, format readers, validation, grouping, masking), and
#   - mamori scan --pii --format ndjson --threads 1 end to end (plus walking,
#     SHA-256 and writing every occurrence as ndjson).
# Prints MB/s per core (bytes over user+sys CPU seconds) and ratios to grep.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
size="${PII_BENCH_SIZE:-1GiB}"
dir="${PII_BENCH_DIR:-/tmp/mamori-pii-bench}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/mamori" ./cmd/mamori && go build -o "$work/piigen" ./bench/piigen)

if [[ ! -f "$dir/.size" || "$(cat "$dir/.size")" != "$size" ]]; then
	echo "generating $size corpus in $dir..."
	rm -rf "$dir"
	"$work/piigen" -out "$dir" -size "$size"
	echo "$size" > "$dir/.size"
fi
bytes=$(find "$dir" -type f ! -name .size -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$dir" -type f ! -name .size | wc -l)
echo "corpus: $dir, $files files, $bytes bytes; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "warming the page cache..."
find "$dir" -type f -print0 | xargs -0 cat >/dev/null

# Per-core throughput is bytes over the CPU seconds (user+sys) a process
# used: on a shared machine wall time measures the neighbours too. Wall
# times are printed beside it.
cpu() { # cpu OUTFILE CMD... -> "cpu_seconds wall_seconds"
	local out=$1; shift
	/usr/bin/time -f '%U %S %e' -o "$work/time" "$@" > "$out" 2>"$work/stderr" || [[ $? == 1 ]]
	tail -n 1 "$work/time" | awk '{printf "%.3f %.3f", $1+$2, $3}'
}
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN{printf "%.1f", b/1e6/s}'; }

email='[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
phone='(\+81[- ]?|0)[0-9]{1,4}[- (]?[0-9]{1,4}[- )]?[0-9]{4}'
card='[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{2,4}'
read -r g_cpu g_wall <<< "$(cpu "$work/grep.out" env LC_ALL=C grep -r -h -E -o -e "$email" -e "$phone" -e "$card" "$dir")"
echo "grep -E -o:     $(wc -l < "$work/grep.out") unvalidated matches; cpu ${g_cpu}s (wall ${g_wall}s) = $(mbps "$g_cpu") MB/s per core"

# The matcher alone (decoding, readers, detection, validation, grouping,
# masking), files read inside the loop, through its Go benchmark.
(cd "$root" && go test -c -o "$work/pii.test" ./internal/pii/)
read -r b_cpu b_wall <<< "$(cpu "$work/bench.out" env MAMORI_PII_BENCH_DIR="$dir" GOMAXPROCS=1 "$work/pii.test" -test.run '^$' -test.bench '^BenchmarkScanDir$' -test.benchtime 1x -test.cpu 1)"
echo "pii matcher:    cpu ${b_cpu}s (wall ${b_wall}s) = $(mbps "$b_cpu") MB/s per core"
echo "ratio matcher/grep per core: $(awk -v m="$b_cpu" -v g="$g_cpu" 'BEGIN{printf "%.2f", g/m}')"

# The whole command: walk, SHA-256, matcher and ndjson output.
if "$work/mamori" scan --help 2>&1 | grep -q -E -- '^ +-pii\b'; then
	read -r m_cpu m_wall <<< "$(cpu "$work/mamori.out" env GOMAXPROCS=1 "$work/mamori" scan --pii --threads 1 --no-progress --format ndjson "$dir")"
	echo "mamori --pii:   $(grep -c '"type":"pii"' "$work/mamori.out") occurrences in $(grep -c '"type":"pii_summary"' "$work/mamori.out") files; cpu ${m_cpu}s (wall ${m_wall}s) = $(mbps "$m_cpu") MB/s per core"
	echo "ratio mamori/grep per core: $(awk -v m="$m_cpu" -v g="$g_cpu" 'BEGIN{printf "%.2f", g/m}')"
else
	echo "mamori scan has no --pii flag: end-to-end run skipped"
fi
