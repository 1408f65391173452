#!/usr/bin/env bash
# Benchmark of `mamori hunt` over EVTX, in one run:
#   - full hunt: every SigmaHQ Windows rule (rules/windows,
#     rules-emerging-threats/**/windows, rules-threat-hunting/windows) over
#     the input, in MB/s, with peak memory (goal: >= 25 MB/s on 2 cores,
#     peak RSS < 500 MiB on a 1 GB input);
#   - parse only (EVTX records per second against evtxexport): the EVTX
#     reader's part, added by its owner in its own function below.
#
#   bench/hunt.sh [INPUT]      INPUT: an .evtx file or a directory of logs
#
# Without INPUT, a dense 256 MiB EVTX file is generated from SigmaHQ's
# regression records (bench/evtxgen), or, where that tool is absent, the
# regression .evtx files are copied 16 times.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
corpus="$root/../shared/corpus/sigma"
[[ -d "$corpus/rules/windows" ]] || { echo "bench: $corpus/rules/windows not found" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/mamori" ./cmd/mamori)

input="${1:-}"
if [[ -z "$input" ]]; then
	if [[ -d "$root/bench/evtxgen" ]]; then
		(cd "$root" && go run ./bench/evtxgen -src "$corpus/regression_data" -out "$work/input/big.evtx" -size $((256 << 20))) >/dev/null
	else
		for i in $(seq 1 16); do
			mkdir -p "$work/input/$i"
			find "$corpus/regression_data" -name '*.evtx' -exec cp -t "$work/input/$i" {} +
		done
	fi
	input="$work/input"
fi
bytes=$(du -sb "$input" | cut -f1)
echo "input: $input ($((bytes >> 20)) MiB), $(nproc) cores"
cat "$(find "$input" -type f | head -1)" >/dev/null # warm the cache for the first file
find "$input" -type f -print0 | xargs -0 cat >/dev/null

# full_hunt: the Sigma engine's part (owner: internal/sigma, internal/hunt).
full_hunt() {
	local in=$1 rules=()
	rules+=(--sigma "$corpus/rules/windows")
	while IFS= read -r d; do rules+=(--sigma "$d"); done < <(find "$corpus/rules-emerging-threats" "$corpus/rules-threat-hunting" -type d -name windows 2>/dev/null)
	local best="" rss=0 loaded=""
	for _ in 1 2 3; do
		local t0 t1 t
		t0=$(date +%s.%N)
		/usr/bin/time -f '%M' -o "$work/rss" "$work/mamori" hunt --threads 2 --no-progress --format ndjson "${rules[@]}" "$in" >"$work/hits.ndjson" 2>"$work/stderr" || [[ $? == 1 ]] || { cat "$work/stderr" >&2; return 2; }
		t1=$(date +%s.%N)
		t=$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')
		if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
		local r; r=$(tail -1 "$work/rss"); ((r > rss)) && rss=$r
	done
	loaded=$(grep -E 'rules and [0-9]+ correlations loaded' "$work/stderr" | sed 's/^mamori hunt: //')
	local summary; summary=$(tail -1 "$work/hits.ndjson")
	echo "full hunt: $loaded"
	echo "full hunt: $(awk -v b="$bytes" -v t="$best" 'BEGIN{printf "%.1f MB/s (%.0f MiB in %.2f s, best of 3)", b/1e6/t, b/1048576, t}'), peak RSS $((rss / 1024)) MiB"
	echo "full hunt: $(jq -r '"\(.events) events, \(.hits) hits, \(.errors) error records"' <<<"$summary" 2>/dev/null || echo "$summary")"
}

full_hunt "$input"
