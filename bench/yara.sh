#!/usr/bin/env bash
# Benchmark: `mamori scan --rules` with all of signature-base against
# `yara -C -r -p 2` with the same rules precompiled by yarac, over the same
# tree with a warm page cache, in one run. Prints wall times, their ratio,
# rule compile times (yarac vs `mamori rules check`), peak memory of each,
# and whether both report the same (file, rule file, rule) set.
#
#   bench/yara.sh [TREE]        (default /usr/bin)
#
# Needs yara/yarac (apt-get install yara) and GNU time (apt-get install time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
tree="${1:-/usr/bin}"
rules="$(cd "$root/../shared/corpus/signature-base/yara" 2>/dev/null && pwd)" ||
	{ echo "bench: signature-base not found at $root/../shared/corpus/signature-base/yara" >&2; exit 2; }
for tool in yara yarac; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not on PATH (apt-get install yara)" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

# The external variables signature-base's scanners define.
defines=(-d filename= -d filepath= -d extension= -d filetype= -d owner=)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/mamori" ./cmd/mamori)

mapfile -t files < <(find "$rules" -maxdepth 1 -type f \( -name '*.yar' -o -name '*.yara' \) | sort)
nsargs=()
for i in "${!files[@]}"; do
	nsargs+=("n$i:${files[$i]}")
	echo "n$i ${files[$i]##*/}" >>"$work/ns.map"
done

# measure OUT CMD...: runs CMD with stdout to OUT, records "wall_s maxrss_kb".
measure() {
	local out=$1; shift
	/usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$out" 2>"$work/stderr" || {
		# Scanners may exit non-zero for findings or unreadable files; a
		# failure without any output is fatal.
		[[ -s "$out" ]] || { echo "bench: $* failed:" >&2; cat "$work/stderr" >&2; exit 1; }
	}
	cat "$work/time"
}

echo "tree: $tree ($(du -sh "$tree" 2>/dev/null | cut -f1), $(find "$tree" -type f | wc -l) files), rules: ${#files[@]} files of signature-base, $(nproc) cores"

read -r yarac_s yarac_kb < <(measure /dev/null yarac "${defines[@]}" "${nsargs[@]}" "$work/rules.yarc")
read -r check_s check_kb < <(measure /dev/null "$work/mamori" rules check "${defines[@]}" "$rules")

echo "warming the page cache (and one untimed pass of each scanner)..."
find "$tree" -type f -print0 | xargs -0 -P2 cat >/dev/null 2>&1 || true
yara_cmd=(yara -C -r -p 2 -e "${defines[@]}" "$work/rules.yarc" "$tree")
mamori_cmd=("$work/mamori" scan --threads 2 --no-progress --format ndjson --max-file-size 4GiB
	--rules "$rules" "${defines[@]}" "$tree")
"${yara_cmd[@]}" >/dev/null 2>&1 || true
"${mamori_cmd[@]}" >/dev/null 2>&1 || true

read -r yara_s yara_kb < <(measure "$work/yara.out" "${yara_cmd[@]}")
read -r mamori_s mamori_kb < <(measure "$work/mamori.out" "${mamori_cmd[@]}")

# Normalise both outputs to "path<TAB>rule file<TAB>rule", sorted.
awk 'NR==FNR { ns[$1] = $2; next }
	{ split($1, a, ":"); path = substr($0, length($1) + 2); print path "\t" ns[a[1]] "\t" a[2] }' \
	"$work/ns.map" "$work/yara.out" | sort -u >"$work/yara.set"
jq -r 'select(.type == "yara") | [.path, (.namespace | split("/") | last), .rule] | @tsv' \
	"$work/mamori.out" | sort -u >"$work/mamori.set"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-44s %8.2f s  peak %7.1f MiB\n' "yarac (compile signature-base)" "$yarac_s" "$(awk -v k="$yarac_kb" 'BEGIN{print k/1024}')"
printf '%-44s %8.2f s  peak %7.1f MiB\n' "mamori rules check (compile signature-base)" "$check_s" "$(awk -v k="$check_kb" 'BEGIN{print k/1024}')"
printf '%-44s %8.2f s  peak %7.1f MiB\n' "yara -C -r -p 2" "$yara_s" "$(awk -v k="$yara_kb" 'BEGIN{print k/1024}')"
printf '%-44s %8.2f s  peak %7.1f MiB  %sx the speed of yara\n' "mamori scan --threads 2 --rules" "$mamori_s" \
	"$(awk -v k="$mamori_kb" 'BEGIN{print k/1024}')" "$(ratio "$yara_s" "$mamori_s")"
echo "matches: yara $(wc -l <"$work/yara.set"), mamori $(wc -l <"$work/mamori.set") (file, rule file, rule)"
if cmp -s "$work/yara.set" "$work/mamori.set"; then
	echo "result sets: identical"
else
	echo "result sets: DIFFERENT (< yara only, > mamori only):"
	diff "$work/yara.set" "$work/mamori.set" | grep '^[<>]' | head -40
	exit 1
fi
