#!/usr/bin/env bash
# Benchmark: personal-data scanning per core against ripgrep.
#
#   bench/pii.sh [DIR]      (default: Go's source tree, $(go env GOROOT)/src)
#
# Times, in the same run and over the same tree,
#   - ripgrep (-j1, one thread) with unvalidated e-mail, phone and card
#     patterns: the floor for "find candidates" with a fast regex engine;
#   - mamori scan --pii --threads 1 end to end: walking, SHA-256, decoding,
#     format readers, validation, grouping and ndjson output.
# Prints CPU seconds (user+sys: on a shared machine wall time measures the
# neighbours too) and mamori's time as a multiple of ripgrep's.
# PII_BENCH_GEN=1GiB also generates a labelled customer-data corpus with
# bench/piigen and times both over it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
command -v rg >/dev/null || { echo "ripgrep not installed (apt-get install ripgrep)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/mamori" ./cmd/mamori && go build -o "$work/piigen" ./bench/piigen)

dirs=("${1:-$(go env GOROOT)/src}")
if [[ -n "${PII_BENCH_GEN:-}" ]]; then
	gen="${PII_BENCH_DIR:-/tmp/mamori-pii-bench}"
	if [[ ! -f "$gen/.size" || "$(cat "$gen/.size")" != "$PII_BENCH_GEN" ]]; then
		rm -rf "$gen"
		"$work/piigen" -out "$gen" -size "$PII_BENCH_GEN"
		echo "$PII_BENCH_GEN" > "$gen/.size"
	fi
	dirs+=("$gen")
fi

cpu() { # cpu OUTFILE CMD... -> "cpu_seconds wall_seconds"
	local out=$1; shift
	/usr/bin/time -f '%U %S %e' -o "$work/time" "$@" > "$out" 2>"$work/stderr" || [[ $? == 1 ]]
	tail -n 1 "$work/time" | awk '{printf "%.3f %.3f", $1+$2, $3}'
}

email='[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
phone='(\+[0-9]{1,3}[- ]?|0|\(?[0-9]{3}\)?[- .])[0-9]{1,4}[- ()]?[0-9]{1,4}[- )]?[0-9]{4}'
card='[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{1,7}'
for dir in "${dirs[@]}"; do
	bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
	echo "== $dir: $(find "$dir" -type f | wc -l) files, $bytes bytes; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	find "$dir" -type f -print0 | xargs -0 cat >/dev/null # warm the page cache
	read -r r_cpu r_wall <<< "$(cpu "$work/rg.out" rg -j1 -uu --no-filename --no-line-number -o -e "$email" -e "$phone" -e "$card" "$dir")"
	echo "rg -j1:         $(wc -l < "$work/rg.out") unvalidated matches; cpu ${r_cpu}s (wall ${r_wall}s)"
	read -r m_cpu m_wall <<< "$(cpu "$work/mamori.out" env GOMAXPROCS=1 "$work/mamori" scan --pii --threads 1 --no-progress --format ndjson "$dir")"
	echo "mamori --pii:   $(grep -c '"type":"pii"' "$work/mamori.out") findings in $(grep -c '"type":"pii_summary"' "$work/mamori.out") files; cpu ${m_cpu}s (wall ${m_wall}s)"
	echo "mamori/rg CPU:  $(awk -v m="$m_cpu" -v r="$r_cpu" 'BEGIN{printf "%.2f", m/r}') (1.00 is parity, 0.50 the goal)"
done
